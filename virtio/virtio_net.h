/* SPDX-License-Identifier: MIT */
/*
 * A virtio-net device (virtio 1.x, 5.1) behind struct virtio_pci_ops: MAC,
 * STATUS (link), MRG_RXBUF, CSUM and GUEST_CSUM, MTU (when configured), MQ
 * with a control queue (CTRL_VQ, CTRL_RX, VQ_PAIRS_SET), and the ring
 * features EVENT_IDX and INDIRECT_DESC. Queues: rx0, tx0, rx1, tx1, ...,
 * then the control queue (2 * pairs + 1 in all, so at most 7 pairs on a
 * 16-queue transport); a driver without MQ has one pair and the control
 * queue is queue 2.
 *
 * No TSO/GSO (HOST_TSO*, GUEST_TSO*, *_UFO) is offered: a GSO frame would
 * have to be cut into MTU-sized frames by whoever receives it, and neither
 * the switch nor every NIC behind the uplink can do that yet (a receiving
 * guest without GUEST_TSO, or a NIC without TSO, would need software
 * segmentation, i.e. a second copy). Checksum offload costs nothing extra:
 * a receiver that cannot take a partial checksum gets it computed during
 * the one copy.
 *
 * Who calls what, on which CPU:
 *  - The transport's ops (config, queue enable, DRIVER_OK, reset): the
 *    guest's vCPUs, serialized by the transport's caller. reset waits for
 *    the owner to leave every queue (the running/busy handshake, as in
 *    virtio-blk) and returns with nothing touching the rings. Notifications
 *    never reach the device: the shared virtio layer's gate counts them
 *    (the `kicks` of a queue pair) and has the owner serve the queue.
 *  - virtio_net_service() (TX queues and the control queue),
 *    virtio_net_rx() (a frame into an RX queue) and virtio_net_flush()
 *    (publish what RX wrote, send interrupts): the device's owner only, the
 *    sidecore that owns the switch the device is a port of. Nothing there
 *    waits, allocates or locks; a service call takes at most budget chains.
 *  - params.tx, the frame a guest sent: called by virtio_net_service() on
 *    the owner with a frame whose pieces are the guest's TX buffers; they
 *    go back to the guest when tx returns, so the callee copies or drops.
 *  - virtio_net_set_link(): any CPU.
 * A malformed chain (ring errors from virtq_pop, a TX chain with writable
 * buffers or shorter than the header, an RX chain with readable buffers, a
 * control chain without command or ack) puts the device into NEEDS_RESET
 * through params.broken, once, with the reason in d->error. A bad header in
 * a well-formed TX chain (GSO, unknown flags, a checksum range outside the
 * frame, a frame shorter than an Ethernet header or longer than the limit)
 * only drops that frame and counts it.
 */
#ifndef SIDECORE_VIRTIO_VIRTIO_NET_H
#define SIDECORE_VIRTIO_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/virtio_pci.h"
#include "virtio/virtqueue.h"
#include "vmm/net/net_frame.h"
#include "vmm/sidecore/net_coalesce.h"

#define VIRTIO_ID_NET          1
#define VIRTIO_NET_MAX_PAIRS   ((VIRTIO_PCI_MAX_QUEUES - 1) / 2)
#define VIRTIO_NET_QUEUE_SIZE  VIRTQ_MAX_SIZE
#define VIRTIO_NET_HDR_BYTES   12 /* struct virtio_net_hdr with VERSION_1 */
#define VIRTIO_NET_CONFIG_SIZE 12 /* mac, status, max_virtqueue_pairs, mtu */
#define VIRTIO_NET_MIN_MTU     68

/* Device feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM       0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MTU        3
#define VIRTIO_NET_F_MAC        5
#define VIRTIO_NET_F_MRG_RXBUF  15
#define VIRTIO_NET_F_STATUS     16
#define VIRTIO_NET_F_CTRL_VQ    17
#define VIRTIO_NET_F_CTRL_RX    18
#define VIRTIO_NET_F_MQ         22

/* Configuration space by byte offset (5.1.4). */
#define VIRTIO_NET_CFG_MAC       0  /* 6 bytes */
#define VIRTIO_NET_CFG_STATUS    6  /* u16 */
#define VIRTIO_NET_CFG_MAX_PAIRS 8  /* u16 */
#define VIRTIO_NET_CFG_MTU       10 /* u16 */
#define VIRTIO_NET_S_LINK_UP     1

