/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the virtio-net device, driven the way a guest drives it: a
 * driver-side ring model (virtq_driver) per queue in a block of "guest
 * memory" posts TX frames, RX buffers and control commands; frames the
 * guest sends are captured from the device's tx callback, frames for the
 * guest are offered with virtio_net_rx() as scatter lists, and the tests
 * read headers, data and used entries back. Covered: configuration space
 * and features (no TSO/GSO), TX with any layout, header checks that drop,
 * hostile TX/RX/control chains (NEEDS_RESET once), RX with and without
 * MRG_RXBUF (a frame over several chains), checksum offload both ways
 * (passthrough and computed during the copy), RX exhaustion (drop, count,
 * keep the chains), the receive filter and promiscuous mode, every control
 * command incl. bad ones, multiqueue spreading, budgets, DRIVER_OK gating,
 * reset, polled mode and the link.
 */
/* test-sources: virtio/virtio_net.c virtio/virtio_net_tx.c vmm/sidecore/net_coalesce.c virtio/virtio_net_rx.c virtio/virtio_net_ctrl.c virtio/virtqueue.c virtio/virtq_driver.c vmm/net/net_frame.c kernel/lib/fmt.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "virtio/virtio_net.h"
#include "virtio/virtq_driver.h"

#define GUEST_BYTES (4u << 20)
#define RING_GPA(q) (0x1000ull * (q))
#define TX_GPA      0x100000ull
#define RX_GPA      0x200000ull
#define CTRL_GPA    0x300000ull
#define QSIZE       64
#define MAX_CAP     16

static const uint8_t MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t OTHER[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct captured {
    uint32_t len;
    uint8_t csum;
    uint16_t csum_start, csum_offset;
    uint8_t dst[6], src[6];
    uint8_t data[2048];
};

struct tb {
    uint8_t *guest;
    struct vmem mem;
    struct virtio_net d;
    struct virtq_driver drv[VIRTIO_PCI_MAX_QUEUES];
    uint64_t features;
    unsigned signals[VIRTIO_PCI_MAX_QUEUES];
    unsigned broken, config_changes;
    unsigned ncap;
    struct captured cap[MAX_CAP];
    uint64_t rx_next; /* next free RX buffer address */
};

static void on_signal(void *ctx, unsigned q)
{
    struct tb *t = ctx;

    assert_true(q < t->d.num_queues);
    t->signals[q]++;
}

static void on_broken(void *ctx)
{
    ((struct tb *)ctx)->broken++;
}

static void on_config(void *ctx)
{
    ((struct tb *)ctx)->config_changes++;
}

static void on_tx(void *ctx, const struct net_frame *f)
{
    struct tb *t = ctx;
    struct captured *c;

    assert_true(t->ncap < MAX_CAP);
    assert_true(f->len <= sizeof(c->data));
    c = &t->cap[t->ncap++];
    c->len = f->len;
    c->csum = f->csum;
    c->csum_start = f->csum_start;
    c->csum_offset = f->csum_offset;
    memcpy(c->dst, f->dst, 6);
    memcpy(c->src, f->src, 6);
    net_frame_read(f, 0, c->data, f->len);
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
    assert_true(virtio_net_pci_ops.queue_enable(&t->d, q, t->features));
}

static unsigned ctrl_q(const struct tb *t)
{
    return virtio_net_ctrlq(t->d.p.pairs, t->features);
}

/* Enables the queues the driver has: every pair's with MQ, else pair 0's;
 * then the control queue. */
static void start(struct tb *t)
{
    unsigned cq = ctrl_q(t);

    for (unsigned q = 0; q < cq; q++)
        enable_queue(t, q);
    enable_queue(t, cq);
    virtio_net_pci_ops.driver_ok(&t->d);
}

/* A device with pairs pairs; the driver takes every feature but those in
 * drop; started unless told not to. */
static struct tb *tb_new(unsigned pairs, uint16_t mtu, uint64_t drop, bool go)
{
    struct tb *t = calloc(1, sizeof(*t));
    char why[128];

    assert_non_null(t);
    t->guest = aligned_alloc(4096, GUEST_BYTES);
    assert_non_null(t->guest);
    memset(t->guest, 0, GUEST_BYTES);
    t->mem = (struct vmem){t->guest, GUEST_BYTES};
    t->rx_next = RX_GPA;
    struct virtio_net_params p = {.pairs = pairs,
                                  .mtu = mtu,
                                  .name = "test net",
                                  .mem = &t->mem,
                                  .polled = true,
                                  .signal = on_signal,
                                  .broken = on_broken,
                                  .config_changed = on_config,
                                  .ctx = t,
                                  .tx = on_tx,
                                  .tx_ctx = t};
    memcpy(p.mac, MAC, 6);
    assert_true(virtio_net_init(&t->d, &p, why, sizeof(why)));
    t->features = (t->d.features | (1ull << VIRTIO_F_VERSION_1)) & ~drop;
    if (go)
        start(t);
    return t;
}

static void tb_free(struct tb *t)
{
    free(t->guest);
    free(t);
}

/* --- guest-side helpers -------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* A frame of len bytes: dst, src, ethertype 0x0800, then a pattern. */
static void make_frame(uint8_t *f, uint32_t len, const uint8_t *dst, uint8_t seed)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, OTHER, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    for (uint32_t i = 14; i < len; i++)
        f[i] = (uint8_t)(i * 7 + seed);
}

/* Posts header + frame on pair's TX queue, cut into pieces of cut bytes
 * (the header too). Returns the head. */
static int post_tx(struct tb *t, unsigned pair, const uint8_t *hdr, const uint8_t *frame,
                   uint32_t len, uint32_t cut)
{
    static uint64_t at = TX_GPA;
    uint8_t *g = t->guest + at;
    struct virtq_sg sg[64];
    unsigned n = 0;
    uint32_t total = VIRTIO_NET_HDR_BYTES + len;

    memcpy(g, hdr, VIRTIO_NET_HDR_BYTES);
    memcpy(g + VIRTIO_NET_HDR_BYTES, frame, len);
    for (uint32_t off = 0; off < total; off += cut) {
        assert_true(n < 64);
        sg[n++] = (struct virtq_sg){at + off, total - off < cut ? total - off : cut};
    }
    at += (total + 4095) & ~4095u;
    if (at > RX_GPA - 0x20000)
        at = TX_GPA;
    return virtq_driver_add(&t->drv[virtio_net_txq(pair)], sg, n, 0);
}

