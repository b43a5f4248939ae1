/* SPDX-License-Identifier: MIT */
/*
 * Probing VT-x: CPUID, IA32_FEATURE_CONTROL and the VMX capability MSRs,
 * read once on the boot CPU. The boot log gets one line per feature the
 * rest of Sidecore cares about.
 */
#include "kernel/console/log.h"
#include "kernel/lib/fmt.h"
#include "kernel/x86/cpu.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

struct vmx_hw vmx_hw;

#define FEATURE_CONTROL_LOCK              (1ull << 0)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX (1ull << 2)

#define EPT_CAP_WB            (1ull << 14)
#define EPT_CAP_2M            (1ull << 16)
#define EPT_CAP_1G            (1ull << 17)
#define EPT_CAP_INVEPT        (1ull << 20)
#define EPT_CAP_AD            (1ull << 21)
#define EPT_CAP_INVEPT_SINGLE (1ull << 25)
#define VPID_CAP_INVVPID      (1ull << 32)

uint32_t vmx_adjust_controls(uint64_t cap, uint32_t want, uint32_t optional, bool *ok)
{
    uint32_t must = (uint32_t)cap, may = (uint32_t)(cap >> 32);

    if ((want & may) != want)
        *ok = false;
    return (want | (optional & may) | must) & may;
}

static bool may_set(uint64_t cap, uint32_t bit)
{
    return (cap >> 32) & bit;
}

static void report(const char *feature, bool yes)
{
    log_info("VT-x: %-32s %s", feature, yes ? "yes" : "no");
}

bool vmx_probe(struct vcpu_caps *caps, char *why, size_t why_size)
{
    struct cpuid_regs r = cpuid(1, 0);

    if (!(r.ecx & (1u << 5))) {
        fmt_snprintf(why, why_size, "this CPU has no VT-x (CPUID.1:ECX.VMX = 0)");
        return false;
    }
    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
    if ((fc & FEATURE_CONTROL_LOCK) && !(fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX)) {
        fmt_snprintf(why, why_size,
                     "VT-x is disabled and locked off by the firmware (IA32_FEATURE_CONTROL "
                     "= %#lx); enable it in the BIOS setup",
                     (unsigned long)fc);
        return false;
    }

    uint64_t basic = rdmsr(MSR_VMX_BASIC);
    bool true_ctls = basic & (1ull << 55);
    vmx_hw.revision = (uint32_t)basic & 0x7fffffff;
    vmx_hw.pin = rdmsr(true_ctls ? MSR_VMX_TRUE_PINBASED : MSR_VMX_PINBASED);
    vmx_hw.proc = rdmsr(true_ctls ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED);
    vmx_hw.exit = rdmsr(true_ctls ? MSR_VMX_TRUE_EXIT : MSR_VMX_EXIT);
    vmx_hw.entry = rdmsr(true_ctls ? MSR_VMX_TRUE_ENTRY : MSR_VMX_ENTRY);
    vmx_hw.misc = rdmsr(MSR_VMX_MISC);
    vmx_hw.cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
    vmx_hw.cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
    vmx_hw.cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
    vmx_hw.cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
    vmx_hw.preempt_shift = (unsigned)(vmx_hw.misc & 0x1f);
    bool secondary = may_set(vmx_hw.proc, PROC_SECONDARY);
    vmx_hw.proc2 = secondary ? rdmsr(MSR_VMX_PROCBASED2) : 0;
    bool ept_or_vpid = may_set(vmx_hw.proc2, PROC2_EPT) || may_set(vmx_hw.proc2, PROC2_VPID);
    vmx_hw.ept_vpid = ept_or_vpid ? rdmsr(MSR_VMX_EPT_VPID_CAP) : 0;

    *caps = (struct vcpu_caps){
        .ept = may_set(vmx_hw.proc2, PROC2_EPT) && (vmx_hw.ept_vpid & EPT_CAP_WB) &&
               (vmx_hw.ept_vpid & EPT_CAP_INVEPT),
        .slat_format = VCPU_SLAT_EPT,
        .slat_2m = vmx_hw.ept_vpid & EPT_CAP_2M,
        .slat_1g = vmx_hw.ept_vpid & EPT_CAP_1G,
        .ept_ad = vmx_hw.ept_vpid & EPT_CAP_AD,
        .tlb_tags = may_set(vmx_hw.proc2, PROC2_VPID) && (vmx_hw.ept_vpid & VPID_CAP_INVVPID),
        .unrestricted = may_set(vmx_hw.proc2, PROC2_UNRESTRICTED),
        .preempt_timer = may_set(vmx_hw.pin, PIN_PREEMPT_TIMER),
        .apic_reg_virt = may_set(vmx_hw.proc2, PROC2_APIC_REG_VIRT),
        .virt_intr_delivery = may_set(vmx_hw.proc2, PROC2_VIRT_INTR_DELIVERY),
        .posted_intr = may_set(vmx_hw.pin, PIN_POSTED_INTR),
        .x2apic_virt = may_set(vmx_hw.proc2, PROC2_VIRT_X2APIC),
    };
    log_info("VT-x: VMCS revision %#x, %s capability MSRs", vmx_hw.revision,
             true_ctls ? "TRUE" : "default");
    report("EPT", caps->ept);
    report("EPT 2M pages", caps->slat_2m);
    report("EPT 1G pages", caps->slat_1g);
    report("EPT accessed/dirty bits", caps->ept_ad);
    report("VPID", caps->tlb_tags);
    report("unrestricted guest", caps->unrestricted);
    report("APIC-register virtualization", caps->apic_reg_virt);
    report("virtual-interrupt delivery", caps->virt_intr_delivery);
    report("posted interrupts", caps->posted_intr);
    report("preemption timer", caps->preempt_timer);

    /* What Sidecore cannot do without. */
    const char *missing = NULL;
    if (!caps->ept)
        missing = "EPT with write-back tables and INVEPT";
    else if (!caps->unrestricted)
        missing = "unrestricted guest";
    else if (!caps->preempt_timer)
        missing = "the VMX preemption timer";
    else if (!may_set(vmx_hw.exit, EXIT_LOAD_EFER) || !may_set(vmx_hw.entry, ENTRY_LOAD_EFER))
        missing = "loading EFER on VM entry and exit";
    if (missing) {
        fmt_snprintf(why, why_size, "VT-x lacks %s, which Sidecore needs", missing);
        return false;
    }
    return true;
}
