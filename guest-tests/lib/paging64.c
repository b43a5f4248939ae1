/* SPDX-License-Identifier: MIT */
/*
 * Builds the identity map described in paging64.h in .bss and loads it. The
 * switch is seamless because both the old and the new tables map the image
 * and stack at the same addresses.
 */
#include "paging64.h"
#include "x86.h"

#define PAGE_4K     0x1000ull
#define PAGE_2M     0x200000ull
#define PAGE_1G     0x40000000ull
#define MAPPED_GIBS 4

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[MAPPED_GIBS][512] __attribute__((aligned(4096)));
static uint64_t pt_low[512] __attribute__((aligned(4096)));

void paging64_init(void)
{
    const uint64_t rw = PTE_PRESENT | PTE_WRITABLE;

    for (unsigned i = 0; i < 512; i++)
        pt_low[i] = i * PAGE_4K | rw;
    for (unsigned g = 0; g < MAPPED_GIBS; g++) {
        for (unsigned i = 0; i < 512; i++)
            pd[g][i] = (g * PAGE_1G + i * PAGE_2M) | rw | PTE_LARGE;
        pdpt[g] = (uintptr_t)pd[g] | rw;
    }
    pd[0][0] = (uintptr_t)pt_low | rw;
    pml4[0] = (uintptr_t)pdpt | rw;
    write_cr3((uintptr_t)pml4);
}

volatile uint64_t *paging64_pte(uintptr_t va)
{
    if (va >= PAGING64_SMALL_PAGES_END)
        return 0;
    return &pt_low[va / PAGE_4K];
}

void paging64_allow_user(void)
{
    /* Every level of the walk must allow user access. */
    pml4[0] |= PTE_USER;
    pdpt[0] |= PTE_USER;
    pd[0][0] |= PTE_USER;
    for (unsigned i = 0; i < 512; i++)
        pt_low[i] |= PTE_USER;
    write_cr3((uintptr_t)pml4); /* drops the TLB's supervisor-only entries */
}
