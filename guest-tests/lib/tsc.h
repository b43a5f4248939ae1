/* SPDX-License-Identifier: MIT */
/*
 * Time from the TSC, scaled by the frequency HC_INFO reports. Without
 * Sidecore the frequency is unknown and 1 GHz is assumed (said once on the
 * console), which is good enough for the smoke test's pacing.
 */
#ifndef GUEST_TESTS_TSC_H
#define GUEST_TESTS_TSC_H

#include <stdint.h>

uint32_t tsc_khz(void);
uint64_t tsc_to_us(uint64_t ticks);
/* Busy-waits (interrupts keep their state). */
void tsc_delay_us(uint64_t microseconds);

#endif
