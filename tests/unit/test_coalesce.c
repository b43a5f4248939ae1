/* SPDX-License-Identifier: MIT */
/*
 * Host tests of adaptive interrupt coalescing and the kick limit: R at
 * each mean CIF and rate (including the thresholds' edges), one interrupt
 * per 2^shift completions once an epoch has set R, a held interrupt
 * released when CIF falls to the threshold, released by the time cap
 * (from the poller and from a completion), nothing sent when the driver
 * asked for nothing, R back to 1 after a quiet epoch, and the kick limit:
 * at most one kick per gap, a refused kick sent later, never lost.
 */
/* test-sources: vmm/sidecore/coalesce.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "vmm/sidecore/coalesce.h"

#define MS (1000ull * 1000)
#define US 1000ull

static struct coalesce_params params;

static int setup(void **state)
{
    coalesce_params_default(&params);
    return 0;
}

static void test_defaults(void **state)
{
    assert_int_equal(params.cif_threshold, 4);
    assert_int_equal(params.min_rate, 2000);
    assert_int_equal(params.epoch_ns, 200 * MS);
    assert_int_equal(params.time_cap_ns, 200 * US);
}

static void test_ratio_table(void **state)
{
    const uint64_t epoch = 200 * MS, fast = 100000; /* 500,000 per second */
    static const struct {
        uint64_t cif;
        uint32_t shift;
    } table[] = {{0, 0},  {1, 0},  {4, 0},  {5, 0},  {7, 0},   {8, 1},     {15, 1},
                 {16, 2}, {31, 2}, {32, 3}, {64, 3}, {256, 3}, {100000, 3}};

    for (unsigned i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        assert_int_equal(coalesce_shift_for(&params, table[i].cif, fast, epoch), table[i].shift);
    /* The rate: 2,000 per second is 400 in 200 ms; 399 is under it. */
    assert_int_equal(coalesce_shift_for(&params, 32, 400, epoch), 3);
    assert_int_equal(coalesce_shift_for(&params, 32, 399, epoch), 0);
    assert_int_equal(coalesce_shift_for(&params, 32, 0, epoch), 0);
    /* A longer epoch (a late recompute) needs proportionally more. */
    assert_int_equal(coalesce_shift_for(&params, 32, 2000, 1000 * MS), 3);
    assert_int_equal(coalesce_shift_for(&params, 32, 1999, 1000 * MS), 0);
    /* A higher threshold from the configuration. */
    struct coalesce_params p = params;
    p.cif_threshold = 16;
    assert_int_equal(coalesce_shift_for(&p, 16, fast, epoch), 0);
    assert_int_equal(coalesce_shift_for(&p, 17, fast, epoch), 2);
}

/* Runs one epoch at a steady cif with one completion per step_ns, each
 * wanted, and returns the interrupts sent. */
static unsigned run_steady(struct coalesce_queue *c, uint64_t *now, unsigned cif, uint64_t step_ns,
                           uint64_t span_ns)
{
    unsigned sent = 0;

    for (uint64_t t = 0; t < span_ns; t += step_ns) {
        *now += step_ns;
        sent += coalesce_complete(c, &params, 1, cif, true, *now);
        sent += coalesce_due(c, &params, cif, *now);
    }
    return sent;
}

static void test_ratio_applied_after_an_epoch(void **state)
{
    struct coalesce_queue c;
    uint64_t now = 1000;

    coalesce_init(&c, now);
    /* The first epoch runs at R = 1: one interrupt per completion. */
    unsigned sent = run_steady(&c, &now, 32, 10 * US, 200 * MS - 10 * US);
    assert_int_equal(sent, 19999);
    assert_int_equal(coalesce_ratio_permille(&c), 1000);
    /* The next completion rolls the epoch: mean CIF 32 at 100,000/s. */
    sent = run_steady(&c, &now, 32, 10 * US, 80 * US);
    assert_int_equal(c.shift, 3);
    assert_int_equal(coalesce_ratio_permille(&c), 125);
    assert_int_equal(c.epochs, 1);
    /* From here one interrupt per 8 completions: 80 us of 10 us steps. */
    uint64_t before = c.interrupts;
    sent = run_steady(&c, &now, 32, 10 * US, 800 * US);
    assert_int_equal(sent, 10);
    assert_int_equal(c.interrupts - before, 10);
    assert_int_equal(c.released_cap, 0);

    /* CIF 8 and 16 give 1/2 and 1/4. */
    coalesce_init(&c, now);
    run_steady(&c, &now, 8, 10 * US, 200 * MS);
    run_steady(&c, &now, 8, 10 * US, 10 * US);
    assert_int_equal(coalesce_ratio_permille(&c), 500);
    coalesce_init(&c, now);
    run_steady(&c, &now, 16, 10 * US, 200 * MS);
    run_steady(&c, &now, 16, 10 * US, 10 * US);
    assert_int_equal(coalesce_ratio_permille(&c), 250);
}

