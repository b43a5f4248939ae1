/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the network queues' adaptive coalescing: every interrupt at
 * once under the packet rate threshold (its exact edge too); the level
 * stepping down one per epoch while throughput holds and parking at the
 * lowest; a step that lost throughput (bytes, else packets) undone, with a
 * doubling wait before the next try; a request/response exchange above the
 * threshold (held interrupts released only by the idle rule) stepping
 * back; a held interrupt released by the time cap (from a publish and from
 * the poller), by idleness, by a quiet epoch and by a starved driver;
 * nothing sent when the driver asked for nothing; reset; and the integer
 * arithmetic at its edges (exact thresholds, no overflow).
 */
/* test-sources: vmm/sidecore/net_coalesce.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "vmm/sidecore/net_coalesce.h"

#define MS    (1000ull * 1000)
#define US    1000ull
#define EPOCH (200 * MS)
#define CAP   (200 * US)

static struct net_coalesce_params params;

static int setup(void **state)
{
    net_coalesce_params_default(&params, EPOCH, CAP);
    return 0;
}

/* A sender at pps packets per second of size bytes each, for one epoch
 * from *now: one packet per publish, the driver asking each time (as a
 * driver re-enabling its interrupt does), the poller visiting halfway
 * between packets. Returns the interrupts sent. */
static unsigned run_epoch(struct net_coalesce *c, uint64_t *now, uint64_t pps, unsigned size)
{
    uint64_t gap = 1000000000ull / pps, end = *now + EPOCH;
    unsigned irqs = 0;

    while (*now + gap <= end) {
        if (net_coalesce_due(c, &params, *now + gap / 2))
            irqs++;
        *now += gap;
        if (net_coalesce_publish(c, &params, 1, size, true, *now))
            irqs++;
    }
    if (net_coalesce_due(c, &params, end)) /* the epoch ends on time */
        irqs++;
    *now = end;
    return irqs;
}

/* Ends the running epoch at *now with no packet (a publish of nothing). */
static void close_epoch(struct net_coalesce *c, uint64_t now)
{
    assert_false(net_coalesce_publish(c, &params, 0, 0, false, now));
}

static void test_defaults(void **state)
{
    assert_int_equal(params.min_rate, 10000);
    assert_int_equal(params.max_level, 4);
    assert_int_equal(params.epoch_ns, EPOCH);
    assert_int_equal(params.time_cap_ns, CAP);
}

/* A ping or a request/response exchange: every interrupt goes out at once. */
static void test_low_rate_every_interrupt(void **state)
{
    struct net_coalesce c;
    uint64_t now = 0;

    uint64_t sent = 0;

    net_coalesce_init(&c, now);
    for (unsigned e = 0; e < 10; e++) {
        unsigned irqs = run_epoch(&c, &now, 5000, 100);

        sent += irqs;
        assert_int_equal(irqs, 1000);
        assert_int_equal(c.level, 0);
        assert_false(c.held);
    }
    assert_int_equal(c.held_count, 0);
    assert_int_equal(sent, 10 * (EPOCH / (1000000000ull / 5000))); /* one per packet */
    assert_int_equal(net_coalesce_ratio_permille(&c), 1000);
}

/* The threshold's edge, exactly: 10,000 per second is 2,000 packets in
 * 200 ms; 1,999 is under it. */
static void test_rate_threshold_edge(void **state)
{
    struct net_coalesce c;

    net_coalesce_init(&c, 0);
    assert_false(net_coalesce_publish(&c, &params, 1999, 1999 * 64, false, 1));
    close_epoch(&c, EPOCH);
    assert_int_equal(c.level, 0);
    assert_int_equal(c.state, NET_COALESCE_QUIET);

    net_coalesce_init(&c, 0);
    assert_false(net_coalesce_publish(&c, &params, 2000, 2000 * 64, false, 1));
    close_epoch(&c, EPOCH);
    assert_int_equal(c.level, 1);
    assert_int_equal(c.state, NET_COALESCE_TRY);
    assert_int_equal(c.steps_down, 1);
}

