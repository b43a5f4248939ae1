/* SPDX-License-Identifier: MIT */
/*
 * The physical page allocator. Free memory is a range set built from the
 * usable entries of the memory map; allocations come from the top of memory
 * down, which keeps the first megabyte (AP trampoline) and low memory
 * (32-bit DMA) for the callers that need them. Allocation is rare in a
 * partitioning hypervisor (page tables, per-CPU data, guest memory), so a
 * lock and a linear search are enough.
 */
#include "kernel/mm/pmm.h"

#include "kernel/console/log.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"
#include "kernel/mm/range_set.h"

extern char __kernel_start[], __kernel_end[];

static struct range_set free_mem;
static struct spinlock pmm_lock = SPINLOCK_INIT;
static uint64_t managed_bytes;
static uint64_t ram_end;

#define ALIGN_UP(x, a)   (((x) + (a)-1) & ~((uint64_t)(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a)-1))

void pmm_init(const struct handoff *h)
{
    range_set_init(&free_mem);
    for (uint32_t i = 0; i < h->mmap_count; i++) {
        const struct handoff_mmap_entry *e = &h->mmap[i];
        if (e->type != HANDOFF_MEM_USABLE || e->base + e->length < e->base)
            continue;
        uint64_t start = ALIGN_UP(e->base, PAGE_SIZE);
        uint64_t end = ALIGN_DOWN(e->base + e->length, PAGE_SIZE);
        if (end > ram_end)
            ram_end = end;
        if (!range_set_add(&free_mem, start, end))
            log_warn("pmm: too many memory ranges, ignoring %lx-%lx", (unsigned long)start,
                     (unsigned long)end);
    }
    /* A usable range may overlap a reserved one in a sloppy map: reserved wins. */
    for (uint32_t i = 0; i < h->mmap_count; i++) {
        const struct handoff_mmap_entry *e = &h->mmap[i];
        if (e->type != HANDOFF_MEM_USABLE)
            range_set_remove(&free_mem, ALIGN_DOWN(e->base, PAGE_SIZE),
                             ALIGN_UP(e->base + e->length, PAGE_SIZE));
    }
    /* Page 0 stays unused so a null pointer never looks like memory. */
    range_set_remove(&free_mem, 0, PAGE_SIZE);
    range_set_remove(&free_mem, ALIGN_DOWN((uint64_t)(uintptr_t)__kernel_start, PAGE_SIZE),
                     ALIGN_UP((uint64_t)(uintptr_t)__kernel_end, PAGE_SIZE));
    for (uint32_t i = 0; i < h->file_count; i++)
        range_set_remove(&free_mem, ALIGN_DOWN(h->files[i].base, PAGE_SIZE),
                         ALIGN_UP(h->files[i].base + h->files[i].size, PAGE_SIZE));
    managed_bytes = range_set_total(&free_mem);
}

uint64_t pmm_alloc_pages_below(size_t n, uint64_t limit)
{
    uint64_t flags = spin_lock_irqsave(&pmm_lock);
    uint64_t phys = range_set_take_top(&free_mem, n * PAGE_SIZE, PAGE_SIZE, limit);

    spin_unlock_irqrestore(&pmm_lock, flags);
    if (phys)
        memset((void *)(uintptr_t)phys, 0, n * PAGE_SIZE);
    return phys;
}

uint64_t pmm_alloc_aligned(uint64_t bytes, uint64_t align)
{
    uint64_t flags = spin_lock_irqsave(&pmm_lock);
    uint64_t phys = range_set_take_top(&free_mem, ALIGN_UP(bytes, PAGE_SIZE), align, UINT64_MAX);

    spin_unlock_irqrestore(&pmm_lock, flags);
    return phys;
}

uint64_t pmm_alloc_pages(size_t n)
{
    return pmm_alloc_pages_below(n, UINT64_MAX);
}

void pmm_free_pages(uint64_t phys, size_t n)
{
    uint64_t flags = spin_lock_irqsave(&pmm_lock);

    if (range_set_contains(&free_mem, phys, phys + 1) ||
        !range_set_add(&free_mem, phys, phys + n * PAGE_SIZE))
        log_error("pmm: bad free of %zu pages at %lx", n, (unsigned long)phys);
    spin_unlock_irqrestore(&pmm_lock, flags);
}

uint64_t pmm_total_bytes(void)
{
    return managed_bytes;
}

uint64_t pmm_free_bytes(void)
{
    uint64_t flags = spin_lock_irqsave(&pmm_lock);
    uint64_t n = range_set_total(&free_mem);

    spin_unlock_irqrestore(&pmm_lock, flags);
    return n;
}

uint64_t pmm_ram_end(void)
{
    return ram_end;
}
