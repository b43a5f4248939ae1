/* SPDX-License-Identifier: MIT */
/*
 * Per-CPU data. Each physical CPU has one struct percpu, reached through the
 * GS base (this_cpu()), holding its identity, its GDT and TSS, its stacks
 * and its state.
 */
#ifndef SIDECORE_CPU_PERCPU_H
#define SIDECORE_CPU_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/cpu/topology.h"
#include "kernel/x86/gdt.h"

#define MAX_CPUS       256
#define CPU_STACK_SIZE (32 * 1024)
#define CPU_IST_SIZE   (16 * 1024)

enum cpu_state {
    CPU_ABSENT = 0, /* listed but disabled in the MADT, or not started */
    CPU_STARTING,   /* INIT-SIPI-SIPI sent */
    CPU_ONLINE,     /* running the hypervisor */
    CPU_FAILED,     /* did not answer, or stopped by an exception */
};

typedef void (*timer_fn)(void);

struct percpu {
    struct percpu *self; /* first: read with %gs:0 */
    uint32_t index;      /* 0 = boot CPU */
    uint32_t apic_id;    /* from the MADT; checked against CPUID on start */
    volatile enum cpu_state state;
    struct cpu_topology topo;
    struct gdt gdt;
    struct tss tss;
    uint64_t stack_bottom, stack_top; /* the CPU's main stack */
    /* One-shot timer (kernel/time/timer.c). */
    volatile uint64_t timer_deadline_tsc;
    timer_fn timer_callback;
    uint64_t timer_fires;
    /* Cross-CPU calls (kernel/cpu/cpu_call.c). */
    void (*volatile call_fn)(void *arg);
    void *volatile call_arg;
    volatile uint64_t calls_done;
    /* Long-running work posted to an idle CPU (kernel/cpu/cpu_call.c): run
     * by its idle loop, with interrupts disabled, e.g. a vCPU. */
    void (*volatile work_fn)(void *arg);
    void *volatile work_arg;
    /* Virtualization is on (vmm/): set once by the backend's cpu_enable. */
    bool virt_enabled;
};

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    asm volatile("movq %%gs:0, %0" : "=r"(p));
    return p;
}

/* Allocates and fills the per-CPU area of CPU index (stacks, GDT, TSS). */
struct percpu *percpu_create(uint32_t index, uint32_t apic_id);
/* Loads this CPU's GDT, TSS, IDT and GS base. */
void percpu_load(struct percpu *p);

struct percpu *cpu_by_index(uint32_t index);
uint32_t cpu_count(void); /* CPUs known (listed and enabled in the MADT) */
uint32_t cpu_online_count(void);

#endif
