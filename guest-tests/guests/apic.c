/* SPDX-License-Identifier: MIT */
/*
 * apic: the local APIC as a PC's comes out of reset, in both of its modes (a
 * 2-vCPU ELF64 guest). From reset: IA32_APIC_BASE 0xFEE00900, the xAPIC
 * register page there, the x2APIC MSRs #GP. Then the same checks in xAPIC
 * mode (through the page) and, after switching to x2APIC, through the MSRs:
 * the timer (one-shot, periodic, masked), TPR holding back a lower-class
 * interrupt, EOI and an in-service interrupt holding back a lower one,
 * IPIs between the vCPUs (physical, logical, all-but-self, each way). In
 * xAPIC mode also the APIC base moved to 0xFEF00000 and back, and vCPU 1
 * started by INIT/SIPI through the page. Then the SDM's transitions:
 * x2APIC -> xAPIC #GP, x2APIC -> disabled (IPIs dropped), disabled ->
 * x2APIC #GP, disabled -> xAPIC with the registers back at their reset
 * values, and IPIs between an xAPIC and an x2APIC vCPU. Every interrupt
 * handler reads IA32_APIC_BASE to find how to EOI, so the same handlers
 * serve both vCPUs in either mode.
 */
#include "expect.h"
#include "hypercall.h"
#include "mmio.h"
#include "printf.h"
#include "runtime.h"
#include "smp64.h"
#include "trap.h"
#include "tsc.h"
#include "x86.h"

const char guest_name[] = GUEST_NAME;

#define MSR_APIC_BASE 0x1bu
#define BASE_BSP      (1ull << 8)
#define BASE_EXTD     (1ull << 10)
#define BASE_EN       (1ull << 11)
#define BASE_ADDR     0x000ffffffffff000ull
#define XAPIC_HOME    0xfee00000ull
#define XAPIC_MOVED   0xfef00000ull

/* xAPIC page offsets; the x2APIC MSR is 0x800 + offset / 16. */
#define A_ID     0x020u
#define A_VER    0x030u
#define A_TPR    0x080u
#define A_PPR    0x0a0u
#define A_EOI    0x0b0u
#define A_LDR    0x0d0u
#define A_DFR    0x0e0u
#define A_SVR    0x0f0u
#define A_ISR    0x100u
#define A_IRR    0x200u
#define A_ICR    0x300u
#define A_ICRHI  0x310u
#define A_LVTT   0x320u
#define A_TMICT  0x380u
#define A_TMCCT  0x390u
#define A_TDCR   0x3e0u
#define MSR_ICR  0x830u
#define MSR_SELF 0x83fu

#define LVT_MASKED   (1u << 16)
#define TIMER_PERIOD (1u << 17)
#define ICR_LOGICAL  (1u << 11)
#define ICR_ASSERT   (1u << 14)
#define ICR_SELF     (1u << 18)
#define ICR_ALL_BUT  (3u << 18)
#define SVR_ON       0x1ffu /* enabled, spurious vector 0xff */
#define WAIT_US      2000000u
#define VEC_TIMER    0x40u
#define VEC_LOW      0x41u /* class 4 */
#define VEC_LOWER    0x45u /* class 4, sent from inside VEC_HIGH's handler */
#define VEC_HIGH     0x61u /* class 6 */
#define VEC_TO_AP    0x50u
#define VEC_TO_BSP   0x51u
#define VEC_LOGICAL  0x52u
#define VEC_SPURIOUS 0xffu

static volatile uint32_t hits[256];
static volatile uint32_t lower_in_handler, high_isr_seen;

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
    asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* The vector raised, or TRAP_NONE (vCPU 0 only: trap_last is global). */
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

/* --- the APIC of whichever vCPU runs this, in its current mode --- */

static bool x2apic_now(void)
{
    return rdmsr(MSR_APIC_BASE) & BASE_EXTD;
}

static uint32_t apic_read(uint32_t off)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);

    if (base & BASE_EXTD)
        return (uint32_t)rdmsr(0x800u + off / 16);
    return mmio_read32((uintptr_t)(base & BASE_ADDR) + off);
}

static void apic_write(uint32_t off, uint32_t v)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);

    if (base & BASE_EXTD)
        wrmsr(0x800u + off / 16, v);
    else
        mmio_write32((uintptr_t)(base & BASE_ADDR) + off, v);
}

static void send_ipi(uint32_t dest, uint32_t low)
{
    if (x2apic_now()) {
        wrmsr(MSR_ICR, (uint64_t)dest << 32 | low);
    } else {
        apic_write(A_ICRHI, dest << 24);
        apic_write(A_ICR, low);
    }
}