static int post_rx(struct tb *t, unsigned pair, uint32_t len)
{
    struct virtq_sg sg = {t->rx_next, len};

    t->rx_next += (len + 63) & ~63u;
    return virtq_driver_add(&t->drv[virtio_net_rxq(pair)], &sg, 0, 1);
}

/* The guest takes one used RX entry: its buffer's address and length. */
static uint8_t *take_rx(struct tb *t, unsigned pair, uint32_t *len)
{
    struct virtq_driver *dv = &t->drv[virtio_net_rxq(pair)];
    uint16_t id;

    virtio_net_flush(&t->d); /* what the switch does after each visit */
    assert_int_equal(virtq_driver_take_used(dv, &id, len), 1);
    return t->guest + __atomic_load_n((uint64_t *)(dv->desc + 16 * id), __ATOMIC_RELAXED);
}

static struct net_frame frame_of(const uint8_t *bytes, uint32_t len, struct net_seg *segs,
                                 uint32_t cut)
{
    struct net_frame f = {.seg = segs, .len = len};

    for (uint32_t off = 0; off < len; off += cut)
        segs[f.nseg++] = (struct net_seg){bytes + off, len - off < cut ? len - off : cut};
    memcpy(f.dst, bytes, 6);
    memcpy(f.src, bytes + 6, 6);
    return f;
}

/* A control command; returns the ack byte the device wrote. */
static uint8_t ctrl(struct tb *t, uint8_t cls, uint8_t cmd, const void *data, uint32_t len)
{
    unsigned q = ctrl_q(t);
    uint8_t *g = t->guest + CTRL_GPA;
    struct virtq_sg sg[3] = {{CTRL_GPA, 2}, {CTRL_GPA + 16, len}, {CTRL_GPA + 8, 1}};
    uint16_t id;
    uint32_t used;

    g[0] = cls;
    g[1] = cmd;
    g[8] = 0xee;
    memcpy(g + 16, data, len);
    if (len)
        assert_true(virtq_driver_add(&t->drv[q], sg, 2, 1) >= 0);
    else
        assert_true(virtq_driver_add(&t->drv[q], (struct virtq_sg[]){sg[0], sg[2]}, 1, 1) >= 0);
    virtio_net_service(&t->d, 8);
    assert_int_equal(virtq_driver_take_used(&t->drv[q], &id, &used), 1);
    assert_int_equal(used, 1);
    return g[8];
}

/* --- configuration ------------------------------------------------------- */

static void test_config_space(void **state)
{
    struct tb *t = tb_new(4, 1500, 0, false);
    uint64_t f = t->d.features;

    for (unsigned i = 0; i < 6; i++)
        assert_int_equal(virtio_net_pci_ops.config_read(&t->d, i, 1), MAC[i]);
    assert_int_equal(virtio_net_pci_ops.config_read(&t->d, VIRTIO_NET_CFG_STATUS, 2),
                     VIRTIO_NET_S_LINK_UP);
    assert_int_equal(virtio_net_pci_ops.config_read(&t->d, VIRTIO_NET_CFG_MAX_PAIRS, 2), 4);
    assert_int_equal(virtio_net_pci_ops.config_read(&t->d, VIRTIO_NET_CFG_MTU, 2), 1500);
    assert_int_equal(t->d.num_queues, 9);
    for (unsigned b = 0; b <= VIRTIO_NET_F_MQ; b++) {
        bool want = b == VIRTIO_NET_F_CSUM || b == VIRTIO_NET_F_GUEST_CSUM ||
                    b == VIRTIO_NET_F_MTU || b == VIRTIO_NET_F_MAC || b == VIRTIO_NET_F_MRG_RXBUF ||
                    b == VIRTIO_NET_F_STATUS || b == VIRTIO_NET_F_CTRL_VQ ||
                    b == VIRTIO_NET_F_CTRL_RX || b == VIRTIO_NET_F_MQ;

        assert_int_equal((f >> b) & 1, want); /* no TSO/UFO/ECN (7..14) */
    }
    assert_true(f & (1ull << VIRTIO_F_RING_EVENT_IDX));
    /* Writes change nothing. */
    virtio_net_pci_ops.config_write(&t->d, 0, 4, 0);
    assert_int_equal(virtio_net_pci_ops.config_read(&t->d, 0, 1), MAC[0]);
    assert_int_equal(virtio_net_pci_ops.config_read(&t->d, 100, 4), 0);
    tb_free(t);

    t = tb_new(1, 0, 0, false);
    assert_false(t->d.features & (1ull << VIRTIO_NET_F_MQ));
    assert_false(t->d.features & (1ull << VIRTIO_NET_F_MTU));
    assert_int_equal(t->d.max_frame, NET_FRAME_MAX);
    tb_free(t);
}

static void test_init_refuses(void **state)
{
    struct virtio_net *d = calloc(1, sizeof(*d));
    struct vmem mem = {NULL, 0};
    char why[128];
    struct virtio_net_params p = {
        .pairs = 1, .mem = &mem, .signal = on_signal, .broken = on_broken, .tx = on_tx};

    p.mac[0] = 2;
    assert_true(virtio_net_init(d, &p, why, sizeof(why)));
    p.pairs = VIRTIO_NET_MAX_PAIRS + 1;
    assert_false(virtio_net_init(d, &p, why, sizeof(why)));
    p.pairs = 0;
    assert_false(virtio_net_init(d, &p, why, sizeof(why)));
    p.pairs = 1;
    p.mtu = 20;
    assert_false(virtio_net_init(d, &p, why, sizeof(why)));
    p.mtu = 0;
    p.mac[0] = 1; /* multicast */
    assert_false(virtio_net_init(d, &p, why, sizeof(why)));
    p.mac[0] = 2;
    p.tx = NULL;
    assert_false(virtio_net_init(d, &p, why, sizeof(why)));
    assert_non_null(strstr(why, "callbacks"));
    free(d);
}

