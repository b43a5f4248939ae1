/* SPDX-License-Identifier: MIT */
/*
 * counter: the "pair" scenario's guest. Two of these run at once, each on
 * its own core, and print "counter: N" every 500 ms of TSC time, 10 s in all
 * (long enough that the system test's `stats` lands while both still run,
 * however slow a loaded host is to type it); the test checks the two streams
 * interleave (both ran at the same time). The guest itself checks it is alone
 * on its core: while busy-waiting it never loses the CPU for 10 ms or more.
 */
#include "expect.h"
#include "hypercall.h"
#include "printf.h"
#include "runtime.h"
#include "tsc.h"
#include "x86.h"

const char guest_name[] = GUEST_NAME;

#define STEPS      20
#define STEP_US    500000
#define MAX_GAP_US 10000

void test_main(void)
{
    struct hc_info info = {0};
    uint64_t max_gap = 0;

    if (EXPECT_EQ(hc_info(&info), HC_OK, "counter: HC_INFO returns 0"))
        EXPECTF(info.vcpu == 0 && info.vcpus == 1, "counter: one vCPU, index 0", "vCPU %u of %u",
                info.vcpu, info.vcpus);
    uint64_t khz = tsc_khz();
    uint64_t step_ticks = khz * (STEP_US / 1000);

    for (unsigned n = 1; n <= STEPS; n++) {
        uint64_t start = rdtsc(), last = start, now;
        do {
            now = rdtsc();
            if (now - last > max_gap)
                max_gap = now - last;
            last = now;
        } while (now - start < step_ticks);
        printf("counter: %u\n", n);
    }
    uint64_t gap_us = tsc_to_us(max_gap);
    printf("counter: longest gap between TSC reads %llu us\n", (unsigned long long)gap_us);
    EXPECTF(gap_us < MAX_GAP_US, "counter: never lost the CPU for 10 ms (a dedicated core)",
            "longest gap %llu us", (unsigned long long)gap_us);
}
