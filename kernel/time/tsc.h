/* SPDX-License-Identifier: MIT */
/* The TSC as the hypervisor's time base: its frequency from CPUID leaves
 * 0x15/0x16 when they agree with a measurement against the PIT, otherwise
 * the measurement. */
#ifndef SIDECORE_TIME_TSC_H
#define SIDECORE_TIME_TSC_H

#include <stdint.h>

void tsc_init(void); /* boot CPU, once, before the other CPUs start */
uint64_t tsc_hz(void);
uint64_t tsc_from_ns(uint64_t ns);
void tsc_delay_us(uint64_t us);

#endif