static void test_link(void **state)
{
    struct tb *t = tb_new(1, 0, 0, true);

    virtio_net_set_link(&t->d, true);
    assert_int_equal(t->config_changes, 0);
    virtio_net_set_link(&t->d, false);
    assert_int_equal(t->config_changes, 1);
    assert_int_equal(virtio_net_pci_ops.config_read(&t->d, VIRTIO_NET_CFG_STATUS, 2), 0);
    virtio_net_set_link(&t->d, true);
    assert_int_equal(virtio_net_pci_ops.config_read(&t->d, VIRTIO_NET_CFG_STATUS, 2), 1);
    tb_free(t);
}

/* --- transmit ------------------------------------------------------------ */

static void test_tx_any_layout(void **state)
{
    static const uint32_t cuts[] = {11, 12, 64, 4096}; /* the header cut too */
    struct tb *t = tb_new(1, 0, 0, true);
    uint8_t hdr[12] = {0}, frame[500];
    uint16_t id;
    uint32_t len;

    for (unsigned i = 0; i < 4; i++) {
        make_frame(frame, sizeof(frame), OTHER, (uint8_t)i);
        assert_true(post_tx(t, 0, hdr, frame, sizeof(frame), cuts[i]) >= 0);
        assert_int_equal(virtio_net_service(&t->d, 64), 1);
        assert_int_equal(t->ncap, i + 1);
        assert_int_equal(t->cap[i].len, sizeof(frame));
        assert_memory_equal(t->cap[i].data, frame, sizeof(frame));
        assert_memory_equal(t->cap[i].dst, OTHER, 6);
        assert_int_equal(t->cap[i].csum, NET_CSUM_NONE);
        assert_int_equal(virtq_driver_take_used(&t->drv[1], &id, &len), 1);
        assert_int_equal(len, 0);
        assert_false(virtq_driver_set_interrupt(&t->drv[1], true)); /* as after an interrupt */
    }
    assert_int_equal(t->d.pair[0].stats.tx_packets, 4);
    assert_int_equal(t->d.pair[0].stats.tx_bytes, 2000);
    assert_int_equal(t->signals[1], 4); /* one publish per service call */
    assert_int_equal(t->d.pair[0].stats.tx_interrupts, 4);
    assert_int_equal(t->broken, 0);
    /* Several chains in one call: one publish. */
    for (unsigned i = 0; i < 3; i++)
        assert_true(post_tx(t, 0, hdr, frame, 100, 4096) >= 0);
    assert_int_equal(virtio_net_service(&t->d, 64), 3);
    assert_int_equal(t->signals[1], 5);
    tb_free(t);
}

static void test_tx_checksum_and_header_checks(void **state)
{
    struct tb *t = tb_new(1, 1500, 0, true);
    uint8_t hdr[12] = {0}, frame[2000];
    uint16_t id;
    uint32_t len;

    make_frame(frame, sizeof(frame), OTHER, 1);
    hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    put16(hdr + 6, 34);
    put16(hdr + 8, 6);
    post_tx(t, 0, hdr, frame, 100, 4096); /* good partial checksum */
    put16(hdr + 6, 93);
    post_tx(t, 0, hdr, frame, 100, 4096); /* 93 + 6 + 2 > 100: outside */
    memset(hdr, 0, 12);
    hdr[1] = 1; /* GSO TCPv4: not offered */
    post_tx(t, 0, hdr, frame, 100, 4096);
    hdr[1] = 0;
    hdr[0] = 0x80; /* unknown flag */
    post_tx(t, 0, hdr, frame, 100, 4096);
    hdr[0] = 0;
    post_tx(t, 0, hdr, frame, 13, 4096);            /* shorter than Ethernet */
    post_tx(t, 0, hdr, frame, 1500 + 14 + 5, 4096); /* over mtu + 18 */
    post_tx(t, 0, hdr, frame, 1500 + 18, 4096);     /* exactly the limit */
    assert_int_equal(virtio_net_service(&t->d, 64), 7);
    assert_int_equal(t->ncap, 2);
    assert_int_equal(t->cap[0].csum, NET_CSUM_PARTIAL);
    assert_int_equal(t->cap[0].csum_start, 34);
    assert_int_equal(t->cap[0].csum_offset, 6);
    assert_int_equal(t->cap[1].len, 1518);
    assert_int_equal(t->d.pair[0].stats.tx_drops, 5);
    assert_int_equal(t->d.pair[0].stats.tx_packets, 2);
    for (unsigned i = 0; i < 7; i++)
        assert_int_equal(virtq_driver_take_used(&t->drv[1], &id, &len), 1);
    assert_int_equal(t->broken, 0);
    tb_free(t);

    /* NEEDS_CSUM when the driver did not take CSUM: dropped. */
    t = tb_new(1, 0, 1ull << VIRTIO_NET_F_CSUM, true);
    memset(hdr, 0, 12);
    hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    put16(hdr + 6, 34);
    post_tx(t, 0, hdr, frame, 100, 4096);
    assert_int_equal(virtio_net_service(&t->d, 64), 1);
    assert_int_equal(t->ncap, 0);
    assert_int_equal(t->d.pair[0].stats.tx_drops, 1);
    tb_free(t);
}

static void test_tx_budget(void **state)
{
    struct tb *t = tb_new(1, 0, 0, true);
    uint8_t hdr[12] = {0}, frame[64];

    make_frame(frame, sizeof(frame), OTHER, 0);
    for (unsigned i = 0; i < 10; i++)
        post_tx(t, 0, hdr, frame, sizeof(frame), 4096);
    assert_int_equal(virtio_net_service(&t->d, 4), 4);
    assert_int_equal(virtio_net_service(&t->d, 4), 4);
    assert_int_equal(virtio_net_service(&t->d, 4), 2);
    assert_int_equal(virtio_net_service(&t->d, 4), 0);
    assert_int_equal(t->d.pair[0].stats.tx_packets, 10);
    tb_free(t);
}

/* A TX chain with a device-writable buffer; one shorter than the header;
 * one that loops: each breaks the device once, and nothing more is taken. */
