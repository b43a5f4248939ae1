/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the virtio console device, driven the way a guest's
 * virtio_console driver drives it: a driver-side ring model (virtq_driver)
 * per queue in a block of "guest memory" posts transmitq writes and
 * receiveq buffers; what the guest wrote is captured from the device's out
 * callback, operator input is given with virtio_console_input(). Covered:
 * configuration space and features, TX in one and many buffers (bytes
 * exact, one chain per write), TX before DRIVER_OK and after reset, the
 * per-chain cap, RX filling buffers (input split across chains, input
 * waiting until buffers come, a full input ring), budgets, hostile chains
 * (writable TX buffer, readable RX buffer, a ring error: NEEDS_RESET once
 * and nothing more taken until reset), and interrupts.
 */
/* test-sources: virtio/virtio_console.c virtio/virtqueue.c virtio/virtq_driver.c kernel/lib/fmt.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "virtio/virtio_console.h"
#include "virtio/virtq_driver.h"

#define GUEST_BYTES (1u << 20)
#define RING_GPA(q) (0x1000ull * (q))
#define TX_GPA      0x10000ull
#define RX_GPA      0x80000ull
#define QSIZE       16

struct tb {
    uint8_t *guest;
    struct vmem mem;
    struct virtio_console d;
    struct virtq_driver drv[VIRTIO_CONSOLE_QUEUES];
    uint64_t features;
    unsigned signals[VIRTIO_CONSOLE_QUEUES];
    unsigned broken, outs;
    char out[200000];
    size_t nout;
};

static void on_signal(void *ctx, unsigned q)
{
    struct tb *t = ctx;

    assert_true(q < VIRTIO_CONSOLE_QUEUES);
    t->signals[q]++;
}

static void on_broken(void *ctx)
{
    ((struct tb *)ctx)->broken++;
}

static void on_out(void *ctx, const char *p, uint32_t n)
{
    struct tb *t = ctx;

    assert_true(n > 0 && n <= VIRTIO_CONSOLE_BOUNCE);
    assert_true(t->nout + n <= sizeof(t->out));
    memcpy(t->out + t->nout, p, n);
    t->nout += n;
    t->outs++;
}

static void enable_queue(struct tb *t, unsigned q)
{
    struct virtq *vq = &t->d.vqs[q];
    bool ev = t->features & (1ull << VIRTIO_F_RING_EVENT_IDX);

    assert_true(virtq_driver_init(&t->drv[q], &t->mem, RING_GPA(q), QSIZE, ev, 0));
    vq->size = QSIZE;
    vq->desc_gpa = t->drv[q].desc_gpa;
    vq->avail_gpa = t->drv[q].avail_gpa;
    vq->used_gpa = t->drv[q].used_gpa;
    assert_true(virtio_console_pci_ops.queue_enable(&t->d, q, t->features));
}

static void start(struct tb *t)
{
    enable_queue(t, VIRTIO_CONSOLE_RXQ);
    enable_queue(t, VIRTIO_CONSOLE_TXQ);
    virtio_console_pci_ops.driver_ok(&t->d);
}

static struct tb *tb_new(bool event_idx, bool go)
{
    struct tb *t = calloc(1, sizeof(*t));
    char why[128];

    assert_non_null(t);
    t->guest = aligned_alloc(4096, GUEST_BYTES);
    assert_non_null(t->guest);
    memset(t->guest, 0, GUEST_BYTES);
    t->mem = (struct vmem){t->guest, GUEST_BYTES};
    struct virtio_console_params p = {.name = "test console",
                                      .mem = &t->mem,
                                      .polled = true,
                                      .signal = on_signal,
                                      .broken = on_broken,
                                      .ctx = t,
                                      .out = on_out,
                                      .out_ctx = t};
    assert_true(virtio_console_init(&t->d, &p, why, sizeof(why)));
    t->features = t->d.features | (1ull << VIRTIO_F_VERSION_1);
    if (!event_idx)
        t->features &= ~(1ull << VIRTIO_F_RING_EVENT_IDX);
    if (go)
        start(t);
    return t;
}

static void tb_free(struct tb *t)
{
    free(t->guest);
    free(t);
}

static unsigned service(struct tb *t, unsigned q, unsigned budget)
{
    return virtio_console_queue_service(virtio_console_queue(&t->d, q), budget);
}

/* Writes s into guest memory at gpa and posts it on the transmitq in
 * pieces of cut bytes. */
