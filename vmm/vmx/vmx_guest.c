/* SPDX-License-Identifier: MIT */
/*
 * The VT-x backend's per-guest state: the EPT pointer to the guest's
 * second-level tables, and the MSR bitmaps (one for a local APIC in
 * software, one for an APIC the CPU virtualizes) and the two I/O bitmaps, filled
 * from the policy tables (vmm/msr_policy.c, vmm/io_policy.c). Every vCPU of
 * the guest shares them.
 */
#include "kernel/lib/fmt.h"
#include "kernel/mm/pmm.h"
#include "vmm/ept.h"
#include "vmm/guest.h"
#include "vmm/io_policy.h"
#include "vmm/msr_policy.h"
#include "kernel/config/hv_config.h"
#include "vmm/vmx/vmx.h"

bool vmx_guest_init(struct guest *g, char *why, size_t why_size)
{
    uint64_t pages = pmm_alloc_pages(5);

    if (!pages) {
        fmt_snprintf(why, why_size, "out of memory for its MSR and I/O bitmaps");
        return false;
    }
    uint8_t *base = (uint8_t *)(uintptr_t)pages;
    struct vmx_guest *vg = (struct vmx_guest *)(base + 4 * PAGE_SIZE);
    vg->msr_bitmap = base;
    vg->io_bitmap_a = base + PAGE_SIZE;
    vg->io_bitmap_b = base + 2 * PAGE_SIZE;
    vg->eptp = ept_eptp(g->slat, false);
    vg->msr_bitmap_apicv = base + 3 * PAGE_SIZE;
    vg->apic_access = 0;
    msr_bitmap_build(vg->msr_bitmap);
    msr_bitmap_build(vg->msr_bitmap_apicv);
    io_bitmaps_build(vg->io_bitmap_a, vg->io_bitmap_b);
    g->arch = vg;
    /* Before any vCPU exists: they read vg->apic_access when set up. */
    if (vmx_apicv_usable() && hv_config_apicv_allowed())
        vmx_apicv_map_access_page(g);
    return true;
}