static void test_tx_hostile_chains(void **state)
{
    for (unsigned kind = 0; kind < 3; kind++) {
        struct tb *t = tb_new(1, 0, 0, true);
        struct virtq_driver *dv = &t->drv[1];
        uint8_t hdr[12] = {0}, frame[64];

        make_frame(frame, sizeof(frame), OTHER, 0);
        if (kind == 0) {
            struct virtq_sg sg[2] = {{TX_GPA, 76}, {TX_GPA + 100, 10}};

            assert_true(virtq_driver_add(dv, sg, 1, 1) >= 0);
        } else if (kind == 1) {
            struct virtq_sg sg = {TX_GPA, 11};

            assert_true(virtq_driver_add(dv, &sg, 1, 0) >= 0);
        } else {
            struct virtq_desc *desc = (struct virtq_desc *)dv->desc;

            desc[5] = (struct virtq_desc){TX_GPA, 76, VIRTQ_DESC_F_NEXT, 6};
            desc[6] = (struct virtq_desc){TX_GPA, 76, VIRTQ_DESC_F_NEXT, 5};
            virtq_driver_post(dv, 5);
        }
        post_tx(t, 0, hdr, frame, sizeof(frame), 4096);
        virtio_net_service(&t->d, 64);
        assert_int_equal(t->broken, 1);
        assert_true(t->d.needs_reset);
        assert_non_null(strstr(t->d.error, "test net: queue 1"));
        assert_int_equal(t->ncap, 0);
        assert_int_equal(virtio_net_service(&t->d, 64), 0);
        assert_int_equal(t->broken, 1);
        /* A broken device takes no frames either. */
        struct net_seg segs[4];
        struct net_frame f = frame_of(frame, sizeof(frame), segs, 64);
        memcpy(frame, MAC, 6);
        f = frame_of(frame, sizeof(frame), segs, 64);
        post_rx(t, 0, 2048);
        assert_int_equal(virtio_net_rx(&t->d, &f), NET_DROPPED);
        /* Reset heals it. */
        virtio_net_pci_ops.reset(&t->d);
        assert_false(t->d.needs_reset);
        assert_string_equal(t->d.error, "");
        tb_free(t);
    }
}

/* --- receive ------------------------------------------------------------- */

static void test_rx_single_buffer(void **state)
{
    struct tb *t = tb_new(1, 0, 1ull << VIRTIO_NET_F_MRG_RXBUF, true);
    uint8_t frame[1514];
    struct net_seg segs[64];
    struct net_frame f;
    uint32_t len;
    uint8_t *b;

    make_frame(frame, sizeof(frame), MAC, 3);
    f = frame_of(frame, sizeof(frame), segs, 333);
    post_rx(t, 0, 100); /* too small without MRG_RXBUF */
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DROPPED);
    assert_int_equal(t->d.pair[0].stats.rx_drops, 1);
    /* The small chain stays the first: a small frame still fits it. */
    f = frame_of(frame, 60, segs, 333);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DELIVERED);
    b = take_rx(t, 0, &len);
    assert_int_equal(len, 72);
    assert_int_equal(get16(b + 10), 1);
    post_rx(t, 0, 1526 + 100);
    f = frame_of(frame, sizeof(frame), segs, 333);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DELIVERED);
    virtio_net_flush(&t->d);
    assert_int_equal(t->signals[0], 1);
    b = take_rx(t, 0, &len);
    assert_int_equal(len, 12 + sizeof(frame));
    assert_int_equal(b[0], 0);
    assert_int_equal(b[1], VIRTIO_NET_HDR_GSO_NONE);
    assert_int_equal(get16(b + 10), 1);
    assert_memory_equal(b + 12, frame, sizeof(frame));
    assert_int_equal(t->d.pair[0].stats.rx_packets, 2);
    assert_int_equal(t->d.pair[0].stats.rx_bytes, 60 + sizeof(frame));
    tb_free(t);
}

static void test_rx_mergeable_spans_buffers(void **state)
{
    struct tb *t = tb_new(1, 0, 0, true);
    uint8_t frame[250], out[250];
    struct net_seg segs[64];
    struct net_frame f;
    uint32_t len[3], got = 0;
    uint8_t *b[3];

    make_frame(frame, sizeof(frame), MAC, 9);
    f = frame_of(frame, sizeof(frame), segs, 7);
    for (unsigned i = 0; i < 4; i++)
        post_rx(t, 0, 100);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DELIVERED);
    virtio_net_flush(&t->d);
    for (unsigned i = 0; i < 3; i++)
        b[i] = take_rx(t, 0, &len[i]);
    assert_int_equal(len[0], 100);
    assert_int_equal(len[1], 100);
    assert_int_equal(len[2], 62);
    assert_int_equal(get16(b[0] + 10), 3);
    memcpy(out, b[0] + 12, 88);
    got = 88;
    memcpy(out + got, b[1], 100);
    got += 100;
    memcpy(out + got, b[2], 62);
    assert_memory_equal(out, frame, sizeof(frame));
    /* The fourth buffer is still there for the next frame. */
    f = frame_of(frame, 60, segs, 60);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DELIVERED);
    b[0] = take_rx(t, 0, &len[0]);
    assert_int_equal(len[0], 72);
    assert_int_equal(get16(b[0] + 10), 1);
    tb_free(t);
}

static void test_rx_exhaustion_drops_and_keeps_chains(void **state)
{
    struct tb *t = tb_new(1, 0, 0, true);
    uint8_t frame[1000];
    struct net_seg segs[8];
    struct net_frame f;
    uint32_t len;
    uint8_t *b;

    make_frame(frame, sizeof(frame), MAC, 5);
    f = frame_of(frame, sizeof(frame), segs, 1000);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DROPPED); /* no buffers at all */
    post_rx(t, 0, 512);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DROPPED); /* 512 < 1012 */
    assert_int_equal(t->d.pair[0].stats.rx_drops, 2);
    assert_int_equal(t->d.pair[0].stats.rx_packets, 0);
    assert_int_equal(t->d.pair[0].stash_count, 1); /* kept, not returned empty */
    assert_int_equal(virtq_driver_in_flight(&t->drv[0]), 1);
    post_rx(t, 0, 512);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DELIVERED);
    b = take_rx(t, 0, &len);
    assert_int_equal(len, 512);
    assert_int_equal(get16(b + 10), 2);
    assert_memory_equal(b + 12, frame, 500);
    b = take_rx(t, 0, &len);
    assert_int_equal(len, 500);
    assert_memory_equal(b, frame + 500, 500);
    /* The device never waits: with the ring empty again it drops at once. */
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DROPPED);
    assert_int_equal(t->d.pair[0].stats.rx_drops, 3);
    tb_free(t);
}

