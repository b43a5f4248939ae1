/* SPDX-License-Identifier: MIT */
/*
 * The uplink adapter (nic_port.h): receive buffers posted to the NIC and
 * reposted after their frame went through the switch, transmit buffers on
 * a free list, the one copy into a transmit buffer (with a deferred
 * checksum completed on the way), and one tx_submit per flush.
 */
#include "vmm/net/nic_port.h"

#include "kernel/lib/string.h"

static uint8_t *buf_ptr(uint64_t device_address)
{
    return (uint8_t *)(uintptr_t)device_address; /* identity mapped */
}

static uint64_t tx_addr(const struct net_nic_port *np, unsigned i)
{
    return (uint64_t)(uintptr_t)(np->mem + (size_t)(np->nrx + i) * NET_NIC_BUF_SIZE);
}

/* Posts what waits to be posted; keeps what the ring cannot take. */
static void rx_post(struct net_nic_port *np)
{
    unsigned n;

    if (!np->rx_unposted)
        return;
    n = np->ops->rx_refill(np->nic, np->q, np->rx_wait, np->rx_unposted);
    if (n > np->rx_unposted)
        n = np->rx_unposted;
    memmove(np->rx_wait, np->rx_wait + n, (np->rx_unposted - n) * sizeof(np->rx_wait[0]));
    np->rx_unposted -= n;
}

bool net_nic_port_init(struct net_nic_port *np, const struct net_nic_ops *ops, void *nic,
                       unsigned q, uint8_t *mem, unsigned nrx, unsigned ntx)
{
    if (!ops || !mem || nrx < 1 || nrx > NET_NIC_MAX_BUFS || ntx < 1 || ntx > NET_NIC_MAX_BUFS)
        return false;
    memset(np, 0, sizeof(*np));
    np->ops = ops;
    np->nic = nic;
    np->q = q;
    np->port = -1;
    np->mem = mem;
    np->nrx = nrx;
    np->ntx = ntx;
    for (unsigned i = 0; i < nrx; i++)
        np->rx_wait[i] = (uint64_t)(uintptr_t)(mem + (size_t)i * NET_NIC_BUF_SIZE);
    np->rx_unposted = nrx;
    for (unsigned i = 0; i < ntx; i++)
        np->tx_free_list[i] = (uint16_t)(ntx - 1 - i);
    np->tx_free = ntx;
    rx_post(np);
    return true;
}

bool net_nic_port_attach(struct net_nic_port *np, struct net_switch *sw, const char *name,
                         const char **why)
{
    int port = net_switch_add_port(sw, name, &net_nic_port_ops, np, NULL, true, why);

    if (port < 0)
        return false;
    np->sw = sw;
    np->port = port;
    return true;
}

static void tx_reclaim(struct net_nic_port *np)
{
    uint64_t cookies[NET_NIC_BATCH];
    unsigned n;

    do {
        n = np->ops->tx_reclaim(np->nic, np->q, cookies, NET_NIC_BATCH);
        for (unsigned i = 0; i < n && i < NET_NIC_BATCH; i++)
            if (cookies[i] < np->ntx && np->tx_free < np->ntx)
                np->tx_free_list[np->tx_free++] = (uint16_t)cookies[i];
    } while (n == NET_NIC_BATCH);
}

static unsigned nic_poll(void *ctx, unsigned budget)
{
    struct net_nic_port *np = ctx;
    struct net_nic_rx rx[NET_NIC_BATCH];
    unsigned n, got = 0;

    tx_reclaim(np);
    while (got < budget) {
        unsigned want = budget - got < NET_NIC_BATCH ? budget - got : NET_NIC_BATCH;

        n = np->ops->rx_poll(np->nic, np->q, rx, want);
        if (n > want)
            n = want;
        for (unsigned i = 0; i < n; i++) {
            struct net_seg seg = {buf_ptr(rx[i].buf), rx[i].len};
            struct net_frame f = {.seg = &seg, .nseg = 1, .len = rx[i].len};

            if (!rx[i].ok || rx[i].len < NET_ETH_HLEN || rx[i].len > NET_NIC_BUF_SIZE) {
                np->stats.rx_errors++;
            } else if (np->sw) {
                net_frame_load_macs(&f);
                net_switch_input(np->sw, (unsigned)np->port, &f);
            }
            if (np->rx_unposted < NET_NIC_MAX_BUFS)
                np->rx_wait[np->rx_unposted++] = rx[i].buf;
        }
        got += n;
        if (n < want)
            break;
    }
    rx_post(np);
    return got;
}

static void nic_flush(void *ctx)
{
    struct net_nic_port *np = ctx;
    unsigned n;

    if (!np->nbatch)
        return;
    n = np->ops->tx_submit(np->nic, np->q, np->batch, np->nbatch);
    np->stats.tx_submits++;
    if (n > np->nbatch)
        n = np->nbatch;
    for (unsigned i = n; i < np->nbatch; i++) {
        np->stats.tx_ring_full++;
        np->tx_free_list[np->tx_free++] = (uint16_t)np->batch[i].cookie;
    }
    np->nbatch = 0;
}

/* The one copy, completing a deferred checksum on the way. */
static enum net_deliver nic_deliver(void *ctx, const struct net_frame *f)
{
    struct net_nic_port *np = ctx;
    unsigned i;
    uint8_t *b;

    if (f->len > NET_NIC_MAX_FRAME || f->len < NET_ETH_HLEN) {
        np->stats.tx_too_big++;
        return NET_DROPPED;
    }
    if (np->nbatch == NET_NIC_BATCH)
        nic_flush(np); /* a full batch goes now: still one tail write per batch */
    if (!np->tx_free) {
        np->stats.tx_no_buffer++;
        return NET_DROPPED;
    }
    i = np->tx_free_list[--np->tx_free];
    b = buf_ptr(tx_addr(np, i));
    net_frame_read(f, 0, b, f->len);
    if (f->csum == NET_CSUM_PARTIAL && (uint32_t)f->csum_start + f->csum_offset + 2 <= f->len) {
        uint16_t sum = net_frame_csum(f, f->csum_start);

        b[f->csum_start + f->csum_offset] = (uint8_t)(sum >> 8);
        b[f->csum_start + f->csum_offset + 1] = (uint8_t)sum;
        np->stats.tx_csum_done++;
    }
    np->batch[np->nbatch++] = (struct net_nic_tx){tx_addr(np, i), (uint16_t)f->len, i};
    return NET_DELIVERED;
}

const struct net_port_ops net_nic_port_ops = {
    .poll = nic_poll,
    .deliver = nic_deliver,
    .flush = nic_flush,
};
