/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the I/O-core monitor's glue (vmm/sidecore/monitor.c) over
 * fake sidecores: each epoch it reads the busy/idle counters and the
 * queues' work as differences, and applies iocm's decisions as park flags
 * and handoff requests; it decides nothing while a move is pending or in
 * manual policy; the shell's add/remove/move refuse what cannot be done
 * (no parked core, the last active one, a pending move) with one line, and
 * a move to a parked sidecore wakes it first. Every change is logged.
 * test-sources: vmm/sidecore/monitor.c vmm/sidecore/iocm.c vmm/sidecore/handoff.c kernel/lib/fmt.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/config/hv_config_iocm.h"
#include "kernel/console/log.h"
#include "kernel/time/clock.h"
#include "vmm/sidecore/monitor.h"
#include "vmm/sidecore/sidecore.h"

/* ---- fakes: two sidecores on socket 0, three queues ---- */

static struct sidecore cores[2];
static unsigned ncores = 2;
static struct sidecore_queue queues[3];
static unsigned nqueues = 3;
static uint64_t now_ns;
static bool policy_auto = true;
static struct iocm_params params;
static unsigned unparks;
static char logged[32][200];
static unsigned nlogged;

uint64_t clock_uptime_ns(void)
{
    return now_ns;
}

void log_async(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    (void)level;
    va_start(ap, fmt);
    if (nlogged < 32)
        vsnprintf(logged[nlogged++], sizeof(logged[0]), fmt, ap);
    va_end(ap);
}

unsigned sidecore_count(void)
{
    return ncores;
}

struct sidecore *sidecore_at(unsigned index)
{
    return index < ncores ? &cores[index] : NULL;
}

unsigned sidecore_queue_count(void)
{
    return nqueues;
}

struct sidecore_queue *sidecore_queue_at(unsigned index)
{
    return index < nqueues ? &queues[index] : NULL;
}

void sidecore_park(struct sidecore *s)
{
    s->parked = true;
}

void sidecore_unpark(struct sidecore *s)
{
    s->parked = false;
    unparks++;
}

bool hv_config_sidecore_policy_auto(void)
{
    return policy_auto;
}

uint64_t hv_config_sidecore_epoch_ns(void)
{
    return 100000000ull;
}

const struct iocm_params *hv_config_iocm(void)
{
    return &params;
}

static bool logged_has(const char *needle)
{
    for (unsigned i = 0; i < nlogged; i++)
        if (strstr(logged[i], needle))
            return true;
    return false;
}

/* The owner lets go of every queue with a pending move, as its loop does
 * between visits. */
static void cores_run_handoffs(void)
{
    for (unsigned i = 0; i < nqueues; i++) {
        uint32_t owner = handoff_owner(&queues[i].h);
        handoff_end(&queues[i].h, owner);
    }
}

/* One epoch of 100 ms in which core k was busy_pm per-mille busy and
 * queue i did work[i]. */
static void epoch(const unsigned *busy_pm, const uint64_t *work)
{
    for (unsigned k = 0; k < ncores; k++) {
        if (cores[k].parked)
            continue;
        cores[k].busy_tsc += busy_pm[k] * 1000;
        cores[k].idle_tsc += (1000 - busy_pm[k]) * 1000;
    }
    for (unsigned i = 0; i < nqueues; i++)
        queues[i].stats.work += work[i];
    now_ns += 100000000ull;
    sidecore_monitor_poll();
}

static int setup(void **state)
{
    (void)state;
    memset(cores, 0, sizeof(cores));
    memset(queues, 0, sizeof(queues));
    for (unsigned k = 0; k < 2; k++)
        cores[k] = (struct sidecore){.index = k, .cpu = 3 + k, .running = true};
    cores[1].parked = true;
    for (unsigned i = 0; i < 3; i++) {
        handoff_init(&queues[i].h, 0);
        queues[i].index = i;
        snprintf(queues[i].label, sizeof(queues[i].label), "g%u disk0 q0", i);
    }
    iocm_params_default(&params);
    policy_auto = true;
    nlogged = unparks = 0;
    now_ns = 1000000000ull;
    sidecore_monitor_test_reset();
    sidecore_monitor_poll(); /* the first call takes the baselines */
    return 0;
}