/* Guest posting device-readable RX buffers breaks the device. */
static void test_rx_hostile_chain(void **state)
{
    struct tb *t = tb_new(1, 0, 0, true);
    struct virtq_sg sg = {RX_GPA, 2048};
    uint8_t frame[100];
    struct net_seg segs[2];
    struct net_frame f;

    make_frame(frame, sizeof(frame), MAC, 5);
    f = frame_of(frame, sizeof(frame), segs, 100);
    assert_true(virtq_driver_add(&t->drv[0], &sg, 1, 0) >= 0);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DROPPED);
    assert_int_equal(t->broken, 1);
    assert_non_null(strstr(t->d.error, "device-readable buffer in an RX chain"));
    tb_free(t);
}

static uint16_t ones_sum(const uint8_t *p, uint32_t len)
{
    uint32_t s = 0;

    for (uint32_t i = 0; i < len; i++)
        s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static void test_rx_checksum(void **state)
{
    uint8_t frame[301];
    struct net_seg segs[64];
    struct net_frame f;
    uint32_t len;
    uint8_t *b;

    make_frame(frame, sizeof(frame), MAC, 11);
    frame[40] = 0x12; /* the sender's pseudo-header sum in the field */
    frame[41] = 0x34;

    /* A receiver with GUEST_CSUM gets NEEDS_CSUM and the range. */
    struct tb *t = tb_new(1, 0, 0, true);
    f = frame_of(frame, sizeof(frame), segs, 33); /* odd pieces */
    f.csum = NET_CSUM_PARTIAL;
    f.csum_start = 34;
    f.csum_offset = 6;
    post_rx(t, 0, 2048);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DELIVERED);
    b = take_rx(t, 0, &len);
    assert_int_equal(b[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(get16(b + 6), 34);
    assert_int_equal(get16(b + 8), 6);
    assert_memory_equal(b + 12, frame, sizeof(frame)); /* untouched */
    /* A verified frame: DATA_VALID. */
    f.csum = NET_CSUM_VALID;
    post_rx(t, 0, 2048);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DELIVERED);
    b = take_rx(t, 0, &len);
    assert_int_equal(b[0], VIRTIO_NET_HDR_F_DATA_VALID);
    tb_free(t);

    /* Without GUEST_CSUM the checksum is completed in the copy, and a
     * verified frame gets no flag. */
    t = tb_new(1, 0, 1ull << VIRTIO_NET_F_GUEST_CSUM, true);
    f.csum = NET_CSUM_PARTIAL;
    for (unsigned i = 0; i < 3; i++)
        post_rx(t, 0, 64); /* and across buffers, at odd offsets */
    post_rx(t, 0, 64);
    post_rx(t, 0, 64);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DELIVERED);
    uint8_t out[301];
    uint32_t got = 0;
    b = take_rx(t, 0, &len);
    assert_int_equal(b[0], 0);
    assert_int_equal(get16(b + 10), 5);
    memcpy(out, b + 12, len - 12);
    got = len - 12;
    for (unsigned i = 1; i < 5; i++) {
        b = take_rx(t, 0, &len);
        memcpy(out + got, b, len);
        got += len;
    }
    assert_int_equal(got, sizeof(frame));
    /* The receiver's check: range plus pseudo-header sum is all ones. */
    uint32_t check = ones_sum(out + 34, sizeof(frame) - 34) + 0x1234u;
    assert_int_equal((check & 0xffff) + (check >> 16), 0xffff);
    assert_memory_equal(out, frame, 40);
    assert_memory_equal(out + 42, frame + 42, sizeof(frame) - 42);
    /* The stored sum is the one over the sender's bytes (field included). */
    uint16_t want = (uint16_t)~ones_sum(frame + 34, sizeof(frame) - 34);
    assert_int_equal(out[40] << 8 | out[41], want);
    f.csum = NET_CSUM_VALID;
    post_rx(t, 0, 2048);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DELIVERED);
    b = take_rx(t, 0, &len);
    assert_int_equal(b[0], 0);
    /* A partial range outside the frame is refused. */
    f.csum = NET_CSUM_PARTIAL;
    f.csum_start = 300;
    post_rx(t, 0, 2048);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DROPPED);
    tb_free(t);
}

static void test_rx_filter_and_promisc(void **state)
{
    struct tb *t = tb_new(1, 0, 0, true);
    uint8_t frame[100];
    struct net_seg segs[2];
    struct net_frame f;
    uint8_t on = 1;

    post_rx(t, 0, 2048);
    make_frame(frame, sizeof(frame), OTHER, 0);
    f = frame_of(frame, sizeof(frame), segs, 100);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_FILTERED);
    assert_int_equal(t->d.pair[0].stats.rx_filtered, 1);
    assert_int_equal(t->d.pair[0].stats.rx_drops, 0);
    make_frame(frame, sizeof(frame), BCAST, 0);
    f = frame_of(frame, sizeof(frame), segs, 100);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DELIVERED);
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &on, 1),
                     VIRTIO_NET_OK);
    assert_true(t->d.promisc);
    post_rx(t, 0, 2048);
    make_frame(frame, sizeof(frame), OTHER, 0);
    f = frame_of(frame, sizeof(frame), segs, 100);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DELIVERED);
    tb_free(t);
}

/* --- control queue ------------------------------------------------------- */

