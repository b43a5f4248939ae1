/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the 82576 (igb) driver against the register-level model
 * (nic_model.c): bring-up with and without an EEPROM (QEMU's model has
 * none: AUTO_RD never comes), queue 0 enabled out of reset and disabled
 * before it is programmed, the queue blocks at 0xC000/0xE000 with SRRCTL at
 * +0x0C and DROP_EN at bit 31, RCTL/TCTL, link through SLU and the PHY's
 * auto-negotiation (1000 Mb/s), the data path with one tail write per batch,
 * the statistics, and a reset that never completes.
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
    nic_model_init(f->m, NIC_MODEL_82576);
    f->n.chip = &nic_chip_82576;
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

static void check_up(struct fixture *f, unsigned queues)
{
    unsigned mbps;

    assert_true(f->m->resets_seen);
    assert_memory_equal(nic_mac(&f->n), f->m->perm_mac, 6);
    assert_string_equal(nic_chip_name(&f->n), "82576");
    assert_int_equal(nic_queue_count(&f->n), queues);
    assert_true(nic_link(&f->n, &mbps));
    assert_int_equal(mbps, 1000);
    uint32_t rctl = nic_model_peek(f->m, 0x100);
    assert_int_equal(rctl & (1u << 1 | 1u << 3 | 1u << 4 | 1u << 15 | 1u << 26),
                     1u << 1 | 1u << 3 | 1u << 4 | 1u << 15 | 1u << 26); /* EN UPE MPE BAM SECRC */
    assert_true(nic_model_peek(f->m, 0x400) & (1u << 1));                /* TCTL.EN */
    assert_true(nic_model_peek(f->m, 0x0) & (1u << 6));                  /* CTRL.SLU */
    assert_false(nic_model_peek(f->m, 0x0) & (1u << 3));                 /* not LRST */
    for (unsigned q = 0; q < queues; q++) {
        uint32_t rx = 0xc000 + 0x40 * q, tx = 0xe000 + 0x40 * q;

        assert_int_equal(nic_model_peek(f->m, rx + 0x0c), 2u | 1u << 25 | 1u << 31);
        assert_int_equal(nic_model_peek(f->m, rx + 0x08), NIC_RING_SIZE * 16);
        assert_int_equal(nic_model_peek(f->m, rx + 0x00), (uint32_t)(uintptr_t)f->n.q[q].rx.desc);
        assert_int_equal(nic_model_peek(f->m, tx + 0x00), (uint32_t)(uintptr_t)f->n.q[q].tx.desc);
        assert_true(nic_model_peek(f->m, rx + 0x28) & (1u << 25));
        assert_true(nic_model_peek(f->m, tx + 0x28) & (1u << 25));
    }
}

static void test_bring_up(void **state)
{
    struct fixture *f = *state;

    bring_up(f, 2);
    check_up(f, 2);
}

static void test_bring_up_without_eeprom(void **state)
{
    struct fixture *f = *state;

    f->m->no_eeprom = true; /* as QEMU's igb */
    bring_up(f, 1);
    check_up(f, 1);
}

static void test_bring_up_twice(void **state)
{
    struct fixture *f = *state;

    bring_up(f, 1);
    bring_up(f, 1);
    check_up(f, 1);
}

/* A queue pair has one poller: the first claim wins, the owner may claim
 * again, anyone else is told who holds it; a pair not brought up cannot be
 * claimed. */
