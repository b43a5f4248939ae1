/* SPDX-License-Identifier: MIT */
/*
 * CPUID: the host's answer, adjusted to the virtual machine. VT-x and
 * MONITOR/MWAIT are hidden, the hypervisor bit is set, the APIC IDs are the
 * vCPU's, and leaves 0x40000000+ name Sidecore.
 */
#include "kernel/lib/string.h"
#include "kernel/x86/cpu.h"
#include "vmm/exit.h"
#include "vmm/guest.h"
#include "vmm/hypercall.h"

#define CPUID_HV_BASE 0x40000000u
#define CPUID_HV_MAX  0x40000001u

#define L1_ECX_MONITOR    (1u << 3)
#define L1_ECX_VMX        (1u << 5)
#define L1_ECX_SMX        (1u << 6)
#define L1_ECX_X2APIC     (1u << 21)
#define L1_ECX_OSXSAVE    (1u << 27)
#define L1_ECX_HYPERVISOR (1u << 31)
#define CR4_OSXSAVE       (1ull << 18)

struct cpuid_regs cpuid_for_guest(const struct vcpu *v, uint32_t leaf, uint32_t subleaf,
                                  uint64_t guest_cr4);

struct cpuid_regs cpuid_for_guest(const struct vcpu *v, uint32_t leaf, uint32_t subleaf,
                                  uint64_t guest_cr4)
{
    struct cpuid_regs r;

    if (leaf >= CPUID_HV_BASE && leaf <= CPUID_HV_BASE + 0xff) {
        r = (struct cpuid_regs){0};
        if (leaf == CPUID_HV_BASE) {
            const char *sig = SIDECORE_CPUID_SIGNATURE;
            r.eax = CPUID_HV_MAX;
            memcpy(&r.ebx, sig, 4);
            memcpy(&r.ecx, sig + 4, 4);
            memcpy(&r.edx, sig + 8, 4);
        }
        return r;
    }
    r = cpuid(leaf, subleaf);
    switch (leaf) {
    case 0x1:
        r.ecx &= ~(L1_ECX_MONITOR | L1_ECX_VMX | L1_ECX_SMX | L1_ECX_X2APIC | L1_ECX_OSXSAVE);
        r.ecx |= L1_ECX_HYPERVISOR;
        if (guest_cr4 & CR4_OSXSAVE)
            r.ecx |= L1_ECX_OSXSAVE;
        /* EBX[31:24] initial APIC ID, [23:16] logical processors per package. */
        r.ebx = (r.ebx & 0xffff) | (v->index << 24) | ((v->guest->nvcpus & 0xff) << 16);
        break;
    case 0x5: /* MONITOR/MWAIT: hidden */
    case 0xa: /* performance monitoring: not virtualized */ r = (struct cpuid_regs){0}; break;
    case 0xb:
    case 0x1f:
        r.edx = v->index; /* x2APIC ID */
        break;
    default: break;
    }
    return r;
}

bool exit_cpuid(struct vcpu *v, const struct vcpu_exit *e)
{
    const struct vcpu_ops *ops = vcpu_backend();
    uint32_t leaf = (uint32_t)v->gprs[VCPU_RAX], subleaf = (uint32_t)v->gprs[VCPU_RCX];
    struct cpuid_regs r = cpuid_for_guest(v, leaf, subleaf, ops->read_sreg(v, VCPU_SREG_CR4));

    v->gprs[VCPU_RAX] = r.eax;
    v->gprs[VCPU_RBX] = r.ebx;
    v->gprs[VCPU_RCX] = r.ecx;
    v->gprs[VCPU_RDX] = r.edx;
    ops->skip_instruction(v, e);
    return true;
}