/* struct virtio_net_hdr (5.1.6): flags, gso_type, hdr_len, gso_size,
 * csum_start, csum_offset, num_buffers; little-endian. */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE     0

/* Control queue (5.1.6.5): {u8 class, u8 command, data...} then u8 ack. */
#define VIRTIO_NET_CTRL_RX              0
#define VIRTIO_NET_CTRL_RX_PROMISC      0
#define VIRTIO_NET_CTRL_RX_ALLMULTI     1
#define VIRTIO_NET_CTRL_MAC             1
#define VIRTIO_NET_CTRL_MAC_TABLE_SET   0
#define VIRTIO_NET_CTRL_MAC_ADDR_SET    1
#define VIRTIO_NET_CTRL_MQ              4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VIRTIO_NET_OK                   0
#define VIRTIO_NET_ERR                  1
#define VIRTIO_NET_CTRL_MAX_BYTES       4096 /* a command longer than this is refused */

/* RX chains taken from the ring but not filled yet (a frame that did not
 * fit leaves them for the next one), and how many buffers of one chain the
 * device uses (Linux posts 1 with MRG_RXBUF, up to 19 without). */
#define VIRTIO_NET_RX_STASH      64
#define VIRTIO_NET_RX_CHAIN_SEGS 24

/* Per queue pair, read by `stats` from another CPU (plain loads); the
 * owner is the only writer. Notifications are counted by the layer's gate. */
struct virtio_net_pair_stats {
    uint64_t rx_packets, rx_bytes; /* frames written into the guest's RX buffers */
    uint64_t tx_packets, tx_bytes; /* frames taken from the guest's TX queue */
    uint64_t rx_drops;             /* frames for the guest dropped: no (big enough) RX buffers */
    uint64_t rx_filtered;          /* unicast not for this MAC, not promiscuous (pair 0 only) */
    uint64_t tx_drops;             /* frames the guest sent with a header or length refused */
    uint64_t rx_interrupts;        /* signals asked of the transport for the RX queue */
    uint64_t tx_interrupts;        /* and for the TX queue */
};

struct virtio_net_queue {
    struct virtq *vq;
    unsigned index;
    bool enabled;                    /* the driver enabled it and virtq_start() took it */
    bool pushed;                     /* used entries not published yet */
    volatile uint32_t running, busy; /* the reset handshake (virtio_net.c) */
    /* Adaptive coalescing (params.coalesce set, RX and TX queues): the
     * policy's state, and the packets and bytes pushed since the last
     * publish. Owner only; reset under the handshake. */
    struct net_coalesce co;
    uint32_t npkts;
    uint64_t nbytes;
};

/* An RX chain popped and kept for the next frame: its head and the
 * device-writable buffers the device will use. */
struct virtio_net_rx_buf {
    uint8_t *p;
    uint32_t len;
};

struct virtio_net_rx_chain {
    uint16_t head;
    uint16_t nseg;
    uint32_t bytes;
    struct virtio_net_rx_buf seg[VIRTIO_NET_RX_CHAIN_SEGS];
};

struct virtio_net_pair {
    struct virtio_net_queue rx, tx;
    unsigned stash_first, stash_count;
    uint64_t stash_bytes;
    struct virtio_net_rx_chain stash[VIRTIO_NET_RX_STASH];
    struct virtq_chain tx_chain, rx_chain; /* scratch for pops */
    struct net_seg segs[NET_FRAME_SEGS];   /* the frame being sent */
    struct virtio_net_pair_stats stats;
};

/* A queue number as the shared virtio layer names a servicing context. */
struct virtio_net_qref {
    struct virtio_net *dev;
    unsigned q;
};

struct virtio_net_params {
    unsigned pairs; /* 1..VIRTIO_NET_MAX_PAIRS: max_virtqueue_pairs */
    uint8_t mac[NET_ETH_ALEN];
    uint16_t mtu;     /* 0: VIRTIO_NET_F_MTU not offered (frames up to NET_FRAME_MAX) */
    const char *name; /* for messages: "guest web0 net0" */
    const struct vmem *mem;
    bool polled; /* sidecore mode: keep driver notifications suppressed */
    void (*signal)(void *ctx, unsigned q);
    void (*broken)(void *ctx);
    void (*config_changed)(void *ctx); /* optional: the link changed */
    void *ctx;
    void (*tx)(void *tx_ctx, const struct net_frame *f);
    void *tx_ctx; /* the switch port (vmm/net/virtio_port.h) */
    /* Adaptive interrupt coalescing of the RX and TX queues
     * (vmm/sidecore/net_coalesce.h), polled mode only; NULL sends every
     * interrupt the driver asks for. now_ns: the owner's monotonic clock
     * (clock_uptime_ns in the hypervisor), required with coalesce. */
    const struct net_coalesce_params *coalesce;
    uint64_t (*now_ns)(void);
};

