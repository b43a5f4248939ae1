/* SPDX-License-Identifier: MIT */
/* Names of the VT-x basic exit reasons, for statistics and reports. */
#include "vmm/vmx/vmx.h"

static const char *const names[] = {
    [0] = "exception_nmi",
    [1] = "external_interrupt",
    [2] = "triple_fault",
    [3] = "init",
    [4] = "sipi",
    [5] = "io_smi",
    [6] = "other_smi",
    [7] = "interrupt_window",
    [8] = "nmi_window",
    [9] = "task_switch",
    [10] = "cpuid",
    [11] = "getsec",
    [12] = "hlt",
    [13] = "invd",
    [14] = "invlpg",
    [15] = "rdpmc",
    [16] = "rdtsc",
    [17] = "rsm",
    [18] = "vmcall",
    [19] = "vmclear",
    [20] = "vmlaunch",
    [21] = "vmptrld",
    [22] = "vmptrst",
    [23] = "vmread",
    [24] = "vmresume",
    [25] = "vmwrite",
    [26] = "vmxoff",
    [27] = "vmxon",
    [28] = "cr_access",
    [29] = "dr_access",
    [30] = "io",
    [31] = "rdmsr",
    [32] = "wrmsr",
    [33] = "invalid_guest_state",
    [34] = "msr_load_fail",
    [36] = "mwait",
    [37] = "monitor_trap",
    [39] = "monitor",
    [40] = "pause",
    [41] = "mce_during_entry",
    [43] = "tpr_below_threshold",
    [44] = "apic_access",
    [45] = "virtualized_eoi",
    [46] = "gdtr_idtr",
    [47] = "ldtr_tr",
    [48] = "ept_violation",
    [49] = "ept_misconfig",
    [50] = "invept",
    [51] = "rdtscp",
    [52] = "preemption_timer",
    [53] = "invvpid",
    [54] = "wbinvd",
    [55] = "xsetbv",
    [56] = "apic_write",
    [57] = "rdrand",
    [58] = "invpcid",
    [59] = "vmfunc",
    [60] = "encls",
    [61] = "rdseed",
    [62] = "pml_full",
    [63] = "xsaves",
    [64] = "xrstors",
};

const char *vmx_exit_name(uint32_t raw)
{
    if (raw < sizeof(names) / sizeof(names[0]) && names[raw])
        return names[raw];
    return "other";
}

/* Statistics slots are the basic exit reasons themselves (all below 128). */
uint32_t vmx_slot_reason(unsigned slot)
{
    return slot;
}
