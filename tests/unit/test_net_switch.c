/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the L2 switch with fake ports (a queue of frames to send,
 * a record of frames received, a receiver that can be full or filter like
 * a guest), and end to end with two real virtio-net devices driven through
 * the driver-side ring model: learning, flooding of broadcast, multicast
 * and unknown unicast (uplink included), isolation (static guest MACs,
 * spoofed sources), hairpin, aging and replacement, drops when a receiver
 * is full, one flush per visit, and bounded work per port per visit; and
 * the NIC uplink adapter against a fake NIC: frames both ways, checksums
 * completed in the one copy, batching, buffer and ring exhaustion.
 */
/* test-sources: vmm/net/switch.c vmm/net/net_frame.c vmm/net/virtio_port.c vmm/net/nic_port.c virtio/virtio_net.c virtio/virtio_net_tx.c vmm/sidecore/net_coalesce.c virtio/virtio_net_rx.c virtio/virtio_net_ctrl.c virtio/virtqueue.c virtio/virtq_driver.c kernel/lib/fmt.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "virtio/virtq_driver.h"
#include "vmm/net/nic_port.h"
#include "vmm/net/switch.h"
#include "vmm/net/virtio_port.h"

#define NS_PER_S 1000000000ull

/* --- fake ports ---------------------------------------------------------- */

struct fake_port {
    struct net_switch *sw;
    unsigned port;
    /* Frames to send: 64 bytes each, dst/src set. */
    uint8_t out[2048][64];
    unsigned out_head, out_tail;
    /* Frames received. */
    unsigned got;
    uint8_t last_dst[6], last_src[6];
    bool full;          /* deliver: no room */
    const uint8_t *mac; /* deliver filters unicast not to it (NULL: takes all) */
    unsigned flushes;
    unsigned polls;
};

static unsigned fp_poll(void *ctx, unsigned budget)
{
    struct fake_port *p = ctx;
    unsigned n = 0;

    p->polls++;
    while (n < budget && p->out_head != p->out_tail) {
        uint8_t *b = p->out[p->out_head++ % 2048];
        struct net_seg seg = {b, 64};
        struct net_frame f = {.seg = &seg, .nseg = 1, .len = 64};

        net_frame_load_macs(&f);
        net_switch_input(p->sw, p->port, &f);
        n++;
    }
    return n;
}

static enum net_deliver fp_deliver(void *ctx, const struct net_frame *f)
{
    struct fake_port *p = ctx;

    if (p->mac && !net_mac_is_multicast(f->dst) && !net_mac_equal(f->dst, p->mac))
        return NET_FILTERED;
    if (p->full)
        return NET_DROPPED;
    p->got++;
    memcpy(p->last_dst, f->dst, 6);
    memcpy(p->last_src, f->src, 6);
    return NET_DELIVERED;
}

static void fp_flush(void *ctx)
{
    ((struct fake_port *)ctx)->flushes++;
}

static const struct net_port_ops fp_ops = {fp_poll, fp_deliver, fp_flush};

static void send(struct fake_port *p, const uint8_t *dst, const uint8_t *src)
{
    uint8_t *b = p->out[p->out_tail++ % 2048];

    memset(b, 0, 64);
    memcpy(b, dst, 6);
    memcpy(b + 6, src, 6);
}

static void mac_n(uint8_t *m, unsigned n)
{
    m[0] = 0x02;
    m[1] = 0x10;
    m[2] = (uint8_t)(n >> 24);
    m[3] = (uint8_t)(n >> 16);
    m[4] = (uint8_t)(n >> 8);
    m[5] = (uint8_t)n;
}

struct bench {
    struct net_switch sw;
    struct fake_port p[NET_SWITCH_MAX_PORTS];
    uint8_t mac[NET_SWITCH_MAX_PORTS][6];
};

/* n ports; ports below nguests are guests with static MACs that filter;
 * with uplink the last port is the uplink. */
static struct bench *bench_new(unsigned n, unsigned nguests, bool uplink, unsigned budget)
{
    struct bench *b = calloc(1, sizeof(*b));
    const char *why = NULL;

