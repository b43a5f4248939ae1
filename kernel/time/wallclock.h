/* SPDX-License-Identifier: MIT */
/* Wall-clock time: the machine's RTC read once at boot, advanced by the
 * monotonic clock. Guests' virtual RTCs start from it. */
#ifndef SIDECORE_TIME_WALLCLOCK_H
#define SIDECORE_TIME_WALLCLOCK_H

#include <stdint.h>

/* Reads the CMOS clock (boot CPU, once, after the clock is calibrated). */
void wallclock_init(void);
/* Seconds since 1970-01-01 UTC (as the RTC holds it), or 0 if unknown. */
int64_t wallclock_now(void);

#endif
