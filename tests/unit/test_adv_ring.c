/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the advanced-descriptor ring code shared by the igb and
 * ixgbe drivers, with the test playing the device: the one-unused-slot rule
 * (RDT == RDH means empty), refill across the wrap, the receive write-back
 * (DD, EOP, length, errors) read only once DD is set, transmit descriptors
 * with DTYP/DEXT/EOP/IFCS/RS and PAYLEN, reclaim in order by DD.
 */
/* test-sources: drivers/net/adv_ring.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/net/adv_ring.h"

#define N 8

static union adv_rx_desc rxd[N] __attribute__((aligned(128)));
static union adv_tx_desc txd[N] __attribute__((aligned(128)));
static uint64_t slots[N];

/* The device completes descriptor i of the RX ring. */
static void dev_rx_complete(unsigned i, uint16_t len, uint32_t status)
{
    rxd[i].wb.info = 0;
    rxd[i].wb.rss = 0;
    rxd[i].wb.length = len;
    rxd[i].wb.vlan = 0;
    rxd[i].wb.status_error = status;
}

static void test_sizes(void **state)
{
    assert_false(adv_ring_size_ok(4));
    assert_true(adv_ring_size_ok(8));
    assert_false(adv_ring_size_ok(12));
    assert_true(adv_ring_size_ok(256));
    assert_true(adv_ring_size_ok(ADV_RING_MAX));
    assert_false(adv_ring_size_ok(2 * ADV_RING_MAX));
    assert_int_equal(sizeof(union adv_rx_desc), 16);
    assert_int_equal(offsetof(union adv_rx_desc, wb.status_error), 8);
    assert_int_equal(offsetof(union adv_rx_desc, wb.length), 12);
    assert_int_equal(offsetof(union adv_tx_desc, wb.status), 12);
}

static void test_rx_refill_keeps_one_slot(void **state)
{
    struct adv_rx_ring r;
    uint64_t bufs[N + 2];

    for (unsigned i = 0; i < N + 2; i++)
        bufs[i] = 0x100000 + i * 0x800;
    adv_rx_ring_init(&r, rxd, slots, N);
    assert_int_equal(adv_rx_ring_room(&r), N - 1);
    assert_int_equal(adv_rx_ring_refill(&r, bufs, N + 2), N - 1);
    assert_int_equal(r.tail, N - 1); /* RDT one behind the head at 0: never equal */
    assert_int_equal(adv_rx_ring_posted(&r), N - 1);
    assert_int_equal(adv_rx_ring_refill(&r, bufs, 1), 0);
    for (unsigned i = 0; i < N - 1; i++) {
        assert_int_equal(rxd[i].read.pkt_addr, bufs[i]);
        assert_int_equal(rxd[i].read.hdr_addr, 0);
    }
}

static void test_rx_poll_write_back(void **state)
{
    struct adv_rx_ring r;
    struct adv_rx_done done[N];
    uint64_t bufs[4] = {0x1000, 0x2000, 0x3000, 0x4000};

    adv_rx_ring_init(&r, rxd, slots, N);
    adv_rx_ring_refill(&r, bufs, 4);
    assert_int_equal(adv_rx_ring_poll(&r, done, N), 0); /* nothing written back yet */
    /* A descriptor with a length but no DD is not trusted. */
    rxd[0].wb.length = 60;
    assert_int_equal(adv_rx_ring_poll(&r, done, N), 0);
    dev_rx_complete(0, 60, ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP);
    dev_rx_complete(1, 1514, ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP | (1u << 29)); /* RXE */
    dev_rx_complete(2, 2048, ADV_RXD_STAT_DD); /* no EOP: frame spans buffers */
    assert_int_equal(adv_rx_ring_poll(&r, done, N), 3);
    assert_true(done[0].ok);
    assert_int_equal(done[0].len, 60);
    assert_int_equal(done[0].buf, 0x1000);
    assert_false(done[1].ok);
    assert_int_equal(done[1].buf, 0x2000);
    assert_false(done[2].ok);
    assert_int_equal(r.clean, 3);
    assert_int_equal(adv_rx_ring_posted(&r), 1);
    /* max is honoured. */
    dev_rx_complete(3, 64, ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP);
    assert_int_equal(adv_rx_ring_poll(&r, done, 0), 0);
    assert_int_equal(adv_rx_ring_poll(&r, done, 1), 1);
    assert_int_equal(done[0].buf, 0x4000);
    assert_int_equal(adv_rx_ring_posted(&r), 0);
}