    assert_non_null(b);
    net_switch_init(&b->sw, "sw0", budget);
    for (unsigned i = 0; i < n; i++) {
        bool up = uplink && i == n - 1;
        bool guest = i < nguests;

        mac_n(b->mac[i], 0xa000 + i);
        b->p[i].sw = &b->sw;
        b->p[i].mac = guest ? b->mac[i] : NULL;
        assert_int_equal(
            net_switch_add_port(&b->sw, "p", &fp_ops, &b->p[i], guest ? b->mac[i] : NULL, up, &why),
            (int)i);
        b->p[i].port = i;
    }
    return b;
}

static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t MCAST[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};

static void test_learning(void **state)
{
    struct bench *b = bench_new(4, 0, true, 0);
    uint8_t x[6], y[6];

    mac_n(x, 1);
    mac_n(y, 2);
    send(&b->p[0], y, x); /* y unknown: everywhere but port 0 */
    net_switch_poll(&b->sw, 1);
    assert_int_equal(b->p[0].got, 0);
    assert_int_equal(b->p[1].got + b->p[2].got + b->p[3].got, 3);
    assert_int_equal(b->sw.port[0].stats.flooded, 1);
    assert_int_equal(net_switch_lookup(&b->sw, x), 0);
    send(&b->p[2], x, y); /* x learned: port 0 only */
    net_switch_poll(&b->sw, 2);
    assert_int_equal(b->p[0].got, 1);
    assert_memory_equal(b->p[0].last_src, y, 6);
    assert_int_equal(b->p[1].got, 1);
    assert_int_equal(b->p[3].got, 1);
    assert_int_equal(b->sw.port[2].stats.flooded, 0);
    assert_int_equal(net_switch_lookup(&b->sw, y), 2);
    /* A station that moves is followed. */
    send(&b->p[1], y, x);
    net_switch_poll(&b->sw, 3);
    assert_int_equal(net_switch_lookup(&b->sw, x), 1);
    assert_int_equal(b->p[2].got, 2);
    /* Unicast to a MAC learned on the sender's own port goes nowhere. */
    send(&b->p[1], x, y);
    net_switch_poll(&b->sw, 4);
    assert_int_equal(b->p[0].got + b->p[2].got + b->p[3].got, 1 + 2 + 1);
    assert_int_equal(b->sw.port[1].stats.rx, 2);
    assert_int_equal(b->sw.port[1].stats.drops, 1); /* counted where it ends */
    free(b);
}

static void test_flooding(void **state)
{
    struct bench *b = bench_new(5, 4, true, 0);

    send(&b->p[1], BCAST, b->mac[1]);
    send(&b->p[1], MCAST, b->mac[1]);
    net_switch_poll(&b->sw, 1);
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(b->p[i].got, i == 1 ? 0 : 2);
    assert_int_equal(b->sw.port[1].stats.flooded, 2);
    assert_int_equal(b->sw.port[4].stats.tx, 2);
    /* A multicast source is invalid: dropped, not learned. */
    send(&b->p[4], b->mac[0], MCAST);
    net_switch_poll(&b->sw, 2);
    assert_int_equal(b->p[0].got, 2);
    assert_int_equal(b->sw.port[4].stats.drops, 1);
    assert_int_equal(net_switch_lookup(&b->sw, MCAST), -1);
    free(b);
}

