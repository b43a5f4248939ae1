/* SPDX-License-Identifier: MIT */
/* The hypervisor's own page tables: physical memory identity mapped, text
 * read-only and executable, everything else non-executable. */
#ifndef SIDECORE_MM_PAGING_H
#define SIDECORE_MM_PAGING_H

#include <stdint.h>

#include "boot/handoff.h"

/* Builds the tables from the memory map and switches to them (boot CPU). */
void paging_init(const struct handoff *h);
/* Loads the hypervisor's tables on a secondary CPU. */
void paging_load(void);
uint64_t paging_root(void);

/*
 * Makes [phys, phys+size) reachable as uncached device memory at the same
 * virtual address and returns a pointer to it. Safe to call again for the
 * same range. Use it for every MMIO region (APIC, IOAPIC, ECAM, PCI BARs).
 */
void *paging_map_mmio(uint64_t phys, uint64_t size);

/* What the live page tables allow, for the W^X invariant check. */
struct paging_audit {
    uint64_t mapped_bytes;
    uint64_t exec_bytes;
    uint64_t writable_exec_bytes; /* must be 0 */
    int null_page_mapped;         /* must be 0 */
};

/* Walks this CPU's page tables (effective permissions along each path). */
void paging_audit(struct paging_audit *out);

#endif
