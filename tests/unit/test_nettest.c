/* SPDX-License-Identifier: MIT */
/*
 * Host tests of `nettest` (frame format and the run loop) on the 82576
 * model with an echoing wire: a run passes with every frame verified and
 * one TX tail write per burst; a corrupted echo, a silent peer and other
 * traffic are told apart; a second run reuses the posted buffers.
 */
/* test-sources: drivers/net/adv_ring.c drivers/net/nic_core.c drivers/net/ixgbe.c drivers/net/igb.c drivers/net/nettest_frame.c drivers/net/nettest_run.c drivers/block/latency_stats.c kernel/lib/fmt.c kernel/lib/str.c tests/unit/nic_model.c tests/unit/nic_test_dma.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/net/nettest_frame.h"
#include "drivers/net/nettest_run.h"
#include "drivers/net/nic_dev.h"
#include "tests/unit/nic_model.h"
#include "tests/unit/nic_test_dma.h"

static uint64_t fake_ticks;

static uint64_t fake_now(void)
{
    return fake_ticks += 1000; /* 1 us per look at a 1 GHz clock */
}

struct fixture {
    struct nic_model *m;
    struct nic n;
    struct nettest_port port;
    struct nettest_params p;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *why = NULL;

    f->m = calloc(1, sizeof(*f->m));
    nic_model_init(f->m, NIC_MODEL_82576);
    f->m->echo = true;
    f->n.chip = &nic_chip_82576;
    f->n.regs = nic_model_regs(f->m);
    assert_true(nic_bring_up(&f->n, 1, &why));
    f->port = (struct nettest_port){
        .nic = &f->n, .queue = 0, .pool = aligned_alloc(4096, (NETTEST_POOL_BYTES + 4095) & ~4095)};
    f->p = (struct nettest_params){.count = 100,
                                   .len = 128,
                                   .burst = 8,
                                   .now = fake_now,
                                   .ticks_per_sec = 1000000000ull,
                                   .timeout_ticks = 10000000ull};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    nic_test_dma_free_all();
    free(f->port.pool);
    free(f->m);
    free(f);
    return 0;
}

static void test_frame_round_trip(void **state)
{
    static const uint8_t own[6] = {0x52, 0x54, 0, 1, 2, 3};
    uint8_t f[NETTEST_MAX_LEN], back[NETTEST_MAX_LEN];
    uint32_t seq = 0;
    unsigned off = 0;

    nettest_frame_build(f, 1514, own, nettest_peer_mac, 77);
    memcpy(back, f + 6, 6); /* the peer swaps the addresses */
    memcpy(back + 6, f, 6);
    memcpy(back + 12, f + 12, 1514 - 12);
    assert_int_equal(nettest_frame_check(back, 1514, own, nettest_peer_mac, &seq, &off),
                     NETTEST_FRAME_OK);
    assert_int_equal(seq, 77);
    assert_int_equal(nettest_frame_check(f, 1514, own, nettest_peer_mac, &seq, &off),
                     NETTEST_FRAME_BAD_MAC); /* not swapped */
    assert_int_equal(nettest_frame_check(back, 1500, own, nettest_peer_mac, &seq, &off),
                     NETTEST_FRAME_BAD_LEN);
    back[900] ^= 1;
    assert_int_equal(nettest_frame_check(back, 1514, own, nettest_peer_mac, &seq, &off),
                     NETTEST_FRAME_BAD_BYTES);
    assert_int_equal(off, 900);
    back[13] = 0x00; /* another ethertype: other traffic */
    assert_int_equal(nettest_frame_check(back, 1514, own, nettest_peer_mac, &seq, &off),
                     NETTEST_FRAME_FOREIGN);
}

static void test_run_passes(void **state)
{
    struct fixture *f = *state;
    struct nettest_result r;

    unsigned tails = f->m->tail_writes;
    nettest_run(&f->port, &f->p, &r);
    if (!r.pass)
        fail_msg("nettest failed: %s", r.why);
    assert_int_equal(r.frames, 100);
    assert_int_equal(r.lat.count, 100);
    assert_int_equal(f->m->tail_writes - tails, 13); /* ceil(100 / 8) TDT writes */
    assert_int_equal(f->m->tx_count, 100);
    assert_int_equal(f->m->violations, 0);
    /* Again, on the buffers the first run left posted. */
    f->p.len = 1514;
    f->p.burst = 32;
    nettest_run(&f->port, &f->p, &r);
    if (!r.pass)
        fail_msg("second nettest failed: %s", r.why);
    assert_int_equal(r.frames, 100);
    assert_int_equal(nic_stats_update(&f->n)->tx_packets, 200);
    assert_int_equal(nic_stats_update(&f->n)->rx_packets, 200);
}

static void test_corrupted_echo_fails(void **state)
{
    struct fixture *f = *state;
    struct nettest_result r;

    f->m->echo_corrupt_at = 100;
    nettest_run(&f->port, &f->p, &r);
    assert_false(r.pass);
    assert_string_equal(r.why, "frame 2 came back with payload corrupted (byte 100)");
}

static void test_silent_peer_times_out(void **state)
{
    struct fixture *f = *state;
    struct nettest_result r;

    f->m->echo = false;
    nettest_run(&f->port, &f->p, &r);
    assert_false(r.pass);
    assert_string_equal(r.why, "frame 0 did not come back within 10 ms");
    assert_int_equal(r.frames, 0);
    /* The peer comes back: the next run passes. */
    f->m->echo = true;
    nettest_run(&f->port, &f->p, &r);
    if (!r.pass)
        fail_msg("nettest failed: %s", r.why);
}

static void test_other_traffic_ignored(void **state)
{
    struct fixture *f = *state;
    struct nettest_result r;
    uint8_t arp[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 9, 0x08, 0x06};

    f->p.count = 4;
    nettest_run(&f->port, &f->p, &r); /* posts the buffers */
    assert_true(nic_model_deliver(f->m, 0, arp, sizeof(arp)));
    nettest_run(&f->port, &f->p, &r);
    assert_true(r.pass);
    assert_int_equal(r.foreign, 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_round_trip),
        T(test_run_passes),
        T(test_corrupted_echo_fails),
        T(test_silent_peer_times_out),
        T(test_other_traffic_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
