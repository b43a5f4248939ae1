/* SPDX-License-Identifier: MIT */
/*
 * Builds a 4-level identity map of the first 4 GiB: PML4[0] -> PDPT, PDPT[i]
 * -> page directory i, each directory entry a present, writable 2 MiB page.
 * Page 0 of tables is the PML4, page 1 the PDPT, pages 2-5 the directories.
 */
#include "boot/efi/identity_map.h"

#define ENTRIES    512
#define PTE_P      (1ull << 0)
#define PTE_W      (1ull << 1)
#define PTE_PS     (1ull << 7)
#define PAGE_BYTES 4096ull
#define LARGE_PAGE (2ull << 20)

uint64_t identity_map_4g(uint64_t *tables, uint64_t tables_phys)
{
    uint64_t *pml4 = tables, *pdpt = tables + ENTRIES, *pd = tables + 2 * ENTRIES;

    for (unsigned i = 0; i < IDENTITY_MAP_PAGES * ENTRIES; i++)
        tables[i] = 0;
    pml4[0] = (tables_phys + PAGE_BYTES) | PTE_P | PTE_W;
    for (unsigned i = 0; i < 4; i++)
        pdpt[i] = (tables_phys + (2 + i) * PAGE_BYTES) | PTE_P | PTE_W;
    for (unsigned i = 0; i < 4 * ENTRIES; i++)
        pd[i] = (uint64_t)i * LARGE_PAGE | PTE_P | PTE_W | PTE_PS;
    return tables_phys;
}
