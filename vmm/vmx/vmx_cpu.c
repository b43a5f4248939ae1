/* SPDX-License-Identifier: MIT */
/* Turning VMX operation on, on each CPU that runs guests. */
#include "kernel/console/log.h"
#include "kernel/cpu/percpu.h"
#include "kernel/lib/fmt.h"
#include "kernel/mm/pmm.h"
#include "kernel/x86/cpu.h"
#include "vmm/vmx/vmx.h"
#include "vmm/vmx/vmx_ops.h"

#define CR4_VMXE    (1ull << 13)
#define CR4_OSXSAVE (1ull << 18)

bool vmx_cpu_enable(char *why, size_t why_size)
{
    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

    /* Firmware that left the MSR unlocked: enable VMX outside SMX, lock. */
    if (!(fc & 1)) {
        wrmsr(MSR_IA32_FEATURE_CONTROL, fc | 1 | (1 << 2));
    } else if (!(fc & (1 << 2))) {
        fmt_snprintf(why, why_size, "VT-x locked off on this CPU");
        return false;
    }
    uint64_t region = pmm_alloc_pages(1);
    if (!region) {
        fmt_snprintf(why, why_size, "no memory for the VMXON region");
        return false;
    }
    *(uint32_t *)(uintptr_t)region = vmx_hw.revision;

    write_cr0((read_cr0() | vmx_hw.cr0_fixed0) & vmx_hw.cr0_fixed1);
    uint64_t cr4 = read_cr4() | CR4_VMXE;
    /* The XSETBV exit handler executes XSETBV for the guest. */
    if (cpuid(1, 0).ecx & (1u << 26))
        cr4 |= CR4_OSXSAVE;
    write_cr4((cr4 | vmx_hw.cr4_fixed0) & vmx_hw.cr4_fixed1);
    if (!vmxon(region)) {
        pmm_free_pages(region, 1);
        fmt_snprintf(why, why_size, "VMXON failed");
        return false;
    }
    return true;
}
