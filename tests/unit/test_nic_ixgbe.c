/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the 82599 (ixgbe) driver against the register-level model
 * (nic_model.c): bring-up in the datasheet's order with no rule broken, the
 * registers it leaves (CRC strip, broadcast accept and promiscuous for the
 * uplink, packet buffers, advanced one-buffer SRRCTL with DROP_EN at bit 28,
 * queue enables, link at 10 Gb/s), the data path through the model's
 * descriptor write-back with one tail write per batch, the statistics, and
 * the bounded waits failing with their message when the chip never answers.
 * The 82599 cannot run here: this model is all the driver has been tried on.
 */
/* test-sources: drivers/net/adv_ring.c drivers/net/nic_core.c drivers/net/ixgbe.c drivers/net/igb.c tests/unit/nic_model.c tests/unit/nic_test_dma.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/net/nic_dev.h"
#include "tests/unit/nic_model.h"
#include "tests/unit/nic_test_dma.h"

struct fixture {
    struct nic_model *m;
    struct nic n;
    uint8_t (*bufs)[NIC_RX_BUF_SIZE];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    f->m = calloc(1, sizeof(*f->m));
    f->bufs = aligned_alloc(4096, 512 * NIC_RX_BUF_SIZE);
    nic_model_init(f->m, NIC_MODEL_82599);
    f->n.chip = &nic_chip_82599;
    f->n.regs = nic_model_regs(f->m);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    nic_test_dma_free_all();
    free(f->bufs);
    free(f->m);
    free(f);
    return 0;
}

static void assert_no_violation(const struct nic_model *m)
{
    if (m->violations)
        fail_msg("model rule broken %u times; first: %s", m->violations, m->first_violation);
}

static void bring_up(struct fixture *f, unsigned queues)
{
    const char *why = NULL;

    if (!nic_bring_up(&f->n, queues, &why))
        fail_msg("bring-up failed: %s", why);
    assert_no_violation(f->m);
}

static void test_bring_up(void **state)
{
    struct fixture *f = *state;
    unsigned mbps;

    bring_up(f, 2);
    assert_true(f->m->resets_seen);
    assert_memory_equal(nic_mac(&f->n), f->m->perm_mac, 6);
    assert_string_equal(nic_chip_name(&f->n), "82599");
    assert_int_equal(nic_queue_count(&f->n), 2);
    assert_true(nic_link(&f->n, &mbps));
    assert_int_equal(mbps, 10000);
    /* Global receive and transmit setup. */
    assert_true(nic_model_peek(f->m, 0x3000) & 1);           /* RXCTRL.RXEN */
    assert_int_equal(nic_model_peek(f->m, 0x3c00), 0x20000); /* RXPBSIZE(0) 128 KiB */
    assert_int_equal(nic_model_peek(f->m, 0x3c04), 0);
    assert_int_equal(nic_model_peek(f->m, 0xcc00), 0xa000);        /* TXPBSIZE(0) 40 KiB */
    assert_int_equal(nic_model_peek(f->m, 0x8100), 0xffff);        /* DTXMXSZRQ */
    assert_false(nic_model_peek(f->m, 0x4900) & (1u << 6));        /* ARBDIS off again */
    assert_true(nic_model_peek(f->m, 0x4a80) & 1);                 /* DMATXCTL.TE */
    assert_int_equal(nic_model_peek(f->m, 0x4240) & 0x403, 0x403); /* CRC strip, CRC, pad */
    assert_int_equal(nic_model_peek(f->m, 0x5080) & 0x700, 0x700); /* BAM UPE MPE */
    assert_true(nic_model_peek(f->m, 0x18) & (1u << 16));          /* NS_DIS */
    for (unsigned q = 0; q < 2; q++) {
        uint32_t rx = 0x1000 + 0x40 * q, tx = 0x6000 + 0x40 * q;

        assert_int_equal(nic_model_peek(f->m, rx + 0x14), 2u | 1u << 25 | 1u << 28);
        assert_int_equal(nic_model_peek(f->m, rx + 0x08), NIC_RING_SIZE * 16);
        assert_int_equal(nic_model_peek(f->m, rx + 0x00), (uint32_t)(uintptr_t)f->n.q[q].rx.desc);
        assert_false(nic_model_peek(f->m, rx + 0x0c) & (1u << 12));
        assert_true(nic_model_peek(f->m, rx + 0x28) & (1u << 25));
        assert_true(nic_model_peek(f->m, tx + 0x28) & (1u << 25));
        assert_int_equal(nic_model_peek(f->m, tx + 0x08), NIC_RING_SIZE * 16);
        assert_int_equal(nic_model_peek(f->m, rx + 0x18), 0); /* nothing posted yet */
    }
}

