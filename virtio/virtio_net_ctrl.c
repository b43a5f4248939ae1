/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net control queue (5.1.6.5): a command is {u8 class, u8
 * command, data} in device-readable buffers and a u8 ack in the first
 * device-writable byte. Answered here: RX PROMISC and ALLMULTI (CTRL_RX;
 * recorded: promiscuous lets the guest receive unicast for MACs that no
 * guest on its switch owns, never another guest's, which the switch keeps
 * from it), MAC TABLE_SET (CTRL_RX; checked and acknowledged: filtering
 * is best effort per 5.1.6.5.2 and multicast is always delivered), and MQ
 * VQ_PAIRS_SET (MQ; 1..max_virtqueue_pairs). Everything else, and anything
 * whose feature was not negotiated or whose data has the wrong size, is
 * answered VIRTIO_NET_ERR. A chain without a class and command or without
 * an ack byte breaks the device.
 */
#include "virtio/virtio_net_impl.h"

static uint8_t cmd_rx(struct virtio_net *d, const struct virtq_chain *c, uint8_t cmd, uint64_t len)
{
    uint8_t on;

    if (!net_has(d, VIRTIO_NET_F_CTRL_RX) || len != 1)
        return VIRTIO_NET_ERR;
    net_chain_read(c, 2, &on, 1);
    if (on > 1)
        return VIRTIO_NET_ERR;
    if (cmd == VIRTIO_NET_CTRL_RX_PROMISC)
        __atomic_store_n(&d->promisc, on, __ATOMIC_RELEASE);
    else if (cmd == VIRTIO_NET_CTRL_RX_ALLMULTI)
        __atomic_store_n(&d->allmulti, on, __ATOMIC_RELEASE);
    else
        return VIRTIO_NET_ERR; /* ALLUNI and the rest need CTRL_RX_EXTRA */
    return VIRTIO_NET_OK;
}

/* Two tables, unicast then multicast, each {le32 entries, entries * 6}. */
static uint8_t cmd_mac_table(struct virtio_net *d, const struct virtq_chain *c, uint64_t len)
{
    uint64_t off = 0;

    if (!net_has(d, VIRTIO_NET_F_CTRL_RX))
        return VIRTIO_NET_ERR;
    for (unsigned t = 0; t < 2; t++) {
        uint8_t n[4];

        if (len - off < 4)
            return VIRTIO_NET_ERR;
        net_chain_read(c, 2 + off, n, 4);
        off += 4;
        if (net_le32(n) > (len - off) / NET_ETH_ALEN)
            return VIRTIO_NET_ERR;
        off += (uint64_t)net_le32(n) * NET_ETH_ALEN;
    }
    return off == len ? VIRTIO_NET_OK : VIRTIO_NET_ERR;
}

static uint8_t cmd_mq(struct virtio_net *d, const struct virtq_chain *c, uint8_t cmd, uint64_t len)
{
    uint8_t v[2];
    uint32_t pairs;

    if (!net_has(d, VIRTIO_NET_F_MQ) || cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || len != 2)
        return VIRTIO_NET_ERR;
    net_chain_read(c, 2, v, 2);
    pairs = net_le16(v);
    if (pairs < 1 || pairs > d->p.pairs)
        return VIRTIO_NET_ERR;
    __atomic_store_n(&d->active_pairs, pairs, __ATOMIC_RELEASE);
    return VIRTIO_NET_OK;
}

static uint8_t command(struct virtio_net *d, const struct virtq_chain *c)
{
    uint8_t cc[2];
    uint64_t len = c->read_bytes - 2;

    if (len > VIRTIO_NET_CTRL_MAX_BYTES)
        return VIRTIO_NET_ERR;
    net_chain_read(c, 0, cc, 2);
    switch (cc[0]) {
    case VIRTIO_NET_CTRL_RX: return cmd_rx(d, c, cc[1], len);
    case VIRTIO_NET_CTRL_MAC:
        if (cc[1] == VIRTIO_NET_CTRL_MAC_TABLE_SET)
            return cmd_mac_table(d, c, len);
        return VIRTIO_NET_ERR; /* ADDR_SET needs CTRL_MAC_ADDR */
    case VIRTIO_NET_CTRL_MQ: return cmd_mq(d, c, cc[1], len);
    default: return VIRTIO_NET_ERR;
    }
}

unsigned net_ctrl_service(struct virtio_net *d, unsigned budget)
{
    struct virtq_chain *c = &d->ctrl_chain;
    unsigned n = 0;

    if (!net_queue_enter(&d->ctrl))
        return 0;
    while (n < budget && !net_broken(d)) {
        int r = virtq_pop(d->ctrl.vq, c);
        uint8_t ack;

        if (r == 0)
            break;
        if (r < 0) {
            net_break(d, "control queue: %s", d->ctrl.vq->error ? d->ctrl.vq->error : "bad ring");
            break;
        }
        n++;
        if (c->read_bytes < 2 || c->write_bytes < 1) {
            net_break(d, "control queue: chain at head %u: %s", c->head,
                      c->read_bytes < 2 ? "no class and command" : "no ack byte");
            break;
        }
        ack = command(d, c);
        d->ctrl_commands++;
        if (ack != VIRTIO_NET_OK)
            d->ctrl_errors++;
        *(uint8_t *)c->buf[c->nread].host = ack;
        virtq_push(d->ctrl.vq, c->head, 1);
        d->ctrl.pushed = true;
    }
    if (d->ctrl.pushed)
        net_queue_publish(d, &d->ctrl, NULL);
    net_queue_leave(&d->ctrl);
    return n;
}
