/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the virtio-net device and the switch behind it: two
 * guests, each a virtio-net device on one switch. The input picks guest
 * A's shape (queue pairs, MTU, which features its driver takes, ring size)
 * and then a script of guest actions: TX frames with any header bytes,
 * length and descriptor layout (a writable buffer now and then), RX
 * buffers of any size (readable ones too), control commands of any class,
 * command and length (without an ack byte too), raw writes anywhere in A's
 * memory (rings, descriptors, headers: a guest racing or lying), switch
 * polls, direct service calls (whole device or one queue) with any budget, resets, link
 * changes and the driver reaping used entries; and frames of any length
 * and content arriving from the wire at a fake NIC on the uplink. Guest memory blocks are heap
 * blocks of their own, so the sanitizers catch any access outside them;
 * besides that the target aborts when a promise breaks: a frame handed to
 * the switch whose pieces leave A's memory or do not add up to its length,
 * a checksum range outside the frame, NEEDS_RESET reported twice without a
 * reset or without a message, the RX stash out of step with its count,
 * state left over after a reset. Guest B (and A when the input says so)
 * coalesces its interrupts (vmm/sidecore/net_coalesce.h) on a clock that
 * advances 10 us an action plus the polls' jumps, with thresholds low
 * enough to engage: an interrupt held past the time cap after the device's
 * service call, or held over a reset, aborts too.
 * fuzz-sources: virtio/virtio_net.c virtio/virtio_net_tx.c vmm/sidecore/net_coalesce.c virtio/virtio_net_rx.c virtio/virtio_net_ctrl.c virtio/virtqueue.c virtio/virtq_driver.c vmm/net/net_frame.c vmm/net/switch.c vmm/net/virtio_port.c vmm/net/nic_port.c kernel/lib/fmt.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "virtio/virtq_driver.h"
#include "vmm/net/nic_port.h"
#include "vmm/net/switch.h"
#include "vmm/net/virtio_port.h"

#define GUEST_BYTES 0x10000u
#define RING_GPA(q) (0x1000u * (q))
#define TX_GPA      0x8000u
#define TX_BYTES    0x4000u
#define RX_GPA      0xc000u
#define RX_BYTES    0x3000u
#define CTRL_GPA    0xf000u

struct guest {
    uint8_t *mem_block;
    struct vmem mem;
    struct virtio_net d;
    struct net_virtio_port vp;
    struct virtq_driver drv[VIRTIO_PCI_MAX_QUEUES];
    uint64_t features;
    uint16_t qsize;
    unsigned broken;
    unsigned next_tx, next_ctrl; /* rotating buffer slots, so queued chains differ */
};

static struct net_switch sw;

static uint64_t fuzz_now;
static const struct net_coalesce_params fuzz_coalesce = {
    .min_rate = 0, .max_level = 4, .epoch_ns = 40000, .time_cap_ns = 100000};

static uint64_t fuzz_clock(void)
{
    return fuzz_now;
}

/* A fake NIC behind the uplink: it holds the posted receive buffers,
 * delivers the frames the input makes arrive, and takes transmit batches
 * while it has room. Its buffers must be the port's own, which it checks. */
struct fake_nic {
    struct net_nic_port np;
    uint8_t *pool;
    uint64_t posted[NET_NIC_MAX_BUFS];
    unsigned nposted;
    struct net_nic_rx in[16];
    unsigned nin;
    uint64_t in_flight[NET_NIC_MAX_BUFS];
    unsigned nflight, room;
};

#define NIC_RX 8
#define NIC_TX 4

static struct fake_nic fnic;

static void check_pool(uint64_t buf, unsigned first, unsigned n)
{
    uint8_t *p = (uint8_t *)(uintptr_t)buf;

    check(p >= fnic.pool + (size_t)first * NET_NIC_BUF_SIZE &&
              p < fnic.pool + (size_t)(first + n) * NET_NIC_BUF_SIZE &&
              (p - fnic.pool) % NET_NIC_BUF_SIZE == 0,
          "NIC buffer not from the port's pool");
}

static unsigned fn_refill(void *nic, unsigned q, const uint64_t *bufs, unsigned count)
{
    unsigned k = 0;

    for (; k < count && fnic.nposted < NIC_RX; k++) {
        check_pool(bufs[k], 0, NIC_RX);
        fnic.posted[fnic.nposted++] = bufs[k];
    }
    return k;
}

