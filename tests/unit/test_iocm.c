/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the I/O-core monitor's decisions on recorded load traces:
 * a light load changes nothing; a socket whose sidecore is saturated for
 * add_epochs epochs gets its parked core and its queues spread by load; a
 * change whose work per busy cycle held is kept, and when the load falls
 * the extra core is parked again after remove_epochs; a change that made
 * things worse is undone and not retried for a wait that doubles each
 * time (the regret policy); queues stay on their own socket's cores;
 * the spread is largest-first onto the least loaded core.
 */
/* test-sources: vmm/sidecore/iocm.c kernel/lib/fmt.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/sidecore/iocm.h"

#define EPOCH 1000000ull /* time units per epoch */

static struct iocm m;
static struct iocm_sample s;
static struct iocm_decision d;

/* A machine of ncores sidecores (sockets given), the first active on
 * each socket, and nqueues queues, queue i on socket qsock[i]. */
static void machine(unsigned ncores, const uint32_t *csock, unsigned nqueues, const uint32_t *qsock)
{
    struct iocm_params p;

    iocm_params_default(&p);
    iocm_init(&m, &p);
    memset(&s, 0, sizeof(s));
    s.ncores = ncores;
    s.nqueues = nqueues;
    bool seen[IOCM_MAX_SOCKETS] = {false};
    for (unsigned k = 0; k < ncores; k++) {
        s.core[k].socket = csock[k];
        s.core[k].active = !seen[csock[k]];
        seen[csock[k]] = true;
    }
    for (unsigned i = 0; i < nqueues; i++) {
        s.queue[i].socket = qsock[i];
        for (unsigned k = 0; k < ncores; k++)
            if (s.core[k].active && s.core[k].socket == qsock[i])
                s.queue[i].core = k;
    }
}

/* One epoch of the trace: each active core busy at busy_pm[core] per
 * mille, queue loads as given, work done. Applies the decision. */
static enum iocm_action epoch(const unsigned *busy_pm, const uint64_t *load, uint64_t work)
{
    for (unsigned k = 0; k < s.ncores; k++) {
        s.core[k].busy = s.core[k].active ? EPOCH * busy_pm[k] / 1000 : 0;
        s.core[k].idle = s.core[k].active ? EPOCH - s.core[k].busy : 0;
    }
    for (unsigned i = 0; i < s.nqueues; i++)
        s.queue[i].load = load[i];
    s.work = work;
    iocm_epoch(&m, &s, &d);
    if (d.action == IOCM_ADD)
        s.core[d.core].active = true;
    if (d.action == IOCM_REMOVE)
        s.core[d.core].active = false;
    if (d.spread)
        for (unsigned i = 0; i < s.nqueues; i++)
            s.queue[i].core = d.assign[i];
    if (d.action != IOCM_KEEP)
        print_message("epoch %lu: %s core %u: %s\n", (unsigned long)m.epoch,
                      d.action == IOCM_ADD ? "add" : "remove", d.core, d.reason);
    return d.action;
}

static const uint32_t one_socket[4] = {0, 0, 0, 0};

static void test_light_load_changes_nothing(void **state)
{
    const uint32_t qs[3] = {0, 0, 0};
    const unsigned busy[4] = {300};
    const uint64_t load[3] = {100, 50, 10};

    machine(4, one_socket, 3, qs);
    for (unsigned e = 0; e < 50; e++)
        assert_int_equal(epoch(busy, load, 1000), IOCM_KEEP);
    assert_int_equal(m.adds + m.removes, 0);
}

static void test_saturation_adds_and_spreads(void **state)
{
    const uint32_t qs[4] = {0, 0, 0, 0};
    const unsigned hot[4] = {990, 0, 0, 0};
    const uint64_t load[4] = {400, 300, 200, 100};

    machine(4, one_socket, 4, qs);
    /* Two saturated epochs and a dip: the count starts again. */
    assert_int_equal(epoch(hot, load, 1000), IOCM_KEEP);
    assert_int_equal(epoch(hot, load, 1000), IOCM_KEEP);
    const unsigned dip[4] = {900};
    assert_int_equal(epoch(dip, load, 1000), IOCM_KEEP);
    assert_int_equal(epoch(hot, load, 1000), IOCM_KEEP);
    assert_int_equal(epoch(hot, load, 1000), IOCM_KEEP);
    assert_int_equal(epoch(hot, load, 1000), IOCM_ADD);
    assert_int_equal(d.core, 1);
    assert_false(d.undo);
    assert_true(d.spread);
    /* Largest first onto the least loaded: 400 | 300, then 200 -> the
     * 300 core, 100 -> the 400 core: 500 and 500. */
    assert_int_equal(d.assign[0], d.assign[3]);
    assert_int_equal(d.assign[1], d.assign[2]);
    assert_int_not_equal(d.assign[0], d.assign[1]);
    assert_true(m.evaluating);
}

