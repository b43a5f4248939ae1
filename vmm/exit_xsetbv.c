/* SPDX-License-Identifier: MIT */
/* XSETBV: the guest sets XCR0. The core is the guest's, so a valid value is
 * loaded as it is; an invalid one gets #GP as on hardware. */
#include "kernel/x86/cpu.h"
#include "vmm/exit.h"

#define VEC_GP   13
#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)

bool exit_xsetbv(struct vcpu *v, const struct vcpu_exit *e)
{
    const struct vcpu_ops *ops = vcpu_backend();
    uint32_t index = (uint32_t)v->gprs[VCPU_RCX];
    uint64_t value = (v->gprs[VCPU_RDX] << 32) | (uint32_t)v->gprs[VCPU_RAX];
    struct cpuid_regs xs = cpuid(0xd, 0);
    uint64_t supported = ((uint64_t)xs.edx << 32) | xs.eax;

    if (index != 0 || !(value & XCR0_X87) || (value & ~supported) ||
        ((value & XCR0_AVX) && !(value & XCR0_SSE))) {
        ops->inject_exception(v, VEC_GP, true, 0);
        return true;
    }
    asm volatile("xsetbv" : : "c"(index), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
    ops->skip_instruction(v, e);
    return true;
}