/* A queue at R = 1/8. */
static void eighth(struct coalesce_queue *c, uint64_t *now)
{
    coalesce_init(c, *now);
    run_steady(c, now, 32, 10 * US, 200 * MS);
    run_steady(c, now, 32, 10 * US, 10 * US);
    assert_int_equal(c->shift, 3);
    /* Line the countdown up: complete until an interrupt is sent. */
    while (!coalesce_complete(c, &params, 1, 32, true, *now))
        ;
}

static void test_synchronous_reader_never_waits(void **state)
{
    struct coalesce_queue c;
    uint64_t now = 5;

    /* Even at R = 1/8, a completion leaving CIF at the threshold or below
     * is signalled at once, and so is the interrupt held before it. */
    eighth(&c, &now);
    assert_false(coalesce_complete(&c, &params, 1, 31, true, now));
    assert_true(c.held);
    assert_true(coalesce_complete(&c, &params, 1, 4, true, now));
    assert_false(c.held);
    assert_int_equal(c.released_cif, 1);
    for (unsigned cif = 4; cif-- > 0;)
        assert_true(coalesce_complete(&c, &params, 1, cif, true, now));
    /* An epoch of one request in flight brings R back to 1. */
    now += 200 * MS;
    assert_true(coalesce_complete(&c, &params, 1, 0, true, now));
    assert_int_equal(c.shift, 0);
}

static void test_no_held_completion_when_cif_drops(void **state)
{
    struct coalesce_queue c;
    uint64_t now = 5;

    eighth(&c, &now);
    /* Held by a completion at CIF 20; the next poll sees CIF 4 (requests
     * finished without completing through here, e.g. the queue drained):
     * out it goes at once, without waiting for the cap. */
    assert_false(coalesce_complete(&c, &params, 1, 20, true, now));
    assert_false(coalesce_due(&c, &params, 20, now + 1));
    assert_true(coalesce_due(&c, &params, 4, now + 2));
    assert_false(c.held);
    assert_false(coalesce_due(&c, &params, 0, now + 3)); /* sent once only */
}

static void test_time_cap(void **state)
{
    struct coalesce_queue c;
    uint64_t now = 5;

    eighth(&c, &now);
    uint64_t t0 = now;
    assert_false(coalesce_complete(&c, &params, 1, 32, true, t0));
    assert_false(coalesce_due(&c, &params, 32, t0 + 200 * US - 1));
    assert_true(coalesce_due(&c, &params, 32, t0 + 200 * US));
    assert_int_equal(c.released_cap, 1);
    assert_false(coalesce_due(&c, &params, 32, t0 + 400 * US));

    /* The cap also holds when completions keep coming but too few: the
     * completion that finds the cap passed sends it. */
    now = t0 + 1 * MS;
    assert_false(coalesce_complete(&c, &params, 1, 32, true, now));
    assert_false(coalesce_complete(&c, &params, 1, 32, true, now + 100 * US));
    assert_true(coalesce_complete(&c, &params, 1, 32, true, now + 200 * US));
    assert_int_equal(c.released_cap, 2);
}

static void test_batches_and_unwanted(void **state)
{
    struct coalesce_queue c;
    uint64_t now = 5;

    eighth(&c, &now);
    /* A batch of 8 or more completions at once: one interrupt. */
    assert_true(coalesce_complete(&c, &params, 8, 40, true, now));
    assert_false(coalesce_complete(&c, &params, 5, 40, true, now));
    assert_true(coalesce_complete(&c, &params, 3, 40, true, now));
    /* The driver did not ask (it polls, or suppressed interrupts), and
     * nothing is held: nothing is sent, nothing owed. */
    assert_false(coalesce_complete(&c, &params, 1, 2, false, now));
    assert_false(c.held);
    assert_false(coalesce_due(&c, &params, 0, now + 1 * MS));
    /* Held, then the driver stops asking: the held one still goes out. */
    assert_false(coalesce_complete(&c, &params, 1, 40, true, now));
    assert_false(coalesce_complete(&c, &params, 1, 40, false, now));
    assert_true(coalesce_due(&c, &params, 40, now + 200 * US));
}