static void test_kept_then_removed_when_load_falls(void **state)
{
    const uint32_t qs[2] = {0, 0};
    const unsigned hot[4] = {990, 0, 0, 0};
    const uint64_t load[2] = {500, 500};

    machine(4, one_socket, 2, qs);
    for (unsigned e = 0; e < 2; e++)
        epoch(hot, load, 1000);
    assert_int_equal(epoch(hot, load, 1000), IOCM_ADD);
    /* Two cores at 60% each do 1,300 units: per busy cycle 1300/1.2M
     * against 1000/0.99M before: better, kept. */
    const unsigned two[4] = {600, 600, 0, 0};
    assert_int_equal(epoch(two, load, 1300), IOCM_KEEP);
    assert_int_equal(epoch(two, load, 1300), IOCM_KEEP);
    assert_false(m.evaluating);
    assert_int_equal(m.undos, 0);
    /* The load falls: 20% + 20% fits on one at 60%: after 5 epochs the
     * less busy one is parked. */
    const unsigned low[4] = {200, 150, 0, 0};
    for (unsigned e = 0; e < 4; e++)
        assert_int_equal(epoch(low, load, 300), IOCM_KEEP);
    assert_int_equal(epoch(low, load, 300), IOCM_REMOVE);
    assert_int_equal(d.core, 1);
    for (unsigned i = 0; i < 2; i++)
        assert_int_equal(d.assign[i], 0);
    /* Never below one core a socket. */
    const unsigned idle[4] = {0};
    for (unsigned e = 0; e < 50; e++)
        assert_int_equal(epoch(idle, load, 300), IOCM_KEEP);
}

static void test_regret_undo_and_growing_wait(void **state)
{
    const uint32_t qs[1] = {0};
    const unsigned hot[4] = {990, 0, 0, 0};
    const uint64_t load[1] = {1000};
    uint64_t first_add, second_add = 0, third_add = 0;

    /* One queue: a second core cannot help, and the one it sits on stays
     * saturated while the new one is idle... but the work per busy cycle
     * falls (polling overhead moved in): undone. */
    machine(4, one_socket, 1, qs);
    for (unsigned e = 0; e < 2; e++)
        epoch(hot, load, 1000);
    assert_int_equal(epoch(hot, load, 1000), IOCM_ADD);
    first_add = m.epoch;
    const unsigned worse[4] = {990, 300, 0, 0};
    assert_int_equal(epoch(worse, load, 1000), IOCM_KEEP);
    assert_int_equal(epoch(worse, load, 1000), IOCM_REMOVE);
    assert_true(d.undo);
    assert_int_equal(d.core, 1);
    assert_int_equal(d.assign[0], 0);
    assert_int_equal(m.undos, 1);
    /* Still saturated: the add is tried again only after 8 epochs, then
     * undone again, then after 16. */
    for (unsigned e = 0; e < 100 && !third_add; e++) {
        bool two = s.core[1].active;
        enum iocm_action a = epoch(two ? worse : hot, load, 1000);
        if (a == IOCM_ADD && !second_add)
            second_add = m.epoch;
        else if (a == IOCM_ADD)
            third_add = m.epoch;
    }
    assert_int_equal(m.undos, 2);
    uint64_t undo1 = first_add + 2, undo2 = second_add + 2;
    assert_true(second_add >= undo1 + 8);
    assert_true(third_add >= undo2 + 16);
    assert_true(third_add - undo2 > second_add - undo1);
}

static void test_queues_stay_on_their_socket(void **state)
{
    const uint32_t cs[4] = {0, 0, 1, 1};
    const uint32_t qs[4] = {0, 1, 0, 1};
    const unsigned hot1[4] = {200, 0, 990, 0};
    const uint64_t load[4] = {100, 600, 100, 500};

    machine(4, cs, 4, qs);
    assert_int_equal(s.queue[1].core, 2);
    for (unsigned e = 0; e < 2; e++)
        epoch(hot1, load, 1000);
    assert_int_equal(epoch(hot1, load, 1000), IOCM_ADD);
    assert_int_equal(d.socket, 1);
    assert_int_equal(d.core, 3); /* socket 1's parked core */
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(s.core[d.assign[i]].socket, qs[i]);
    assert_int_not_equal(d.assign[1], d.assign[3]); /* the two heavy ones apart */
    /* A socket with no active core: its queues go wherever one is. */
    struct iocm_sample t = s;
    uint32_t assign[4];
    t.core[0].active = t.core[1].active = false;
    assert_true(iocm_spread(&t, IOCM_NONE, IOCM_NONE, assign));
    assert_int_equal(t.core[assign[0]].socket, 1);
    t.core[2].active = t.core[3].active = false;
    assert_false(iocm_spread(&t, IOCM_NONE, IOCM_NONE, assign));
}

static void test_spread_keeps_queues_in_place_on_ties(void **state)
{
    const uint32_t qs[4] = {0, 0, 0, 0};
    uint32_t assign[4];

    machine(4, one_socket, 4, qs);
    s.core[1].active = true;
    for (unsigned i = 0; i < 4; i++)
        s.queue[i].core = i % 2 ? 1 : 0;
    /* No load anywhere: two queues per core, each where it was. */
    assert_true(iocm_spread(&s, IOCM_NONE, IOCM_NONE, assign));
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(assign[i], i % 2 ? 1 : 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_light_load_changes_nothing),
        cmocka_unit_test(test_saturation_adds_and_spreads),
        cmocka_unit_test(test_kept_then_removed_when_load_falls),
        cmocka_unit_test(test_regret_undo_and_growing_wait),
        cmocka_unit_test(test_queues_stay_on_their_socket),
        cmocka_unit_test(test_spread_keeps_queues_in_place_on_ties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