static bool vector_bit(uint32_t reg_base, unsigned vec)
{
    return (apic_read(reg_base + 0x10 * (vec / 32)) >> (vec % 32)) & 1;
}

static uint64_t us_to_ticks(uint64_t us)
{
    return (uint64_t)tsc_khz() * us / 1000;
}

/* Interrupts on until *count reaches want or WAIT_US pass; then off again. */
static bool wait_hits(unsigned vec, uint32_t want)
{
    uint64_t t0 = rdtsc();
    bool ok;

    sti();
    while (!(ok = hits[vec] >= want) && tsc_to_us(rdtsc() - t0) < WAIT_US)
        asm volatile("pause");
    cli();
    return ok;
}

/* Interrupts on for us microseconds. */
static void open_window(uint64_t us)
{
    sti();
    tsc_delay_us(us);
    cli();
}

static void handler(unsigned vec)
{
    hits[vec]++;
    if (vec == VEC_HIGH) {
        high_isr_seen = vector_bit(A_ISR, VEC_HIGH);
        /* A class-4 vector now must wait for this one's EOI. */
        send_ipi(0, ICR_SELF | VEC_LOWER);
        open_window(5000);
        lower_in_handler = hits[VEC_LOWER];
    }
    if (vec != VEC_SPURIOUS)
        apic_write(A_EOI, 0);
}

/* --- vCPU 1 --- */

enum { AP_NOP, AP_SET_LDR, AP_SEND_TO_BSP, AP_SEND_LATER, AP_GO_X2APIC };

#define SEND_LATER_US 50000

static volatile uint32_t ap_cmd, ap_done, ap_ready;

static void ap_main(void)
{
    apic_write(A_SVR, SVR_ON);
    __atomic_store_n(&ap_ready, 1, __ATOMIC_RELEASE);
    for (;;) {
        uint32_t c = __atomic_load_n(&ap_cmd, __ATOMIC_ACQUIRE);
        if (c != ap_done) {
            switch (c & 0xff) {
            case AP_SET_LDR:
                if (!x2apic_now()) {
                    apic_write(A_DFR, 0xffffffffu); /* flat model */
                    apic_write(A_LDR, 0x02000000u); /* logical ID bit 1 */
                }
                break;
            case AP_SEND_TO_BSP: send_ipi(0, VEC_TO_BSP); break;
            case AP_SEND_LATER:
                /* After the ack: vCPU 0 disables its APIC meanwhile, and
                 * cannot send the wake-up IPI then. */
                __atomic_store_n(&ap_done, c, __ATOMIC_RELEASE);
                tsc_delay_us(SEND_LATER_US);
                send_ipi(0, VEC_TO_BSP);
                continue;
            case AP_GO_X2APIC: wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | BASE_EXTD); break;
            }
            __atomic_store_n(&ap_done, c, __ATOMIC_RELEASE);
        }
        asm volatile("sti; hlt; cli" ::: "memory");
    }
}

/* Runs op on vCPU 1: the command, then an IPI to wake it. */
static bool ap_run(uint32_t op)
{
    static uint32_t seq;
    uint32_t c = (++seq << 8) | op;
    uint64_t t0 = rdtsc();

    __atomic_store_n(&ap_cmd, c, __ATOMIC_RELEASE);
    send_ipi(1, VEC_TO_AP);
    while (__atomic_load_n(&ap_done, __ATOMIC_ACQUIRE) != c)
        if (tsc_to_us(rdtsc() - t0) > WAIT_US)
            return false;
    return true;
}

/* --- the checks of one mode --- */