static void test_isolation(void **state)
{
    struct bench *b = bench_new(4, 3, true, 0);

    /* Guests' MACs are known before they send anything. */
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(net_switch_lookup(&b->sw, b->mac[i]), (int)i);
    b->p[2].mac = NULL; /* guest 2 is promiscuous */
    send(&b->p[0], b->mac[1], b->mac[0]);
    net_switch_poll(&b->sw, 1);
    assert_int_equal(b->p[1].got, 1);
    assert_int_equal(b->p[2].got, 0); /* never another guest's unicast */
    assert_int_equal(b->p[3].got, 0);
    assert_int_equal(b->sw.port[0].stats.flooded, 0);
    /* Guest 2 sends with guest 1's MAC: dropped, and 1 keeps its MAC. */
    send(&b->p[2], b->mac[0], b->mac[1]);
    net_switch_poll(&b->sw, 2);
    assert_int_equal(b->p[0].got, 0);
    assert_int_equal(b->sw.port[2].stats.drops, 1);
    assert_int_equal(net_switch_lookup(&b->sw, b->mac[1]), 1);
    /* The uplink cannot steal it either. */
    send(&b->p[3], b->mac[0], b->mac[1]);
    net_switch_poll(&b->sw, 3);
    assert_int_equal(net_switch_lookup(&b->sw, b->mac[1]), 1);
    assert_int_equal(b->p[0].got, 0);
    free(b);
}

static void test_unknown_unicast(void **state)
{
    struct bench *b = bench_new(4, 3, true, 0);
    uint8_t far[6];

    mac_n(far, 77);
    send(&b->p[0], far, b->mac[0]);
    net_switch_poll(&b->sw, 1);
    assert_int_equal(b->p[3].got, 1); /* the uplink */
    assert_int_equal(b->p[1].got + b->p[2].got, 0);
    assert_int_equal(b->sw.port[1].stats.filtered, 1); /* offered locally, not wanted */
    assert_int_equal(b->sw.port[1].stats.drops, 0);
    assert_int_equal(b->sw.port[0].stats.flooded, 1);
    /* Once far answered through the uplink it is known there. */
    send(&b->p[3], b->mac[0], far);
    send(&b->p[0], far, b->mac[0]);
    net_switch_poll(&b->sw, 2);
    assert_int_equal(b->p[3].got, 2);
    assert_int_equal(b->sw.port[1].stats.filtered, 1);
    free(b);

    /* Without an uplink: local flood only. */
    b = bench_new(3, 0, false, 0);
    send(&b->p[0], far, b->mac[0]);
    net_switch_poll(&b->sw, 1);
    assert_int_equal(b->p[1].got + b->p[2].got, 2);
    free(b);
}

static void test_full_receiver_drops(void **state)
{
    struct bench *b = bench_new(3, 3, false, 0);

    b->p[1].full = true;
    send(&b->p[0], b->mac[1], b->mac[0]);
    send(&b->p[0], BCAST, b->mac[0]);
    net_switch_poll(&b->sw, 1);
    assert_int_equal(b->sw.port[1].stats.drops, 2);
    assert_int_equal(b->sw.port[1].stats.tx, 0);
    assert_int_equal(b->p[2].got, 1);     /* the others go on */
    assert_int_equal(b->p[1].flushes, 0); /* nothing delivered, nothing to flush */
    assert_int_equal(b->p[2].flushes, 1);
    free(b);
}

static void test_aging_and_replacement(void **state)
{
    struct bench *b = bench_new(3, 1, false, 0);
    uint8_t m[6];

    mac_n(m, 5);
    send(&b->p[1], b->mac[0], m);
    net_switch_poll(&b->sw, 10 * NS_PER_S);
    assert_int_equal(net_switch_lookup(&b->sw, m), 1);
    net_switch_poll(&b->sw, 10 * NS_PER_S + NET_SWITCH_AGE_NS);
    assert_int_equal(net_switch_lookup(&b->sw, m), 1);
    net_switch_poll(&b->sw, 10 * NS_PER_S + NET_SWITCH_AGE_NS + 1);
    assert_int_equal(net_switch_lookup(&b->sw, m), -1); /* aged out */
    /* Far more sources than entries: the table replaces the least recently
     * seen, the static entry stays. */
    uint64_t now = 1000 * NS_PER_S;
    for (unsigned i = 0; i < 4 * NET_SWITCH_MAC_SETS * NET_SWITCH_MAC_WAYS; i++) {
        mac_n(m, 1000 + i);
        send(&b->p[2], b->mac[0], m);
        if (b->p[2].out_tail - b->p[2].out_head == 64)
            net_switch_poll(&b->sw, now++);
    }
    while (net_switch_poll(&b->sw, now++))
        ;
    assert_true(b->sw.table_evictions >= 3 * NET_SWITCH_MAC_SETS * NET_SWITCH_MAC_WAYS);
    assert_int_equal(net_switch_lookup(&b->sw, b->mac[0]), 0);
    mac_n(m, 1000 + 4 * NET_SWITCH_MAC_SETS * NET_SWITCH_MAC_WAYS - 1);
    assert_int_equal(net_switch_lookup(&b->sw, m), 2); /* the newest is there */
    free(b);
}

