/* SPDX-License-Identifier: MIT */
/*
 * A NIC queue pair as the switch's uplink port. Frames the NIC received are
 * handed to the switch in the NIC's own receive buffer (one piece, no copy;
 * receivers copy once), and the buffer is posted again. Frames for the NIC
 * are copied once, from the sender's pieces into one of the port's transmit
 * buffers, with a checksum the sender left to the device completed during
 * that copy (the NIC interface has no checksum offload); they are queued
 * and handed to the NIC in one batch per flush (one tail write). Frames
 * larger than NET_NIC_MAX_FRAME (no jumbo frames, no TSO) are dropped and
 * counted.
 *
 * Buffers: a block of (nrx + ntx) * NET_NIC_BUF_SIZE bytes the caller
 * allocates at start (identity mapped: a pointer's value is the device
 * address), cut into receive and transmit buffers by net_nic_port_init();
 * nothing is allocated afterwards. A transmit buffer is free again when
 * the NIC gives its cookie back (tx_reclaim, at the start of every poll).
 *
 * The NIC is reached through struct net_nic_ops, four calls shaped like
 * drivers/net/nic.h's data path (rx_refill, rx_poll, tx_submit,
 * tx_reclaim), so this file builds and is tested without a NIC driver;
 * net_nic_driver_ops (nic_port_driver.c) points them at the driver. Everything runs on the switch's
 * owner, which also owns the NIC queue pair (switch.h).
 */
#ifndef SIDECORE_VMM_NET_NIC_PORT_H
#define SIDECORE_VMM_NET_NIC_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/net/switch.h"

#define NET_NIC_BUF_SIZE  2048
#define NET_NIC_MAX_FRAME 1514 /* Ethernet without FCS, no jumbo frames */
#define NET_NIC_MAX_BUFS  1024 /* receive and transmit buffers each */
#define NET_NIC_BATCH     32   /* frames per rx_poll, tx_submit, tx_reclaim */

struct net_nic_rx {
    uint64_t buf; /* a buffer posted with rx_refill */
    uint16_t len;
    bool ok; /* false: the NIC flagged an error; the buffer is ours again */
};

struct net_nic_tx {
    uint64_t buf;
    uint16_t len;
    uint64_t cookie;
};

struct net_nic_ops {
    unsigned (*rx_refill)(void *nic, unsigned q, const uint64_t *bufs, unsigned count);
    unsigned (*rx_poll)(void *nic, unsigned q, struct net_nic_rx *out, unsigned max);
    unsigned (*tx_submit)(void *nic, unsigned q, const struct net_nic_tx *f, unsigned count);
    unsigned (*tx_reclaim)(void *nic, unsigned q, uint64_t *cookies, unsigned max);
};

/* The adapter's own counts (the switch counts delivered and dropped). */
struct net_nic_port_stats {
    uint64_t rx_errors;    /* frames the NIC flagged or shorter than a header */
    uint64_t tx_too_big;   /* frames over NET_NIC_MAX_FRAME */
    uint64_t tx_no_buffer; /* every transmit buffer was in flight */
    uint64_t tx_ring_full; /* queued, then refused by tx_submit */
    uint64_t tx_submits;   /* tx_submit calls (batches) */
    uint64_t tx_csum_done; /* frames whose deferred checksum the copy completed */
};

struct net_nic_port {
    const struct net_nic_ops *ops;
    void *nic;
    unsigned q;
    struct net_switch *sw;
    int port; /* -1 until attached */
    uint8_t *mem;
    unsigned nrx, ntx;
    unsigned rx_unposted; /* receive buffers the ring had no room for */
    uint64_t rx_wait[NET_NIC_MAX_BUFS];
    unsigned tx_free;
    uint16_t tx_free_list[NET_NIC_MAX_BUFS];
    unsigned nbatch;
    struct net_nic_tx batch[NET_NIC_BATCH];
    struct net_nic_port_stats stats;
};

/* Cuts mem into nrx receive and ntx transmit buffers (1..NET_NIC_MAX_BUFS
 * each) and posts the receive buffers. False if a count is out of range. */
bool net_nic_port_init(struct net_nic_port *np, const struct net_nic_ops *ops, void *nic,
                       unsigned q, uint8_t *mem, unsigned nrx, unsigned ntx);

/* Adds the port to sw as its uplink. False with why. */
bool net_nic_port_attach(struct net_nic_port *np, struct net_switch *sw, const char *name,
                         const char **why);

extern const struct net_port_ops net_nic_port_ops;

/* The NIC drivers' data path as net_nic_ops (nic_port_driver.c; the nic
 * argument is a struct nic *). Hypervisor only. */
extern const struct net_nic_ops net_nic_driver_ops;

#endif