static void check_timer(const char *m)
{
    char what[96];

    apic_write(A_TDCR, 0xb); /* divide by 1: the TSC rate */
    apic_write(A_LVTT, VEC_TIMER);
    uint32_t before = hits[VEC_TIMER];
    uint64_t t0 = rdtsc();
    apic_write(A_TMICT, (uint32_t)us_to_ticks(5000));
    uint32_t ccr = apic_read(A_TMCCT);
    uint64_t read_us = tsc_to_us(rdtsc() - t0);
    /* 0 only if the read came late (an emulator's exits can take that long). */
    snprintf(what, sizeof(what), "apic: %s: one-shot timer counts down", m);
    EXPECTF(ccr <= us_to_ticks(5000) && (ccr > 0 || read_us >= 4500), what,
            "current count %u read after %llu us", ccr, (unsigned long long)read_us);
    snprintf(what, sizeof(what), "apic: %s: one-shot timer fires", m);
    if (EXPECT(wait_hits(VEC_TIMER, before + 1), what)) {
        uint64_t us = tsc_to_us(rdtsc() - t0);
        snprintf(what, sizeof(what), "apic: %s: one-shot timer not early (5 ms)", m);
        EXPECTF(us >= 4500, what, "fired after %llu us", (unsigned long long)us);
    }
    open_window(20000);
    snprintf(what, sizeof(what), "apic: %s: one-shot timer fires once", m);
    EXPECTF(hits[VEC_TIMER] == before + 1, what, "%u interrupts", hits[VEC_TIMER] - before);

    before = hits[VEC_TIMER];
    apic_write(A_LVTT, VEC_TIMER | TIMER_PERIOD);
    apic_write(A_TMICT, (uint32_t)us_to_ticks(2000));
    snprintf(what, sizeof(what), "apic: %s: periodic timer fires 3 times", m);
    EXPECT(wait_hits(VEC_TIMER, before + 3), what);
    apic_write(A_LVTT, VEC_TIMER | TIMER_PERIOD | LVT_MASKED);
    apic_write(A_TMICT, 0);
    open_window(5000); /* one already requested may still arrive */
    before = hits[VEC_TIMER];
    open_window(20000);
    snprintf(what, sizeof(what), "apic: %s: masked and stopped timer is quiet", m);
    EXPECTF(hits[VEC_TIMER] == before, what, "%u more", hits[VEC_TIMER] - before);
}

static void check_priority(const char *m)
{
    char what[96];

    apic_write(A_TPR, 0x50);
    send_ipi(0, ICR_SELF | VEC_LOW);
    open_window(5000);
    snprintf(what, sizeof(what), "apic: %s: TPR 0x50 holds back vector 0x41", m);
    EXPECTF(hits[VEC_LOW] == 0, what, "%u delivered", hits[VEC_LOW]);
    snprintf(what, sizeof(what), "apic: %s: the held vector is in IRR, PPR = 0x50", m);
    uint32_t ppr = apic_read(A_PPR);
    EXPECTF(vector_bit(A_IRR, VEC_LOW) && ppr == 0x50, what, "IRR bit %u, PPR %#x",
            vector_bit(A_IRR, VEC_LOW), ppr);
    apic_write(A_TPR, 0);
    snprintf(what, sizeof(what), "apic: %s: TPR 0 lets it through", m);
    EXPECT(wait_hits(VEC_LOW, 1), what);
    hits[VEC_LOW] = 0;

    /* CR8 is TPR bits 7:4, both ways, in either mode. */
    asm volatile("mov %0, %%cr8" : : "r"(5ul) : "memory");
    snprintf(what, sizeof(what), "apic: %s: MOV to CR8 sets TPR", m);
    EXPECT_EQ(apic_read(A_TPR), 0x50, what);
    apic_write(A_TPR, 0x30);
    unsigned long cr8;
    asm volatile("mov %%cr8, %0" : "=r"(cr8));
    snprintf(what, sizeof(what), "apic: %s: MOV from CR8 reads TPR", m);
    EXPECT_EQ(cr8, 3, what);
    apic_write(A_TPR, 0);
    asm volatile("mov %%cr8, %0" : "=r"(cr8));
    snprintf(what, sizeof(what), "apic: %s: CR8 follows a TPR write", m);
    EXPECT_EQ(cr8, 0, what);

    if (x2apic_now())
        wrmsr(MSR_SELF, VEC_HIGH); /* the x2APIC's SELF IPI register */
    else
        send_ipi(0, ICR_SELF | VEC_HIGH);
    snprintf(what, sizeof(what), "apic: %s: self IPI 0x61 arrives", m);
    EXPECT(wait_hits(VEC_HIGH, 1), what);
    snprintf(what, sizeof(what), "apic: %s: 0x61 in ISR inside its handler", m);
    EXPECT(high_isr_seen, what);
    snprintf(what, sizeof(what), "apic: %s: 0x45 waits for the EOI of 0x61", m);
    EXPECTF(lower_in_handler == 0, what, "%u delivered in the handler", lower_in_handler);
    snprintf(what, sizeof(what), "apic: %s: 0x45 arrives after the EOI", m);
    EXPECT(wait_hits(VEC_LOWER, 1), what);
    snprintf(what, sizeof(what), "apic: %s: ISR and PPR clear after the EOIs", m);
    EXPECT(!vector_bit(A_ISR, VEC_HIGH) && apic_read(A_PPR) == 0, what);
    hits[VEC_HIGH] = hits[VEC_LOWER] = 0;
    lower_in_handler = high_isr_seen = 0;
}