static void frame(uint8_t *p, uint16_t len, const uint8_t dst[6], uint8_t seed)
{
    static const uint8_t src[6] = {0x02, 0xaa, 0, 0, 0, 1};

    memcpy(p, dst, 6);
    memcpy(p + 6, src, 6);
    p[12] = 0x88;
    p[13] = 0xb5;
    for (unsigned i = 14; i < len; i++)
        p[i] = (uint8_t)(seed + i);
}

static unsigned post_all(struct fixture *f, unsigned q, unsigned first)
{
    uint64_t addrs[NIC_RING_SIZE];

    for (unsigned i = 0; i < NIC_RING_SIZE; i++)
        addrs[i] = (uint64_t)(uintptr_t)f->bufs[first + i];
    return nic_rx_refill(&f->n, q, addrs, NIC_RING_SIZE);
}

static void test_receive(void **state)
{
    struct fixture *f = *state;
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t other[6] = {0x02, 0x99, 0x88, 0x77, 0x66, 0x55};
    struct nic_rx_frame got[64];
    uint8_t p[1514];

    bring_up(f, 1);
    unsigned writes = f->m->reg_writes;
    assert_int_equal(post_all(f, 0, 0), NIC_RING_SIZE - 1);
    assert_int_equal(f->m->reg_writes - writes, 1); /* one RDT write for the batch */
    assert_int_equal(nic_model_peek(f->m, 0x1018), NIC_RING_SIZE - 1);

    /* Broadcast (BAM), another station's unicast (UPE), own MAC. */
    frame(p, 60, bcast, 1);
    assert_true(nic_model_deliver(f->m, 0, p, 60));
    frame(p, 1514, other, 2);
    assert_true(nic_model_deliver(f->m, 0, p, 1514));
    frame(p, 100, f->m->perm_mac, 3);
    assert_true(nic_model_deliver(f->m, 0, p, 100));

    writes = f->m->reg_writes;
    unsigned reads = f->m->reg_reads;
    assert_int_equal(nic_rx_poll(&f->n, 0, got, 64), 3);
    assert_int_equal(f->m->reg_writes, writes); /* polling touches no register */
    assert_int_equal(f->m->reg_reads, reads);
    assert_int_equal(got[0].len, 60); /* CRC stripped */
    assert_int_equal(got[1].len, 1514);
    assert_int_equal(got[2].len, 100);
    for (unsigned i = 0; i < 3; i++) {
        assert_true(got[i].ok);
        assert_int_equal(got[i].buf, (uint64_t)(uintptr_t)f->bufs[i]);
    }
    frame(p, 1514, other, 2);
    assert_memory_equal((void *)(uintptr_t)got[1].buf, p, 1514);
    assert_int_equal(nic_queue_counters(&f->n, 0)->rx_packets, 3);
    assert_int_equal(nic_queue_counters(&f->n, 0)->rx_bytes, 60 + 1514 + 100);

    const struct nic_counters *c = nic_stats_update(&f->n);
    assert_int_equal(c->rx_packets, 3);
    assert_int_equal(c->rx_bytes, 60 + 1514 + 100 + 3 * 4);
    assert_no_violation(f->m);
}

static void test_receive_without_buffers_is_counted(void **state)
{
    struct fixture *f = *state;
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    struct nic_rx_frame got[8];
    uint8_t p[64];
    uint64_t one = (uint64_t)(uintptr_t)f->bufs[0];

    bring_up(f, 1);
    frame(p, 64, bcast, 0);
    assert_false(nic_model_deliver(f->m, 0, p, 64)); /* RDT == RDH: empty */
    assert_int_equal(nic_rx_refill(&f->n, 0, &one, 1), 1);
    assert_true(nic_model_deliver(f->m, 0, p, 64));
    assert_false(nic_model_deliver(f->m, 0, p, 64));
    assert_int_equal(nic_rx_poll(&f->n, 0, got, 8), 1);
    assert_int_equal(nic_stats_update(&f->n)->rx_missed, 2);
    assert_int_equal(nic_stats_update(&f->n)->rx_missed, 2); /* clear on read, accumulated */
}

static void test_transmit_batch(void **state)
{
    struct fixture *f = *state;
    static const uint8_t dst[6] = {0x02, 0x99, 0x88, 0x77, 0x66, 0x55};
    struct nic_tx_frame tx[40];
    uint64_t cookies[64];

    bring_up(f, 2);
    for (unsigned i = 0; i < 40; i++) {
        uint16_t len = (uint16_t)(60 + 37 * i);
        frame(f->bufs[i], len, dst, (uint8_t)i);
        tx[i] = (struct nic_tx_frame){
            .buf = (uint64_t)(uintptr_t)f->bufs[i], .len = len, .cookie = 500 + i};
    }
    unsigned tails = f->m->tail_writes;
    assert_int_equal(nic_tx_submit(&f->n, 1, tx, 40), 40);
    assert_int_equal(f->m->tail_writes - tails, 1); /* one TDT write for 40 frames */
    assert_int_equal(f->m->tx_count, 40);
    for (unsigned i = 0; i < 40; i++) {
        assert_int_equal(f->m->tx[i].len, tx[i].len);
        assert_memory_equal(f->m->tx[i].data, f->bufs[i], tx[i].len);
    }
    assert_int_equal(nic_tx_reclaim(&f->n, 1, cookies, 64), 40);
    for (unsigned i = 0; i < 40; i++)
        assert_int_equal(cookies[i], 500 + i);
    assert_int_equal(nic_stats_update(&f->n)->tx_packets, 40);
    assert_int_equal(nic_queue_counters(&f->n, 1)->tx_packets, 40);
    assert_int_equal(nic_queue_counters(&f->n, 0)->tx_packets, 0);
    assert_no_violation(f->m);
}

