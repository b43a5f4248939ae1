/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net transmit path: taking the chains a guest made available on
 * a TX queue, checking each one's virtio_net_hdr, and handing the frame
 * behind it to params.tx as a scatter list of the guest's own buffers (no
 * copy here: whoever receives it copies once, straight into its buffers).
 * The chain goes back to the guest as soon as params.tx returns. The header
 * is the first 12 device-readable bytes wherever the descriptors cut them
 * (ANY_LAYOUT is implied by VERSION_1); it is copied out once and only the
 * copy is looked at.
 */
#include "kernel/lib/string.h"
#include "virtio/virtio_net_impl.h"

/* Why a well-formed chain's frame is refused, or NULL: header fields the
 * device did not offer, a checksum range outside the frame, a length out
 * of bounds. */
static const char *check_header(const struct virtio_net *d, const uint8_t *h, uint64_t len,
                                struct net_frame *f)
{
    uint8_t flags = h[0];
    uint32_t start = net_le16(h + 6), offset = net_le16(h + 8);

    if (len < NET_ETH_HLEN || len > d->max_frame)
        return "length";
    if (h[1] != VIRTIO_NET_HDR_GSO_NONE)
        return "gso"; /* no TSO/UFO offered */
    if (flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
        return "flags";
    f->csum = NET_CSUM_NONE;
    if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        if (!net_has(d, VIRTIO_NET_F_CSUM))
            return "csum not negotiated";
        if ((uint64_t)start + offset + 2 > len)
            return "csum range";
        f->csum = NET_CSUM_PARTIAL;
        f->csum_start = (uint16_t)start;
        f->csum_offset = (uint16_t)offset;
    }
    return NULL;
}

/* Builds the frame's pieces: every readable buffer after the header. */
static void gather(struct virtio_net_pair *pp, struct net_frame *f)
{
    const struct virtq_chain *c = &pp->tx_chain;
    uint32_t skip = VIRTIO_NET_HDR_BYTES;
    unsigned n = 0;

    for (unsigned i = 0; i < c->nread; i++) {
        const struct virtq_buf *b = &c->buf[i];

        if (skip >= b->len) {
            skip -= b->len;
            continue;
        }
        pp->segs[n].p = (const uint8_t *)b->host + skip;
        pp->segs[n].len = b->len - skip;
        n++;
        skip = 0;
    }
    f->seg = pp->segs;
    f->nseg = n;
}

/* One chain from pp->tx_chain. False if its shape broke the device. */
static bool tx_one(struct virtio_net *d, struct virtio_net_pair *pp)
{
    const struct virtq_chain *c = &pp->tx_chain;
    uint8_t hdr[VIRTIO_NET_HDR_BYTES];
    struct net_frame f;
    uint64_t len;

    if (c->nread != c->nbuf) {
        net_break(d, "queue %u: chain at head %u: device-writable buffer in a TX chain",
                  pp->tx.index, c->head);
        return false;
    }
    if (c->read_bytes < VIRTIO_NET_HDR_BYTES) {
        net_break(d, "queue %u: chain at head %u: shorter than the 12-byte header", pp->tx.index,
                  c->head);
        return false;
    }
    net_chain_read(c, 0, hdr, sizeof(hdr));
    len = c->read_bytes - VIRTIO_NET_HDR_BYTES;
    memset(&f, 0, sizeof(f));
    if (check_header(d, hdr, len, &f)) {
        pp->stats.tx_drops++;
    } else {
        f.len = (uint32_t)len;
        gather(pp, &f);
        net_frame_load_macs(&f);
        pp->stats.tx_packets++;
        pp->stats.tx_bytes += len;
        d->p.tx(d->p.tx_ctx, &f);
    }
    virtq_push(pp->tx.vq, c->head, 0);
    pp->tx.pushed = true;
    pp->tx.npkts++; /* a refused frame is a completion the driver waits for too */
    pp->tx.nbytes += len;
    return true;
}

unsigned net_tx_service(struct virtio_net *d, unsigned pair, unsigned budget)
{
    struct virtio_net_pair *pp = &d->pair[pair];
    unsigned n = 0;

    if (!budget || !net_queue_enter(&pp->tx))
        return 0;
    while (n < budget && !net_broken(d)) {
        int r = virtq_pop(pp->tx.vq, &pp->tx_chain);

        if (r == 0)
            break;
        if (r < 0) {
            net_break(d, "queue %u: %s", pp->tx.index,
                      pp->tx.vq->error ? pp->tx.vq->error : "bad ring");
            break;
        }
        n++;
        if (!tx_one(d, pp))
            break;
    }
    if (pp->tx.pushed)
        net_queue_publish(d, &pp->tx, &pp->stats);
    net_queue_leave(&pp->tx);
    return n;
}