/* A steady high rate (offered load the interrupts do not limit): each step
 * keeps the throughput, so the level goes down to the lowest and parks. */
static void test_steps_down_while_throughput_holds(void **state)
{
    struct net_coalesce c;
    uint64_t now = 0;
    unsigned irqs = 0;

    net_coalesce_init(&c, now);
    for (unsigned e = 0; e < 5; e++) {
        run_epoch(&c, &now, 100000, 1000);
        assert_int_equal(c.level, e + 1 <= 4 ? e + 1 : 4);
    }
    assert_int_equal(c.state, NET_COALESCE_PARK);
    assert_int_equal(c.steps_down, 4);
    assert_int_equal(c.steps_back, 0);
    assert_int_equal(net_coalesce_ratio_permille(&c), 62);
    /* At the lowest level: one interrupt per 16 packets. */
    irqs = run_epoch(&c, &now, 100000, 1000);
    assert_true(irqs >= 20000 / 16 - 1 && irqs <= 20000 / 16 + 1);
    assert_int_equal(c.level, 4);
    assert_int_equal(c.released_cap, 0);
    assert_int_equal(c.released_idle, 0);
}

/* Throughput that rises with each step (the guest spent less on
 * interrupts) keeps the steps too. */
static void test_rising_throughput_keeps_steps(void **state)
{
    struct net_coalesce c;
    uint64_t now = 0;

    net_coalesce_init(&c, now);
    for (unsigned e = 0; e < 4; e++) {
        run_epoch(&c, &now, 50000 + 20000 * e, 1500);
        assert_int_equal(c.level, e + 1);
    }
    assert_int_equal(c.steps_back, 0);
}

/* A step that lost throughput is undone; the next try waits 8 epochs,
 * the one after a second loss 16. */
static void test_steps_back_when_throughput_falls(void **state)
{
    struct net_coalesce c;
    uint64_t now = 0;

    net_coalesce_init(&c, now);
    run_epoch(&c, &now, 100000, 1000);
    assert_int_equal(c.level, 1);
    run_epoch(&c, &now, 100000, 1000);
    assert_int_equal(c.level, 2);
    /* Level 2 costs the guest: 80,000 per second, a fall of 1/5. */
    run_epoch(&c, &now, 80000, 1000);
    assert_int_equal(c.level, 1);
    assert_int_equal(c.steps_back, 1);
    assert_int_equal(c.state, NET_COALESCE_PARK);
    /* Parked at level 1 for 8 epochs, then level 2 is tried again. */
    for (unsigned e = 0; e < 7; e++) {
        run_epoch(&c, &now, 100000, 1000);
        assert_int_equal(c.level, 1);
    }
    run_epoch(&c, &now, 100000, 1000);
    assert_int_equal(c.level, 2);
    assert_int_equal(c.state, NET_COALESCE_TRY);
    /* It loses again: back, and now 16 epochs before the next try. */
    run_epoch(&c, &now, 80000, 1000);
    assert_int_equal(c.level, 1);
    assert_int_equal(c.steps_back, 2);
    for (unsigned e = 0; e < 15; e++) {
        run_epoch(&c, &now, 100000, 1000);
        assert_int_equal(c.level, 1);
    }
    run_epoch(&c, &now, 100000, 1000);
    assert_int_equal(c.level, 2);
    /* A kept step resets the wait. */
    run_epoch(&c, &now, 100000, 1000);
    assert_int_equal(c.level, 3);
    assert_int_equal(c.hold_next, NET_COALESCE_HOLD_FIRST);
}

/* A parked level that loses throughput steps back too. */
static void test_parked_level_steps_back(void **state)
{
    struct net_coalesce c;
    uint64_t now = 0;

    net_coalesce_init(&c, now);
    for (unsigned e = 0; e < 5; e++)
        run_epoch(&c, &now, 100000, 1000);
    assert_int_equal(c.level, 4);
    assert_int_equal(c.state, NET_COALESCE_PARK);
    run_epoch(&c, &now, 60000, 1000);
    assert_int_equal(c.level, 3);
    assert_int_equal(c.steps_back, 1);
}