static void test_add_port_refusals(void **state)
{
    struct bench *b = bench_new(2, 1, true, 0);
    struct fake_port extra = {0};
    const char *why = NULL;
    uint8_t mc[6] = {0x03, 0, 0, 0, 0, 1};

    assert_int_equal(net_switch_add_port(&b->sw, "x", &fp_ops, &extra, NULL, true, &why), -1);
    assert_string_equal(why, "a second uplink");
    assert_int_equal(net_switch_add_port(&b->sw, "x", &fp_ops, &extra, b->mac[0], false, &why), -1);
    assert_string_equal(why, "duplicate MAC address");
    assert_int_equal(net_switch_add_port(&b->sw, "x", &fp_ops, &extra, mc, false, &why), -1);
    assert_string_equal(why, "multicast MAC address");
    for (unsigned i = 2; i < NET_SWITCH_MAX_PORTS; i++)
        assert_true(net_switch_add_port(&b->sw, "x", &fp_ops, &extra, NULL, false, &why) >= 0);
    assert_int_equal(net_switch_add_port(&b->sw, "x", &fp_ops, &extra, NULL, false, &why), -1);
    assert_string_equal(why, "too many ports");
    free(b);
}

/* A guest flooding the switch gets its budget per visit; the others are
 * visited in the same poll and their frames go through. */
static void test_bounded_work(void **state)
{
    struct bench *b = bench_new(3, 3, false, 16);

    for (unsigned i = 0; i < 1000; i++)
        send(&b->p[0], BCAST, b->mac[0]);
    send(&b->p[1], b->mac[2], b->mac[1]);
    assert_int_equal(net_switch_poll(&b->sw, 1), 17);
    assert_int_equal(b->p[2].got, 17);
    assert_int_equal(b->p[1].got, 16);
    assert_int_equal(b->sw.port[0].stats.rx, 16);
    /* One flush per receiver per sender visit, not per frame. */
    assert_int_equal(b->p[1].flushes, 1);
    assert_int_equal(b->p[2].flushes, 2);
    assert_int_equal(net_switch_poll(&b->sw, 2), 16);
    assert_int_equal(b->p[1].polls, 2);
    free(b);
}

/* --- end to end with two virtio-net guests -------------------------------- */

#define GUEST_BYTES (1u << 20)
#define QSIZE       32

struct guest {
    uint8_t *mem_block;
    struct vmem mem;
    struct virtio_net d;
    struct net_virtio_port vp;
    struct virtq_driver drv[3];
    unsigned signals[3];
    unsigned broken;
};

static void g_signal(void *ctx, unsigned q)
{
    ((struct guest *)ctx)->signals[q]++;
}

static void g_broken(void *ctx)
{
    ((struct guest *)ctx)->broken++;
}

static struct guest *guest_new(struct net_switch *sw, unsigned n)
{
    struct guest *g = calloc(1, sizeof(*g));
    char why[128];
    const char *why2 = NULL;
    struct virtio_net_params p = {.pairs = 1,
                                  .name = "g",
                                  .polled = true,
                                  .signal = g_signal,
                                  .broken = g_broken,
                                  .tx = net_virtio_port_tx};
    uint64_t features;

