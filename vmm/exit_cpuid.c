/* SPDX-License-Identifier: MIT */
/*
 * CPUID: the host's answer, adjusted to the virtual machine. VT-x, AMD-V
 * and MONITOR/MWAIT are hidden, the hypervisor bit is set, the APIC IDs are the
 * vCPU's, and leaves 0x40000000+ name Sidecore. The virtual platform's APIC
 * is an x2APIC with a TSC-deadline timer that keeps running, and leaf 0x15
 * states the TSC frequency (with the APIC timer at the same rate), so a
 * stock Linux kernel neither calibrates the TSC nor calls it unstable.
 */
#include "kernel/lib/string.h"
#include "kernel/time/tsc.h"
#include "kernel/x86/cpu.h"
#include "vmm/exit.h"
#include "vmm/guest.h"
#include "vmm/hypercall.h"

#define CPUID_HV_BASE  0x40000000u
#define CPUID_KVM_BASE 0x40000100u

#define L1_ECX_MONITOR              (1u << 3)
#define L1_ECX_VMX                  (1u << 5)
#define L1_ECX_SMX                  (1u << 6)
#define L1_ECX_X2APIC               (1u << 21)
#define L1_ECX_TSC_DEADLINE         (1u << 24)
#define L6_EAX_ARAT                 (1u << 2) /* the APIC timer keeps running in C-states */
#define L80000007_EDX_INVARIANT_TSC (1u << 8)
#define L80000001_ECX_SVM           (1u << 2)
#define CPUID_SVM_LEAF              0x8000000au
#define CPUID_TSC_LEAF              0x15u
#define L1_ECX_TM2                  (1u << 8)
#define L1_EDX_ACPI                 (1u << 22) /* thermal monitor and clock control MSRs */
#define L1_EDX_TM                   (1u << 29)
#define LD1_EAX_XSAVEC              (1u << 1)
#define L7_EBX_TSC_ADJUST           (1u << 1)
#define LD1_EAX_XSAVES              (1u << 3)
#define L1_ECX_OSXSAVE              (1u << 27)
#define L1_ECX_HYPERVISOR           (1u << 31)
#define CR4_OSXSAVE                 (1ull << 18)

struct cpuid_regs cpuid_for_guest(const struct vcpu *v, uint32_t leaf, uint32_t subleaf,
                                  uint64_t guest_cr4);

struct cpuid_regs cpuid_for_guest(const struct vcpu *v, uint32_t leaf, uint32_t subleaf,
                                  uint64_t guest_cr4)
{
    struct cpuid_regs r;

    if (leaf >= CPUID_HV_BASE && leaf <= CPUID_HV_BASE + 0xffff) {
        /* Sidecore's own block at 0x40000000, and at 0x40000100 a block with
         * KVM's signature and no paravirtual features: Linux keeps the
         * x2APIC without interrupt remapping only under a hypervisor it
         * knows delivers x2APIC interrupts, and it looks for KVM's
         * signature in every block. Nothing of KVM's interface is offered. */
        const char *sig = leaf < CPUID_KVM_BASE ? SIDECORE_CPUID_SIGNATURE : "KVMKVMKVM\0\0\0";
        r = (struct cpuid_regs){0};
        if (leaf == CPUID_HV_BASE || leaf == CPUID_KVM_BASE) {
            r.eax = leaf + 1;
            memcpy(&r.ebx, sig, 4);
            memcpy(&r.ecx, sig + 4, 4);
            memcpy(&r.edx, sig + 8, 4);
        }
        return r;
    }
    uint32_t host_max = cpuid(0, 0).eax;
    if (leaf == CPUID_TSC_LEAF || (leaf > host_max && leaf < 0x80000000u)) {
        r = (struct cpuid_regs){0};
        if (leaf == CPUID_TSC_LEAF) {
            /* TSC = crystal * EBX / EAX, with the "crystal" at the TSC rate. */
            uint64_t hz = tsc_hz();
            r = (struct cpuid_regs){
                .eax = 1, .ebx = 1, .ecx = hz <= 0xffffffffull ? (uint32_t)hz : 0};
        }
        return r;
    }
    r = cpuid(leaf, subleaf);
    switch (leaf) {
    case 0x0:
        if (r.eax < CPUID_TSC_LEAF)
            r.eax = CPUID_TSC_LEAF;
        break;
    case 0x1:
        r.ecx &= ~(L1_ECX_MONITOR | L1_ECX_VMX | L1_ECX_SMX | L1_ECX_OSXSAVE | L1_ECX_TM2);
        /* Thermal monitoring: its MSRs belong to the machine, not a guest. */
        r.edx &= ~(L1_EDX_ACPI | L1_EDX_TM);
        r.ecx |= L1_ECX_HYPERVISOR | L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE;
        if (guest_cr4 & CR4_OSXSAVE)
            r.ecx |= L1_ECX_OSXSAVE;
        /* EBX[31:24] initial APIC ID, [23:16] logical processors per package. */
        r.ebx = (r.ebx & 0xffff) | (v->index << 24) | ((v->guest->nvcpus & 0xff) << 16);
        break;
    case 0x5: /* MONITOR/MWAIT: hidden */
    case 0xa: /* performance monitoring: not virtualized */ r = (struct cpuid_regs){0}; break;
    case 0x6:
        /* Only the always-running APIC timer: no thermal or power MSRs. */
        r = (struct cpuid_regs){.eax = L6_EAX_ARAT};
        break;
    case 0xd:
        /* XSAVES needs IA32_XSS, which guests do not get; without the
         * compacted format (XSAVEC) the guest sizes its buffers from the
         * standard layout, which every CPU (and emulator) reports alike. */
        if (subleaf == 1)
            r.eax &= ~(LD1_EAX_XSAVES | LD1_EAX_XSAVEC);
        break;
    case 0x7:
        /* IA32_TSC_ADJUST is the machine's: not offered. */
        if (subleaf == 0)
            r.ebx &= ~L7_EBX_TSC_ADJUST;
        break;
    case 0x80000007: r.edx |= L80000007_EDX_INVARIANT_TSC; break;
    case 0x80000001: r.ecx &= ~L80000001_ECX_SVM; break;
    case CPUID_SVM_LEAF: r = (struct cpuid_regs){0}; break;
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