static void check_ipis(const char *m)
{
    char what[96];
    uint32_t before = hits[VEC_TO_AP];

    send_ipi(1, VEC_TO_AP);
    snprintf(what, sizeof(what), "apic: %s: fixed IPI to vCPU 1 (physical)", m);
    EXPECT(wait_hits(VEC_TO_AP, before + 1), what);

    snprintf(what, sizeof(what), "apic: %s: vCPU 1 sets its logical ID", m);
    EXPECT(ap_run(AP_SET_LDR), what);
    /* xAPIC flat: logical ID bit 1; x2APIC: cluster 0, member bit 1. */
    before = hits[VEC_LOGICAL];
    send_ipi(2, ICR_LOGICAL | VEC_LOGICAL);
    snprintf(what, sizeof(what), "apic: %s: fixed IPI to vCPU 1 (logical 0x2)", m);
    EXPECT(wait_hits(VEC_LOGICAL, before + 1), what);

    before = hits[VEC_TO_AP];
    send_ipi(0, ICR_ALL_BUT | VEC_TO_AP);
    snprintf(what, sizeof(what), "apic: %s: all-but-self IPI reaches vCPU 1", m);
    EXPECT(wait_hits(VEC_TO_AP, before + 1), what);

    before = hits[VEC_TO_BSP];
    snprintf(what, sizeof(what), "apic: %s: vCPU 1 sends an IPI to vCPU 0", m);
    EXPECT(ap_run(AP_SEND_TO_BSP) && wait_hits(VEC_TO_BSP, before + 1), what);
}

static void check_mode(const char *m)
{
    apic_write(A_SVR, SVR_ON);
    check_timer(m);
    check_priority(m);
    check_ipis(m);
}

static void check_relocation(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);

    EXPECT_EQ(wrmsr_safe(MSR_APIC_BASE, (base & ~BASE_ADDR) | XAPIC_MOVED), TRAP_NONE,
              "apic: xapic: IA32_APIC_BASE moves to 0xFEF00000");
    EXPECT_EQ(rdmsr(MSR_APIC_BASE), (base & ~BASE_ADDR) | XAPIC_MOVED,
              "apic: xapic: IA32_APIC_BASE reads the new base");
    EXPECT_EQ(mmio_read32(XAPIC_MOVED + A_SVR), SVR_ON,
              "apic: xapic: the page answers at 0xFEF00000");
    mmio_write32(XAPIC_MOVED + A_TPR, 0x30);
    EXPECT_EQ(mmio_read32(XAPIC_MOVED + A_TPR), 0x30, "apic: xapic: TPR through the moved page");
    mmio_write32(XAPIC_MOVED + A_TPR, 0);
    uint32_t before = hits[VEC_TO_BSP];
    EXPECT(ap_run(AP_SEND_TO_BSP) && wait_hits(VEC_TO_BSP, before + 1),
           "apic: xapic: IPIs still reach the moved APIC (EOI through the moved page)");
    wrmsr(MSR_APIC_BASE, base);
    EXPECT_EQ(mmio_read32(XAPIC_HOME + A_ID), 0, "apic: xapic: back at 0xFEE00000");
}

