/* SPDX-License-Identifier: MIT */
/*
 * A virtio-blk driver (virtio 1.x, 5.2.6) on one split virtqueue, as a
 * guest's driver would be, for the hypervisor's own use: `blktest` drives
 * the same virtio-blk device code guests use (virtio/virtio_blk.c) through
 * it, and the host tests run it against that device. It builds requests -
 * the 16-byte header, the caller's data segments, the status byte - in a
 * driver area the caller places in the device's memory (struct vmem), hands
 * them over through virtq_driver (an indirect table per request when
 * VIRTIO_F_RING_INDIRECT_DESC is used, so the queue depth can reach the
 * ring size; direct chains otherwise), and gives each completion back with
 * the caller's cookie, the status byte and the length the device reported.
 * Nothing allocates; everything the driver keeps about a request lives in
 * the struct, so a device scribbling on ring or header memory cannot make
 * it lose or double-complete a request (virtq_driver checks used entries).
 * Pure code, host-tested.
 */
#ifndef SIDECORE_VIRTIO_VIRTIO_BLK_DRIVER_H
#define SIDECORE_VIRTIO_VIRTIO_BLK_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtio_mem.h"
#include "virtio/virtq_driver.h"
#include "virtio/virtqueue.h"

/* Data segments one request may have (the device offers seg_max 128). */
#define VIRTIO_BLK_DRIVER_MAX_SEGS 16
/* The status byte before the device writes it: not a status the device
 * may return, so a completion carrying it was never answered. */
#define VIRTIO_BLK_DRIVER_S_NONE 0xff

/* What submit returns. */
#define VIRTIO_BLK_DRIVER_OK      0
#define VIRTIO_BLK_DRIVER_EBUSY   (-1) /* the ring is full: reap, then submit again */
#define VIRTIO_BLK_DRIVER_EINVAL  (-2) /* no such request shape (segments, type) */
#define VIRTIO_BLK_DRIVER_EBROKEN (-3) /* the device broke the ring (d->error) */

struct virtio_blk_completion {
    void *cookie;
    uint32_t type;    /* VIRTIO_BLK_T_* as submitted */
    uint8_t status;   /* VIRTIO_BLK_S_*, or VIRTIO_BLK_DRIVER_S_NONE */
    uint32_t written; /* bytes the device says it wrote, status byte included */
};

struct virtio_blk_driver_slot {
    void *cookie;
    uint32_t type;
    bool busy;
};

struct virtio_blk_driver {
    struct virtq_driver vq;
    const struct vmem *mem;
    bool indirect;
    uint64_t req_gpa;   /* per slot: header (16 bytes), status byte at +16 */
    uint64_t table_gpa; /* per slot: an indirect table (indirect only) */
    uint16_t inflight;
    uint16_t free_count;
    uint16_t free_slot[VIRTQ_MAX_SIZE];
    uint16_t slot_of_head[VIRTQ_MAX_SIZE];
    struct virtio_blk_driver_slot slot[VIRTQ_MAX_SIZE];
    const char *error; /* what the device did wrong, NULL while it behaves */
};

/* The features this driver accepts of those a device offers: VERSION_1 and
 * INDIRECT_DESC when offered (no EVENT_IDX: blktest polls both sides). */
uint64_t virtio_blk_driver_features(uint64_t offered);

/* Bytes the driver area needs: ring, request headers, indirect tables. */
uint64_t virtio_blk_driver_area_bytes(uint16_t queue_size, bool indirect);

/* Lays out the driver area at area_gpa (16-byte aligned, area_bytes inside
 * mem) for a ring of queue_size entries (a power of two up to
 * VIRTQ_MAX_SIZE). False if it does not fit. */
bool virtio_blk_driver_init(struct virtio_blk_driver *d, const struct vmem *mem, uint64_t area_gpa,
                            uint16_t queue_size, bool indirect);

/* What the transport tells the device about the queue: size, the three
 * ring addresses, the ring features (into a disabled struct virtq). */
void virtio_blk_driver_queue_config(const struct virtio_blk_driver *d, struct virtq *vq);

/* Makes a request available: type (VIRTIO_BLK_T_*), the 512-byte sector it
 * starts at, and nseg data segments (device-writable for IN and GET_ID,
 * device-readable otherwise; none for FLUSH), each non-empty and inside the
 * device's memory (EINVAL otherwise: the device would have to break). The
 * caller then asks virtio_blk_driver_kick_needed(). */
int virtio_blk_driver_submit(struct virtio_blk_driver *d, uint32_t type, uint64_t sector,
                             const struct virtq_sg *data, unsigned nseg, void *cookie);

/* One-segment reads and writes, and a flush. */
int virtio_blk_driver_read(struct virtio_blk_driver *d, uint64_t sector, uint64_t gpa, uint32_t len,
                           void *cookie);
int virtio_blk_driver_write(struct virtio_blk_driver *d, uint64_t sector, uint64_t gpa,
                            uint32_t len, void *cookie);
int virtio_blk_driver_flush(struct virtio_blk_driver *d, void *cookie);

/* Whether the device wants a notification for what was submitted since
 * the last call. */
bool virtio_blk_driver_kick_needed(struct virtio_blk_driver *d);

/* Takes the next completion: 1 with *c filled, 0 if none is waiting, -1 if
 * the device wrote nonsense into the used ring (d->error says what; the
 * driver takes nothing more). */
int virtio_blk_driver_reap(struct virtio_blk_driver *d, struct virtio_blk_completion *c);

/* Requests submitted and not reaped yet. */
static inline unsigned virtio_blk_driver_in_flight(const struct virtio_blk_driver *d)
{
    return d->inflight;
}

#endif