static int post_tx(struct tb *t, uint64_t gpa, const char *s, size_t len, size_t cut)
{
    struct virtq_sg sg[QSIZE];
    unsigned n = 0;

    memcpy(t->guest + gpa, s, len);
    for (size_t off = 0; off < len; off += cut) {
        assert_true(n < QSIZE);
        sg[n++] = (struct virtq_sg){gpa + off, (uint32_t)(len - off < cut ? len - off : cut)};
    }
    return virtq_driver_add(&t->drv[VIRTIO_CONSOLE_TXQ], sg, n, 0);
}

static int post_rx(struct tb *t, uint64_t gpa, uint32_t len)
{
    struct virtq_sg sg = {gpa, len};

    return virtq_driver_add(&t->drv[VIRTIO_CONSOLE_RXQ], &sg, 0, 1);
}

static void input(struct tb *t, const char *s)
{
    for (; *s; s++)
        assert_true(virtio_console_input(&t->d, (uint8_t)*s));
}

/* --- tests --------------------------------------------------------------- */

static void test_config_and_features(void **state)
{
    struct tb *t = tb_new(true, false);

    (void)state;
    assert_int_equal(virtio_console_pci_ops.config_read(&t->d, 0, 2), 0); /* cols */
    assert_int_equal(virtio_console_pci_ops.config_read(&t->d, 2, 2), 0); /* rows */
    assert_int_equal(virtio_console_pci_ops.config_read(&t->d, 4, 4), 1); /* max_nr_ports */
    assert_int_equal(virtio_console_pci_ops.config_read(&t->d, 8, 4), 0);
    assert_int_equal(virtio_console_pci_ops.config_read(&t->d, 100, 4), 0);
    virtio_console_pci_ops.config_write(&t->d, 8, 4, 0x41);
    assert_int_equal(virtio_console_pci_ops.config_read(&t->d, 8, 4), 0);
    /* No MULTIPORT (1), SIZE (0), EMERG_WRITE (2). */
    assert_int_equal(t->d.features & 7, 0);
    assert_null(virtio_console_queue(&t->d, 2));
    tb_free(t);
}

static void test_init_needs_callbacks(void **state)
{
    struct virtio_console *d = calloc(1, sizeof(*d));
    struct vmem m = {0};
    char why[128];
    struct virtio_console_params p = {.mem = &m};

    (void)state;
    assert_false(virtio_console_init(d, &p, why, sizeof(why)));
    free(d);
}

static void test_tx_bytes_arrive(void **state)
{
    struct tb *t = tb_new(true, true);
    uint16_t id;
    uint32_t len;
    const char *a = "hello from hvc0\n", *b = "second line, cut in pieces\n";

    (void)state;
    int ha = post_tx(t, TX_GPA, a, strlen(a), 1000);
    int hb = post_tx(t, TX_GPA + 0x1000, b, strlen(b), 3);
    assert_true(ha >= 0 && hb >= 0);
    assert_int_equal(service(t, VIRTIO_CONSOLE_TXQ, 16), 2);
    assert_int_equal(t->nout, strlen(a) + strlen(b));
    assert_memory_equal(t->out, a, strlen(a));
    assert_memory_equal(t->out + strlen(a), b, strlen(b));
    assert_int_equal(t->d.stats.tx_bytes, strlen(a) + strlen(b));
    assert_int_equal(t->d.stats.tx_chains, 2);
    assert_int_equal(virtq_driver_take_used(&t->drv[1], &id, &len), 1);
    assert_int_equal(id, ha);
    assert_int_equal(len, 0);
    assert_int_equal(virtq_driver_take_used(&t->drv[1], &id, &len), 1);
    assert_int_equal(id, hb);
    assert_int_equal(t->signals[VIRTIO_CONSOLE_TXQ], 1);
    assert_int_equal(t->broken, 0);
    /* Nothing more to do. */
    assert_int_equal(service(t, VIRTIO_CONSOLE_TXQ, 16), 0);
    tb_free(t);
}

static void test_tx_budget_and_big_write(void **state)
{
    struct tb *t = tb_new(false, true);
    static char big[5000];

    (void)state;
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    for (int i = 0; i < 5; i++)
        assert_true(post_tx(t, TX_GPA + 0x2000 * (uint64_t)i, big, sizeof(big), 4096) >= 0);
    assert_int_equal(service(t, VIRTIO_CONSOLE_TXQ, 2), 2);
    assert_int_equal(t->nout, 2 * sizeof(big));
    assert_int_equal(service(t, VIRTIO_CONSOLE_TXQ, 2), 2);
    assert_int_equal(service(t, VIRTIO_CONSOLE_TXQ, 2), 1);
    assert_int_equal(t->nout, 5 * sizeof(big));
    for (int i = 0; i < 5; i++)
        assert_memory_equal(t->out + i * sizeof(big), big, sizeof(big));
    tb_free(t);
}

