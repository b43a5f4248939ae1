/* SPDX-License-Identifier: MIT */
/* Per-CPU one-shot timers on the local APIC timer. */
#ifndef SIDECORE_TIME_TIMER_H
#define SIDECORE_TIME_TIMER_H

#include <stdint.h>

#include "kernel/cpu/percpu.h"

/* Boot CPU, after tsc_init and lapic_setup: installs the interrupt handler
 * and measures the APIC timer when the TSC-deadline mode is missing. */
void timer_init(void);
/* Arms this CPU's timer to run fn (in interrupt context) ns from now,
 * replacing any armed timer. fn may be NULL to just wake the CPU. */
void timer_oneshot(uint64_t ns, timer_fn fn);
void timer_cancel(void);

#endif
