/* SPDX-License-Identifier: MIT */
/*
 * The SVM backend's per-guest state: the nested CR3 of the guest's NPT
 * tables, and the MSR and I/O permission maps filled from the policy tables
 * (svm_maps.c). Every vCPU of the guest shares them.
 */
#include "kernel/lib/fmt.h"
#include "kernel/mm/pmm.h"
#include "vmm/ept.h"
#include "vmm/guest.h"
#include "vmm/svm/svm.h"
#include "vmm/svm/svm_maps.h"

bool svm_guest_init(struct guest *g, char *why, size_t why_size)
{
    /* MSR map: 2 pages, I/O map: 3 pages, then this state. */
    uint64_t pages = pmm_alloc_pages(6);

    if (!pages) {
        fmt_snprintf(why, why_size, "out of memory for its MSR and I/O permission maps");
        return false;
    }
    uint8_t *base = (uint8_t *)(uintptr_t)pages;
    struct svm_guest *sg = (struct svm_guest *)(base + 5 * PAGE_SIZE);
    sg->msrpm = base;
    sg->iopm = base + 2 * PAGE_SIZE;
    sg->ncr3 = ept_npt_root(g->slat);
    svm_msrpm_build(sg->msrpm);
    svm_iopm_build(sg->iopm);
    g->arch = sg;
    return true;
}