static void test_rx_wraps(void **state)
{
    struct adv_rx_ring r;
    struct adv_rx_done done[N];
    uint64_t next = 0x10000;

    adv_rx_ring_init(&r, rxd, slots, N);
    for (unsigned round = 0; round < 5; round++) {
        uint64_t bufs[N];
        unsigned room = adv_rx_ring_room(&r);

        for (unsigned i = 0; i < room; i++)
            bufs[i] = next++ * 0x800;
        assert_int_equal(adv_rx_ring_refill(&r, bufs, room), room);
        /* The stale DD of the last pass was cleared by the refill. */
        assert_int_equal(adv_rx_ring_poll(&r, done, N), 0);
        unsigned k = r.clean;
        for (unsigned i = 0; i < 5; i++, k = (k + 1) % N)
            dev_rx_complete(k, (uint16_t)(100 + i), ADV_RXD_STAT_DD | ADV_RXD_STAT_EOP);
        assert_int_equal(adv_rx_ring_poll(&r, done, N), 5);
        for (unsigned i = 0; i < 5; i++) {
            assert_int_equal(done[i].len, 100 + i);
            assert_true(done[i].ok);
        }
    }
}

static void test_tx_descriptor_bits(void **state)
{
    uint32_t c = adv_tx_cmd_type_len(60);

    assert_int_equal(c & 0xffff, 60);
    assert_int_equal((c >> 20) & 0xf, 3); /* DTYP data */
    assert_true(c & (1u << 24));          /* EOP */
    assert_true(c & (1u << 25));          /* IFCS */
    assert_true(c & (1u << 27));          /* RS */
    assert_true(c & (1u << 29));          /* DEXT */
    assert_int_equal(adv_tx_olinfo(1514) >> 14, 1514);
    assert_int_equal(adv_tx_olinfo(1514) & 1, 0); /* never looks like DD */
}

static void test_tx_submit_and_reclaim(void **state)
{
    struct adv_tx_ring r;
    struct adv_tx_frame f[N + 1];
    uint64_t cookies[N];

    for (unsigned i = 0; i < N + 1; i++)
        f[i] = (struct adv_tx_frame){
            .buf = 0x8000 + i * 0x800, .len = (uint16_t)(60 + i), .cookie = 1000 + i};
    adv_tx_ring_init(&r, txd, slots, N);
    assert_int_equal(adv_tx_ring_submit(&r, f, N + 1), N - 1);
    assert_int_equal(r.tail, N - 1);
    assert_int_equal(adv_tx_ring_room(&r), 0);
    assert_int_equal(txd[2].read.buffer_addr, 0x8000 + 2 * 0x800);
    assert_int_equal(txd[2].read.cmd_type_len, adv_tx_cmd_type_len(62));
    assert_int_equal(txd[2].read.olinfo_status >> 14, 62);
    assert_int_equal(adv_tx_ring_reclaim(&r, cookies, N), 0);
    /* The device finishes 0 and 2 (not 1): reclaim stops at 1, in order. */
    txd[0].wb.status = ADV_TXD_STAT_DD;
    txd[2].wb.status = ADV_TXD_STAT_DD;
    assert_int_equal(adv_tx_ring_reclaim(&r, cookies, N), 1);
    assert_int_equal(cookies[0], 1000);
    txd[1].wb.status = ADV_TXD_STAT_DD;
    assert_int_equal(adv_tx_ring_reclaim(&r, cookies, N), 2);
    assert_int_equal(cookies[0], 1001);
    assert_int_equal(cookies[1], 1002);
    assert_int_equal(adv_tx_ring_in_flight(&r), N - 4);
    /* Wrap: three more fit now. */
    assert_int_equal(adv_tx_ring_submit(&r, f, 3), 3);
    assert_int_equal(r.tail, 2);
}

static void test_tx_bad_length_stops(void **state)
{
    struct adv_tx_ring r;
    struct adv_tx_frame f[3] = {{.buf = 0x1000, .len = 60, .cookie = 1},
                                {.buf = 0x2000, .len = 0, .cookie = 2},
                                {.buf = 0x3000, .len = 60, .cookie = 3}};

    adv_tx_ring_init(&r, txd, slots, N);
    assert_int_equal(adv_tx_ring_submit(&r, f, 3), 1);
    assert_int_equal(r.tail, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_rx_refill_keeps_one_slot),
        cmocka_unit_test(test_rx_poll_write_back),
        cmocka_unit_test(test_rx_wraps),
        cmocka_unit_test(test_tx_descriptor_bits),
        cmocka_unit_test(test_tx_submit_and_reclaim),
        cmocka_unit_test(test_tx_bad_length_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