/* A chain longer than the cap delivers the cap's worth and is counted. */
static void test_tx_chain_cap(void **state)
{
    struct tb *t = tb_new(true, true);
    struct virtq_sg sg[3] = {{TX_GPA, 40000}, {TX_GPA + 40000, 40000}, {TX_GPA, 10}};

    (void)state;
    memset(t->guest + TX_GPA, 'x', 80000);
    assert_true(virtq_driver_add(&t->drv[1], sg, 3, 0) >= 0);
    assert_int_equal(service(t, VIRTIO_CONSOLE_TXQ, 16), 1);
    assert_int_equal(t->nout, VIRTIO_CONSOLE_CHAIN_MAX);
    assert_int_equal(t->d.stats.tx_truncated, 1);
    assert_int_equal(t->broken, 0);
    tb_free(t);
}

static void test_nothing_before_driver_ok(void **state)
{
    struct tb *t = tb_new(true, false);

    (void)state;
    enable_queue(t, VIRTIO_CONSOLE_RXQ);
    enable_queue(t, VIRTIO_CONSOLE_TXQ);
    assert_false(virtio_console_rx_ready(&t->d));
    assert_true(post_tx(t, TX_GPA, "early", 5, 5) >= 0);
    assert_int_equal(service(t, VIRTIO_CONSOLE_TXQ, 16), 0);
    assert_int_equal(t->nout, 0);
    virtio_console_pci_ops.driver_ok(&t->d);
    assert_true(virtio_console_rx_ready(&t->d));
    assert_int_equal(service(t, VIRTIO_CONSOLE_TXQ, 16), 1);
    assert_memory_equal(t->out, "early", 5);
    tb_free(t);
}

static void test_rx_input(void **state)
{
    struct tb *t = tb_new(true, true);
    uint16_t id;
    uint32_t len;

    (void)state;
    /* Input with no buffers waits in the ring. */
    input(t, "ls -l\r");
    assert_int_equal(service(t, VIRTIO_CONSOLE_RXQ, 16), 0);
    int h1 = post_rx(t, RX_GPA, 4);
    int h2 = post_rx(t, RX_GPA + 0x100, 64);
    int h3 = post_rx(t, RX_GPA + 0x200, 64);
    assert_true(h1 >= 0 && h2 >= 0 && h3 >= 0);
    assert_int_equal(service(t, VIRTIO_CONSOLE_RXQ, 16), 2);
    assert_int_equal(virtq_driver_take_used(&t->drv[0], &id, &len), 1);
    assert_int_equal(id, h1);
    assert_int_equal(len, 4);
    assert_memory_equal(t->guest + RX_GPA, "ls -", 4);
    assert_int_equal(virtq_driver_take_used(&t->drv[0], &id, &len), 1);
    assert_int_equal(id, h2);
    assert_int_equal(len, 2);
    assert_memory_equal(t->guest + RX_GPA + 0x100, "l\r", 2);
    assert_int_equal(virtq_driver_take_used(&t->drv[0], &id, &len), 0);
    assert_int_equal(t->d.stats.rx_bytes, 6);
    assert_int_equal(t->d.stats.rx_chains, 2);
    assert_int_equal(t->signals[VIRTIO_CONSOLE_RXQ], 1);
    /* No input: the third buffer stays with the device. */
    assert_int_equal(service(t, VIRTIO_CONSOLE_RXQ, 16), 0);
    input(t, "y");
    assert_int_equal(service(t, VIRTIO_CONSOLE_RXQ, 16), 1);
    assert_int_equal(virtq_driver_take_used(&t->drv[0], &id, &len), 1);
    assert_int_equal(id, h3);
    assert_int_equal(len, 1);
    assert_int_equal(t->guest[RX_GPA + 0x200], 'y');
    tb_free(t);
}

static void test_input_ring_full(void **state)
{
    struct tb *t = tb_new(true, true);

    (void)state;
    for (unsigned i = 0; i < VIRTIO_CONSOLE_IN_RING; i++)
        assert_true(virtio_console_input(&t->d, 'a'));
    assert_false(virtio_console_input(&t->d, 'b'));
    assert_int_equal(t->d.stats.in_dropped, 1);
    assert_true(post_rx(t, RX_GPA, 4096) >= 0);
    assert_int_equal(service(t, VIRTIO_CONSOLE_RXQ, 16), 1);
    assert_int_equal(t->d.stats.rx_bytes, VIRTIO_CONSOLE_IN_RING);
    assert_true(virtio_console_input(&t->d, 'c'));
    tb_free(t);
}

