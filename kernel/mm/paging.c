/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor's page tables. Physical memory is identity mapped: RAM and
 * ACPI memory write-back, read-write and non-executable; the hypervisor's
 * text read-only and executable, its rodata read-only; MMIO uncached, on
 * request. No page is both writable and executable. Page 0 is left unmapped
 * so a null pointer faults.
 */
#include "kernel/mm/paging.h"

#include <stdbool.h>

#include "kernel/console/log.h"
#include "kernel/lib/spinlock.h"
#include "kernel/mm/pmm.h"
#include "kernel/x86/cpu.h"

#define PTE_P         (1ull << 0)
#define PTE_W         (1ull << 1)
#define PTE_PWT       (1ull << 3)
#define PTE_PCD       (1ull << 4)
#define PTE_PS        (1ull << 7)
#define PTE_G         (1ull << 8)
#define PTE_NX        (1ull << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ull

#define FLAGS_RAM    (PTE_P | PTE_W | PTE_NX | PTE_G)
#define FLAGS_TEXT   (PTE_P | PTE_G)
#define FLAGS_RODATA (PTE_P | PTE_NX | PTE_G)
#define FLAGS_MMIO   (PTE_P | PTE_W | PTE_NX | PTE_PCD | PTE_PWT)

#define SIZE_2M (2ull << 20)
#define SIZE_1M (1ull << 20)

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __kernel_end[];

static uint64_t *pml4;
static struct spinlock paging_lock = SPINLOCK_INIT;
static bool paging_live;

static uint64_t *alloc_table(void)
{
    /* Tables are reached through the identity map: until our own tables are
     * live only the first 4 GiB is mapped. */
    uint64_t phys = pmm_alloc_pages_below(1, paging_live ? UINT64_MAX : (4ull << 30));

    if (!phys)
        panic("paging: out of memory for page tables");
    return (uint64_t *)(uintptr_t)phys;
}

/* Returns the next-level table under entry *e, creating it (or splitting a
 * 2 MiB page into 4 KiB ones) as needed. */
static uint64_t *next_table(uint64_t *e, bool split_large)
{
    if (!(*e & PTE_P)) {
        uint64_t *t = alloc_table();
        *e = (uint64_t)(uintptr_t)t | PTE_P | PTE_W;
        return t;
    }
    if ((*e & PTE_PS) && split_large) {
        uint64_t *t = alloc_table();
        uint64_t base = *e & PTE_ADDR_MASK & ~(SIZE_2M - 1);
        uint64_t flags = *e & ~PTE_ADDR_MASK & ~PTE_PS;
        for (int i = 0; i < 512; i++)
            t[i] = (base + (uint64_t)i * PAGE_SIZE) | flags;
        *e = (uint64_t)(uintptr_t)t | PTE_P | PTE_W;
        return t;
    }
    return (uint64_t *)(uintptr_t)(*e & PTE_ADDR_MASK);
}

/*
 * Maps [start, end) (page aligned) identity with the given flags, using
 * 2 MiB pages where alignment allows. With only_unmapped, pages that are
 * already present keep their mapping.
 */
static void map_range(uint64_t start, uint64_t end, uint64_t flags, bool only_unmapped)
{
    uint64_t a = start;

    while (a < end) {
        uint64_t *pdpt = next_table(&pml4[(a >> 39) & 511], false);
        uint64_t *pd = next_table(&pdpt[(a >> 30) & 511], false);
        uint64_t *pde = &pd[(a >> 21) & 511];

        if ((a & (SIZE_2M - 1)) == 0 && end - a >= SIZE_2M &&
            (!(*pde & PTE_P) || ((*pde & PTE_PS) && !only_unmapped))) {
            *pde = a | flags | PTE_PS;
            a += SIZE_2M;
            continue;
        }
        if ((*pde & PTE_P) && (*pde & PTE_PS) && only_unmapped) {
            a = (a | (SIZE_2M - 1)) + 1;
            continue;
        }
        uint64_t *pt = next_table(pde, true);
        uint64_t *pte = &pt[(a >> 12) & 511];
        if (!(*pte & PTE_P) || !only_unmapped)
            *pte = a | flags;
        a += PAGE_SIZE;
    }
}

static uint64_t align_down(uint64_t x, uint64_t a)
{
    return x & ~(a - 1);
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
    return (x + a - 1) & ~(a - 1);
}

