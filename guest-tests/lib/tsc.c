/* SPDX-License-Identifier: MIT */
/*
 * TSC scaling. The frequency is read through HC_INFO once and cached.
 */
#include "tsc.h"
#include "div64.h"
#include "hypercall.h"
#include "printf.h"
#include "x86.h"

#define ASSUMED_KHZ 1000000u

static uint32_t cached_khz;

uint32_t tsc_khz(void)
{
    struct hc_info info;

    if (cached_khz)
        return cached_khz;
    if (hc_info(&info) == HC_OK && info.tsc_khz) {
        cached_khz = info.tsc_khz;
    } else {
        printf("tsc: frequency unknown, assuming %u kHz\n", ASSUMED_KHZ);
        cached_khz = ASSUMED_KHZ;
    }
    return cached_khz;
}

uint64_t tsc_to_us(uint64_t ticks)
{
    uint64_t khz = tsc_khz();
    uint64_t ms_rem;
    uint64_t ms = u64_divmod(ticks, khz, &ms_rem);

    /* Split so ticks * 1000 cannot overflow. */
    return ms * 1000 + u64_divmod(ms_rem * 1000, khz, NULL);
}

void tsc_delay_us(uint64_t microseconds)
{
    uint64_t start = rdtsc();

    while (tsc_to_us(rdtsc() - start) < microseconds)
        asm volatile("pause");
}
