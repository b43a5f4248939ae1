/* SPDX-License-Identifier: MIT */
/*
 * The 64-bit guests' own page tables: an identity map of the low 4 GiB, with
 * 4 KiB pages for the first 2 MiB (where the image lives) so a test can
 * change a single page's entry, and 2 MiB pages above. The loader's tables
 * are abandoned because they lie in memory the guest does not know about.
 */
#ifndef GUEST_TESTS_PAGING64_H
#define GUEST_TESTS_PAGING64_H

#include <stdint.h>

#define PTE_PRESENT  (1ull << 0)
#define PTE_WRITABLE (1ull << 1)
#define PTE_USER     (1ull << 2)
#define PTE_LARGE    (1ull << 7)

#define PAGING64_SMALL_PAGES_END 0x200000ul

void paging64_init(void);
/* Makes the first 2 MiB (the image, its data and stacks) reachable from
 * ring 3, for a test that runs code in user mode. */
void paging64_allow_user(void);
/* The 4 KiB page-table entry mapping va, or NULL if va is not in the first
 * 2 MiB. After changing it, invlpg(va). */
volatile uint64_t *paging64_pte(uintptr_t va);

#endif
