/* SPDX-License-Identifier: MIT */
/* The physical memory manager: 4 KiB pages from the firmware's memory map,
 * minus the hypervisor image, the boot files and the first megabyte. */
#ifndef SIDECORE_MM_PMM_H
#define SIDECORE_MM_PMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/handoff.h"

#define PAGE_SIZE  4096ull
#define PAGE_SHIFT 12

void pmm_init(const struct handoff *h);

/* Allocates n contiguous zeroed pages; returns the physical address (which is
 * also the hypervisor's virtual address: memory is identity mapped), or 0. */
uint64_t pmm_alloc_pages(size_t n);
/* Same, but below the given physical limit (e.g. 1 MiB for the AP
 * trampoline, 4 GiB for 32-bit DMA). */
uint64_t pmm_alloc_pages_below(size_t n, uint64_t limit);
void pmm_free_pages(uint64_t phys, size_t n);
/* Allocates bytes (a multiple of the page size) aligned to align, NOT
 * zeroed (large blocks such as guest memory are cleared by their user, when
 * it needs them clear). Returns 0 if no block fits. */
uint64_t pmm_alloc_aligned(uint64_t bytes, uint64_t align);

uint64_t pmm_total_bytes(void); /* usable RAM the allocator manages */
uint64_t pmm_free_bytes(void);
/* Highest physical address of usable RAM (exclusive). */
uint64_t pmm_ram_end(void);

#endif
