/* SPDX-License-Identifier: MIT */
/* Unit tests for the warning rate limiter: a burst passes, the rest of the
 * window is suppressed and counted, the count is handed to the first message
 * of a later window exactly once, and racing threads lose no count.
 * test-sources: kernel/console/ratelimit.c
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kernel/console/ratelimit.h"

#define MS 1000000ull

static void test_burst_then_suppressed(void **state)
{
    struct ratelimit rl = RATELIMIT_INIT(3, 1000 * MS);
    uint64_t sup;
    uint64_t t = 5000 * MS;

    for (int i = 0; i < 3; i++) {
        assert_true(ratelimit_allow(&rl, t + (uint64_t)i, &sup));
        assert_int_equal(sup, 0);
    }
    for (int i = 0; i < 10; i++)
        assert_false(ratelimit_allow(&rl, t + 10 + (uint64_t)i, &sup));
    /* Still inside the window (999 ms later): suppressed. */
    assert_false(ratelimit_allow(&rl, t + 999 * MS, &sup));
    /* The next window: the first message carries the 11 held back. */
    assert_true(ratelimit_allow(&rl, t + 1000 * MS, &sup));
    assert_int_equal(sup, 11);
    assert_true(ratelimit_allow(&rl, t + 1001 * MS, &sup));
    assert_int_equal(sup, 0); /* reported once */
}

static void test_quiet_windows_report_nothing(void **state)
{
    struct ratelimit rl = RATELIMIT_INIT(1, 100 * MS);
    uint64_t sup;

    for (uint64_t t = 1; t < 10; t++) {
        assert_true(ratelimit_allow(&rl, t * 200 * MS, &sup));
        assert_int_equal(sup, 0);
    }
}

/* The window starts at the first message of a burst, not on a fixed grid. */
static void test_window_from_first_message(void **state)
{
    struct ratelimit rl = RATELIMIT_INIT(2, 1000 * MS);
    uint64_t sup;

    assert_true(ratelimit_allow(&rl, 10500 * MS, &sup));
    assert_true(ratelimit_allow(&rl, 10600 * MS, &sup));
    assert_false(ratelimit_allow(&rl, 11400 * MS, &sup));
    assert_true(ratelimit_allow(&rl, 11500 * MS, &sup));
    assert_int_equal(sup, 1);
}

/* Long after a flood the count survives until the next message. */
static void test_count_kept_across_idle(void **state)
{
    struct ratelimit rl = RATELIMIT_INIT(1, 1000 * MS);
    uint64_t sup;

    assert_true(ratelimit_allow(&rl, 1 * MS, &sup));
    for (int i = 0; i < 500; i++)
        assert_false(ratelimit_allow(&rl, 2 * MS, &sup));
    assert_true(ratelimit_allow(&rl, 3600000 * MS, &sup));
    assert_int_equal(sup, 500);
}

#define THREADS    4
#define PER_THREAD 100000

static struct ratelimit shared = RATELIMIT_INIT(5, 1000 * MS);
static uint64_t passed_total, reported_total;

static void *hammer(void *arg)
{
    uint64_t sup;

    for (int i = 0; i < PER_THREAD; i++) {
        if (ratelimit_allow(&shared, 42 * MS, &sup)) { /* one window */
            __atomic_fetch_add(&passed_total, 1, __ATOMIC_RELAXED);
            __atomic_fetch_add(&reported_total, sup, __ATOMIC_RELAXED);
        }
    }
    return NULL;
}

static void test_threads_lose_no_count(void **state)
{
    pthread_t t[THREADS];
    uint64_t sup;

    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(passed_total, 5);
    /* The next window's message reports the rest. */
    assert_true(ratelimit_allow(&shared, 2000 * MS, &sup));
    assert_int_equal(reported_total + sup, (uint64_t)THREADS * PER_THREAD - 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_suppressed),
        cmocka_unit_test(test_quiet_windows_report_nothing),
        cmocka_unit_test(test_window_from_first_message),
        cmocka_unit_test(test_count_kept_across_idle),
        cmocka_unit_test(test_threads_lose_no_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
