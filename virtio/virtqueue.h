/* SPDX-License-Identifier: MIT */
/*
 * The device side of a virtio split virtqueue (virtio 1.x, 2.7): taking
 * descriptor chains the driver made available, handing them back through
 * the used ring, and deciding when the driver wants an interrupt and whether
 * it should notify. Indirect descriptors (VIRTIO_F_RING_INDIRECT_DESC) and
 * VIRTIO_F_RING_EVENT_IDX are supported. Transport- and device-neutral: the
 * virtio-pci transport fills in the ring addresses, a device (virtio-blk,
 * later virtio-net) pops chains and pushes completions.
 *
 * The guest owns the ring memory and may write anything into it at any
 * time, so every index, address, length and flag is read once, checked, and
 * never trusted: a chain that loops, leaves guest memory, has too many
 * descriptors, nests indirect tables, or puts a device-readable buffer after
 * a device-writable one makes virtq_pop() fail with the reason in q->error;
 * the device then goes to NEEDS_RESET. Nothing here allocates or locks: a
 * queue is used by one CPU at a time (its sidecore, or in trap mode the
 * vCPU holding the queue's lock).
 */
#ifndef SIDECORE_VIRTIO_VIRTQUEUE_H
#define SIDECORE_VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtio_mem.h"

/* Ring layout (virtio 1.x 2.7.5-2.7.8). */
#define VIRTQ_DESC_F_NEXT          1
#define VIRTQ_DESC_F_WRITE         2
#define VIRTQ_DESC_F_INDIRECT      4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY     1

/* Byte offsets in the available and used rings, and a used element's size. */
#define VQ_AVAIL_FLAGS 0
#define VQ_AVAIL_IDX   2
#define VQ_AVAIL_RING  4
#define VQ_USED_FLAGS  0
#define VQ_USED_IDX    2
#define VQ_USED_RING   4
#define VQ_USED_ELEM   8

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

/* The largest queue a device offers (a power of two), and the most
 * descriptors one chain may have, direct and indirect together. */
#define VIRTQ_MAX_SIZE  256
#define VIRTQ_MAX_CHAIN 130

/* One buffer of a chain, already checked against guest memory. */
struct virtq_buf {
    uint64_t gpa;
    void *host;
    uint32_t len;
    bool write; /* device-writable */
};

/* A chain taken from the available ring. Device-readable buffers come
 * first (buf[0 .. nread-1]), then the device-writable ones. */
struct virtq_chain {
    uint16_t head; /* what virtq_push() must return */
    unsigned nbuf, nread;
    uint64_t read_bytes, write_bytes;
    struct virtq_buf buf[VIRTQ_MAX_CHAIN];
};

struct virtq {
    /* Set by the transport while the queue is disabled (the driver's
     * values), then checked by virtq_start(). */
    uint16_t size; /* a power of two, 1..VIRTQ_MAX_SIZE */
    uint64_t desc_gpa, avail_gpa, used_gpa;
    bool event_idx; /* VIRTIO_F_RING_EVENT_IDX negotiated */
    bool indirect;  /* VIRTIO_F_RING_INDIRECT_DESC negotiated */

    /* The device's state, from virtq_start() on. */
    const struct vmem *mem;
    uint8_t *desc, *avail, *used; /* host pointers of the three parts, checked once */
    uint16_t last_avail;          /* next available-ring slot to take */
    uint16_t used_idx;            /* our copy of used->idx, incl. pushes not yet published */
    uint16_t used_published;      /* used->idx as the driver last saw it */
    uint16_t avail_event;         /* the avail_event we last wrote (EVENT_IDX) */
    bool suppress_notify;         /* the device polls: keep the driver from notifying */
    const char *error;            /* why the queue broke, NULL while it is sound */
    char errbuf[128];             /* where a formatted q->error lives */
};

/* Checks the ring addresses against memory and alignment (desc 16, avail
 * 2, used 4; the event fields always counted) and starts the queue from the
 * ring's current state: the device's indices start at used->idx, so chains
 * the driver made available before the start (avail->idx need not be 0) are
 * taken by the next pops. Restart a queue only with no chain in flight.
 * Notifications start enabled. False, with q->error set, when the ring does
 * not fit guest memory, is misaligned, the size is not a power of two, or
 * avail->idx is more than size ahead of used->idx. */
bool virtq_start(struct virtq *q, const struct vmem *mem);

/* How many chains the driver has made available that were not taken yet. A
 * corrupt avail->idx (more than size ahead) breaks the queue and returns 0. */
uint16_t virtq_avail_count(struct virtq *q);

/* Takes the next available chain into c: 1 if one was taken, 0 if none is
 * available, -1 if it is malformed (q->error says why; the queue is broken
 * and every later call returns -1). */
int virtq_pop(struct virtq *q, struct virtq_chain *c);

/* Puts a chain back in the used ring with the number of bytes the device
 * wrote into its writable buffers. Not visible to the driver until
 * virtq_publish(). */
void virtq_push(struct virtq *q, uint16_t head, uint32_t written);
/* Makes every pushed entry visible (one used->idx store, after a release
 * barrier), and returns whether the driver wants an interrupt for them:
 * false if nothing was pushed since the last publish; otherwise without
 * EVENT_IDX unless VIRTQ_AVAIL_F_NO_INTERRUPT; with EVENT_IDX if this
 * publish wrote the used entry the driver named in used_event, i.e.
 * used_event in [previous publish's used->idx, new used->idx) (2.7.7.2;
 * the first publish after start counts from used->idx at start). */
bool virtq_publish(struct virtq *q);

/* Turns driver notifications off (the queue is polled) or on (trap mode).
 * Without EVENT_IDX: VIRTQ_USED_F_NO_NOTIFY. With it: on sets avail_event
 * to last_avail (and every pop moves it along); off puts avail_event half
 * the index space ahead of last_avail (pops keep it there), which a driver
 * never more than size ahead of us cannot cross, so it never notifies. Off
 * is a hint the driver may race with: a poller must look at the ring again
 * after turning notifications on. */
void virtq_set_notify(struct virtq *q, bool enabled);

#endif
