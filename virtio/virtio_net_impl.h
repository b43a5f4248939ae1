/* SPDX-License-Identifier: MIT */
/*
 * What the virtio-net files share and nobody else needs: breaking the
 * device, the queue ownership handshake, publishing a queue, and reading
 * bytes out of a popped chain. virtio_net.c explains the handshake.
 */
#ifndef SIDECORE_VIRTIO_VIRTIO_NET_IMPL_H
#define SIDECORE_VIRTIO_VIRTIO_NET_IMPL_H

#include "virtio/virtio_net.h"

/* NEEDS_RESET with a message, once until the next reset. */
void net_break(struct virtio_net *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline bool net_broken(const struct virtio_net *d)
{
    return __atomic_load_n(&d->needs_reset, __ATOMIC_ACQUIRE);
}

static inline bool net_has(const struct virtio_net *d, unsigned bit)
{
    return (d->driver_features >> bit) & 1;
}

/* The owner's side of the handshake: true if it may use q until
 * net_queue_leave(). */
bool net_queue_enter(struct virtio_net_queue *q);
void net_queue_leave(struct virtio_net_queue *q);

/* Publishes q's pushed entries; signals when the driver wants it and, for
 * a pair's queue (st set) with coalescing, the policy does not hold it. */
void net_queue_publish(struct virtio_net *d, struct virtio_net_queue *q,
                       struct virtio_net_pair_stats *st);
/* Signals q now, counted in st (NULL: the control queue). */
void net_queue_signal(struct virtio_net *d, struct virtio_net_queue *q,
                      struct virtio_net_pair_stats *st);
/* Adaptive coalescing is on: params.coalesce set and polled. */
bool net_coalescing(const struct virtio_net *d);

/* Copies len device-readable bytes of c starting at off into dst (the
 * caller keeps the range inside c->read_bytes). */
void net_chain_read(const struct virtq_chain *c, uint64_t off, void *dst, uint32_t len);

static inline uint32_t net_le16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static inline uint32_t net_le32(const uint8_t *p)
{
    return net_le16(p) | net_le16(p + 2) << 16;
}

unsigned net_ctrl_service(struct virtio_net *d, unsigned budget);
unsigned net_tx_service(struct virtio_net *d, unsigned pair, unsigned budget);
/* Forgets the RX chains a pair kept (the driver that posted them is gone). */
void net_rx_reset(struct virtio_net_pair *pp);

#endif
