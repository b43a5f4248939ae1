/* SPDX-License-Identifier: MIT */
/*
 * An Ethernet frame as it crosses the switch: a scatter list of pieces of
 * memory that were already checked (a guest's TX buffers, after
 * virtq_pop() and the virtio-net header checks, or a NIC's RX buffer), plus
 * the checksum state the sender left it in. Nobody copies a frame into a
 * staging buffer: whoever receives it (a guest's RX queue, a NIC's TX ring)
 * copies straight from these pieces into its own buffers, which makes that
 * copy the only one between sender and receiver. A frame lives only for the
 * duration of one call (the sender's buffers go back to it afterwards), so
 * a receiver that cannot take it at once drops it and counts the drop.
 * Pure code, built for the host too.
 */
#ifndef SIDECORE_VMM_NET_NET_FRAME_H
#define SIDECORE_VMM_NET_NET_FRAME_H

#include <stdbool.h>
#include <stdint.h>

#define NET_ETH_ALEN   6
#define NET_ETH_HLEN   14
#define NET_FRAME_MAX  65550 /* the most virtio-net lets a frame carry (5.1.6.3) */
#define NET_FRAME_SEGS 130   /* VIRTQ_MAX_CHAIN: one piece per guest buffer */

/* Checksum state (the virtio-net header's, which NICs also speak). */
#define NET_CSUM_NONE 0 /* the frame's checksums are whatever the sender wrote */
#define NET_CSUM_PARTIAL                                                                           \
    1                    /* a checksum over [csum_start, end) is still to be
                            * stored at csum_start + csum_offset */
#define NET_CSUM_VALID 2 /* the sender (a NIC) verified the checksums */

struct net_seg {
    const uint8_t *p;
    uint32_t len;
};

struct net_frame {
    const struct net_seg *seg;
    unsigned nseg;
    uint32_t len; /* sum of seg[].len, at least NET_ETH_HLEN */
    uint8_t csum;
    uint16_t csum_start, csum_offset;             /* NET_CSUM_PARTIAL: start + offset + 2 <= len */
    uint8_t dst[NET_ETH_ALEN], src[NET_ETH_ALEN]; /* copied out once by the sender */
};

/* What a receiver did with a frame it was offered. */
enum net_deliver {
    NET_DELIVERED, /* copied into its buffers */
    NET_DROPPED,   /* it had no room (or is not running): a counted loss */
    NET_FILTERED,  /* not for it (unicast to another MAC, not promiscuous) */
};

/* Copies bytes [off, off + len) of the frame to dst (the caller keeps the
 * range inside the frame). */
void net_frame_read(const struct net_frame *f, uint32_t off, void *dst, uint32_t len);

/* The Internet checksum (RFC 1071) of bytes [off, end) of the frame, folded
 * and complemented, ready to be stored (big-endian bytes) at the checksum
 * field, as a NIC does for NET_CSUM_PARTIAL. The field's own bytes count
 * with whatever they hold (the sender's pseudo-header sum). A result of 0
 * is given as 0xffff, as Linux's skb_checksum_help does. */
uint16_t net_frame_csum(const struct net_frame *f, uint32_t off);

/* Fills f->dst and f->src from the first 12 bytes. */
void net_frame_load_macs(struct net_frame *f);

static inline bool net_mac_is_multicast(const uint8_t *mac)
{
    return mac[0] & 1; /* broadcast included */
}

static inline bool net_mac_equal(const uint8_t *a, const uint8_t *b)
{
    for (unsigned i = 0; i < NET_ETH_ALEN; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

#endif
