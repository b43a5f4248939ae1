/* SPDX-License-Identifier: MIT */
/*
 * VMCALL wrappers. Registers, not memory, carry every argument, so the same
 * C works for 32- and 64-bit guests; only the register width differs.
 */
#include "hypercall.h"
#include "printf.h"
#include "serial.h"
#include "x86.h"

#define HV_CPUID_LEAF       0x40000000u
#define CPUID1_ECX_HV_GUEST (1u << 31)

bool sidecore_present;
/* AMD CPUs have VMMCALL where Intel's have VMCALL (each is #UD on the
 * other vendor's CPUs); the ABI is otherwise the same. */
static bool use_vmmcall;

static bool signature_is_sidecore(const struct cpuid_regs *r)
{
    const char *want = SIDECORE_CPUID_SIGNATURE;
    uint32_t regs[3] = {r->ebx, r->ecx, r->edx};

    for (int i = 0; i < 12; i++) {
        if ((char)(regs[i / 4] >> (8 * (i % 4))) != want[i])
            return false;
    }
    return true;
}

void hc_detect(void)
{
    struct cpuid_regs leaf1 = cpuid(1, 0);
    struct cpuid_regs hv = cpuid(HV_CPUID_LEAF, 0);

    struct cpuid_regs vendor = cpuid(0, 0);

    sidecore_present = (leaf1.ecx & CPUID1_ECX_HV_GUEST) && signature_is_sidecore(&hv);
    use_vmmcall = vendor.ebx == 0x68747541 && vendor.edx == 0x69746e65 && vendor.ecx == 0x444d4163;
    if (!sidecore_present) {
        serial_init_uart();
        printf("no sidecore: skipping hypercalls\n");
    }
}

long hc_call(unsigned long nr, unsigned long a, unsigned long b, unsigned long c,
             unsigned long out[3])
{
    if (!sidecore_present)
        return HC_ENOSYS;
    if (use_vmmcall)
        asm volatile("vmmcall" : "+a"(nr), "+b"(a), "+c"(b), "+d"(c) : : "memory");
    else
        asm volatile("vmcall" : "+a"(nr), "+b"(a), "+c"(b), "+d"(c) : : "memory");
    if (out) {
        out[0] = a;
        out[1] = b;
        out[2] = c;
    }
    /* RAX is a register-width two's-complement value. */
    return (long)nr;
}

long hc_print(const void *buf, size_t len)
{
    return hc_call(HC_PRINT, (uintptr_t)buf, len, 0, NULL);
}

long hc_exit(unsigned long code)
{
    return hc_call(HC_EXIT, code, 0, 0, NULL);
}

long hc_timer(unsigned vector, unsigned long microseconds)
{
    return hc_call(HC_TIMER, vector, microseconds, 0, NULL);
}

long hc_info(struct hc_info *info)
{
    unsigned long out[3] = {0, 0, 0};
    long rax = hc_call(HC_INFO, 0, 0, 0, out);

    if (!sidecore_present) {
        *info = (struct hc_info){0};
        return rax;
    }
    /* HC_INFO puts the memory size, not a status, in RAX. */
    info->memory = (unsigned long)rax;
    info->vcpu = (uint32_t)out[0];
    info->vcpus = (uint32_t)out[1];
    info->tsc_khz = (uint32_t)out[2];
    return HC_OK;
}