void paging_init(const struct handoff *h)
{
    pml4 = alloc_table();

    /* The first megabyte (BIOS data, EBDA, option ROMs: ACPI may point
     * there), except page 0. */
    map_range(PAGE_SIZE, SIZE_1M, FLAGS_RAM, false);
    for (uint32_t i = 0; i < h->mmap_count; i++) {
        const struct handoff_mmap_entry *e = &h->mmap[i];
        if (e->type != HANDOFF_MEM_USABLE && e->type != HANDOFF_MEM_ACPI_RECLAIM &&
            e->type != HANDOFF_MEM_ACPI_NVS)
            continue;
        uint64_t start = align_down(e->base, PAGE_SIZE);
        uint64_t end = align_up(e->base + e->length, PAGE_SIZE);
        if (start < PAGE_SIZE)
            start = PAGE_SIZE;
        if (start < end)
            map_range(start, end, FLAGS_RAM, false);
    }
    /* The hypervisor image, with its own permissions (overrides the above). */
    map_range((uint64_t)(uintptr_t)__text_start,
              align_up((uint64_t)(uintptr_t)__text_end, PAGE_SIZE), FLAGS_TEXT, false);
    map_range((uint64_t)(uintptr_t)__rodata_start,
              align_up((uint64_t)(uintptr_t)__rodata_end, PAGE_SIZE), FLAGS_RODATA, false);
    map_range((uint64_t)(uintptr_t)__data_start,
              align_up((uint64_t)(uintptr_t)__kernel_end, PAGE_SIZE), FLAGS_RAM, false);
    /* Boot files (config, guest images) may sit in memory the map calls
     * reserved on some firmware; keep them reachable. */
    for (uint32_t i = 0; i < h->file_count; i++)
        map_range(align_down(h->files[i].base, PAGE_SIZE),
                  align_up(h->files[i].base + h->files[i].size, PAGE_SIZE), FLAGS_RAM, true);

    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    write_cr4(read_cr4() | CR4_PGE);
    write_cr0(read_cr0() | CR0_WP);
    write_cr3((uint64_t)(uintptr_t)pml4);
    paging_live = true;
}

void paging_load(void)
{
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    write_cr4(read_cr4() | CR4_PGE);
    write_cr0(read_cr0() | CR0_WP);
    write_cr3((uint64_t)(uintptr_t)pml4);
}

uint64_t paging_root(void)
{
    return (uint64_t)(uintptr_t)pml4;
}

void *paging_map_mmio(uint64_t phys, uint64_t size)
{
    if (!paging_live)
        return (void *)(uintptr_t)phys; /* boot tables map the low 4 GiB */
    uint64_t flags = spin_lock_irqsave(&paging_lock);
    uint64_t start = align_down(phys, PAGE_SIZE);
    uint64_t end = align_up(phys + (size ? size : 1), PAGE_SIZE);

    map_range(start, end, FLAGS_MMIO, true);
    for (uint64_t a = start; a < end; a += PAGE_SIZE)
        asm volatile("invlpg (%0)" : : "r"(a) : "memory");
    spin_unlock_irqrestore(&paging_lock, flags);
    return (void *)(uintptr_t)phys;
}

/* Accounts a leaf of `size` bytes at `addr` with the effective permissions
 * of its path (writable only if every level is, executable only if no level
 * sets NX). */
static void audit_leaf(struct paging_audit *a, uint64_t addr, uint64_t size, bool w, bool x)
{
    a->mapped_bytes += size;
    if (x)
        a->exec_bytes += size;
    if (w && x)
        a->writable_exec_bytes += size;
    if (addr == 0)
        a->null_page_mapped = 1;
}

static void audit_table(struct paging_audit *a, const uint64_t *t, int level, uint64_t base, bool w,
                        bool x)
{
    static const unsigned shifts[] = {12, 21, 30, 39};

    for (int i = 0; i < 512; i++) {
        uint64_t e = t[i];
        if (!(e & PTE_P))
            continue;
        uint64_t addr = base + ((uint64_t)i << shifts[level]);
        bool ew = w && (e & PTE_W), ex = x && !(e & PTE_NX);
        if (level == 0 || (level <= 2 && (e & PTE_PS)))
            audit_leaf(a, addr, 1ull << shifts[level], ew, ex);
        else
            audit_table(a, (const uint64_t *)(uintptr_t)(e & PTE_ADDR_MASK), level - 1, addr, ew,
                        ex);
    }
}

void paging_audit(struct paging_audit *out)
{
    *out = (struct paging_audit){0};
    audit_table(out, (const uint64_t *)(uintptr_t)(read_cr3() & PTE_ADDR_MASK), 3, 0, true, true);
}