static unsigned fn_rx_poll(void *nic, unsigned q, struct net_nic_rx *out, unsigned max)
{
    unsigned k = 0;

    while (k < max && k < fnic.nin)
        out[k] = fnic.in[k], k++;
    memmove(fnic.in, fnic.in + k, (fnic.nin - k) * sizeof(fnic.in[0]));
    fnic.nin -= k;
    return k;
}

static unsigned fn_submit(void *nic, unsigned q, const struct net_nic_tx *f, unsigned count)
{
    unsigned k = 0;

    for (; k < count && fnic.nflight < fnic.room; k++) {
        check_pool(f[k].buf, NIC_RX, NIC_TX);
        check(f[k].len >= NET_ETH_HLEN && f[k].len <= NET_NIC_MAX_FRAME, "NIC frame length");
        fnic.in_flight[fnic.nflight++] = f[k].cookie;
    }
    return k;
}

static unsigned fn_reclaim(void *nic, unsigned q, uint64_t *cookies, unsigned max)
{
    unsigned k = 0;

    while (k < max && k < fnic.nflight)
        cookies[k] = fnic.in_flight[k], k++;
    memmove(fnic.in_flight, fnic.in_flight + k, (fnic.nflight - k) * sizeof(uint64_t));
    fnic.nflight -= k;
    return k;
}

static const struct net_nic_ops fn_ops = {fn_refill, fn_rx_poll, fn_submit, fn_reclaim};

