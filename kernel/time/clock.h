/* SPDX-License-Identifier: MIT */
/* The monotonic clock: nanoseconds since boot, from the TSC once it is
 * calibrated (0 before that). */
#ifndef SIDECORE_TIME_CLOCK_H
#define SIDECORE_TIME_CLOCK_H

#include <stdint.h>

uint64_t clock_uptime_ns(void);

#endif
