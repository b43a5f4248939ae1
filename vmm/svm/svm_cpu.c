/* SPDX-License-Identifier: MIT */
/* Turning SVM on, on each CPU that runs guests: VM_CR must allow it,
 * EFER.SVME on, and a host save area for VMRUN in VM_HSAVE_PA. */
#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pmm.h"
#include "kernel/x86/cpu.h"
#include "vmm/svm/svm.h"

#define CR4_OSXSAVE (1ull << 18)

bool svm_cpu_enable(char *why, size_t why_size)
{
    uint64_t vm_cr = rdmsr(MSR_VM_CR);

    if (vm_cr & VM_CR_SVMDIS) {
        if (vm_cr & VM_CR_LOCK) {
            fmt_snprintf(why, why_size, "AMD-V locked off on this CPU");
            return false;
        }
        wrmsr(MSR_VM_CR, vm_cr & ~VM_CR_SVMDIS);
    }
    uint64_t hsave = pmm_alloc_pages(1);
    if (!hsave) {
        fmt_snprintf(why, why_size, "no memory for the host save area");
        return false;
    }
    memset((void *)(uintptr_t)hsave, 0, PAGE_SIZE);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
    wrmsr(MSR_VM_HSAVE_PA, hsave);
    /* The XSETBV exit handler executes XSETBV for the guest. */
    if (cpuid(1, 0).ecx & (1u << 26))
        write_cr4(read_cr4() | CR4_OSXSAVE);
    return true;
}
