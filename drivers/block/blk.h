/* SPDX-License-Identifier: MIT */
/*
 * The block-backend interface: what a virtio-blk device (or `blktest`) talks
 * to, whatever stores the data (an NVMe namespace or a range of one, a RAM
 * disk). A backend exposes a device with queues; each queue belongs to one
 * requester (one sidecore or guest queue) and is used from one CPU at a time,
 * so submit and poll take no lock and allocate nothing: anything a queue
 * needs is set up when it is opened.
 *
 * Requests carry host-physical segments that the backend hands to the device
 * as they are (zero copy) when the device can take them. Any segment list is
 * valid - any byte offsets and lengths adding up to the request - and a
 * backend whose device has alignment rules deals with the rest itself (NVMe
 * bounces what PRPs cannot express, nvme_xfer.h), at worst answering
 * BLK_EBUSY until a poll frees what it needs. A request is either refused at once by submit()
 * (nothing was queued and no completion will follow), or accepted, in which
 * case exactly one completion reaches the queue's callback from a later
 * poll() - with an error status if the device failed it, timed out or went
 * away. Nothing accepted is ever dropped in silence.
 */
#ifndef SIDECORE_BLOCK_BLK_H
#define SIDECORE_BLOCK_BLK_H

#include <stdbool.h>
#include <stdint.h>

#define BLK_SECTOR_SIZE  512u
#define BLK_SECTOR_SHIFT 9

enum blk_op {
    BLK_OP_READ,
    BLK_OP_WRITE,
    BLK_OP_FLUSH,
    BLK_OP_DISCARD,
    BLK_OP_WRITE_ZEROES,
};

/* Statuses, errno-like: 0 is success, every error is negative. */
enum blk_status {
    BLK_OK = 0,
    BLK_EIO = -1,         /* the device reported a failure */
    BLK_ERANGE = -2,      /* the request lies (partly) outside the device */
    BLK_EINVAL = -3,      /* malformed: misaligned, length mismatch, bad op */
    BLK_ENOTSUP = -4,     /* the device cannot do this operation */
    BLK_ESEGMENTS = -5,   /* more segments than the backend can ever take */
    BLK_ETOOBIG = -6,     /* longer than max_transfer: split */
    BLK_EBUSY = -7,       /* the queue is full: poll, then submit again */
    BLK_ETIMEDOUT = -8,   /* no answer in time; the device was reset */
    BLK_EOFFLINE = -9,    /* the device is gone or in fatal status */
    BLK_EMEDIA = -10,     /* unrecoverable media error */
    BLK_EPROTECTED = -11, /* write protected / access denied */
    BLK_EABORTED = -12,   /* aborted by the device or by a reset */
    BLK_ENOSPC = -13,     /* no room: queues, devices or capacity */
};

/* A piece of a request's data, in host-physical memory. */
struct blk_seg {
    uint64_t phys;
    uint32_t len; /* bytes */
};

/*
 * One request. sector and nsectors are in 512-byte units relative to the
 * device. For READ and WRITE the segments hold the data and their lengths add
 * up to nsectors * 512; DISCARD and WRITE_ZEROES use nsectors and no
 * segments; FLUSH uses neither. The segment list is read only during
 * submit(); the memory it points at must stay until the completion.
 */
struct blk_request {
    enum blk_op op;
    uint64_t sector;
    uint32_t nsectors;
    unsigned nseg;
    const struct blk_seg *segs;
    void *cookie; /* handed back with the completion */
};

/* Called from poll() once per accepted request. */
typedef void (*blk_complete_fn)(void *ctx, void *cookie, int status);

struct blk_device;

/* A requester's queue. The requester owns the storage; the backend fills
 * backend_priv at open. */
struct blk_queue {
    struct blk_device *dev;
    blk_complete_fn complete;
    void *complete_ctx;
    unsigned depth; /* requests that may be in flight at once (set by the backend) */
    void *backend_priv;
};

#define BLK_F_FLUSH        (1u << 0) /* flush does something (volatile write cache) */
#define BLK_F_DISCARD      (1u << 1)
#define BLK_F_WRITE_ZEROES (1u << 2)

struct blk_device_ops {
    /* Gives q its own hardware queue; q->dev, complete and complete_ctx are
     * set by the caller. Returns BLK_OK or an error (e.g. BLK_ENOSPC). */
    int (*queue_open)(struct blk_queue *q);
    /* Only with nothing in flight; returns BLK_EBUSY otherwise. */
    int (*queue_close)(struct blk_queue *q);
    /* Never blocks: BLK_OK (accepted), BLK_EBUSY (full, try after a poll) or
     * another error (refused; no completion will follow). */
    int (*submit)(struct blk_queue *q, const struct blk_request *req);
    /* Reaps at most budget completions, calling q->complete for each;
     * returns how many. Also notices requests that timed out. */
    unsigned (*poll)(struct blk_queue *q, unsigned budget);
    /* When waiting for q's requests gave up (a reset's drain): makes sure
     * the device never touches their memory again and forgets them (no
     * completion follows), then closes q. Returns only when no DMA for
     * them can happen any more: BLK_OK, or an error after the device was
     * cut off (NVMe: taken offline). NULL for a backend whose requests
     * complete before submit returns. */
    int (*queue_abort)(struct blk_queue *q);
};

struct blk_device {
    const char *name;      /* e.g. "nvme0n1" or "nvme0n1@1M+64M" */
    uint64_t sectors;      /* capacity in 512-byte sectors */
    uint32_t block_size;   /* logical block size: requests are aligned to it */
    uint32_t max_transfer; /* bytes per READ/WRITE request */
    uint32_t max_discard_sectors;
    unsigned features; /* BLK_F_* */
    const struct blk_device_ops *ops;
    void *backend_priv;
};

const char *blk_status_name(int status);
const char *blk_op_name(enum blk_op op);

#endif
