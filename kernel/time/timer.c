/* SPDX-License-Identifier: MIT */
#include "kernel/time/timer.h"

#include <stddef.h>

#include "kernel/console/log.h"
#include "kernel/time/tsc.h"
#include "kernel/x86/cpu.h"
#include "kernel/x86/idt.h"
#include "kernel/x86/lapic.h"

/* APIC timer ticks per second in divide-by-16 one-shot mode. */
static uint64_t apic_timer_hz;

static void timer_interrupt(struct irq_frame *f)
{
    struct percpu *cpu = this_cpu();
    timer_fn fn = cpu->timer_callback;

    cpu->timer_callback = NULL;
    cpu->timer_fires++;
    lapic_eoi();
    if (fn)
        fn();
}

void timer_init(void)
{
    irq_set_handler(VEC_TIMER, timer_interrupt);
    if (lapic_has_tsc_deadline())
        return;
    /* Measure the APIC timer against the TSC over 10 ms, masked. */
    lapic_timer_arm_count(0xffffffff, VEC_TIMER);
    uint32_t c0 = lapic_timer_current();
    tsc_delay_us(10000);
    uint32_t c1 = lapic_timer_current();
    lapic_timer_stop();
    apic_timer_hz = (uint64_t)(c0 - c1) * 100;
    log_info("APIC timer: %lu kHz (divide by 16)", (unsigned long)(apic_timer_hz / 1000));
    if (!apic_timer_hz)
        apic_timer_hz = 1000000;
}

void timer_oneshot(uint64_t ns, timer_fn fn)
{
    struct percpu *cpu = this_cpu();

    cpu->timer_callback = fn;
    if (lapic_has_tsc_deadline()) {
        cpu->timer_deadline_tsc = rdtsc() + tsc_from_ns(ns);
        lapic_timer_arm_tsc(cpu->timer_deadline_tsc, VEC_TIMER);
        return;
    }
    uint64_t count = ns / 1000 * apic_timer_hz / 1000000;
    if (count > 0xffffffffull)
        count = 0xffffffffull;
    lapic_timer_arm_count((uint32_t)count, VEC_TIMER);
}

void timer_cancel(void)
{
    this_cpu()->timer_callback = NULL;
    lapic_timer_stop();
}