/* Bytes per second decide when they moved; packets only when they did not. */
static void test_compare_bytes_then_packets(void **state)
{
    /* Within 1/16 (6.25%) is the same; just beyond it moved. */
    assert_int_equal(net_coalesce_compare(1000, 16000, 1000, 16000), 0);
    assert_int_equal(net_coalesce_compare(1000, 15000, 1000, 16000), 0);
    assert_int_equal(net_coalesce_compare(1000, 14999, 1000, 16000), -1);
    assert_int_equal(net_coalesce_compare(1000, 17000, 1000, 16000), 0);
    assert_int_equal(net_coalesce_compare(1000, 17001, 1000, 16000), 1);
    /* Bytes up, packets down (bigger packets): a gain. */
    assert_int_equal(net_coalesce_compare(500, 20000, 1000, 16000), 1);
    /* Bytes the same, packets down: a loss. */
    assert_int_equal(net_coalesce_compare(900, 16000, 1000, 16000), -1);
    assert_int_equal(net_coalesce_compare(1100, 16000, 1000, 16000), 1);

    /* In the state machine: the same packets but smaller: stepped back. */
    struct net_coalesce c;
    uint64_t now = 0;

    net_coalesce_init(&c, now);
    run_epoch(&c, &now, 100000, 1000);
    assert_int_equal(c.level, 1);
    run_epoch(&c, &now, 100000, 800);
    assert_int_equal(c.level, 0);
    assert_int_equal(c.steps_back, 1);
}

/* A synchronous exchange above the rate threshold: each held interrupt is
 * released only by the idle rule (nothing follows until the guest is
 * told), so the level that held them is undone whatever the rate says. */
static void test_request_response_steps_back(void **state)
{
    struct net_coalesce c;
    uint64_t now = 0;

    net_coalesce_init(&c, now);
    run_epoch(&c, &now, 100000, 100);
    assert_int_equal(c.level, 1);
    /* 4 gaps of 10 us (the epoch's last packet fell into the next). */
    assert_true(c.idle_ns >= 40 * US && c.idle_ns < 41 * US);
    /* Now one packet, then silence until the interrupt: about 45 us an
     * exchange, 22,000 packets per second, over the threshold. */
    uint64_t end = now + EPOCH, waits = 0, answered = 0;
    while (now < end) {
        now += 5 * US;
        if (net_coalesce_publish(&c, &params, 1, 100, true, now)) {
            answered++;
            continue;
        }
        uint64_t t = now;
        while (!net_coalesce_due(&c, &params, t))
            t += US;
        waits++;
        now = t;
    }
    assert_true(waits > 4000);
    assert_int_equal(c.released_idle, waits);
    assert_int_equal(c.released_cap, 0);
    net_coalesce_due(&c, &params, end);
    assert_int_equal(c.level, 0);
    assert_int_equal(c.steps_back, 1);
}

/* Puts c at level 4 (five epochs at 100,000 per second) and returns now. */
static uint64_t at_level4(struct net_coalesce *c)
{
    uint64_t now = 0;

    net_coalesce_init(c, now);
    for (unsigned e = 0; e < 5; e++)
        run_epoch(c, &now, 100000, 1000);
    assert_int_equal(c->level, 4);
    return now;
}

/* Packets keep coming, too slowly to count down 16 before the cap: the
 * cap sends the held interrupt, from the poller and from a publish. */