static void test_queue_claim_one_owner(void **state)
{
    struct fixture *f = *state;
    static const char uplink[] = "switch wan", other[] = "nettest";
    const char *holder = NULL;

    bring_up(f, 2);
    assert_null(nic_queue_owner(&f->n, 0));
    assert_true(nic_queue_claim(&f->n, 0, uplink, &holder));
    assert_ptr_equal(nic_queue_owner(&f->n, 0), uplink);
    assert_true(nic_queue_claim(&f->n, 0, uplink, &holder));
    assert_false(nic_queue_claim(&f->n, 0, other, &holder));
    assert_ptr_equal(holder, uplink);
    assert_ptr_equal(nic_queue_owner(&f->n, 0), uplink);
    assert_true(nic_queue_claim(&f->n, 1, other, &holder)); /* the next pair is free */
    assert_ptr_equal(nic_queue_owner(&f->n, 1), other);
    holder = NULL;
    assert_false(nic_queue_claim(&f->n, 2, other, &holder));
    assert_non_null(holder);
    assert_null(nic_queue_owner(&f->n, 2));
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

static void test_receive_and_transmit(void **state)
{
    struct fixture *f = *state;
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
    struct nic_rx_frame got[16];
    struct nic_tx_frame tx[16];
    uint64_t addrs[16], cookies[16];
    uint8_t p[1514];

    bring_up(f, 1);
    for (unsigned i = 0; i < 16; i++)
        addrs[i] = (uint64_t)(uintptr_t)f->bufs[i];
    unsigned writes = f->m->reg_writes;
    assert_int_equal(nic_rx_refill(&f->n, 0, addrs, 16), 16);
    assert_int_equal(f->m->reg_writes - writes, 1);
    assert_int_equal(nic_model_peek(f->m, 0xc018), 16);

    frame(p, 60, bcast, 1);
    assert_true(nic_model_deliver(f->m, 0, p, 60));
    frame(p, 200, mcast, 2);
    assert_true(nic_model_deliver(f->m, 0, p, 200));
    assert_int_equal(nic_rx_poll(&f->n, 0, got, 16), 2);
    assert_int_equal(got[0].len, 60);
    assert_int_equal(got[1].len, 200);
    assert_true(got[0].ok && got[1].ok);
    assert_memory_equal((void *)(uintptr_t)got[1].buf, p, 200);

    /* Echo both back in one batch. */
    tx[0] = (struct nic_tx_frame){.buf = got[0].buf, .len = got[0].len, .cookie = 7};
    tx[1] = (struct nic_tx_frame){.buf = got[1].buf, .len = got[1].len, .cookie = 8};
    unsigned tails = f->m->tail_writes;
    assert_int_equal(nic_tx_submit(&f->n, 0, tx, 2), 2);
    assert_int_equal(f->m->tail_writes - tails, 1);
    assert_int_equal(f->m->tx_count, 2);
    assert_memory_equal(f->m->tx[1].data, p, 200);
    assert_int_equal(nic_tx_reclaim(&f->n, 0, cookies, 16), 2);
    assert_int_equal(cookies[0], 7);
    assert_int_equal(cookies[1], 8);

    const struct nic_counters *c = nic_stats_update(&f->n);
    assert_int_equal(c->rx_packets, 2);
    assert_int_equal(c->tx_packets, 2);
    assert_int_equal(c->rx_bytes, 60 + 200 + 8);
    assert_int_equal(c->tx_bytes, 60 + 200 + 8);
    assert_no_violation(f->m);
}

static void test_second_queue_uses_its_block(void **state)
{
    struct fixture *f = *state;
    uint64_t addr = (uint64_t)(uintptr_t)f->bufs[0];

    bring_up(f, 2);
    assert_int_equal(nic_rx_refill(&f->n, 1, &addr, 1), 1);
    assert_int_equal(nic_model_peek(f->m, 0xc058), 1);      /* RDT(1) */
    assert_int_equal(nic_model_peek(f->m, 0xc018), 0);      /* RDT(0) untouched */
    assert_int_equal(nic_rx_refill(&f->n, 2, &addr, 1), 0); /* no such queue */
}

static void test_reset_never_completes(void **state)
{
    struct fixture *f = *state;
    const char *why = NULL;

    f->m->stuck_reset = true;
    assert_false(nic_bring_up(&f->n, 1, &why));
    assert_string_equal(why, "reset: CTRL.RST did not clear within 100 ms");
    assert_int_equal(nic_queue_count(&f->n), 0);
    assert_int_equal(nic_rx_refill(&f->n, 0, (const uint64_t[]){0x1000}, 1), 0);
}

static void test_no_cable_link_down(void **state)
{
    struct fixture *f = *state;
    unsigned mbps = 1;

    f->m->cable = false;
    bring_up(f, 1);
    assert_false(nic_link(&f->n, &mbps));
    assert_int_equal(mbps, 0);
    assert_true(f->m->now_us < 3000000); /* the link wait is bounded */
}

static void test_model_flags_programming_an_enabled_queue(void **state)
{
    struct fixture *f = *state;
    struct nic_regs r = nic_model_regs(f->m);

    /* Queue 0 is enabled out of reset: writing its base is a rule broken. */
    r.write(r.ctx, 0xc000, 0x10000);
    assert_string_equal(f->m->first_violation,
                        "RX queue 0 register +0 programmed while the queue is enabled");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_bring_up),
        T(test_bring_up_without_eeprom),
        T(test_bring_up_twice),
        T(test_queue_claim_one_owner),
        T(test_receive_and_transmit),
        T(test_second_queue_uses_its_block),
        T(test_reset_never_completes),
        T(test_no_cable_link_down),
        T(test_model_flags_programming_an_enabled_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