    assert_non_null(g);
    g->mem_block = aligned_alloc(4096, GUEST_BYTES);
    assert_non_null(g->mem_block);
    memset(g->mem_block, 0, GUEST_BYTES);
    g->mem = (struct vmem){g->mem_block, GUEST_BYTES};
    p.mem = &g->mem;
    p.ctx = g;
    p.tx_ctx = &g->vp;
    mac_n(p.mac, 0xb000 + n);
    assert_true(virtio_net_init(&g->d, &p, why, sizeof(why)));
    assert_true(net_virtio_port_attach(&g->vp, sw, &g->d, "g", &why2));
    features = g->d.features | (1ull << VIRTIO_F_VERSION_1);
    for (unsigned q = 0; q < 3; q++) {
        struct virtq *vq = &g->d.vqs[q];

        assert_true(virtq_driver_init(&g->drv[q], &g->mem, 0x1000u * q, QSIZE, true, 0));
        vq->size = QSIZE;
        vq->desc_gpa = g->drv[q].desc_gpa;
        vq->avail_gpa = g->drv[q].avail_gpa;
        vq->used_gpa = g->drv[q].used_gpa;
        assert_true(virtio_net_pci_ops.queue_enable(&g->d, q, features));
    }
    virtio_net_pci_ops.driver_ok(&g->d);
    for (unsigned i = 0; i < 8; i++) {
        struct virtq_sg sg = {0x10000u + 2048u * i, 2048};

        assert_true(virtq_driver_add(&g->drv[0], &sg, 0, 1) >= 0);
    }
    return g;
}

static void guest_send(struct guest *g, const uint8_t *dst, uint32_t len, uint8_t seed)
{
    uint8_t *b = g->mem_block + 0x40000;
    struct virtq_sg sg[2] = {{0x40000, 12}, {0x40000 + 12, len}};

    memset(b, 0, 12);
    memcpy(b + 12, dst, 6);
    memcpy(b + 18, g->d.p.mac, 6);
    for (uint32_t i = 12; i < len; i++)
        b[12 + i] = (uint8_t)(i + seed);
    assert_true(virtq_driver_add(&g->drv[1], sg, 2, 0) >= 0);
}

static int guest_recv(struct guest *g, uint8_t **frame, uint32_t *len)
{
    uint16_t id;
    int r = virtq_driver_take_used(&g->drv[0], &id, len);

    if (r == 1)
        *frame = g->mem_block + 0x10000u + 2048u * id + 12; /* one buffer per chain */
    return r;
}

static void test_two_guests_end_to_end(void **state)
{
    struct net_switch *sw = calloc(1, sizeof(*sw));
    struct guest *a, *b;
    uint8_t *f;
    uint32_t len;

    net_switch_init(sw, "lan", 0);
    a = guest_new(sw, 1);
    b = guest_new(sw, 2);
    /* a to b: exactly one frame arrives, intact, and b is interrupted. */
    guest_send(a, b->d.p.mac, 1000, 3);
    net_switch_poll(sw, 1);
    assert_int_equal(guest_recv(b, &f, &len), 1);
    assert_int_equal(len, 12 + 1000);
    assert_memory_equal(f, a->mem_block + 0x40000 + 12, 1000);
    assert_int_equal(b->signals[0], 1);
    assert_int_equal(guest_recv(a, &f, &len), 0);
    assert_int_equal(a->d.pair[0].stats.tx_packets, 1);
    assert_int_equal(b->d.pair[0].stats.rx_packets, 1);
    assert_int_equal(sw->port[1].stats.tx, 1);
    /* A broadcast from b reaches a, not b itself. */
    guest_send(b, BCAST, 60, 9);
    net_switch_poll(sw, 2);
    assert_int_equal(guest_recv(a, &f, &len), 1);
    assert_int_equal(len, 72);
    assert_int_equal(guest_recv(b, &f, &len), 0);
    /* Unicast to a MAC nobody has: a does not see it (not its MAC). */
    uint8_t nobody[6];
    mac_n(nobody, 0xdead);
    guest_send(b, nobody, 60, 1);
    net_switch_poll(sw, 3);
    assert_int_equal(guest_recv(a, &f, &len), 0);
    assert_int_equal(a->d.pair[0].stats.rx_filtered, 1);
    /* a runs out of RX buffers: frames for it are dropped and counted, b
     * is not held up. */
    for (unsigned i = 0; i < 8; i++) { /* a has 7 of its 8 buffers left */
        guest_send(b, a->d.p.mac, 100, (uint8_t)i);
        net_switch_poll(sw, 4 + i);
    }
    assert_int_equal(a->d.pair[0].stats.rx_packets, 8);
    assert_int_equal(a->d.pair[0].stats.rx_drops, 1);
    assert_int_equal(sw->port[0].stats.drops, 1);
    assert_int_equal(b->d.pair[0].stats.tx_packets, 10);
    assert_int_equal(a->broken + b->broken, 0);
    free(a->mem_block);
    free(b->mem_block);
    free(a);
    free(b);
    free(sw);
}

