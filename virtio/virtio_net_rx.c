/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net receive path: copying a frame (a scatter list of someone
 * else's buffers: another guest's TX chain, a NIC's RX buffer) into the
 * chains the guest posted on an RX queue. This copy is the only one the
 * frame sees between sender and receiver.
 *
 * Chains are taken from the ring into a small stash first and only then
 * written, because a frame that does not fit must not consume them: the
 * device cannot give a chain back unused. With MRG_RXBUF a frame spans as
 * many stashed chains as it needs (num_buffers in the header says how
 * many, each chain filled before the next); without it, one chain must
 * hold header and frame. A frame the stash cannot hold once the ring is
 * empty is dropped and counted; the stash keeps its chains for the next
 * frame, so a guest short of RX buffers costs the switch nothing but the
 * drop. A partial checksum goes to a guest that negotiated GUEST_CSUM as
 * NEEDS_CSUM (it completes or trusts it); for any other guest it is
 * computed from the source and written in place during the copy.
 */
#include "kernel/lib/string.h"
#include "virtio/virtio_net_impl.h"

void net_rx_reset(struct virtio_net_pair *pp)
{
    pp->stash_first = 0;
    pp->stash_count = 0;
    pp->stash_bytes = 0;
}

static struct virtio_net_rx_chain *stash_at(struct virtio_net_pair *pp, unsigned i)
{
    return &pp->stash[(pp->stash_first + i) % VIRTIO_NET_RX_STASH];
}

/* Pops chains until the stash holds need bytes or max_chains chains, or
 * the ring is empty. False if a chain broke the device. */
static bool stash_fill(struct virtio_net *d, struct virtio_net_pair *pp, uint64_t need,
                       unsigned max_chains)
{
    while (pp->stash_bytes < need && pp->stash_count < max_chains) {
        const struct virtq_chain *c = &pp->rx_chain;
        struct virtio_net_rx_chain *s;
        int r = virtq_pop(pp->rx.vq, &pp->rx_chain);

        if (r == 0)
            return true;
        if (r < 0) {
            net_break(d, "queue %u: %s", pp->rx.index,
                      pp->rx.vq->error ? pp->rx.vq->error : "bad ring");
            return false;
        }
        if (c->nread) {
            net_break(d, "queue %u: chain at head %u: device-readable buffer in an RX chain",
                      pp->rx.index, c->head);
            return false;
        }
        s = stash_at(pp, pp->stash_count);
        s->head = c->head;
        s->nseg = c->nbuf < VIRTIO_NET_RX_CHAIN_SEGS ? (uint16_t)c->nbuf : VIRTIO_NET_RX_CHAIN_SEGS;
        s->bytes = 0;
        for (unsigned i = 0; i < s->nseg; i++) {
            uint32_t room = NET_FRAME_MAX + VIRTIO_NET_HDR_BYTES - s->bytes;

            /* Nothing needs more than a whole frame: keeps bytes small. */
            s->seg[i].p = c->buf[i].host;
            s->seg[i].len = c->buf[i].len < room ? c->buf[i].len : room;
            s->bytes += s->seg[i].len;
            if (s->bytes == NET_FRAME_MAX + VIRTIO_NET_HDR_BYTES) {
                s->nseg = (uint16_t)(i + 1);
                break;
            }
        }
        pp->stash_count++;
        pp->stash_bytes += s->bytes;
    }
    return true;
}

/* Where the next byte goes: chain (from the stash's first), buffer, offset. */
struct rx_cursor {
    struct virtio_net_pair *pp;
    unsigned chain, seg;
    uint32_t off;
};

static void cursor_write(struct rx_cursor *cur, const uint8_t *src, uint32_t len)
{
    while (len) {
        struct virtio_net_rx_chain *ch = stash_at(cur->pp, cur->chain);
        struct virtio_net_rx_buf *b = &ch->seg[cur->seg];
        uint32_t n;

        if (cur->off == b->len) {
            cur->off = 0;
            if (++cur->seg == ch->nseg) {
                cur->seg = 0;
                cur->chain++;
            }
            continue;
        }
        n = b->len - cur->off < len ? b->len - cur->off : len;
        memcpy(b->p + cur->off, src, n);
        cur->off += n;
        src += n;
        len -= n;
    }
}

/* Copies frame bytes [from, to). */
static void cursor_copy(struct rx_cursor *cur, const struct net_frame *f, uint32_t from,
                        uint32_t to)
{
    uint32_t pos = 0;

    for (unsigned i = 0; i < f->nseg && pos < to; i++) {
        const struct net_seg *s = &f->seg[i];
        uint32_t a = from > pos ? from - pos : 0;
        uint32_t b = to - pos < s->len ? to - pos : s->len;

        if (a < b)
            cursor_write(cur, s->p + a, b - a);
        pos += s->len;
    }
}

/* A flow's pair: the Ethernet addresses and, for IPv4, the addresses and
 * the first four bytes after a 20-byte IP header (TCP/UDP ports). */
static unsigned pick_pair(const struct virtio_net *d, const struct net_frame *f)
{
    unsigned pairs = __atomic_load_n(&d->active_pairs, __ATOMIC_ACQUIRE);
    uint8_t h[38];
    uint32_t n, hash = d->rx_hash_seed;

    if (pairs <= 1 || pairs > d->p.pairs)
        return 0;
    n = f->len < sizeof(h) ? f->len : sizeof(h);
    memset(h, 0, sizeof(h));
    net_frame_read(f, 0, h, n);
    if (!(h[12] == 0x08 && h[13] == 0x00))
        n = 2 * NET_ETH_ALEN; /* not IPv4 */
    for (uint32_t i = 0; i < n; i++) {
        if (i >= 2 * NET_ETH_ALEN && i < 26)
            continue; /* the IP header up to its addresses */
        hash = (hash ^ h[i]) * 16777619u;
    }
    return hash % pairs;
}

static void put_le16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* Writes f into the stash's first chains (they hold need bytes) and
 * returns them to the guest. */
static void rx_write(struct virtio_net *d, struct virtio_net_pair *pp, const struct net_frame *f,
                     uint32_t need)
{
    struct rx_cursor cur = {pp, 0, 0, 0};
    uint8_t hdr[VIRTIO_NET_HDR_BYTES] = {0};
    uint32_t left = need, consumed = 0;
    unsigned used = 0;

    while (consumed < need)
        consumed += stash_at(pp, used++)->bytes;
    put_le16(hdr + 10, used);
    if (f->csum == NET_CSUM_PARTIAL && net_has(d, VIRTIO_NET_F_GUEST_CSUM)) {
        hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        put_le16(hdr + 6, f->csum_start);
        put_le16(hdr + 8, f->csum_offset);
    } else if (f->csum == NET_CSUM_VALID && net_has(d, VIRTIO_NET_F_GUEST_CSUM)) {
        hdr[0] = VIRTIO_NET_HDR_F_DATA_VALID;
    }
    cursor_write(&cur, hdr, sizeof(hdr));
    if (f->csum == NET_CSUM_PARTIAL && !hdr[0]) {
        uint32_t at = (uint32_t)f->csum_start + f->csum_offset;
        uint16_t sum = net_frame_csum(f, f->csum_start);
        uint8_t be[2] = {(uint8_t)(sum >> 8), (uint8_t)sum};

        cursor_copy(&cur, f, 0, at);
        cursor_write(&cur, be, 2);
        cursor_copy(&cur, f, at + 2, f->len);
    } else {
        cursor_copy(&cur, f, 0, f->len);
    }
    for (unsigned i = 0; i < used; i++) {
        struct virtio_net_rx_chain *ch = stash_at(pp, 0);
        uint32_t w = ch->bytes < left ? ch->bytes : left;

        virtq_push(pp->rx.vq, ch->head, w);
        left -= w;
        pp->stash_bytes -= ch->bytes;
        pp->stash_first = (pp->stash_first + 1) % VIRTIO_NET_RX_STASH;
        pp->stash_count--;
    }
    pp->rx.pushed = true;
    pp->rx.npkts++;
    pp->rx.nbytes += f->len;
    pp->stats.rx_packets++;
    pp->stats.rx_bytes += f->len;
}

enum net_deliver virtio_net_rx(struct virtio_net *d, const struct net_frame *f)
{
    struct virtio_net_pair *pp;
    uint32_t need = VIRTIO_NET_HDR_BYTES + f->len;
    enum net_deliver res = NET_DROPPED;

    if (net_broken(d) || f->len < NET_ETH_HLEN || f->len > NET_FRAME_MAX)
        return NET_DROPPED;
    if (f->csum == NET_CSUM_PARTIAL && (uint32_t)f->csum_start + f->csum_offset + 2 > f->len)
        return NET_DROPPED; /* the sender's bug: its checks should have refused it */
    /* The filter first: a flood of frames for other MACs costs one
     * comparison each (counted on pair 0, touching no ring). */
    if (!net_mac_is_multicast(f->dst) && !net_mac_equal(f->dst, d->p.mac) &&
        !__atomic_load_n(&d->promisc, __ATOMIC_ACQUIRE)) {
        d->pair[0].stats.rx_filtered++;
        return NET_FILTERED;
    }
    pp = &d->pair[pick_pair(d, f)];
    if (!net_queue_enter(&pp->rx))
        return NET_DROPPED;
    if (stash_fill(d, pp, need, net_has(d, VIRTIO_NET_F_MRG_RXBUF) ? VIRTIO_NET_RX_STASH : 1)) {
        /* Without MRG_RXBUF only the first chain counts. */
        uint64_t have = net_has(d, VIRTIO_NET_F_MRG_RXBUF)
                            ? pp->stash_bytes
                            : (pp->stash_count ? stash_at(pp, 0)->bytes : 0);

        if (have >= need) {
            rx_write(d, pp, f, need);
            res = NET_DELIVERED;
        } else {
            pp->stats.rx_drops++;
            /* Out of buffers: only an interrupt makes the driver refill. */
            if (net_coalescing(d) && net_coalesce_starved(&pp->rx.co))
                net_queue_signal(d, &pp->rx, &pp->stats);
        }
    }
    net_queue_leave(&pp->rx);
    return res;
}