struct virtio_net {
    struct virtio_net_params p;
    unsigned num_queues;
    uint64_t features;        /* offered, device-specific and ring bits */
    uint64_t driver_features; /* as of the last queue enable */
    uint32_t max_frame;       /* bytes of Ethernet frame a TX chain may carry */
    uint8_t config[VIRTIO_NET_CONFIG_SIZE];
    struct virtq vqs[VIRTIO_PCI_MAX_QUEUES];
    struct virtio_net_pair pair[VIRTIO_NET_MAX_PAIRS];
    struct virtio_net_queue ctrl;
    struct virtq_chain ctrl_chain;
    volatile unsigned active_pairs; /* VQ_PAIRS_SET; 1 after reset */
    volatile bool promisc, allmulti;
    unsigned tx_next; /* the pair the next service call starts with */
    uint32_t rx_hash_seed;
    bool driver_ok;
    volatile bool needs_reset;
    uint64_t ctrl_commands, ctrl_errors; /* commands taken, of which answered ERR */
    struct virtio_net_qref qref[VIRTIO_PCI_MAX_QUEUES];
    char error[160];
};

extern const struct virtio_pci_ops virtio_net_pci_ops;

/* Sets the device up (config space, features, every queue stopped). False,
 * with why, for a pair count, MTU or callbacks it cannot take. */
bool virtio_net_init(struct virtio_net *d, const struct virtio_net_params *p, char *why,
                     size_t why_size);

/* Owner. Serves the control queue and the TX queues of the active pairs
 * (round robin, at most budget chains in all); every frame goes to
 * params.tx. With coalescing, also sends the held RX and TX interrupts
 * whose time came (the switch calls this on every visit). Returns the
 * chains taken (0: nothing to do, or not running). */
unsigned virtio_net_service(struct virtio_net *d, unsigned budget);

/* Owner. Copies f into an RX queue (chosen by a flow hash among the
 * active pairs) with the header its checksum state asks for, across as
 * many chains as MRG_RXBUF allows. NET_DROPPED (counted in rx_drops when
 * the guest had no buffers for it) when it cannot be delivered now,
 * NET_FILTERED (rx_filtered) for unicast not to this MAC while the guest is
 * not promiscuous; never waits. The used entries are published by
 * virtio_net_flush(). */
enum net_deliver virtio_net_rx(struct virtio_net *d, const struct net_frame *f);

/* Owner. Publishes the RX entries written since the last flush and sends
 * the interrupts the driver asked for (with coalescing: those the policy
 * does not hold; held ones go out from virtio_net_service). */
void virtio_net_flush(struct virtio_net *d);

/* Per-queue entry points in the shape of the shared virtio layer's
 * struct guest_virtio_device (queue, service, inflight). Queue q's context
 * is its number; service resolves it with the negotiated features: a TX
 * queue of an active pair is that pair's TX service, the control queue the
 * control service, an RX queue (filled by virtio_net_rx, not by polling)
 * or an inactive pair nothing. Like virtio_net_service() these run on the
 * switch's owner only: in sidecore mode register the switch
 * (net_switch_service) with the sidecore, not these queues, so one CPU
 * owns every device of a switch; in trap mode call them holding the
 * switch's lock. Nothing is ever owed later: inflight is always false. */
void *virtio_net_queue(void *dev, unsigned q);
unsigned virtio_net_queue_service(void *queue, unsigned budget);
bool virtio_net_queue_inflight(void *queue);

/* Any CPU. Sets the link bit of the status field and, when it changed,
 * tells the transport (configuration-change interrupt). */
void virtio_net_set_link(struct virtio_net *d, bool up);

/* Queue numbers. The control queue follows the last pair the driver can
 * use: 2 * max_virtqueue_pairs with MQ negotiated, 2 without (5.1.2). */
static inline unsigned virtio_net_ctrlq(unsigned pairs, uint64_t driver_features)
{
    return (driver_features >> VIRTIO_NET_F_MQ) & 1 ? 2 * pairs : 2;
}
static inline unsigned virtio_net_rxq(unsigned pair)
{
    return 2 * pair;
}
static inline unsigned virtio_net_txq(unsigned pair)
{
    return 2 * pair + 1;
}

#endif