/* A guest that breaks its TX ring (a descriptor loop) loses its own device
 * only: it is broken once and takes no more frames, while the other two
 * guests on the switch go on talking through the same polls. */
static void test_broken_guest_loses_only_its_device(void **state)
{
    struct net_switch *sw = calloc(1, sizeof(*sw));
    struct guest *a, *b, *c;
    uint8_t *f;
    uint32_t len;

    net_switch_init(sw, "lan", 0);
    a = guest_new(sw, 1);
    b = guest_new(sw, 2);
    c = guest_new(sw, 3);
    struct virtq_desc *desc = (struct virtq_desc *)a->drv[1].desc;
    desc[5] = (struct virtq_desc){0x40000, 76, VIRTQ_DESC_F_NEXT, 6};
    desc[6] = (struct virtq_desc){0x40000, 76, VIRTQ_DESC_F_NEXT, 5};
    virtq_driver_post(&a->drv[1], 5);
    guest_send(b, c->d.p.mac, 500, 1);
    net_switch_poll(sw, 1);
    assert_int_equal(a->broken, 1);
    assert_true(a->d.needs_reset);
    assert_int_equal(guest_recv(c, &f, &len), 1);
    assert_int_equal(len, 12 + 500);
    /* Frames for the broken guest are refused; b and c carry on. */
    for (unsigned i = 0; i < 4; i++) {
        /* One frame per poll: guest_send reuses one TX buffer. */
        guest_send(c, a->d.p.mac, 100, (uint8_t)i);
        net_switch_poll(sw, 2 + 2 * i);
        guest_send(c, b->d.p.mac, 100, (uint8_t)i);
        net_switch_poll(sw, 3 + 2 * i);
    }
    assert_int_equal(a->d.pair[0].stats.rx_packets, 0);
    assert_int_equal(sw->port[0].stats.drops, 4);
    assert_int_equal(b->d.pair[0].stats.rx_packets, 4);
    assert_int_equal(a->broken, 1);
    assert_int_equal(b->broken + c->broken, 0);
    for (struct guest **g = (struct guest *[]){a, b, c, NULL}; *g; g++) {
        free((*g)->mem_block);
        free(*g);
    }
    free(sw);
}

/* --- the NIC uplink against a fake NIC ------------------------------------ */

struct fake_nic {
    uint64_t posted[512];
    unsigned nposted;
    struct net_nic_rx incoming[64]; /* frames the test makes arrive */
    unsigned nin;
    struct net_nic_tx sent[256];
    uint8_t sent_data[256][1600];
    unsigned nsent, reclaimed, room, submits;
};

static unsigned fn_refill(void *nic, unsigned q, const uint64_t *bufs, unsigned count)
{
    struct fake_nic *n = nic;
    unsigned k = 0;

    while (k < count && n->nposted < 255)
        n->posted[n->nposted++] = bufs[k++];
    return k;
}

static unsigned fn_rx_poll(void *nic, unsigned q, struct net_nic_rx *out, unsigned max)
{
    struct fake_nic *n = nic;
    unsigned k = 0;

    while (k < max && k < n->nin)
        out[k] = n->incoming[k], k++;
    memmove(n->incoming, n->incoming + k, (n->nin - k) * sizeof(n->incoming[0]));
    n->nin -= k;
    return k;
}