void test_main(void)
{
    struct hc_info info = {0};
    uint64_t v;

    if (!EXPECT_EQ(hc_info(&info), HC_OK, "apic: HC_INFO returns 0"))
        return;
    if (!EXPECTF(info.vcpus >= 2, "apic: two vCPUs", "%u vCPUs", info.vcpus))
        return;
    for (unsigned i = 0x40; i < 0x100; i++)
        irq_set_handler(i, handler);
    cli();

    /* Reset state. */
    uint64_t base = rdmsr(MSR_APIC_BASE);
    printf("apic: IA32_APIC_BASE = %#llx\n", (unsigned long long)base);
    EXPECT_EQ(base, XAPIC_HOME | BASE_EN | BASE_BSP,
              "apic: reset: IA32_APIC_BASE = 0xFEE00900 (xAPIC, enabled, BSP)");
    EXPECT_EQ(mmio_read32(XAPIC_HOME + A_ID), 0, "apic: reset: xAPIC ID of vCPU 0 is 0");
    uint32_t ver = mmio_read32(XAPIC_HOME + A_VER);
    EXPECTF((ver & 0xff) >= 0x10 && ((ver >> 16) & 0xff) >= 5,
            "apic: reset: version register: integrated APIC, 6+ LVT entries", "%#x", ver);
    EXPECT_EQ(mmio_read32(XAPIC_HOME + A_SVR), 0xff, "apic: reset: SVR 0xFF (software-disabled)");
    EXPECT_EQ(mmio_read32(XAPIC_HOME + A_LVTT), LVT_MASKED, "apic: reset: timer LVT masked");
    EXPECT_EQ(mmio_read32(XAPIC_HOME + A_DFR), 0xffffffffu, "apic: reset: DFR flat");
    EXPECT_EQ(rdmsr_safe(0x802, &v), X86_GP, "apic: xapic: x2APIC MSR 0x802 raises #GP");
    EXPECT_EQ(wrmsr_safe(MSR_APIC_BASE, (base & ~BASE_EN) | BASE_EXTD), X86_GP,
              "apic: EXTD without EN raises #GP");

    /* xAPIC mode. */
    if (!EXPECT(smp64_start_second_xapic(ap_main), "apic: xapic: vCPU 1 started by INIT/SIPI"))
        return;
    uint64_t t0 = rdtsc();
    while (!ap_ready && tsc_to_us(rdtsc() - t0) < WAIT_US)
        asm volatile("pause");
    check_mode("xapic");
    check_relocation();

    /* xAPIC -> x2APIC: registers kept. */
    apic_write(A_TPR, 0x20);
    EXPECT_EQ(wrmsr_safe(MSR_APIC_BASE, base | BASE_EXTD), TRAP_NONE,
              "apic: xAPIC -> x2APIC accepted");
    EXPECT_EQ(rdmsr(0x808), 0x20, "apic: x2apic: TPR kept across the switch");
    EXPECT_EQ(rdmsr(0x80f), SVR_ON, "apic: x2apic: SVR kept across the switch");
    EXPECT_EQ(rdmsr(0x802), 0, "apic: x2apic: ID 0");
    EXPECT_EQ(rdmsr(0x80d), 1, "apic: x2apic: LDR is cluster 0, bit 0");
    wrmsr(0x808, 0);
    EXPECT(ap_run(AP_GO_X2APIC), "apic: x2apic: vCPU 1 switches too");
    check_mode("x2apic");
    EXPECT_EQ(wrmsr_safe(MSR_APIC_BASE, base), X86_GP, "apic: x2APIC -> xAPIC raises #GP");
    EXPECT_EQ(rdmsr(MSR_APIC_BASE), base | BASE_EXTD, "apic: still x2APIC after the refusal");

    /* x2APIC -> disabled: nothing arrives, no register answers. */
    uint32_t before = hits[VEC_TO_BSP];
    EXPECT(ap_run(AP_SEND_LATER), "apic: vCPU 1 will send an IPI to vCPU 0 in 50 ms");
    EXPECT_EQ(wrmsr_safe(MSR_APIC_BASE, base & ~(BASE_EN | BASE_EXTD)), TRAP_NONE,
              "apic: x2APIC -> disabled accepted");
    EXPECT_EQ(rdmsr_safe(0x808, &v), X86_GP, "apic: disabled: x2APIC MSRs raise #GP");
    open_window(2 * SEND_LATER_US);
    EXPECTF(hits[VEC_TO_BSP] == before, "apic: disabled: the IPI is dropped", "%u delivered",
            hits[VEC_TO_BSP] - before);
    EXPECT_EQ(wrmsr_safe(MSR_APIC_BASE, base | BASE_EXTD), X86_GP,
              "apic: disabled -> x2APIC raises #GP");

    /* disabled -> xAPIC: reset values; then a mixed pair. */
    EXPECT_EQ(wrmsr_safe(MSR_APIC_BASE, base), TRAP_NONE, "apic: disabled -> xAPIC accepted");
    EXPECT_EQ(mmio_read32(XAPIC_HOME + A_SVR), 0xff, "apic: xapic again: SVR back to 0xFF");
    EXPECT_EQ(mmio_read32(XAPIC_HOME + A_LVTT), LVT_MASKED, "apic: xapic again: timer LVT masked");
    EXPECT_EQ(mmio_read32(XAPIC_HOME + A_TPR), 0, "apic: xapic again: TPR 0");
    apic_write(A_SVR, SVR_ON);
    check_timer("xapic again");
    before = hits[VEC_TO_AP];
    send_ipi(1, VEC_TO_AP);
    EXPECT(wait_hits(VEC_TO_AP, before + 1), "apic: mixed: xAPIC vCPU 0 -> x2APIC vCPU 1");
    before = hits[VEC_TO_BSP];
    EXPECT(ap_run(AP_SEND_TO_BSP) && wait_hits(VEC_TO_BSP, before + 1),
           "apic: mixed: x2APIC vCPU 1 -> xAPIC vCPU 0");
}
