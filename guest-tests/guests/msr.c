/* SPDX-License-Identifier: MIT */
/*
 * msr: the MSR policy as a guest sees it. The APIC base reads as an enabled
 * xAPIC at its default address; IA32_FEATURE_CONTROL reads as locked with
 * VMX off and refuses writes; MSRs the policy does not know (and the VMX
 * capability MSRs) raise #GP; the syscall MSRs a guest owns keep what it
 * writes; the TSC moves.
 */
#include "expect.h"
#include "hypercall.h"
#include "printf.h"
#include "runtime.h"
#include "trap.h"
#include "tsc.h"
#include "x86.h"

const char guest_name[] = GUEST_NAME;

#define MSR_APIC_BASE       0x1Bu
#define MSR_FEATURE_CONTROL 0x3Au
#define MSR_VMX_BASIC       0x480u
#define MSR_UNKNOWN         0x12345678u
#define MSR_STAR            0xC0000081u
#define MSR_KERNEL_GS_BASE  0xC0000102u

#define APIC_BASE_BSP    (1ull << 8)
#define APIC_BASE_X2APIC (1ull << 10)
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_ADDR   0xFFFFFF000ull

#define FC_LOCK        (1ull << 0)
#define FC_VMX_IN_SMX  (1ull << 1)
#define FC_VMX_OUTSIDE (1ull << 2)

/* Returns the vector raised, or TRAP_NONE. */
static uint32_t rdmsr_safe(uint32_t msr, uint64_t *value)
{
    uint32_t lo = 0, hi = 0;

    trap_clear();
    asm volatile(TRAP_ARM "rdmsr\n1:" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
    trap_resume = 0;
    *value = (uint64_t)hi << 32 | lo;
    return trap_last.vector;
}

static uint32_t wrmsr_safe(uint32_t msr, uint64_t value)
{
    trap_clear();
    asm volatile(TRAP_ARM "wrmsr\n1:"
                 :
                 : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                 : "memory");
    trap_resume = 0;
    return trap_last.vector;
}

static void check_apic_base(uint32_t vcpu)
{
    uint64_t v;

    if (!EXPECT_EQ(rdmsr_safe(MSR_APIC_BASE, &v), TRAP_NONE,
                   "msr: RDMSR IA32_APIC_BASE does not fault"))
        return;
    printf("msr: IA32_APIC_BASE = %#llx\n", (unsigned long long)v);
    EXPECT_EQ(v & APIC_BASE_ADDR, 0xFEE00000, "msr: APIC base address is 0xFEE00000");
    EXPECT(v & APIC_BASE_ENABLE, "msr: APIC globally enabled (bit 11)");
    EXPECT(!(v & APIC_BASE_X2APIC), "msr: APIC in xAPIC mode from reset (bit 10 clear)");
    EXPECT_EQ(!!(v & APIC_BASE_BSP), vcpu == 0, "msr: BSP bit (bit 8) set exactly on vCPU 0");
}

static void check_feature_control(void)
{
    uint64_t v, after;

    if (!EXPECT_EQ(rdmsr_safe(MSR_FEATURE_CONTROL, &v), TRAP_NONE,
                   "msr: RDMSR IA32_FEATURE_CONTROL does not fault"))
        return;
    printf("msr: IA32_FEATURE_CONTROL = %#llx\n", (unsigned long long)v);
    EXPECT(v & FC_LOCK, "msr: IA32_FEATURE_CONTROL is locked (bit 0)");
    EXPECT(!(v & (FC_VMX_IN_SMX | FC_VMX_OUTSIDE)),
           "msr: IA32_FEATURE_CONTROL has VMX disabled (bits 1, 2 clear)");

    uint32_t vec = wrmsr_safe(MSR_FEATURE_CONTROL, v | FC_VMX_OUTSIDE);
    EXPECT_EQ(vec, X86_GP, "msr: WRMSR IA32_FEATURE_CONTROL raises #GP");
    if (vec == X86_GP)
        EXPECT_EQ(trap_last.error, 0, "msr: that #GP has error code 0");
    rdmsr_safe(MSR_FEATURE_CONTROL, &after);
    EXPECT_EQ(after, v, "msr: IA32_FEATURE_CONTROL unchanged after the refused write");
}

static void check_unknown_msrs(void)
{
    uint64_t v;
    uint32_t vec = rdmsr_safe(MSR_UNKNOWN, &v);

    EXPECT_EQ(vec, X86_GP, "msr: RDMSR of unknown MSR 0x12345678 raises #GP");
    if (vec == X86_GP)
        EXPECT_EQ(trap_last.error, 0, "msr: that #GP has error code 0");
    EXPECT_EQ(wrmsr_safe(MSR_UNKNOWN, 1), X86_GP,
              "msr: WRMSR of unknown MSR 0x12345678 raises #GP");
    EXPECT_EQ(rdmsr_safe(MSR_VMX_BASIC, &v), X86_GP,
              "msr: RDMSR IA32_VMX_BASIC (0x480) raises #GP");
}

static void check_round_trip(uint32_t msr, const char *name, uint64_t value)
{
    uint64_t old = 0, got = 0;
    uint32_t rd_vec, wr_vec = TRAP_NONE, back_vec = TRAP_NONE;
    char what[96];

    snprintf(what, sizeof(what), "msr: %s (%#x) keeps a written value", name, msr);
    rd_vec = rdmsr_safe(msr, &old);
    if (rd_vec == TRAP_NONE)
        wr_vec = wrmsr_safe(msr, value);
    if (wr_vec == TRAP_NONE)
        back_vec = rdmsr_safe(msr, &got);
    EXPECTF(rd_vec == TRAP_NONE && wr_vec == TRAP_NONE && back_vec == TRAP_NONE && got == value,
            what, "read vector %#x, write vector %#x, read back %#llx (vector %#x), wrote %#llx",
            rd_vec, wr_vec, (unsigned long long)got, back_vec, (unsigned long long)value);
    if (rd_vec == TRAP_NONE)
        wrmsr_safe(msr, old);
}

static void check_tsc(void)
{
    uint64_t t0 = rdtsc(), t1 = rdtsc();
    tsc_delay_us(1000);
    uint64_t t2 = rdtsc();

    EXPECTF(t1 >= t0 && t2 > t1, "msr: RDTSC advances", "%#llx, %#llx, %#llx",
            (unsigned long long)t0, (unsigned long long)t1, (unsigned long long)t2);
}

void test_main(void)
{
    struct hc_info info = {0};

    hc_info(&info);
    printf("msr: vCPU %u of %u\n", info.vcpu, info.vcpus);
    check_apic_base(info.vcpu);
    check_feature_control();
    check_unknown_msrs();
    check_round_trip(MSR_KERNEL_GS_BASE, "IA32_KERNEL_GS_BASE", 0xFFFF8000DEAD1000ull);
    check_round_trip(MSR_STAR, "IA32_STAR", 0x001B000800C0FFEEull);
    EXPECT_EQ(wrmsr_safe(MSR_KERNEL_GS_BASE, 0x8000000000000000ull), X86_GP,
              "msr: non-canonical IA32_KERNEL_GS_BASE write raises #GP");
    check_tsc();
}