static unsigned fn_submit(void *nic, unsigned q, const struct net_nic_tx *f, unsigned count)
{
    struct fake_nic *n = nic;
    unsigned k = 0;

    n->submits++;
    while (k < count && n->nsent - n->reclaimed < n->room) {
        assert_true(n->nsent < 256);
        n->sent[n->nsent] = f[k];
        memcpy(n->sent_data[n->nsent], (void *)(uintptr_t)f[k].buf, f[k].len);
        n->nsent++;
        k++;
    }
    return k;
}

static unsigned fn_reclaim(void *nic, unsigned q, uint64_t *cookies, unsigned max)
{
    struct fake_nic *n = nic;
    unsigned k = 0;

    while (k < max && n->reclaimed < n->nsent)
        cookies[k++] = n->sent[n->reclaimed++].cookie;
    return k;
}

static const struct net_nic_ops fn_ops = {fn_refill, fn_rx_poll, fn_submit, fn_reclaim};

/* A frame arriving at the NIC, in one of its posted buffers. */
static void nic_arrive(struct fake_nic *n, const uint8_t *dst, const uint8_t *src, uint16_t len)
{
    uint8_t *b;

    assert_true(n->nposted > 0);
    b = (uint8_t *)(uintptr_t)n->posted[0];
    memmove(n->posted, n->posted + 1, --n->nposted * sizeof(n->posted[0]));
    memset(b, 0x5a, len);
    memcpy(b, dst, 6);
    memcpy(b + 6, src, 6);
    n->incoming[n->nin++] = (struct net_nic_rx){(uint64_t)(uintptr_t)b, len, true};
}