static void test_slow_rate_keeps_r_1(void **state)
{
    struct coalesce_queue c;
    uint64_t now = 0;

    coalesce_init(&c, now);
    /* 32 in flight, but 1,000 completions per second: R stays 1. */
    unsigned sent = run_steady(&c, &now, 32, 1 * MS, 600 * MS);
    assert_int_equal(sent, 600);
    assert_int_equal(c.shift, 0);
    assert_true(c.epochs >= 2);
}

/* A reader that keeps 32 requests in flight: the device sees 31 left after
 * each completion (the caller passes what is left), one at a time or in
 * batches. Its CIF is 32, so R reaches 1/8, and one at a time never more
 * than 4 in flight reads as R = 1. */
static void test_cif_counts_the_completing_request(void **state)
{
    struct coalesce_queue c;
    uint64_t now = 0;

    coalesce_init(&c, now);
    run_steady(&c, &now, 31, 10 * US, 200 * MS);
    run_steady(&c, &now, 31, 10 * US, 10 * US);
    assert_int_equal(c.shift, 3);

    /* Batches of 4 completing together, 28 left: the four saw 32..29, mean 30.5. */
    coalesce_init(&c, now);
    for (uint64_t t = 0; t <= 200 * MS; t += 40 * US) {
        now += 40 * US;
        coalesce_complete(&c, &params, 4, 28, true, now);
    }
    assert_int_equal(c.shift, 2);

    /* One request in flight: nothing left after it, CIF 1. */
    coalesce_init(&c, now);
    run_steady(&c, &now, 0, 10 * US, 200 * MS);
    run_steady(&c, &now, 0, 10 * US, 10 * US);
    assert_int_equal(c.shift, 0);
    /* Four in flight: 3 left, CIF 4, still the threshold. */
    coalesce_init(&c, now);
    run_steady(&c, &now, 3, 10 * US, 200 * MS);
    run_steady(&c, &now, 3, 10 * US, 10 * US);
    assert_int_equal(c.shift, 0);
}

static void test_kick_limit(void **state)
{
    struct kick_limit k = {0};
    const uint64_t gap = 100 * US;
    uint64_t now = 7;

    assert_false(kick_limit_due(&k, gap, now)); /* nothing asked */
    kick_limit_request(&k);
    assert_true(kick_limit_due(&k, gap, now)); /* the first goes at once */
    assert_false(kick_limit_due(&k, gap, now));
    kick_limit_request(&k);
    kick_limit_request(&k); /* two asks before the gap: one kick */
    assert_false(kick_limit_due(&k, gap, now + gap - 1));
    assert_true(k.pending); /* remembered */
    assert_true(kick_limit_due(&k, gap, now + gap));
    assert_false(kick_limit_due(&k, gap, now + 10 * gap)); /* sent once */
    /* After a long quiet spell, a request goes at once again. */
    kick_limit_request(&k);
    assert_true(kick_limit_due(&k, gap, now + 20 * gap));

    /* Over a busy millisecond asking every microsecond: at most 11 kicks
     * (one per 100 us, the first at once), and the last ask is served. */
    struct kick_limit b = {0};
    unsigned kicks = 0;
    for (uint64_t t = 0; t < 1000 * US; t += US) {
        kick_limit_request(&b);
        kicks += kick_limit_due(&b, gap, t);
    }
    assert_true(kicks <= 11);
    assert_int_equal(kicks, 10);
    assert_true(b.pending);
    assert_true(kick_limit_due(&b, gap, 1000 * US));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, setup),
        cmocka_unit_test_setup(test_ratio_table, setup),
        cmocka_unit_test_setup(test_ratio_applied_after_an_epoch, setup),
        cmocka_unit_test_setup(test_cif_counts_the_completing_request, setup),
        cmocka_unit_test_setup(test_synchronous_reader_never_waits, setup),
        cmocka_unit_test_setup(test_no_held_completion_when_cif_drops, setup),
        cmocka_unit_test_setup(test_time_cap, setup),
        cmocka_unit_test_setup(test_batches_and_unwanted, setup),
        cmocka_unit_test_setup(test_slow_rate_keeps_r_1, setup),
        cmocka_unit_test_setup(test_kick_limit, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
