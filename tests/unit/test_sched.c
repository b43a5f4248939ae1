/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the sidecore's queue scheduler: idle queues always get a
 * full budget, a queue of large requests is held to about a byte quantum a
 * round while a queue of small ones beside it never waits, a queue owing
 * far more than it can pay back waits at most max_skips rounds (the
 * starvation bound), urgent queues (held back, or out of budget) come
 * first and the others rotate, and budget hits are counted.
 */
/* test-sources: vmm/sidecore/sched.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "vmm/sidecore/sched.h"

static struct sched s;

static int setup(void **state)
{
    struct sched_params p;

    sched_params_default(&p);
    sched_init(&s, &p);
    return 0;
}

/* A queue that always has work, of requests of size bytes each: takes
 * its whole budget. Returns the bytes it took. */
static uint64_t busy_visit(unsigned i, uint64_t size)
{
    unsigned b = sched_budget(&s, i);

    sched_done(&s, i, b, b, b * size);
    return b * size;
}

static void test_idle_queues_full_budget(void **state)
{
    unsigned order[4];

    for (unsigned r = 0; r < 100; r++) {
        assert_int_equal(sched_order(&s, 4, order), 4);
        for (unsigned k = 0; k < 4; k++) {
            unsigned b = sched_budget(&s, order[k]);
            assert_int_equal(b, SCHED_REQ_BUDGET);
            sched_done(&s, order[k], b, 0, 0);
        }
    }
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(s.q[i].budget_hits, 0);
        assert_int_equal(s.q[i].byte_skips, 0);
    }
}

static void test_large_requests_do_not_starve_small(void **state)
{
    const uint64_t big = 1u << 20, small = 4096;
    const unsigned rounds = 1000;
    uint64_t bytes_big = 0, bytes_small = 0;
    unsigned order[2], small_zero = 0;

    for (unsigned r = 0; r < rounds; r++) {
        sched_order(&s, 2, order);
        for (unsigned k = 0; k < 2; k++) {
            if (order[k] == 0) {
                bytes_big += busy_visit(0, big);
            } else {
                unsigned b = sched_budget(&s, 1);
                small_zero += b == 0;
                sched_done(&s, 1, b, b, b * small);
                bytes_small += b * small;
            }
        }
    }
    /* The small queue got its full 32 requests (128 KiB) every round. */
    assert_int_equal(small_zero, 0);
    assert_int_equal(bytes_small, (uint64_t)rounds * SCHED_REQ_BUDGET * small);
    /* The large one about a quantum a round: never more (plus its first
     * visit, before its request size was known: a full budget), and not
     * much less. */
    assert_true(bytes_big <= (uint64_t)rounds * SCHED_BYTE_QUANTUM + SCHED_REQ_BUDGET * big);
    assert_true(bytes_big >= (uint64_t)rounds * SCHED_BYTE_QUANTUM * 9 / 10);
    assert_true(s.q[0].byte_skips > 0);
    assert_true(s.q[0].max_wait <= SCHED_MAX_SKIPS);
}

static void test_starvation_bound(void **state)
{
    unsigned order[3];
    unsigned since[3] = {0, 0, 0}, worst = 0;

    /* Queue 0 reports 100 MiB per request taken (a device without real
     * sizes, or a hostile count): it owes far more than max_skips rounds
     * repay, and is still served every max_skips + 1 rounds. */
    for (unsigned r = 0; r < 200; r++) {
        sched_order(&s, 3, order);
        for (unsigned k = 0; k < 3; k++) {
            unsigned i = order[k];
            unsigned b = sched_budget(&s, i);
            sched_done(&s, i, b, b, i == 0 ? b * (100ull << 20) : b * 4096ull);
            since[i] = b ? 0 : since[i] + 1;
            if (since[i] > worst)
                worst = since[i];
        }
    }
    assert_int_equal(worst, SCHED_MAX_SKIPS);
    assert_int_equal(s.q[0].max_wait, SCHED_MAX_SKIPS);
    assert_true(s.q[0].forced >= 200 / (SCHED_MAX_SKIPS + 1) - 1);
    assert_int_equal(s.q[1].byte_skips, 0);
    assert_int_equal(s.q[2].byte_skips, 0);
}

static void test_order_urgent_first_and_rotation(void **state)
{
    unsigned order[4], first[4] = {0};

    /* Nobody urgent: each queue leads in turn. */
    for (unsigned r = 0; r < 8; r++) {
        sched_order(&s, 4, order);
        first[order[0]]++;
        for (unsigned k = 0; k < 4; k++) {
            unsigned b = sched_budget(&s, order[k]);
            sched_done(&s, order[k], b, 0, 0);
        }
    }
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(first[i], 2);
    /* Queue 2 used its whole budget: it comes first next round. */
    for (unsigned r = 0; r < 8; r++) {
        sched_order(&s, 4, order);
        for (unsigned k = 0; k < 4; k++) {
            unsigned i = order[k];
            unsigned b = sched_budget(&s, i);
            sched_done(&s, i, b, i == 2 ? b : 1, 0);
        }
        if (r > 0)
            assert_int_equal(order[0], 2);
    }
    assert_int_equal(s.q[2].budget_hits, 8);
    assert_int_equal(s.q[0].budget_hits, 0);
    /* Every queue appears once per round. */
    unsigned n = sched_order(&s, 4, order), seen = 0;
    assert_int_equal(n, 4);
    for (unsigned k = 0; k < 4; k++)
        seen |= 1u << order[k];
    assert_int_equal(seen, 0xf);
    assert_int_equal(sched_order(&s, 0, order), 0);
}

static void test_budget_from_mean_size(void **state)
{
    /* 64 KiB requests: a 512 KiB quantum covers 8 of them. */
    assert_int_equal(busy_visit(0, 65536), SCHED_REQ_BUDGET * 65536ull); /* size not known yet */
    for (unsigned r = 0; r < 20; r++)
        busy_visit(0, 65536);
    unsigned b = sched_budget(&s, 0);
    assert_true(b >= 1 && b <= 8);
    sched_done(&s, 0, b, b, b * 65536ull);
    /* Small requests: the request budget is the limit. */
    for (unsigned r = 0; r < 40; r++)
        busy_visit(1, 512);
    assert_int_equal(sched_budget(&s, 1), SCHED_REQ_BUDGET);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_idle_queues_full_budget, setup),
        cmocka_unit_test_setup(test_large_requests_do_not_starve_small, setup),
        cmocka_unit_test_setup(test_starvation_bound, setup),
        cmocka_unit_test_setup(test_order_urgent_first_and_rotation, setup),
        cmocka_unit_test_setup(test_budget_from_mean_size, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
