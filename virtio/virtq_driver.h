/* SPDX-License-Identifier: MIT */
/*
 * The driver side of a virtio split virtqueue (virtio 1.x, 2.7): laying out
 * a ring in memory the caller provides, making buffer chains available
 * (direct, or through an indirect table the caller provides), deciding
 * whether the device wants a notification, taking used entries back, and
 * asking for or suppressing interrupts. It is what a guest driver does, in
 * the hypervisor: the host tests drive virtqueue.c with it, and the
 * hypervisor's own virtio-blk driver (the `blktest` command) uses it against
 * a device. Nothing allocates: the free-descriptor list lives in the struct,
 * sized for VIRTQ_MAX_SIZE, and is never read back from ring memory, so a
 * device scribbling on the descriptor table cannot corrupt it. Values the
 * device writes (used->idx, used ids) are checked before use.
 */
#ifndef SIDECORE_VIRTIO_VIRTQ_DRIVER_H
#define SIDECORE_VIRTIO_VIRTQ_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtio_mem.h"
#include "virtio/virtqueue.h"

/* One buffer to hand the device. */
struct virtq_sg {
    uint64_t gpa;
    uint32_t len;
};

struct virtq_driver {
    const struct vmem *mem;
    uint16_t size;
    bool event_idx; /* VIRTIO_F_RING_EVENT_IDX negotiated */

    /* Where the parts went (what the transport tells the device). */
    uint64_t desc_gpa, avail_gpa, used_gpa;
    uint8_t *desc, *avail, *used; /* their host pointers */

    uint16_t avail_idx; /* avail->idx as we last published it */
    uint16_t kick_idx;  /* avail->idx at the last notification decision */
    uint16_t last_used; /* next used entry to take */

    /* Free descriptors: a list through next_free[]; an allocated chain
     * keeps its links there, so freeing it needs nothing from the ring. */
    uint16_t free_head, num_free;
    uint16_t next_free[VIRTQ_MAX_SIZE];
    uint16_t chain_len[VIRTQ_MAX_SIZE]; /* descriptors of the chain at a head, 0 if free */

    const char *error; /* what the device did wrong, NULL while it behaves */
};

/* Bytes a ring of size entries needs from virtq_driver_init(): descriptor
 * table, available ring (with used_event), used ring (with avail_event,
 * 4-byte aligned). */
uint64_t virtq_driver_ring_bytes(uint16_t size);

/* Lays out and clears a ring at gpa (16-byte aligned, ring_bytes(size)
 * inside mem), size a power of two up to VIRTQ_MAX_SIZE. first_idx is the
 * starting value of avail->idx and used->idx: 0 for a device after reset
 * (tests start near 65535 to exercise wraparound). Interrupts start enabled
 * and the ring empty. False if the arguments do not fit. */
bool virtq_driver_init(struct virtq_driver *d, const struct vmem *mem, uint64_t gpa, uint16_t size,
                       bool event_idx, uint16_t first_idx);

/* Makes a chain available: nread device-readable buffers then nwrite
 * device-writable ones (sg[0 .. nread+nwrite-1]), one descriptor each.
 * Returns the head (the id the device will hand back) or -1 if there are
 * not enough free descriptors or no buffers. */
int virtq_driver_add(struct virtq_driver *d, const struct virtq_sg *sg, unsigned nread,
                     unsigned nwrite);

/* Same, but the buffers go into an indirect table the caller provides at
 * table_gpa (16-byte aligned, 16 bytes per buffer, inside mem, untouched
 * until the chain is used); the chain takes one ring descriptor. Only when
 * VIRTIO_F_RING_INDIRECT_DESC was negotiated. */
int virtq_driver_add_indirect(struct virtq_driver *d, const struct virtq_sg *sg, unsigned nread,
                              unsigned nwrite, uint64_t table_gpa);

/* Puts head into the available ring as it is, whatever the descriptors at
 * head say (they are the caller's), and publishes it. For callers that
 * build descriptors themselves: tests writing malformed chains. */
void virtq_driver_post(struct virtq_driver *d, uint16_t head);

/* Whether the device wants a notification for what was added since the
 * last call: VIRTQ_USED_F_NO_NOTIFY, or with EVENT_IDX the avail_event the
 * device wrote, decides. The caller then writes the notify register. */
bool virtq_driver_kick_needed(struct virtq_driver *d);

/* Takes the next used entry: 1 with *id (the chain's head) and *len (bytes
 * the device wrote), whose descriptors are free again; 0 if none; -1 if the
 * device wrote nonsense (an index too far ahead, an id that is not in
 * flight; d->error says which), after which the ring is unusable. */
int virtq_driver_take_used(struct virtq_driver *d, uint16_t *id, uint32_t *len);

/* Asks for interrupts (enabled) or not. Without EVENT_IDX this is
 * VIRTQ_AVAIL_F_NO_INTERRUPT; with it, used_event is set to the next entry
 * (on) or half the index space away (off); that names one entry, so a
 * driver enables again after taking entries (as on every interrupt, with
 * or without EVENT_IDX, a driver does). Returns true if used entries
 * are already waiting after enabling: the caller must take them, as no
 * interrupt may come for them. */
bool virtq_driver_set_interrupt(struct virtq_driver *d, bool enabled);

/* EVENT_IDX only: ask for an interrupt once the device has written the
 * used entry number idx (Linux's "delayed callback"). */
void virtq_driver_interrupt_at(struct virtq_driver *d, uint16_t idx);

/* Chains made available and not taken back yet. */
static inline unsigned virtq_driver_in_flight(const struct virtq_driver *d)
{
    return (uint16_t)(d->avail_idx - d->last_used);
}

#endif