static void test_cap_releases(void **state)
{
    struct net_coalesce c;
    uint64_t now = at_level4(&c), t0;

    /* Idle after 4 gaps of 10 us. */
    assert_int_equal(c.idle_ns, 40 * US);
    now += 10 * US;
    assert_false(net_coalesce_publish(&c, &params, 1, 1000, true, now));
    assert_true(c.held);
    t0 = now;
    /* A packet every 30 us keeps the queue from idling; 6 of them. */
    for (unsigned i = 0; i < 6; i++) {
        now += 30 * US;
        assert_false(net_coalesce_due(&c, &params, now - 1));
        assert_false(net_coalesce_publish(&c, &params, 1, 1000, false, now));
    }
    assert_true(c.held);
    assert_false(net_coalesce_due(&c, &params, t0 + CAP - 1));
    assert_true(net_coalesce_due(&c, &params, t0 + CAP));
    assert_false(c.held);
    assert_int_equal(c.released_cap, 1);
    assert_int_equal(c.released_idle, 0);

    /* The same from a publish that lands past the cap. */
    now = t0 + CAP + 10 * US;
    assert_false(net_coalesce_publish(&c, &params, 1, 1000, true, now));
    t0 = now;
    for (unsigned i = 0; i < 6; i++) {
        now += 30 * US;
        assert_false(net_coalesce_publish(&c, &params, 1, 1000, false, now));
    }
    assert_true(net_coalesce_publish(&c, &params, 1, 1000, false, t0 + CAP));
    assert_int_equal(c.released_cap, 2);
}

/* The queue goes idle: the held interrupt goes out after the idle gap,
 * not the cap, and a quiet epoch brings the level back to 0. */
static void test_idle_releases(void **state)
{
    struct net_coalesce c;
    uint64_t now = at_level4(&c), t0;

    now += 10 * US;
    assert_false(net_coalesce_publish(&c, &params, 3, 3000, true, now));
    t0 = now;
    assert_false(net_coalesce_due(&c, &params, t0 + 40 * US - 1));
    assert_true(net_coalesce_due(&c, &params, t0 + 40 * US));
    assert_int_equal(c.released_idle, 1);
    assert_false(net_coalesce_due(&c, &params, t0 + 41 * US)); /* once */

    /* Nothing for an epoch: level 0, and the next interrupt is immediate. */
    assert_true(net_coalesce_active(&c));
    assert_false(net_coalesce_due(&c, &params, now + EPOCH));
    assert_int_equal(c.level, 0);
    assert_false(net_coalesce_active(&c));
    assert_true(net_coalesce_publish(&c, &params, 1, 64, true, now + EPOCH + 1));
}

/* A held interrupt, then the epoch ends quiet before idle fires (a long
 * idle gap): the poller releases it as the level drops to 0. */
static void test_quiet_epoch_releases(void **state)
{
    struct net_coalesce c;
    uint64_t now = at_level4(&c);

    now = now + EPOCH - 5 * US; /* the epoch's only packet, just before its end */
    assert_false(net_coalesce_publish(&c, &params, 1, 64, true, now));
    assert_true(net_coalesce_due(&c, &params, now + 6 * US));
    assert_int_equal(c.level, 0);
    assert_int_equal(c.released_idle, 1);
}

/* The driver ran out of RX buffers: only an interrupt lets it refill. */
static void test_starved_releases(void **state)
{
    struct net_coalesce c;
    uint64_t now = at_level4(&c);

    assert_false(net_coalesce_starved(&c)); /* nothing held: nothing sent */
    assert_false(net_coalesce_publish(&c, &params, 1, 64, true, now + 10 * US));
    assert_true(net_coalesce_starved(&c));
    assert_false(c.held);
    assert_int_equal(c.released_starved, 1);
}

/* The driver asked for nothing (it polls): nothing is sent or held. */
static void test_not_wanted(void **state)
{
    struct net_coalesce c;
    uint64_t now = at_level4(&c);
    unsigned irqs = 0;

    for (unsigned i = 0; i < 100; i++) {
        now += 10 * US;
        irqs += net_coalesce_publish(&c, &params, 1, 64, false, now);
        irqs += net_coalesce_due(&c, &params, now + 5 * US);
    }
    assert_int_equal(irqs, 0);
    assert_false(c.held);
}

/* One interrupt per 2^level packets counted from the held one, also when
 * several packets come in one publish. */