static void test_hostile_tx_writable(void **state)
{
    struct tb *t = tb_new(true, true);
    struct virtq_sg sg[2] = {{TX_GPA, 4}, {TX_GPA + 8, 4}};

    (void)state;
    assert_true(virtq_driver_add(&t->drv[1], sg, 1, 1) >= 0);
    assert_true(post_tx(t, TX_GPA + 0x100, "after", 5, 5) >= 0);
    service(t, VIRTIO_CONSOLE_TXQ, 16);
    assert_int_equal(t->broken, 1);
    assert_true(t->d.needs_reset);
    assert_non_null(strstr(t->d.error, "writable"));
    assert_int_equal(t->nout, 0);
    assert_false(virtio_console_rx_ready(&t->d));
    /* Broken: nothing more is taken, and it is reported once. */
    assert_int_equal(service(t, VIRTIO_CONSOLE_TXQ, 16), 0);
    input(t, "x");
    assert_true(post_rx(t, RX_GPA, 16) >= 0);
    assert_int_equal(service(t, VIRTIO_CONSOLE_RXQ, 16), 0);
    assert_int_equal(t->broken, 1);
    /* A reset cures it. */
    virtio_console_pci_ops.reset(&t->d);
    assert_false(t->d.needs_reset);
    start(t);
    assert_true(post_tx(t, TX_GPA, "ok", 2, 2) >= 0);
    assert_int_equal(service(t, VIRTIO_CONSOLE_TXQ, 16), 1);
    assert_memory_equal(t->out, "ok", 2);
    tb_free(t);
}

static void test_hostile_rx_readable(void **state)
{
    struct tb *t = tb_new(true, true);
    struct virtq_sg sg = {RX_GPA, 16};

    (void)state;
    assert_true(virtq_driver_add(&t->drv[0], &sg, 1, 0) >= 0);
    input(t, "abc");
    service(t, VIRTIO_CONSOLE_RXQ, 16);
    assert_int_equal(t->broken, 1);
    assert_non_null(strstr(t->d.error, "readable"));
    assert_int_equal(t->d.stats.rx_bytes, 0);
    tb_free(t);
}

/* A descriptor pointing outside guest memory is a ring error. */
static void test_hostile_ring(void **state)
{
    struct tb *t = tb_new(true, true);
    struct virtq_sg sg = {GUEST_BYTES - 2, 64};

    (void)state;
    assert_true(virtq_driver_add(&t->drv[1], &sg, 1, 0) >= 0);
    service(t, VIRTIO_CONSOLE_TXQ, 16);
    assert_int_equal(t->broken, 1);
    assert_int_equal(t->nout, 0);
    assert_non_null(strstr(t->d.error, "queue 1"));
    tb_free(t);
}

static void test_reset_stops_service(void **state)
{
    struct tb *t = tb_new(true, true);

    (void)state;
    virtio_console_pci_ops.reset(&t->d);
    assert_int_equal(service(t, VIRTIO_CONSOLE_TXQ, 16), 0);
    assert_int_equal(service(t, VIRTIO_CONSOLE_RXQ, 16), 0);
    assert_false(virtio_console_rx_ready(&t->d));
    /* Enabling a queue twice breaks the device. */
    start(t);
    assert_false(virtio_console_pci_ops.queue_enable(&t->d, 1, t->features));
    assert_int_equal(t->broken, 1);
    tb_free(t);
}

/* Polled mode keeps the driver from notifying. */
static void test_polled_suppresses_kicks(void **state)
{
    struct tb *t = tb_new(false, true);

    (void)state;
    assert_true(post_tx(t, TX_GPA, "k", 1, 1) >= 0);
    assert_false(virtq_driver_kick_needed(&t->drv[1]));
    tb_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_and_features),
        cmocka_unit_test(test_init_needs_callbacks),
        cmocka_unit_test(test_tx_bytes_arrive),
        cmocka_unit_test(test_tx_budget_and_big_write),
        cmocka_unit_test(test_tx_chain_cap),
        cmocka_unit_test(test_nothing_before_driver_ok),
        cmocka_unit_test(test_rx_input),
        cmocka_unit_test(test_input_ring_full),
        cmocka_unit_test(test_hostile_tx_writable),
        cmocka_unit_test(test_hostile_rx_readable),
        cmocka_unit_test(test_hostile_ring),
        cmocka_unit_test(test_reset_stops_service),
        cmocka_unit_test(test_polled_suppresses_kicks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