/* A frame from the wire: any length the NIC could report, any bytes. */
static void wire_frame(struct input *in)
{
    static const uint8_t dsts[3][6] = {
        {0x02, 0, 0, 0, 0, 1}, {0x02, 0, 0, 0, 0, 2}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    unsigned shape = (unsigned)take(in, 1);
    uint16_t len = (uint16_t)(take(in, 2) % (NET_NIC_BUF_SIZE + 1));
    uint8_t *b;

    fnic.room = shape >> 4;
    if (!fnic.nposted || fnic.nin == 16)
        return;
    b = (uint8_t *)(uintptr_t)fnic.posted[0];
    memmove(fnic.posted, fnic.posted + 1, --fnic.nposted * sizeof(fnic.posted[0]));
    memset(b, (int)take(in, 1), NET_NIC_BUF_SIZE);
    if ((shape & 3) < 3)
        memcpy(b, dsts[shape & 3], 6);
    fnic.in[fnic.nin++] = (struct net_nic_rx){(uint64_t)(uintptr_t)b, len, !(shape & 4)};
}

static void on_signal(void *ctx, unsigned q)
{
    struct guest *g = ctx;

    check(q < g->d.num_queues, "signal for a queue that does not exist");
}

static void on_broken(void *ctx)
{
    struct guest *g = ctx;

    g->broken++;
    check(g->broken == 1, "broken reported twice without a reset");
    check(g->d.needs_reset && g->d.error[0], "broken without a message");
}

/* The device's tx: check the frame, then the switch as usual. */
static void on_tx(void *tx_ctx, const struct net_frame *f)
{
    struct net_virtio_port *vp = tx_ctx;
    const struct vmem *m = vp->dev->p.mem;
    uint64_t sum = 0;

    check(f->len >= NET_ETH_HLEN && f->len <= vp->dev->max_frame, "frame length");
    for (unsigned i = 0; i < f->nseg; i++) {
        check(f->seg[i].len > 0, "empty piece");
        check(f->seg[i].p >= m->base && f->seg[i].p + f->seg[i].len <= m->base + m->size,
              "piece outside guest memory");
        sum += f->seg[i].len;
    }
    check(sum == f->len, "pieces do not add up");
    if (f->csum == NET_CSUM_PARTIAL)
        check((uint32_t)f->csum_start + f->csum_offset + 2 <= f->len, "checksum range");
    net_virtio_port_tx(tx_ctx, f);
}

static void enable_queues(struct guest *g)
{
    bool ev = g->features & (1ull << VIRTIO_F_RING_EVENT_IDX);

    for (unsigned q = 0; q < g->d.num_queues; q++) {
        struct virtq *vq = &g->d.vqs[q];

        if (!virtq_driver_init(&g->drv[q], &g->mem, RING_GPA(q), g->qsize, ev, 0))
            abort();
        vq->size = g->qsize;
        vq->desc_gpa = g->drv[q].desc_gpa;
        vq->avail_gpa = g->drv[q].avail_gpa;
        vq->used_gpa = g->drv[q].used_gpa;
    }
    /* The queues this driver has: all pairs' with MQ, else pair 0's, and the
     * control queue after them. */
    for (unsigned q = 0; q <= virtio_net_ctrlq(g->d.p.pairs, g->features); q++)
        if (q < 2 || q == virtio_net_ctrlq(g->d.p.pairs, g->features) ||
            (g->features & (1ull << VIRTIO_NET_F_MQ)))
            virtio_net_pci_ops.queue_enable(&g->d, q, g->features);
    virtio_net_pci_ops.driver_ok(&g->d);
}

static void check_stash(const struct guest *g)
{
    for (unsigned p = 0; p < g->d.p.pairs; p++) {
        const struct virtio_net_pair *pp = &g->d.pair[p];
        uint64_t bytes = 0;

        check(pp->stash_count <= VIRTIO_NET_RX_STASH, "stash overflow");
        for (unsigned i = 0; i < pp->stash_count; i++)
            bytes += pp->stash[(pp->stash_first + i) % VIRTIO_NET_RX_STASH].bytes;
        check(bytes == pp->stash_bytes, "stash bytes out of step");
    }
}

static void guest_init(struct guest *g, unsigned pairs, uint16_t mtu, uint8_t mac_last,
                       uint64_t drop, uint16_t qsize, bool polled, bool coalesce)
{
    char why[160];
    const char *why2;
    struct virtio_net_params p = {.pairs = pairs,
                                  .mtu = mtu,
                                  .name = "fuzz net",
                                  .polled = polled,
                                  .signal = on_signal,
                                  .broken = on_broken,
                                  .tx = on_tx};

    g->mem_block = malloc(GUEST_BYTES);
    if (!g->mem_block)
        abort();
    memset(g->mem_block, 0, GUEST_BYTES);
    g->mem = (struct vmem){g->mem_block, GUEST_BYTES};
    p.mem = &g->mem;
    p.ctx = g;
    p.tx_ctx = &g->vp;
    p.mac[0] = 0x02;
    p.mac[5] = mac_last;
    if (coalesce) {
        p.coalesce = &fuzz_coalesce;
        p.now_ns = fuzz_clock;
    }
    if (!virtio_net_init(&g->d, &p, why, sizeof(why)))
        abort();
    if (!net_virtio_port_attach(&g->vp, &sw, &g->d, "fuzz", &why2))
        abort();
    g->features = (g->d.features | (1ull << VIRTIO_F_VERSION_1)) & ~drop;
    g->qsize = qsize;
    enable_queues(g);
}

/* A TX chain: header from the input, a frame to one of the MACs. */
static void add_tx(struct guest *g, struct input *in)
{
    unsigned pair = (unsigned)take(in, 1) % g->d.p.pairs;
    unsigned shape = (unsigned)take(in, 1);
    uint32_t len = (uint32_t)take(in, 2) % (TX_BYTES - 16);
    uint32_t cut = 1 + (uint32_t)take(in, 2) % 2048;
    /* Small frames get a slot of their own, big ones may overlap. */
    uint32_t at = TX_GPA + 0x400u * (g->next_tx++ % 16);
    uint8_t *b;
    struct virtq_sg sg[VIRTQ_MAX_SIZE];
    unsigned n = 0;

    if (at + 12 + len > TX_GPA + TX_BYTES)
        at = TX_GPA;
    b = g->mem_block + at;
    for (unsigned i = 0; i < VIRTIO_NET_HDR_BYTES; i++)
        b[i] = (shape & 1) ? (uint8_t)take(in, 1) : 0;
    if (shape & 2) { /* a plausible partial checksum */
        b[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        b[1] = 0;
        b[6] = (uint8_t)take(in, 1);
        b[8] = (uint8_t)take(in, 1);
    }
    if (len >= 12) {
        static const uint8_t dsts[4][6] = {{0x02, 0, 0, 0, 0, 1},
                                           {0x02, 0, 0, 0, 0, 2},
                                           {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                                           {0x02, 0, 0, 0, 0, 9}};

        memcpy(b + 12, dsts[(shape >> 2) & 3], 6);
        memcpy(b + 18, g->d.p.mac, 6);
    }
    for (uint32_t off = 0; off < 12 + len && n < g->qsize; off += cut)
        sg[n++] = (struct virtq_sg){at + off, 12 + len - off < cut ? 12 + len - off : cut};
    if ((shape & 0x10) && n < g->qsize) /* a device-writable buffer: hostile */
        sg[n++] = (struct virtq_sg){at, 4};
    virtq_driver_add(&g->drv[virtio_net_txq(pair)], sg, (shape & 0x10) ? n - 1 : n,
                     (shape & 0x10) ? 1 : 0);
}

static void add_rx(struct guest *g, struct input *in)
{
    unsigned pair = (unsigned)take(in, 1) % g->d.p.pairs;
    unsigned count = 1 + (unsigned)take(in, 1) % 8;
    unsigned shape = (unsigned)take(in, 1);

    for (unsigned i = 0; i < count; i++) {
        uint32_t len = 1 + (uint32_t)take(in, 2) % 2048;
        uint32_t off = (uint32_t)take(in, 2) % (RX_BYTES - len);
        struct virtq_sg sg[2] = {{RX_GPA + off, len}, {RX_GPA + off, len / 2 + 1}};
        unsigned nb = (shape & 1) ? 2 : 1;

        virtq_driver_add(&g->drv[virtio_net_rxq(pair)], sg, (shape & 2) ? 1 : 0,
                         (shape & 2) ? nb - 1 : nb);
    }
}

static void add_ctrl(struct guest *g, struct input *in)
{
    uint32_t at = CTRL_GPA + 0x80u * (g->next_ctrl++ % 32);
    uint8_t *b = g->mem_block + at;
    unsigned shape = (unsigned)take(in, 1);
    uint32_t len = (uint32_t)take(in, 1) % 64;
    struct virtq_sg sg[3] = {{at, 2}, {at + 16, len}, {at + 8, 1}};
    struct virtq_sg *s = sg;
    unsigned nread = len ? 2 : 1, nwrite = (shape & 1) ? 0 : 1;

    b[0] = (uint8_t)(take(in, 1) % 6);
    b[1] = (uint8_t)(take(in, 1) % 3);
    for (uint32_t i = 0; i < len; i++)
        b[16 + i] = (uint8_t)take(in, 1);
    if (!len)
        sg[1] = sg[2];
    if (shape & 2)
        s++, nread--; /* no class and command */
    if (nread + nwrite == 0)
        return;
    virtq_driver_add(&g->drv[virtio_net_ctrlq(g->d.p.pairs, g->features)], s, nread, nwrite);
}

/* The coalescing promises: the level within bounds, and after the
 * device's service call (served: true) nothing held past the cap. */
static void check_coalesce(const struct guest *g, bool served)
{
    for (unsigned p = 0; p < g->d.p.pairs; p++) {
        const struct net_coalesce *cs[2] = {&g->d.pair[p].rx.co, &g->d.pair[p].tx.co};

        for (unsigned k = 0; k < 2; k++) {
            const struct net_coalesce *c = cs[k];

            check(c->level <= fuzz_coalesce.max_level && c->countdown <= (1u << c->level),
                  "coalescing level out of bounds");
            if (served && g->d.p.coalesce && g->d.p.polled)
                check(!c->held || fuzz_now - c->held_since_ns < fuzz_coalesce.time_cap_ns,
                      "interrupt held past the cap");
        }
    }
}

static void reset(struct guest *g)
{
    virtio_net_pci_ops.reset(&g->d);
    check(!g->d.needs_reset && g->d.active_pairs == 1, "state left after a reset");
    for (unsigned p = 0; p < g->d.p.pairs; p++)
        check(g->d.pair[p].stash_count == 0, "RX chains kept over a reset");
    for (unsigned p = 0; p < g->d.p.pairs; p++)
        check(!g->d.pair[p].rx.co.held && !g->d.pair[p].tx.co.held, "interrupt held over a reset");
    g->broken = 0;
    enable_queues(g);
}

static void run(struct guest *gs, struct input *in)
{
    uint64_t now = 0, actions = 0;

    while (in->n) {
        unsigned op = (unsigned)take(in, 1) % 14;
        bool served = false;

        fuzz_now = now + ++actions * 10000;
        struct guest *g = &gs[op & 1 ? 0 : (take(in, 1) & 1)];

        switch (op >> 1) {
        case 0: add_tx(g, in); break;
        case 1: add_rx(g, in); break;
        case 2: add_ctrl(g, in); break;
        case 3: { /* the guest writes anything anywhere in its memory */
            uint32_t at = (uint32_t)take(in, 2) % GUEST_BYTES;
            unsigned n = (unsigned)take(in, 1) % 32;

            for (unsigned i = 0; i < n && at + i < GUEST_BYTES; i++)
                g->mem_block[at + i] = (uint8_t)take(in, 1);
            break;
        }
        case 4:
            now += take(in, 4) * 1000000ull;
            fuzz_now = now + actions * 10000;
            net_switch_poll(&sw, now);
            served = true;
            break;
        case 6: wire_frame(in); break;
        case 5: {
            unsigned what = (unsigned)take(in, 1);

            if (what < 32) {
                reset(g);
            } else if (what < 64) {
                virtio_net_set_link(&g->d, what & 1);
            } else if (what < 128) { /* one queue, as the layer's per-queue service */
                virtio_net_queue_service(virtio_net_queue(&g->d, what % g->d.num_queues),
                                         (unsigned)take(in, 1));
                virtio_net_flush(&g->d);
            } else if (what < 192) {
                virtio_net_service(&g->d, (unsigned)take(in, 1));
                virtio_net_flush(&g->d);
                served = true;
            } else {
                for (unsigned q = 0; q < g->d.num_queues; q++) {
                    uint16_t id;
                    uint32_t len;

                    while (virtq_driver_take_used(&g->drv[q], &id, &len) == 1)
                        check(id < g->qsize, "used id beyond the queue");
                    virtq_driver_set_interrupt(&g->drv[q], what & 1);
                }
            }
            break;
        }
        }
        check_stash(&gs[0]);
        check_stash(&gs[1]);
        check_coalesce(&gs[0], served && (op >> 1 == 4 || g == &gs[0]));
        check_coalesce(&gs[1], served && (op >> 1 == 4 || g == &gs[1]));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    static struct guest gs[2]; /* static: a big block per run would be mmap'd each time */
    unsigned cfg;
    uint64_t drop = 0;
    static const unsigned bits[] = {
        VIRTIO_NET_F_MRG_RXBUF,  VIRTIO_NET_F_CSUM,           VIRTIO_NET_F_GUEST_CSUM,
        VIRTIO_F_RING_EVENT_IDX, VIRTIO_F_RING_INDIRECT_DESC, VIRTIO_NET_F_CTRL_RX,
        VIRTIO_NET_F_MQ};

    memset(gs, 0, sizeof(gs));
    cfg = (unsigned)take(&in, 3);
    for (unsigned i = 0; i < 7; i++)
        if (cfg & (1u << i))
            drop |= 1ull << bits[i];
    net_switch_init(&sw, "fuzz", 1 + ((cfg >> 7) & 31));
    guest_init(&gs[0], 1 + ((cfg >> 12) & 3) % 3, (cfg & (1u << 14)) ? 1500 : 0, 1, drop,
               (uint16_t)(1u << (1 + ((cfg >> 15) & 7) % 6)), !(cfg & (1u << 18)),
               cfg & (1u << 20));
    guest_init(&gs[1], 1, 0, 2, 0, 32, true, true);
    memset(&fnic, 0, sizeof(fnic));
    fnic.pool = malloc((NIC_RX + NIC_TX) * NET_NIC_BUF_SIZE);
    if (!fnic.pool || !net_nic_port_init(&fnic.np, &fn_ops, NULL, 0, fnic.pool, NIC_RX, NIC_TX))
        abort();
    if (cfg & (1u << 19)) { /* an uplink */
        const char *why;

        if (!net_nic_port_attach(&fnic.np, &sw, "nic", &why))
            abort();
    }

    run(gs, &in);

    /* FUZZ_NET_VERBOSE=1: what an input did (to check the seeds). */
    if (getenv("FUZZ_NET_VERBOSE"))
        for (unsigned i = 0; i < 2; i++)
            fprintf(stderr,
                    "guest %u: tx=%llu rx=%llu rx_drops=%llu tx_drops=%llu ctrl=%llu/%llu "
                    "broken=%u held=%llu released_cap=%llu\n",
                    i, (unsigned long long)gs[i].d.pair[0].stats.tx_packets,
                    (unsigned long long)gs[i].d.pair[0].stats.rx_packets,
                    (unsigned long long)gs[i].d.pair[0].stats.rx_drops,
                    (unsigned long long)gs[i].d.pair[0].stats.tx_drops,
                    (unsigned long long)gs[i].d.ctrl_commands,
                    (unsigned long long)gs[i].d.ctrl_errors, gs[i].broken,
                    (unsigned long long)(gs[i].d.pair[0].rx.co.held_count +
                                         gs[i].d.pair[0].tx.co.held_count),
                    (unsigned long long)(gs[i].d.pair[0].rx.co.released_cap +
                                         gs[i].d.pair[0].tx.co.released_cap));

    for (unsigned i = 0; i < 2; i++) {
        virtio_net_pci_ops.reset(&gs[i].d);
        free(gs[i].mem_block);
    }
    check(fnic.np.tx_free + fnic.nflight + fnic.np.nbatch == NIC_TX, "NIC transmit buffers leaked");
    check(fnic.nposted + fnic.nin + fnic.np.rx_unposted == NIC_RX, "NIC receive buffers leaked");
    free(fnic.pool);
    return 0;
}