static void test_transmit_ring_full(void **state)
{
    struct fixture *f = *state;
    static const uint8_t dst[6] = {0x02, 0x99, 0x88, 0x77, 0x66, 0x55};
    struct nic_tx_frame tx[NIC_RING_SIZE + 10];
    uint64_t cookies[NIC_RING_SIZE];

    bring_up(f, 1);
    frame(f->bufs[0], 60, dst, 0);
    for (unsigned i = 0; i < NIC_RING_SIZE + 10; i++)
        tx[i] =
            (struct nic_tx_frame){.buf = (uint64_t)(uintptr_t)f->bufs[0], .len = 60, .cookie = i};
    /* The model sends at once, so a ring only fills between reclaims. */
    assert_int_equal(nic_tx_submit(&f->n, 0, tx, NIC_RING_SIZE + 10), NIC_RING_SIZE - 1);
    assert_int_equal(nic_queue_counters(&f->n, 0)->tx_ring_full, 11);
    assert_int_equal(nic_tx_reclaim(&f->n, 0, cookies, NIC_RING_SIZE), NIC_RING_SIZE - 1);
    assert_int_equal(nic_tx_submit(&f->n, 0, tx, 5), 5);
    assert_no_violation(f->m);
}

static void expect_failure(struct fixture *f, const char *msg)
{
    const char *why = NULL;

    assert_false(nic_bring_up(&f->n, 1, &why));
    assert_non_null(why);
    assert_string_equal(why, msg);
    assert_true(f->m->now_us < 5000000); /* gave up in bounded time */
}

static void test_reset_never_completes(void **state)
{
    struct fixture *f = *state;

    f->m->stuck_reset = true;
    expect_failure(f, "reset: CTRL.RST/LNK_RST did not clear within 100 ms");
}

static void test_dma_init_never_completes(void **state)
{
    struct fixture *f = *state;

    f->m->dma_init_stuck = true;
    expect_failure(f, "DMA init (RDRXCTL.DMAIDONE) not done within 100 ms");
}

static void test_rx_enable_never_reads_back(void **state)
{
    struct fixture *f = *state;

    f->m->rxdctl_stuck = true;
    expect_failure(f, "RX queue: RXDCTL.ENABLE did not read back set within 10 ms");
}

static void test_no_cable_link_down(void **state)
{
    struct fixture *f = *state;
    unsigned mbps = 1;

    f->m->cable = false;
    bring_up(f, 1);
    assert_false(nic_link(&f->n, &mbps));
    assert_int_equal(mbps, 0);
}

/* The model itself: the ordering rules it enforces fire when broken. */
static void test_model_flags_tx_enable_before_te(void **state)
{
    struct fixture *f = *state;
    struct nic_regs r = nic_model_regs(f->m);

    r.write(r.ctx, 0x6008, 4096);
    r.write(r.ctx, 0x6028, 1u << 25);
    assert_int_equal(f->m->violations, 1);
    assert_string_equal(f->m->first_violation, "TXDCTL(0).ENABLE set before DMATXCTL.TE");
    r.delay_us(r.ctx, 1000);
    assert_false(r.read(r.ctx, 0x6028) & (1u << 25));
}

static void test_model_flags_reset_without_master_disable(void **state)
{
    struct fixture *f = *state;
    struct nic_regs r = nic_model_regs(f->m);

    r.write(r.ctx, 0x0, 1u << 26);
    assert_string_equal(f->m->first_violation, "reset (CTRL.RST) without master disable first");
    assert_true(r.read(r.ctx, 0x0) & (1u << 26)); /* in reset */
    r.write(r.ctx, 0x5080, 0);
    assert_int_equal(f->m->violations, 2); /* written during reset */
    r.write(r.ctx, 0x1234, 0);
    assert_int_equal(f->m->violations, 3);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_bring_up),
        T(test_receive),
        T(test_receive_without_buffers_is_counted),
        T(test_transmit_batch),
        T(test_transmit_ring_full),
        T(test_reset_never_completes),
        T(test_dma_init_never_completes),
        T(test_rx_enable_never_reads_back),
        T(test_no_cable_link_down),
        T(test_model_flags_tx_enable_before_te),
        T(test_model_flags_reset_without_master_disable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