static void test_ctrl_commands(void **state)
{
    struct tb *t = tb_new(4, 0, 0, true);
    uint8_t b[64] = {0};

    b[0] = 1;
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, b, 1), VIRTIO_NET_OK);
    assert_true(t->d.allmulti);
    b[0] = 0;
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, b, 1), VIRTIO_NET_OK);
    assert_false(t->d.allmulti);
    b[0] = 2;
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, b, 1), VIRTIO_NET_ERR);
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, b, 2), VIRTIO_NET_ERR);
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_RX, 2 /* ALLUNI */, b, 1), VIRTIO_NET_ERR);
    /* MAC table: 1 unicast, 2 multicast. */
    memset(b, 0, sizeof(b));
    b[0] = 1;
    b[10] = 2;
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, b, 4 + 6 + 4 + 12),
                     VIRTIO_NET_OK);
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, b, 4 + 6 + 4 + 11),
                     VIRTIO_NET_ERR);
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, b, 4 + 6 + 4 + 13),
                     VIRTIO_NET_ERR);
    memset(b, 0xff, 8); /* 4 billion entries */
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, b, 8),
                     VIRTIO_NET_ERR);
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, MAC, 6),
                     VIRTIO_NET_ERR);
    /* Queue pairs. */
    put16(b, 3);
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, b, 2),
                     VIRTIO_NET_OK);
    assert_int_equal(t->d.active_pairs, 3);
    put16(b, 0);
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, b, 2),
                     VIRTIO_NET_ERR);
    put16(b, 5);
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, b, 2),
                     VIRTIO_NET_ERR);
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MQ, 1 /* RSS */, b, 2), VIRTIO_NET_ERR);
    assert_int_equal(t->d.active_pairs, 3);
    assert_int_equal(ctrl(t, 99, 0, b, 0), VIRTIO_NET_ERR);
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_RX, 0, b, 0), VIRTIO_NET_ERR);
    assert_int_equal(t->broken, 0);
    assert_int_equal(t->d.ctrl_commands, 16);
    tb_free(t);

    /* Commands whose feature the driver did not take are refused. */
    t = tb_new(2, 0, (1ull << VIRTIO_NET_F_MQ) | (1ull << VIRTIO_NET_F_CTRL_RX), true);
    assert_int_equal(ctrl_q(t), 2); /* without MQ the control queue is queue 2 */
    assert_int_equal(t->d.ctrl.index, 2);
    assert_false(virtio_net_pci_ops.queue_enable(&t->d, 3, t->features)); /* tx1: not its */
    b[0] = 1;
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, b, 1), VIRTIO_NET_ERR);
    put16(b, 2);
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, b, 2),
                     VIRTIO_NET_ERR);
    assert_false(t->d.promisc);
    assert_int_equal(t->d.active_pairs, 1);
    tb_free(t);
}

static void test_ctrl_malformed(void **state)
{
    for (unsigned kind = 0; kind < 2; kind++) {
        struct tb *t = tb_new(1, 0, 0, true);
        struct virtq_sg sg[2] = {{CTRL_GPA, kind ? 1 : 2}, {CTRL_GPA + 8, 1}};

        /* kind 0: no ack byte; kind 1: a one-byte command */
        assert_true(virtq_driver_add(&t->drv[2], sg, kind ? 1 : 2, kind ? 1 : 0) >= 0);
        virtio_net_service(&t->d, 8);
        assert_int_equal(t->broken, 1);
        assert_non_null(strstr(t->d.error, "control queue"));
        tb_free(t);
    }
}

/* --- queues, gating, reset ----------------------------------------------- */

static void test_multiqueue(void **state)
{
    struct tb *t = tb_new(4, 0, 0, true);
    uint8_t hdr[12] = {0}, frame[100], two[2];
    struct net_seg segs[2];
    struct net_frame f;
    unsigned per_pair[4] = {0};

    /* Before VQ_PAIRS_SET everything arrives on pair 0 ... */
    for (unsigned p = 0; p < 4; p++)
        for (unsigned i = 0; i < 40; i++)
            post_rx(t, p, 256);
    for (unsigned i = 0; i < 20; i++) {
        make_frame(frame, sizeof(frame), MAC, 0);
        frame[26] = (uint8_t)i; /* a different IPv4 source per flow */
        f = frame_of(frame, sizeof(frame), segs, 100);
        assert_int_equal(virtio_net_rx(&t->d, &f), NET_DELIVERED);
    }
    assert_int_equal(t->d.pair[0].stats.rx_packets, 20);
    /* ... after it, flows spread over the active pairs only. */
    put16(two, 2);
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, two, 2),
                     VIRTIO_NET_OK);
    for (unsigned i = 0; i < 20; i++) {
        make_frame(frame, sizeof(frame), MAC, 0);
        frame[26] = (uint8_t)i;
        f = frame_of(frame, sizeof(frame), segs, 100);
        assert_int_equal(virtio_net_rx(&t->d, &f), NET_DELIVERED);
    }
    for (unsigned p = 0; p < 4; p++)
        per_pair[p] = (unsigned)t->d.pair[p].stats.rx_packets;
    assert_int_equal(per_pair[0] + per_pair[1], 40);
    assert_true(per_pair[1] > 0 && per_pair[0] > 20);
    assert_int_equal(per_pair[2] + per_pair[3], 0);
    /* TX on pair 1 is served, on pair 3 (inactive) not. */
    make_frame(frame, sizeof(frame), OTHER, 0);
    post_tx(t, 1, hdr, frame, sizeof(frame), 4096);
    post_tx(t, 3, hdr, frame, sizeof(frame), 4096);
    assert_int_equal(virtio_net_service(&t->d, 64), 1);
    assert_int_equal(t->d.pair[1].stats.tx_packets, 1);
    assert_int_equal(t->d.pair[3].stats.tx_packets, 0);
    tb_free(t);
}

static void test_nothing_before_driver_ok(void **state)
{
    struct tb *t = tb_new(1, 0, 0, false);
    uint8_t hdr[12] = {0}, frame[100];
    struct net_seg segs[2];
    struct net_frame f;

    for (unsigned q = 0; q < 3; q++)
        enable_queue(t, q);
    make_frame(frame, sizeof(frame), MAC, 0);
    post_tx(t, 0, hdr, frame, sizeof(frame), 4096);
    post_rx(t, 0, 2048);
    f = frame_of(frame, sizeof(frame), segs, 100);
    assert_int_equal(virtio_net_service(&t->d, 64), 0);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DROPPED);
    virtio_net_pci_ops.driver_ok(&t->d);
    assert_int_equal(virtio_net_service(&t->d, 64), 1); /* made available before: taken now */
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DELIVERED);
    /* A queue enabled twice breaks the device. */
    assert_false(virtio_net_pci_ops.queue_enable(&t->d, 0, t->features));
    assert_int_equal(t->broken, 1);
    assert_false(virtio_net_pci_ops.queue_enable(&t->d, 3, t->features)); /* no such queue */
    tb_free(t);
}

