/* SPDX-License-Identifier: MIT */
/* The local APIC, in x2APIC mode when the CPU has it, xAPIC otherwise. */
#ifndef SIDECORE_X86_LAPIC_H
#define SIDECORE_X86_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Chooses the mode (boot CPU, once): x2APIC if CPUID says so. */
void lapic_setup(uint64_t xapic_phys);
/* Enables this CPU's APIC in the chosen mode, masks its LVT entries. */
void lapic_init_cpu(void);
bool lapic_x2apic_mode(void);
uint32_t lapic_id(void);
void lapic_eoi(void);

void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
void lapic_send_init(uint32_t apic_id);
void lapic_send_sipi(uint32_t apic_id, uint8_t page);

/* The LAPIC timer: TSC-deadline when the CPU has it, else one-shot count. */
bool lapic_has_tsc_deadline(void);
void lapic_timer_arm_tsc(uint64_t deadline_tsc, uint8_t vector);
void lapic_timer_arm_count(uint32_t count, uint8_t vector);
void lapic_timer_stop(void);
/* Current count of the one-shot timer (count mode). */
uint32_t lapic_timer_current(void);

#endif
