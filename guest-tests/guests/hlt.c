/* SPDX-License-Identifier: MIT */
/*
 * hlt: HLT and the timer hypercall. A HLT with IF=1 must sleep until the
 * interrupt HC_TIMER asked for, no earlier than asked, and wake exactly
 * once; a timer interrupt that comes due while IF=0 must wait for STI;
 * HC_TIMER(vector, 0) cancels; vectors below 32 are refused.
 */
#include "expect.h"
#include "hypercall.h"
#include "printf.h"
#include "runtime.h"
#include "trap.h"
#include "tsc.h"
#include "x86.h"

const char guest_name[] = GUEST_NAME;

#define VEC_SHORT   0x40
#define VEC_REPEAT  0x41
#define VEC_MASKED  0x42
#define VEC_CANCEL  0x43
#define LATE_US     1000000 /* a wake-up later than this is a FAIL */
#define EARLY_SLACK 100     /* microseconds of rounding tolerated */

static volatile unsigned fired[256];

static void timer_handler(unsigned vector)
{
    fired[vector]++;
}

/* Sleeps in HLT (IF=1 only inside STI;HLT) until vector has fired once more;
 * returns the elapsed microseconds since t0 and the wake-ups in *wakeups. */
static uint64_t sleep_until_fired(unsigned vector, uint64_t t0, unsigned *wakeups)
{
    unsigned before = fired[vector];

    *wakeups = 0;
    while (fired[vector] == before) {
        sti_hlt();
        cli();
        ++*wakeups;
    }
    return tsc_to_us(rdtsc() - t0);
}

/* Arms a timer of us microseconds, sleeps until it fires and checks timing;
 * returns whether the timer could be armed. */
static bool check_sleep(const char *label, unsigned vector, uint64_t us)
{
    char what[128];
    unsigned wakeups;

    cli();
    uint64_t t0 = rdtsc();
    long rc = hc_timer(vector, us);
    snprintf(what, sizeof(what), "hlt: %s: HC_TIMER(%#x, %llu us) returns 0", label, vector,
             (unsigned long long)us);
    if (!EXPECT_EQ(rc, HC_OK, what))
        return false;
    uint64_t elapsed = sleep_until_fired(vector, t0, &wakeups);
    printf("hlt: %s: woke after %llu us (%u wake-ups from HLT)\n", label,
           (unsigned long long)elapsed, wakeups);
    snprintf(what, sizeof(what), "hlt: %s: vector %#x handler ran once", label, vector);
    EXPECT_EQ(fired[vector], 1, what);
    snprintf(what, sizeof(what), "hlt: %s: woke no earlier than %llu us", label,
             (unsigned long long)us);
    EXPECTF(elapsed + EARLY_SLACK >= us, what, "woke after %llu us", (unsigned long long)elapsed);
    snprintf(what, sizeof(what), "hlt: %s: woke within 1 s", label);
    EXPECTF(elapsed < LATE_US, what, "woke after %llu us", (unsigned long long)elapsed);
    snprintf(what, sizeof(what), "hlt: %s: HLT returned only for the timer interrupt", label);
    EXPECTF(wakeups == 1, what, "%u wake-ups", wakeups);
    return true;
}

static void check_one_shot(void)
{
    unsigned before = fired[VEC_SHORT];

    sti();
    tsc_delay_us(30000);
    cli();
    EXPECT_EQ(fired[VEC_SHORT] - before, 0,
              "hlt: the timer is one-shot (no second interrupt within 30 ms)");
}

static void check_masked_timer(void)
{
    cli();
    if (!EXPECT_EQ(hc_timer(VEC_MASKED, 5000), HC_OK, "hlt: HC_TIMER(0x42, 5 ms) returns 0"))
        return;
    tsc_delay_us(20000);
    EXPECT_EQ(fired[VEC_MASKED], 0, "hlt: a due timer interrupt waits while IF=0");
    sti();
    tsc_delay_us(1000);
    cli();
    EXPECT_EQ(fired[VEC_MASKED], 1, "hlt: the waiting timer interrupt arrives once IF=1");
}

static void check_cancel(void)
{
    cli();
    if (!EXPECT_EQ(hc_timer(VEC_CANCEL, 10000), HC_OK, "hlt: HC_TIMER(0x43, 10 ms) returns 0"))
        return;
    EXPECT_EQ(hc_timer(VEC_CANCEL, 0), HC_OK, "hlt: HC_TIMER(0x43, 0) (cancel) returns 0");
    sti();
    tsc_delay_us(40000);
    cli();
    EXPECT_EQ(fired[VEC_CANCEL], 0, "hlt: a cancelled timer does not fire");
}

void test_main(void)
{
    for (unsigned v = VEC_SHORT; v <= VEC_CANCEL; v++)
        irq_set_handler(v, timer_handler);
    printf("hlt: TSC %u kHz\n", tsc_khz());

    if (check_sleep("10 ms", VEC_SHORT, 10000))
        check_one_shot();
    /* Twice in a row on the same vector: the timer must re-arm. */
    fired[VEC_REPEAT] = 0;
    check_sleep("50 ms, first", VEC_REPEAT, 50000);
    fired[VEC_REPEAT] = 0;
    check_sleep("50 ms, second", VEC_REPEAT, 50000);
    check_masked_timer();
    check_cancel();
    EXPECT_EQ(hc_timer(5, 1000), HC_EINVAL, "hlt: HC_TIMER with vector 5 (< 32) gives HC_EINVAL");
}