static void test_reset(void **state)
{
    struct tb *t = tb_new(2, 0, 0, true);
    uint8_t frame[1000], two[2];
    struct net_seg segs[2];
    struct net_frame f;

    put16(two, 2);
    assert_int_equal(ctrl(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, two, 2),
                     VIRTIO_NET_OK);
    post_rx(t, 0, 100);
    post_rx(t, 1, 100);
    make_frame(frame, sizeof(frame), MAC, 0);
    f = frame_of(frame, sizeof(frame), segs, 1000);
    virtio_net_rx(&t->d, &f); /* too big: chains kept */
    virtio_net_pci_ops.reset(&t->d);
    assert_int_equal(t->d.active_pairs, 1);
    assert_int_equal(t->d.pair[0].stash_count + t->d.pair[1].stash_count, 0);
    assert_int_equal(t->d.pair[0].rx.running + t->d.pair[0].tx.running + t->d.ctrl.running, 0);
    assert_int_equal(virtio_net_service(&t->d, 64), 0);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DROPPED);
    /* A new driver starts over. */
    memset(t->guest, 0, RX_GPA);
    t->rx_next = RX_GPA;
    start(t);
    post_rx(t, 0, 2048);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DELIVERED);
    tb_free(t);
}

static void test_polled_mode(void **state)
{
    struct tb *t = tb_new(1, 0, 1ull << VIRTIO_F_RING_EVENT_IDX, true);

    /* Polled: the driver is told not to notify. */
    for (unsigned q = 0; q < 3; q++)
        assert_int_equal(get16(t->drv[q].used), VIRTQ_USED_F_NO_NOTIFY);
    tb_free(t);
}

/* The per-queue entry points the shared virtio layer calls. */
static void test_queue_entry_points(void **state)
{
    struct tb *t = tb_new(2, 0, 1ull << VIRTIO_NET_F_MQ, true); /* ctrl is queue 2 */
    uint8_t hdr[12] = {0}, frame[64], on = 1;
    struct virtq_sg sg[3] = {{CTRL_GPA, 2}, {CTRL_GPA + 16, 1}, {CTRL_GPA + 8, 1}};
    uint16_t id;
    uint32_t len;

    assert_null(virtio_net_queue(&t->d, 5));
    make_frame(frame, sizeof(frame), OTHER, 0);
    post_tx(t, 0, hdr, frame, sizeof(frame), 4096);
    assert_int_equal(virtio_net_queue_service(virtio_net_queue(&t->d, 0), 8), 0); /* RX */
    assert_int_equal(virtio_net_queue_service(virtio_net_queue(&t->d, 1), 8), 1); /* TX */
    assert_int_equal(t->ncap, 1);
    assert_false(virtio_net_queue_inflight(virtio_net_queue(&t->d, 1)));
    t->guest[CTRL_GPA] = VIRTIO_NET_CTRL_RX;
    t->guest[CTRL_GPA + 1] = VIRTIO_NET_CTRL_RX_PROMISC;
    t->guest[CTRL_GPA + 16] = on;
    assert_true(virtq_driver_add(&t->drv[2], sg, 2, 1) >= 0);
    assert_int_equal(virtio_net_queue_service(virtio_net_queue(&t->d, 2), 8), 1);
    assert_int_equal(virtq_driver_take_used(&t->drv[2], &id, &len), 1);
    assert_int_equal(t->guest[CTRL_GPA + 8], VIRTIO_NET_OK);
    assert_true(t->d.promisc);
    /* Pair 1 is not the driver's: its TX queue number does nothing. */
    assert_int_equal(virtio_net_queue_service(virtio_net_queue(&t->d, 3), 8), 0);
    tb_free(t);
}

/* A guest posting tiny buffers: a frame needing more chains than the
 * stash holds is dropped, the stash stays full and a smaller frame still
 * uses it; a chain with more buffers than the device uses is used in
 * part. */
static void test_rx_stash_limits(void **state)
{
    struct tb *t = tb_new(1, 0, 0, true);
    uint8_t frame[1600];
    struct net_seg segs[2];
    struct net_frame f;
    uint32_t len;
    uint8_t *b;

    make_frame(frame, sizeof(frame), MAC, 1);
    for (unsigned i = 0; i < QSIZE; i++)
        post_rx(t, 0, 16);
    f = frame_of(frame, 1100, segs, 1100); /* 1112 bytes: 70 chains */
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DROPPED);
    assert_int_equal(t->d.pair[0].stash_count, VIRTIO_NET_RX_STASH);
    f = frame_of(frame, 1000, segs, 1000); /* 1012 bytes: 64 chains */
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DELIVERED);
    b = take_rx(t, 0, &len);
    assert_int_equal(get16(b + 10), 64);
    tb_free(t);

    /* Without MRG_RXBUF: one chain of 30 buffers of 64 bytes; the device
     * uses 24 of them (1536 bytes). */
    t = tb_new(1, 0, 1ull << VIRTIO_NET_F_MRG_RXBUF, true);
    struct virtq_sg sg[30];
    for (unsigned i = 0; i < 30; i++)
        sg[i] = (struct virtq_sg){RX_GPA + 64 * i, 64};
    assert_true(virtq_driver_add(&t->drv[0], sg, 0, 30) >= 0);
    f = frame_of(frame, 1530, segs, 1500);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DROPPED); /* 1542 > 1536 */
    f = frame_of(frame, 1524, segs, 1500);
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DELIVERED);
    b = take_rx(t, 0, &len);
    assert_int_equal(len, 1536);
    assert_memory_equal(b + 12, frame, 1500 - 12);
    tb_free(t);
}

/* --- adaptive interrupt coalescing ---------------------------------------- */

static uint64_t fake_now;

static uint64_t fake_clock(void)
{
    return fake_now;
}

/* A device whose pair 0 coalesces (polled, or trap when polled is false),
 * clock at 0, started. */
static struct tb *tb_coalescing(bool polled, struct net_coalesce_params *cp)
{
    struct tb *t = tb_new(1, 0, 0, false);

    fake_now = 0;
    net_coalesce_params_default(cp, 200000000ull, 200000ull);
    t->d.p.coalesce = cp;
    t->d.p.now_ns = fake_clock;
    t->d.p.polled = polled;
    start(t);
    return t;
}