static void test_countdown(void **state)
{
    struct net_coalesce c;
    uint64_t now = at_level4(&c);

    now += 10 * US;
    assert_false(net_coalesce_publish(&c, &params, 1, 64, true, now));
    now += US;
    assert_false(net_coalesce_publish(&c, &params, 14, 14 * 64, false, now));
    now += US;
    assert_true(net_coalesce_publish(&c, &params, 1, 64, false, now)); /* the 16th */
    now += US;
    assert_false(net_coalesce_publish(&c, &params, 1, 64, true, now));
    now += US;
    assert_true(net_coalesce_publish(&c, &params, 40, 40 * 64, false, now)); /* a burst */
    assert_int_equal(c.countdown, 16);
}

static void test_reset(void **state)
{
    struct net_coalesce c;
    uint64_t now = at_level4(&c);
    uint64_t held = c.held_count;

    assert_false(net_coalesce_publish(&c, &params, 1, 64, true, now + 10 * US));
    net_coalesce_reset(&c, now + 20 * US);
    assert_false(c.held);
    assert_int_equal(c.level, 0);
    assert_int_equal(c.state, NET_COALESCE_QUIET);
    assert_int_equal(c.held_count, held + 1); /* counters stay */
    assert_true(net_coalesce_publish(&c, &params, 1, 64, true, now + 30 * US));
}

/* Integers only, exact at the edges: a rate from an odd epoch length, the
 * largest epoch counts without overflow, max_level 0 never coalesces. */
static void test_integer_arithmetic(void **state)
{
    struct net_coalesce c;
    struct net_coalesce_params p = params;

    /* 3,001 packets in 300.1 ms: 10,000 per second exactly. */
    net_coalesce_init(&c, 0);
    net_coalesce_publish(&c, &p, 3001, 0, false, 1);
    net_coalesce_publish(&c, &p, 0, 0, false, 300100 * US);
    assert_int_equal(c.level, 1);
    net_coalesce_init(&c, 0);
    net_coalesce_publish(&c, &p, 3000, 0, false, 1);
    net_coalesce_publish(&c, &p, 0, 0, false, 300100 * US);
    assert_int_equal(c.level, 0);
    /* 100 Gbit/s for 200 ms in bytes, and ten times that, no overflow:
     * the rate compares as what it is. */
    net_coalesce_init(&c, 0);
    net_coalesce_publish(&c, &p, 2000000, 2500000000ull, false, 1);
    net_coalesce_publish(&c, &p, 0, 0, false, EPOCH);
    assert_int_equal(c.level, 1);
    net_coalesce_publish(&c, &p, 2000000, 25000000000ull, false, EPOCH + 1);
    net_coalesce_publish(&c, &p, 0, 0, false, 2 * EPOCH);
    assert_int_equal(c.level, 2); /* bytes rose tenfold: kept */
    assert_int_equal(c.ref_bps, 125000000000ull);
    /* max_level 0: coalescing off by configuration. */
    p.max_level = 0;
    net_coalesce_init(&c, 0);
    net_coalesce_publish(&c, &p, 100000, 0, false, 1);
    net_coalesce_publish(&c, &p, 0, 0, false, EPOCH);
    assert_int_equal(c.level, 0);
    assert_true(net_coalesce_publish(&c, &p, 1, 64, true, EPOCH + 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_low_rate_every_interrupt),
        cmocka_unit_test(test_rate_threshold_edge),
        cmocka_unit_test(test_steps_down_while_throughput_holds),
        cmocka_unit_test(test_rising_throughput_keeps_steps),
        cmocka_unit_test(test_steps_back_when_throughput_falls),
        cmocka_unit_test(test_parked_level_steps_back),
        cmocka_unit_test(test_compare_bytes_then_packets),
        cmocka_unit_test(test_request_response_steps_back),
        cmocka_unit_test(test_cap_releases),
        cmocka_unit_test(test_idle_releases),
        cmocka_unit_test(test_quiet_epoch_releases),
        cmocka_unit_test(test_starved_releases),
        cmocka_unit_test(test_not_wanted),
        cmocka_unit_test(test_countdown),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_integer_arithmetic),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
