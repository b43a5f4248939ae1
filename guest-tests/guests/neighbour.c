/* SPDX-License-Identifier: MIT */
/*
 * neighbour: runs beside the isolation guests. It fills all of its memory
 * above its image with an address-dependent pattern, sleeps (HC_TIMER + HLT)
 * long enough for them to misbehave and be stopped, and then checks that
 * every word is still what it wrote: nothing another guest did reached it.
 */
#include "expect.h"
#include "hypercall.h"
#include "printf.h"
#include "runtime.h"
#include "trap.h"
#include "x86.h"

const char guest_name[] = GUEST_NAME;

#define SLEEP_VECTOR 0x40
#define SLEEP_US     500000

static volatile unsigned woke;

static void sleep_handler(unsigned vector)
{
    (void)vector;
    woke++;
}

static uint32_t pattern_at(uintptr_t addr)
{
    return (uint32_t)addr * 0x85EBCA6Bu ^ 0x3C6EF372u;
}

/* Returns the number of differing words; the first in *first_bad. */
static unsigned verify(volatile uint32_t *p, unsigned n, uintptr_t *first_bad)
{
    unsigned bad = 0;

    for (unsigned i = 0; i < n; i++) {
        if (p[i] != pattern_at((uintptr_t)&p[i]) && bad++ == 0)
            *first_bad = (uintptr_t)&p[i];
    }
    return bad;
}

void test_main(void)
{
    struct hc_info info = {0};
    uintptr_t first_bad = 0;

    if (!EXPECT_EQ(hc_info(&info), HC_OK, "neighbour: HC_INFO returns 0") ||
        !EXPECTF(info.memory > (uintptr_t)__image_end && info.memory <= 0xFFFFFFFFull,
                 "neighbour: my memory extends past my image", "%#llx",
                 (unsigned long long)info.memory))
        return;
    volatile uint32_t *p = (volatile uint32_t *)__image_end;
    unsigned n = (unsigned)((info.memory - (uintptr_t)__image_end) / 4);
    printf("neighbour: filling %#lx-%#llx\n", (unsigned long)(uintptr_t)p,
           (unsigned long long)info.memory - 1);
    for (unsigned i = 0; i < n; i++)
        p[i] = pattern_at((uintptr_t)&p[i]);
    unsigned bad = verify(p, n, &first_bad);
    EXPECTF(bad == 0, "neighbour: pattern written over my memory", "%u words differ, first at %#lx",
            bad, (unsigned long)first_bad);

    irq_set_handler(SLEEP_VECTOR, sleep_handler);
    cli();
    if (EXPECT_EQ(hc_timer(SLEEP_VECTOR, SLEEP_US), HC_OK, "neighbour: HC_TIMER(0x40, 500 ms)")) {
        while (!woke) {
            sti_hlt();
            cli();
        }
    }
    bad = verify(p, n, &first_bad);
    EXPECTF(bad == 0, "neighbour: my memory is unchanged after 500 ms beside the other guests",
            "%u words differ, first at %#lx", bad, (unsigned long)first_bad);
}