/* One TX frame every gap ns for n frames, the driver re-arming its
 * interrupt after each (as Linux's NAPI does); returns the interrupts. */
static unsigned tx_stream(struct tb *t, unsigned n, uint64_t gap)
{
    uint8_t hdr[12] = {0}, frame[200];
    unsigned before = t->signals[1];
    uint16_t id;
    uint32_t len;

    make_frame(frame, sizeof(frame), OTHER, 1);
    for (unsigned i = 0; i < n; i++) {
        fake_now += gap;
        assert_true(post_tx(t, 0, hdr, frame, sizeof(frame), 4096) >= 0);
        assert_int_equal(virtio_net_service(&t->d, 64), 1);
        assert_int_equal(virtq_driver_take_used(&t->drv[1], &id, &len), 1);
        virtq_driver_set_interrupt(&t->drv[1], true);
        t->ncap = 0;
    }
    return t->signals[1] - before;
}

/* A sidecore-served TX queue: every interrupt at 5,000 frames a second;
 * at 20,000 the level steps down and interrupts are held, then released
 * by the count, by the poller once idle, and dropped by a reset. */
static void test_coalescing_tx(void **state)
{
    struct net_coalesce_params cp;
    struct tb *t = tb_coalescing(true, &cp);
    const struct net_coalesce *co = &t->d.pair[0].tx.co;

    assert_int_equal(tx_stream(t, 1000, 200000), 1000); /* 5,000 a second */
    assert_int_equal(co->level, 0);
    tx_stream(t, 4000, 50000); /* 20,000 a second for an epoch */
    assert_int_equal(co->level, 1);
    /* One interrupt for two frames. */
    unsigned irqs = tx_stream(t, 100, 50000);
    assert_true(irqs >= 49 && irqs <= 51);
    assert_true(co->held_count >= 49);
    /* A held one, then silence: the poller sends it once idle (4 mean
     * gaps of 50 us = 200 us, the cap). */
    if (!co->held)
        tx_stream(t, 1, 50000);
    assert_true(co->held);
    unsigned before = t->signals[1];
    uint64_t since = co->held_since_ns;
    fake_now = since + 199999;
    virtio_net_service(&t->d, 64);
    assert_int_equal(t->signals[1], before);
    fake_now = since + 200000;
    virtio_net_service(&t->d, 64);
    assert_int_equal(t->signals[1], before + 1);
    assert_false(co->held);
    assert_int_equal(t->d.pair[0].stats.tx_interrupts, t->signals[1]);
    /* Held at a reset: gone with the driver, level back to 0. */
    tx_stream(t, 1, 50000);
    assert_true(co->held);
    virtio_net_pci_ops.reset(&t->d);
    assert_false(co->held);
    assert_int_equal(co->level, 0);
    tb_free(t);
}

/* Trap mode never coalesces, whatever the rate. */
static void test_coalescing_trap_mode(void **state)
{
    struct net_coalesce_params cp;
    struct tb *t = tb_coalescing(false, &cp);

    assert_int_equal(tx_stream(t, 8000, 25000), 8000); /* 40,000 a second */
    assert_int_equal(t->d.pair[0].tx.co.level, 0);
    assert_int_equal(t->d.pair[0].tx.co.held_count, 0);
    tb_free(t);
}

/* An RX queue: the frames delivered count, and a driver out of buffers
 * gets its held interrupt at once. */
static void test_coalescing_rx_starved(void **state)
{
    struct net_coalesce_params cp;
    struct tb *t = tb_coalescing(true, &cp);
    struct net_coalesce *co = &t->d.pair[0].rx.co;
    uint8_t frame[100];
    struct net_seg segs[1];
    struct net_frame f;
    uint32_t len;

    make_frame(frame, sizeof(frame), MAC, 0);
    f = frame_of(frame, sizeof(frame), segs, 100);
    for (unsigned i = 0; i < 3000; i++) { /* 15,000 a second for 200 ms */
        fake_now += 66667;
        post_rx(t, 0, 2048);
        if (t->rx_next > 0x2f0000)
            t->rx_next = RX_GPA;
        assert_int_equal(virtio_net_rx(&t->d, &f), NET_DELIVERED);
        take_rx(t, 0, &len);
        virtq_driver_set_interrupt(&t->drv[0], true);
    }
    assert_int_equal(t->d.pair[0].stats.rx_packets, 3000);
    assert_int_equal(co->level, 1); /* the last frame ended the epoch */
    assert_false(co->held);
    fake_now += 66667;
    post_rx(t, 0, 2048);
    virtio_net_rx(&t->d, &f);
    virtio_net_flush(&t->d);
    assert_true(co->held);
    unsigned before = t->signals[0];
    assert_int_equal(virtio_net_rx(&t->d, &f), NET_DROPPED); /* no buffer left */
    assert_int_equal(t->signals[0], before + 1);
    assert_false(co->held);
    assert_int_equal(co->released_starved, 1);
    assert_int_equal(t->d.pair[0].stats.rx_interrupts, t->signals[0]);
    tb_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_space),
        cmocka_unit_test(test_init_refuses),
        cmocka_unit_test(test_link),
        cmocka_unit_test(test_tx_any_layout),
        cmocka_unit_test(test_tx_checksum_and_header_checks),
        cmocka_unit_test(test_tx_budget),
        cmocka_unit_test(test_tx_hostile_chains),
        cmocka_unit_test(test_rx_single_buffer),
        cmocka_unit_test(test_rx_mergeable_spans_buffers),
        cmocka_unit_test(test_rx_exhaustion_drops_and_keeps_chains),
        cmocka_unit_test(test_rx_hostile_chain),
        cmocka_unit_test(test_rx_stash_limits),
        cmocka_unit_test(test_rx_checksum),
        cmocka_unit_test(test_rx_filter_and_promisc),
        cmocka_unit_test(test_ctrl_commands),
        cmocka_unit_test(test_ctrl_malformed),
        cmocka_unit_test(test_multiqueue),
        cmocka_unit_test(test_nothing_before_driver_ok),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_polled_mode),
        cmocka_unit_test(test_queue_entry_points),
        cmocka_unit_test(test_coalescing_tx),
        cmocka_unit_test(test_coalescing_trap_mode),
        cmocka_unit_test(test_coalescing_rx_starved),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
