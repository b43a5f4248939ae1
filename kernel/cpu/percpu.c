/* SPDX-License-Identifier: MIT */
#include "kernel/cpu/percpu.h"

#include "kernel/console/log.h"
#include "kernel/mm/pmm.h"
#include "kernel/x86/cpu.h"
#include "kernel/x86/idt.h"

static struct percpu *cpus[MAX_CPUS];
static uint32_t ncpus;

#define PERCPU_PAGES ((sizeof(struct percpu) + PAGE_SIZE - 1) / PAGE_SIZE)
#define STACK_PAGES  (CPU_STACK_SIZE / PAGE_SIZE)
#define IST_PAGES    (CPU_IST_SIZE / PAGE_SIZE)

struct percpu *percpu_create(uint32_t index, uint32_t apic_id)
{
    if (index >= MAX_CPUS)
        return NULL;
    size_t pages = PERCPU_PAGES + STACK_PAGES + 3 * IST_PAGES;
    /* Below 4 GiB: a starting AP runs on the boot page tables, which map only
     * the low 4 GiB, until it loads ours. */
    uint64_t mem = pmm_alloc_pages_below(pages, 4ull << 30);
    if (!mem)
        panic("out of memory for CPU %u's data", index);

    struct percpu *p = (struct percpu *)(uintptr_t)mem;
    uint64_t stacks = mem + PERCPU_PAGES * PAGE_SIZE;
    p->self = p;
    p->index = index;
    p->apic_id = apic_id;
    p->state = CPU_ABSENT;
    p->stack_bottom = stacks;
    p->stack_top = stacks + CPU_STACK_SIZE;
    for (int i = 0; i < 3; i++)
        p->tss.ist[i] = stacks + CPU_STACK_SIZE + (uint64_t)(i + 1) * CPU_IST_SIZE;
    gdt_build(&p->gdt, &p->tss);
    cpus[index] = p;
    if (index >= ncpus)
        ncpus = index + 1;
    return p;
}

void percpu_load(struct percpu *p)
{
    gdt_load(&p->gdt);
    idt_load();
    wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)p);
}

struct percpu *cpu_by_index(uint32_t index)
{
    return index < ncpus ? cpus[index] : NULL;
}

uint32_t cpu_count(void)
{
    return ncpus;
}

uint32_t cpu_online_count(void)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < ncpus; i++)
        n += cpus[i] && cpus[i]->state == CPU_ONLINE;
    return n;
}