static void test_nic_uplink(void **state)
{
    struct net_switch *sw = calloc(1, sizeof(*sw));
    struct net_nic_port *np = calloc(1, sizeof(*np));
    struct fake_nic *nic = calloc(1, sizeof(*nic));
    uint8_t *pool = malloc((size_t)(300 + 4) * NET_NIC_BUF_SIZE);
    struct guest *a;
    const char *why = NULL;
    uint8_t far[6], *f;
    uint32_t len;

    nic->room = 2;
    net_switch_init(sw, "lan", 0);
    assert_false(net_nic_port_init(np, &fn_ops, nic, 0, pool, 0, 4));
    assert_true(net_nic_port_init(np, &fn_ops, nic, 0, pool, 300, 4));
    assert_int_equal(nic->nposted, 255); /* the rest waits for room */
    a = guest_new(sw, 1);
    assert_true(net_nic_port_attach(np, sw, "nic0", &why));
    mac_n(far, 0xfa5);

    /* From the wire to the guest: delivered, and the buffer goes back. */
    nic_arrive(nic, a->d.p.mac, far, 200);
    assert_int_equal(nic->nposted, 254);
    net_switch_poll(sw, 1);
    assert_int_equal(guest_recv(a, &f, &len), 1);
    assert_int_equal(len, 212);
    assert_memory_equal(f + 6, far, 6);
    assert_int_equal(f[100], 0x5a);
    assert_int_equal(nic->nposted, 255);
    assert_int_equal(net_switch_lookup(sw, far), 1);

    /* From the guest to the wire, with the checksum left to the device:
     * one copy, checksum completed, one submit for the visit. */
    uint8_t *b = a->mem_block + 0x40000;
    struct virtq_sg sg = {0x40000, 12 + 100};
    memset(b, 0, 12);
    b[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    b[6] = 34; /* csum_start */
    b[8] = 6;  /* csum_offset */
    memcpy(b + 12, far, 6);
    memcpy(b + 18, a->d.p.mac, 6);
    for (unsigned i = 12; i < 100; i++)
        b[12 + i] = (uint8_t)(i * 3);
    assert_true(virtq_driver_add(&a->drv[1], &sg, 1, 0) >= 0);
    net_switch_poll(sw, 2);
    assert_int_equal(nic->nsent, 1);
    assert_int_equal(nic->submits, 1);
    assert_int_equal(nic->sent[0].len, 100);
    uint8_t *w = nic->sent_data[0];
    uint32_t sum = 0;
    for (unsigned i = 34; i < 100; i++)
        sum += (i & 1) ? w[i] : (uint32_t)w[i] << 8;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    /* The field held the pseudo-header sum (bytes 40, 41 of the pattern). */
    uint32_t pseudo = (uint32_t)(uint8_t)(40 * 3) << 8 | (uint8_t)(41 * 3);
    sum += pseudo;
    sum = (sum & 0xffff) + (sum >> 16);
    assert_int_equal(sum, 0xffff);
    assert_int_equal(np->stats.tx_ring_full, 0);
    assert_int_equal(np->stats.tx_csum_done, 1);

    /* Too big for the wire: dropped and counted, the guest goes on. */
    guest_send(a, far, 1515, 0);
    net_switch_poll(sw, 3);
    assert_int_equal(np->stats.tx_too_big, 1);
    assert_int_equal(sw->port[1].stats.drops, 1);

    /* A full ring: frames of one visit beyond the room are dropped at the
     * flush and their buffers come back; four buffers only. */
    nic->room = 1; /* one in flight already (not reclaimed: room taken) */
    nic->reclaimed = 0;
    for (unsigned i = 0; i < 3; i++)
        guest_send(a, far, 60, (uint8_t)i);
    net_switch_poll(sw, 4);
    assert_int_equal(np->stats.tx_ring_full + nic->nsent, 3 + 1);
    assert_int_equal(np->tx_free + (nic->nsent - nic->reclaimed), 4);

    /* Every buffer in flight: the next frame finds none. */
    nic->room = 100;
    for (unsigned i = 0; i < 6; i++)
        guest_send(a, BCAST, 60, (uint8_t)i);
    assert_int_equal(virtio_net_service(&a->d, 64), 6); /* the guest's own service */
    net_switch_poll(sw, 5);
    assert_true(np->stats.tx_no_buffer >= 1);
    /* Reclaim frees them again. */
    net_switch_poll(sw, 6);
    assert_int_equal(np->tx_free, 4 - 0);
    assert_int_equal(a->broken, 0);
    free(a->mem_block);
    free(a);
    free(pool);
    free(nic);
    free(np);
    free(sw);
}

static uint64_t fake_ns;

static uint64_t fake_clock(void)
{
    return fake_ns;
}

/* The sidecore's view: a service function with its own budget and the
 * time from a clock. */
static void test_service_fn(void **state)
{
    struct bench *b = bench_new(2, 1, false, 0);
    uint8_t m[6];

    mac_n(m, 42);
    for (unsigned i = 0; i < 10; i++)
        send(&b->p[1], b->mac[0], m);
    assert_int_equal(net_switch_service(&b->sw, 4), 4);
    assert_int_equal(net_switch_lookup(&b->sw, m), 1);
    /* Without a clock nothing ages. */
    fake_ns = 2 * NET_SWITCH_AGE_NS;
    assert_int_equal(net_switch_service(&b->sw, 0), 6);
    assert_int_equal(net_switch_lookup(&b->sw, m), 1);
    net_switch_set_clock(&b->sw, fake_clock);
    net_switch_service(&b->sw, 0);
    assert_int_equal(net_switch_lookup(&b->sw, m), -1);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learning),
        cmocka_unit_test(test_flooding),
        cmocka_unit_test(test_isolation),
        cmocka_unit_test(test_unknown_unicast),
        cmocka_unit_test(test_full_receiver_drops),
        cmocka_unit_test(test_aging_and_replacement),
        cmocka_unit_test(test_add_port_refusals),
        cmocka_unit_test(test_bounded_work),
        cmocka_unit_test(test_two_guests_end_to_end),
        cmocka_unit_test(test_broken_guest_loses_only_its_device),
        cmocka_unit_test(test_nic_uplink),
        cmocka_unit_test(test_service_fn),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
