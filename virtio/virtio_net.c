/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net device's face to the transport: configuration space,
 * features, queue enable, DRIVER_OK, reset, notifications, and the link
 * state; plus the helpers its TX, RX and control files share (breaking the
 * device, the ownership handshake, publishing). The data paths are in
 * virtio_net_tx.c, virtio_net_rx.c and virtio_net_ctrl.c.
 *
 * The queue ownership handshake is virtio-blk's. Queues are used by their
 * owner (the switch's sidecore), a reset comes from whichever vCPU writes
 * the status register; each side announces itself, then looks at the
 * other, with a full fence between (Dekker):
 *   owner:  busy = 1;    fence; if (!running) { busy = 0; skip } ...work...; busy = 0
 *   reset:  running = 0; fence; while (busy) pause;
 * At least one side sees the other's store, so after the loop the resetter
 * owns the queue until queue enable and DRIVER_OK set running again.
 */
#include "virtio/virtio_device.h"
#include "virtio/virtio_net.h"

#include <stdarg.h>

#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"
#include "virtio/virtio_net_impl.h"

static const char *dev_name(const struct virtio_net *d)
{
    return d->p.name ? d->p.name : "virtio-net";
}

void net_break(struct virtio_net *d, const char *fmt, ...)
{
    va_list ap;

    if (!virtio_device_break_first(&d->needs_reset))
        return;
    va_start(ap, fmt);
    virtio_device_error(d->error, sizeof(d->error), dev_name(d), fmt, ap);
    va_end(ap);
    d->p.broken(d->p.ctx);
}

bool net_queue_enter(struct virtio_net_queue *q)
{
    return virtio_queue_enter(&q->running, &q->busy);
}

void net_queue_leave(struct virtio_net_queue *q)
{
    virtio_queue_leave(&q->busy);
}

bool net_coalescing(const struct virtio_net *d)
{
    return d->p.coalesce && d->p.polled;
}

void net_queue_signal(struct virtio_net *d, struct virtio_net_queue *q,
                      struct virtio_net_pair_stats *st)
{
    if (st) {
        if (q->index & 1)
            st->tx_interrupts++;
        else
            st->rx_interrupts++;
    }
    d->p.signal(d->p.ctx, q->index);
}

/* With coalescing the policy may hold the interrupt the driver asked for:
 * its used_event may then lie behind later publishes, so net_coalesce
 * remembers it and flush_held() sends it when its time comes. The control
 * queue (st NULL) is never held. */
void net_queue_publish(struct virtio_net *d, struct virtio_net_queue *q,
                       struct virtio_net_pair_stats *st)
{
    bool wanted;

    q->pushed = false;
    wanted = virtq_publish(q->vq);
    if (st && net_coalescing(d))
        wanted =
            net_coalesce_publish(&q->co, d->p.coalesce, q->npkts, q->nbytes, wanted, d->p.now_ns());
    q->npkts = 0;
    q->nbytes = 0;
    if (wanted)
        net_queue_signal(d, q, st);
}

void net_chain_read(const struct virtq_chain *c, uint64_t off, void *dst, uint32_t len)
{
    uint8_t *out = dst;

    for (unsigned i = 0; i < c->nread && len; i++) {
        const struct virtq_buf *b = &c->buf[i];
        uint32_t n;

        if (off >= b->len) {
            off -= b->len;
            continue;
        }
        n = b->len - (uint32_t)off < len ? b->len - (uint32_t)off : len;
        memcpy(out, (const uint8_t *)b->host + off, n);
        out += n;
        len -= n;
        off = 0;
    }
}

/* --- the owner's entry points -------------------------------------------- */

/* Sends the held interrupts whose time came (cap, idle, a quiet epoch).
 * The clock is read only when some queue coalesces at all. */
static void flush_held(struct virtio_net *d)
{
    uint64_t now = 0;
    bool have_now = false;

    for (unsigned i = 0; i < d->p.pairs; i++) {
        struct virtio_net_pair *pp = &d->pair[i];
        struct virtio_net_queue *qs[2] = {&pp->rx, &pp->tx};

        for (unsigned k = 0; k < 2; k++) {
            struct virtio_net_queue *q = qs[k];

            if (!net_coalesce_active(&q->co) || !net_queue_enter(q))
                continue;
            if (!have_now) {
                now = d->p.now_ns();
                have_now = true;
            }
            if (net_coalesce_due(&q->co, d->p.coalesce, now))
                net_queue_signal(d, q, &pp->stats);
            net_queue_leave(q);
        }
    }
}

unsigned virtio_net_service(struct virtio_net *d, unsigned budget)
{
    unsigned n = 0, pairs = __atomic_load_n(&d->active_pairs, __ATOMIC_ACQUIRE);

    if (d->ctrl.vq && budget)
        n += net_ctrl_service(d, budget);
    /* Round robin, one share per pair, so one busy queue cannot starve
     * the others of the same guest. */
    for (unsigned i = 0; i < pairs && n < budget; i++) {
        unsigned pi = (d->tx_next + i) % pairs;
        unsigned share = (budget - n + pairs - i - 1) / (pairs - i);

        n += net_tx_service(d, pi, share);
    }
    d->tx_next = pairs ? (d->tx_next + 1) % pairs : 0;
    if (net_coalescing(d))
        flush_held(d);
    return n;
}

void *virtio_net_queue(void *dev, unsigned q)
{
    struct virtio_net *d = dev;

    return q < d->num_queues ? &d->qref[q] : NULL;
}

unsigned virtio_net_queue_service(void *queue, unsigned budget)
{
    struct virtio_net_qref *r = queue;
    struct virtio_net *d = r->dev;
    unsigned pairs = __atomic_load_n(&d->active_pairs, __ATOMIC_ACQUIRE);

    if (r->q == virtio_net_ctrlq(d->p.pairs, d->driver_features))
        return net_ctrl_service(d, budget);
    if ((r->q & 1) && r->q / 2 < pairs)
        return net_tx_service(d, r->q / 2, budget);
    return 0;
}

bool virtio_net_queue_inflight(void *queue)
{
    return false;
}

void virtio_net_flush(struct virtio_net *d)
{
    for (unsigned i = 0; i < d->p.pairs; i++) {
        struct virtio_net_pair *pp = &d->pair[i];

        if (!pp->rx.pushed || !net_queue_enter(&pp->rx))
            continue;
        net_queue_publish(d, &pp->rx, &pp->stats);
        net_queue_leave(&pp->rx);
    }
}

void virtio_net_set_link(struct virtio_net *d, bool up)
{
    uint8_t old = __atomic_load_n(&d->config[VIRTIO_NET_CFG_STATUS], __ATOMIC_RELAXED);
    uint8_t now = up ? (old | VIRTIO_NET_S_LINK_UP) : (old & ~VIRTIO_NET_S_LINK_UP);

    __atomic_store_n(&d->config[VIRTIO_NET_CFG_STATUS], now, __ATOMIC_RELEASE);
    if (now != old && d->p.config_changed)
        d->p.config_changed(d->p.ctx);
}

/* --- the transport's operations ------------------------------------------ */

/* Queue q as the driver with features f numbers it, or NULL if that
 * driver has no such queue. */
static struct virtio_net_queue *queue_of(struct virtio_net *d, unsigned q, uint64_t f)
{
    unsigned pairs = (f >> VIRTIO_NET_F_MQ) & 1 ? d->p.pairs : 1;

    if (q == virtio_net_ctrlq(d->p.pairs, f))
        return &d->ctrl;
    if (q / 2 >= pairs)
        return NULL;
    return q & 1 ? &d->pair[q / 2].tx : &d->pair[q / 2].rx;
}

/* Every queue structure, whichever number the driver gives it. */
static struct virtio_net_queue *queue_at(struct virtio_net *d, unsigned i)
{
    if (i == 2 * d->p.pairs)
        return &d->ctrl;
    return i & 1 ? &d->pair[i / 2].tx : &d->pair[i / 2].rx;
}

static uint32_t net_config_read(void *dev, unsigned offset, unsigned size)
{
    struct virtio_net *d = dev;
    uint32_t v = 0;

    if (size != 1 && size != 2 && size != 4)
        return 0;
    for (unsigned i = 0; i < size; i++)
        if (offset + i < VIRTIO_NET_CONFIG_SIZE)
            v |= (uint32_t)__atomic_load_n(&d->config[offset + i], __ATOMIC_RELAXED) << (8 * i);
    return v;
}

/* Read-only with VERSION_1: the MAC changes only through the control
 * queue, which needs CTRL_MAC_ADDR (not offered). */
static void net_config_write(void *dev, unsigned offset, unsigned size, uint32_t value)
{
}

static bool net_queue_enable(void *dev, unsigned qi, uint64_t driver_features)
{
    struct virtio_net *d = dev;
    struct virtio_net_queue *q = queue_of(d, qi, driver_features);

    if (!q)
        return false;
    if (q->enabled) {
        net_break(d, "queue %u enabled twice", qi);
        return false;
    }
    d->driver_features = driver_features;
    if (q == &d->ctrl) { /* its number depends on MQ */
        q->vq = &d->vqs[qi];
        q->index = qi;
    }
    q->vq->event_idx = driver_features & (1ull << VIRTIO_F_RING_EVENT_IDX);
    q->vq->indirect = driver_features & (1ull << VIRTIO_F_RING_INDIRECT_DESC);
    if (!virtq_start(q->vq, d->p.mem)) {
        fmt_snprintf(d->error, sizeof(d->error), "%s: queue %u: %s", dev_name(d), qi,
                     q->vq->error ? q->vq->error : "ring refused");
        return false;
    }
    virtq_set_notify(q->vq, !d->p.polled);
    q->pushed = false;
    q->enabled = true;
    if (d->driver_ok)
        __atomic_store_n(&q->running, 1, __ATOMIC_RELEASE);
    return true;
}

static void net_driver_ok(void *dev)
{
    struct virtio_net *d = dev;

    d->driver_ok = true;
    for (unsigned i = 0; i < d->num_queues; i++) {
        struct virtio_net_queue *q = queue_at(d, i);

        if (q->enabled)
            __atomic_store_n(&q->running, 1, __ATOMIC_RELEASE);
    }
}

static void queue_stop(struct virtio_net_queue *q)
{
    virtio_queue_stop(&q->running, &q->busy);
    q->enabled = false;
    q->pushed = false;
}

static void net_reset(void *dev)
{
    struct virtio_net *d = dev;

    for (unsigned i = 0; i < d->num_queues; i++)
        queue_stop(queue_at(d, i));
    /* The owner is out of every queue: the policies start over (a held
     * interrupt belongs to the driver that is gone). */
    uint64_t now = d->p.now_ns ? d->p.now_ns() : 0;

    for (unsigned i = 0; i < d->p.pairs; i++) {
        net_coalesce_reset(&d->pair[i].rx.co, now);
        net_coalesce_reset(&d->pair[i].tx.co, now);
        d->pair[i].rx.npkts = d->pair[i].tx.npkts = 0;
        d->pair[i].rx.nbytes = d->pair[i].tx.nbytes = 0;
    }
    /* Nothing in flight survives: TX chains are returned within the
     * service call that took them, and kept RX chains belong to the
     * driver that is gone. */
    for (unsigned i = 0; i < d->p.pairs; i++)
        net_rx_reset(&d->pair[i]);
    d->driver_ok = false;
    d->driver_features = 0;
    d->tx_next = 0;
    __atomic_store_n(&d->active_pairs, 1, __ATOMIC_RELEASE);
    d->promisc = false;
    d->allmulti = false;
    d->error[0] = '\0';
    __atomic_store_n(&d->needs_reset, false, __ATOMIC_RELEASE);
}

const struct virtio_pci_ops virtio_net_pci_ops = {
    .config_read = net_config_read,
    .config_write = net_config_write,
    .queue_enable = net_queue_enable,
    .driver_ok = net_driver_ok,
    .reset = net_reset,
};

/* --- setting up ---------------------------------------------------------- */

bool virtio_net_init(struct virtio_net *d, const struct virtio_net_params *p, char *why,
                     size_t why_size)
{
    const char *name = p->name ? p->name : "virtio-net";

    if (p->pairs < 1 || p->pairs > VIRTIO_NET_MAX_PAIRS) {
        fmt_snprintf(why, why_size, "%s: %u queue pairs (1 to %u)", name, p->pairs,
                     VIRTIO_NET_MAX_PAIRS);
        return false;
    }
    if (p->mtu && p->mtu < VIRTIO_NET_MIN_MTU) {
        fmt_snprintf(why, why_size, "%s: mtu %u (at least %u)", name, p->mtu, VIRTIO_NET_MIN_MTU);
        return false;
    }
    if (!p->mem || !p->signal || !p->broken || !p->tx || (p->coalesce && !p->now_ns)) {
        fmt_snprintf(why, why_size, "%s: guest memory and callbacks are required", name);
        return false;
    }
    if (net_mac_is_multicast(p->mac)) {
        fmt_snprintf(why, why_size, "%s: MAC address is multicast", name);
        return false;
    }
    memset(d, 0, sizeof(*d));
    d->p = *p;
    d->num_queues = 2 * p->pairs + 1;
    d->features = (1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM) |
                  (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_MRG_RXBUF) |
                  (1ull << VIRTIO_NET_F_STATUS) | (1ull << VIRTIO_NET_F_CTRL_VQ) |
                  (1ull << VIRTIO_NET_F_CTRL_RX) | (1ull << VIRTIO_F_RING_EVENT_IDX) |
                  (1ull << VIRTIO_F_RING_INDIRECT_DESC);
    if (p->pairs > 1)
        d->features |= 1ull << VIRTIO_NET_F_MQ;
    /* A VLAN tag may come on top of the MTU's payload and Ethernet header. */
    d->max_frame = p->mtu ? (uint32_t)p->mtu + NET_ETH_HLEN + 4 : NET_FRAME_MAX;
    if (p->mtu)
        d->features |= 1ull << VIRTIO_NET_F_MTU;
    memcpy(d->config + VIRTIO_NET_CFG_MAC, p->mac, NET_ETH_ALEN);
    d->config[VIRTIO_NET_CFG_STATUS] = VIRTIO_NET_S_LINK_UP;
    d->config[VIRTIO_NET_CFG_MAX_PAIRS] = (uint8_t)p->pairs;
    d->config[VIRTIO_NET_CFG_MTU] = (uint8_t)p->mtu;
    d->config[VIRTIO_NET_CFG_MTU + 1] = (uint8_t)(p->mtu >> 8);
    d->active_pairs = 1;
    for (unsigned i = 0; i < p->pairs; i++) {
        d->pair[i].rx = (struct virtio_net_queue){.vq = &d->vqs[2 * i], .index = 2 * i};
        d->pair[i].tx = (struct virtio_net_queue){.vq = &d->vqs[2 * i + 1], .index = 2 * i + 1};
        net_coalesce_init(&d->pair[i].rx.co, p->now_ns ? p->now_ns() : 0);
        net_coalesce_init(&d->pair[i].tx.co, p->now_ns ? p->now_ns() : 0);
    }
    d->ctrl = (struct virtio_net_queue){.vq = &d->vqs[2 * p->pairs], .index = 2 * p->pairs};
    for (unsigned i = 0; i < d->num_queues; i++)
        d->qref[i] = (struct virtio_net_qref){d, i};
    /* Spreads flows differently per device, from its MAC. */
    for (unsigned i = 0; i < NET_ETH_ALEN; i++)
        d->rx_hash_seed = d->rx_hash_seed * 31 + p->mac[i];
    return true;
}