static void test_adds_spreads_then_parks(void **state)
{
    static const unsigned hot[2] = {990, 0}, cold[2] = {50, 50};
    static const uint64_t busy_work[3] = {300, 200, 100}, none[3] = {0, 0, 0};

    /* Saturated for add_epochs (3): the parked core is made active. */
    epoch(hot, busy_work);
    epoch(hot, busy_work);
    assert_true(cores[1].parked);
    epoch(hot, busy_work);
    assert_false(cores[1].parked);
    assert_int_equal(unparks, 1);
    assert_true(logged_has("sidecore monitor: sidecore 1 (CPU 4, socket 0) active: socket 0"));
    assert_int_equal(sidecore_monitor_busy_pct(0), 99);
    assert_int_equal(sidecore_monitor_queue_rate(0), 3000); /* 300 in 100 ms */
    /* The heaviest queue stays, the two lighter ones go to the new core
     * (largest first onto the least loaded). */
    assert_true(handoff_pending(&queues[1].h));
    assert_true(logged_has("queue g1 disk0 q0: sidecore 0 -> 1 (spread by load, 2000/s)"));
    assert_false(handoff_pending(&queues[0].h));
    /* While the move is pending, nothing else is decided. */
    uint64_t epochs = sidecore_monitor_state()->epoch;
    epoch(hot, busy_work);
    assert_int_equal(sidecore_monitor_state()->epoch, epochs);
    cores_run_handoffs();
    assert_int_equal(handoff_owner(&queues[0].h), 0);
    assert_int_equal(handoff_owner(&queues[1].h), 1);
    assert_int_equal(handoff_owner(&queues[2].h), 1);
    /* The same work at the same busy time in all: the change is kept. */
    static const unsigned shared[2] = {495, 495};
    epoch(shared, busy_work);
    epoch(shared, busy_work);
    assert_false(cores[1].parked);
    assert_int_equal(sidecore_monitor_state()->undos, 0);
    /* The load goes: after remove_epochs (5) of room, one core is parked
     * and its queues moved to the other. */
    for (unsigned i = 0; i < 10 && !cores[0].parked && !cores[1].parked; i++)
        epoch(cold, none);
    assert_true(cores[0].parked || cores[1].parked);
    assert_true(logged_has("parked: socket 0: 2 sidecores together"));
    cores_run_handoffs();
    uint32_t left = cores[0].parked ? 1 : 0;
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(handoff_owner(&queues[i].h), left);
}

static void test_manual_policy_only_measures(void **state)
{
    static const unsigned hot[2] = {990, 0};
    static const uint64_t work[3] = {10, 10, 10};

    sidecore_monitor_set_auto(false);
    for (unsigned i = 0; i < 10; i++)
        epoch(hot, work);
    assert_true(cores[1].parked);
    assert_int_equal(sidecore_monitor_busy_pct(0), 99);
    assert_true(logged_has("policy manual (shell)"));
}

static void test_shell_changes(void **state)
{
    char why[120];

    /* remove: not the last active one, not a parked one, not a missing one. */
    assert_false(sidecore_monitor_remove(0, why, sizeof(why)));
    assert_string_equal(why, "sidecore 0 is the last active one");
    assert_false(sidecore_monitor_remove(1, why, sizeof(why)));
    assert_string_equal(why, "sidecore 1 is parked already");
    assert_false(sidecore_monitor_remove(2, why, sizeof(why)));
    assert_string_equal(why, "no sidecore 2 (there are 2)");
    /* move to a parked core wakes it; a second move of the same queue
     * waits for the first. */
    assert_true(sidecore_monitor_move(&queues[2], 1, why, sizeof(why)));
    assert_false(cores[1].parked);
    assert_true(logged_has("sidecore shell: queue g2 disk0 q0: sidecore 0 -> 1 (sidecore move)"));
    assert_false(sidecore_monitor_move(&queues[2], 0, why, sizeof(why)));
    assert_string_equal(why, "a move of g2 disk0 q0 is still pending; try again");
    /* add: none parked now; remove waits for the pending move. */
    assert_false(sidecore_monitor_add(why, sizeof(why)));
    assert_string_equal(why, "a move is still pending; try again");
    assert_false(sidecore_monitor_remove(1, why, sizeof(why)));
    assert_string_equal(why, "a move is still pending; try again");
    cores_run_handoffs();
    assert_false(sidecore_monitor_add(why, sizeof(why)));
    assert_string_equal(why, "no parked sidecore (raise [hypervisor] sidecores_max)");
    assert_false(sidecore_monitor_move(&queues[2], 1, why, sizeof(why)));
    assert_string_equal(why, "g2 disk0 q0 is on sidecore 1 already");
    /* remove 1: its queue goes back to 0 and it is parked. */
    assert_true(sidecore_monitor_remove(1, why, sizeof(why)));
    assert_true(cores[1].parked);
    cores_run_handoffs();
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(handoff_owner(&queues[i].h), 0);
    /* add: 1 is active again and takes some of the queues. */
    assert_true(sidecore_monitor_add(why, sizeof(why)));
    assert_false(cores[1].parked);
    cores_run_handoffs();
    unsigned on1 = 0;
    for (unsigned i = 0; i < 3; i++)
        on1 += handoff_owner(&queues[i].h) == 1;
    assert_true(on1 >= 1 && on1 <= 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_adds_spreads_then_parks, setup),
        cmocka_unit_test_setup(test_manual_policy_only_measures, setup),
        cmocka_unit_test_setup(test_shell_changes, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
