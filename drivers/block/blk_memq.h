/* SPDX-License-Identifier: MIT */
/*
 * What the memory backends (the RAM disk, the null backend) share: how they
 * describe their device, the checks every request gets before it is
 * accepted, and each queue's ring of completions. Those backends finish a
 * request at submit (or fix the time it will finish), so a completion is only
 * a cookie, a status and a due time waiting on its queue's ring until poll()
 * hands it out, in order, as blk.h promises. Header-only so that every host
 * test and fuzz target building a backend gets it without naming one more
 * source file.
 */
#ifndef SIDECORE_BLOCK_BLK_MEMQ_H
#define SIDECORE_BLOCK_BLK_MEMQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/block/blk.h"
#include "kernel/lib/string.h"

#define BLK_MEMQ_MAX   16  /* queues per device */
#define BLK_MEMQ_DEPTH 256 /* completions per queue */

struct blk_memq_done {
    void *cookie;
    uint64_t due_ns; /* 0: due at once */
    int status;
};

struct blk_memq {
    bool open;
    uint32_t head, tail; /* waiting: done[head % depth .. tail), due times ascending */
    struct blk_memq_done done[BLK_MEMQ_DEPTH];
};

/*
 * The checks both backends make, in the order a real disk makes them:
 * operation, segment lengths against the sector count, transfer size, the
 * device's features for discard and write-zeroes, and the bounds (written
 * so that nothing overflows whatever the requester passes).
 */
static inline int blk_memq_check(const struct blk_device *dev, const struct blk_request *req)
{
    switch (req->op) {
    case BLK_OP_READ:
    case BLK_OP_WRITE: {
        uint64_t bytes = 0;

        if (req->nseg == 0 || req->nsectors == 0)
            return BLK_EINVAL;
        for (unsigned i = 0; i < req->nseg; i++)
            bytes += req->segs[i].len; /* nseg * 4 GiB cannot overflow 64 bits */
        if (bytes != (uint64_t)req->nsectors << BLK_SECTOR_SHIFT)
            return BLK_EINVAL;
        if (bytes > dev->max_transfer)
            return BLK_ETOOBIG;
        break;
    }
    case BLK_OP_FLUSH: return BLK_OK;
    case BLK_OP_DISCARD:
    case BLK_OP_WRITE_ZEROES:
        if (!(dev->features & (req->op == BLK_OP_DISCARD ? BLK_F_DISCARD : BLK_F_WRITE_ZEROES)))
            return BLK_ENOTSUP;
        if (req->nsectors == 0)
            return BLK_EINVAL;
        if (req->nsectors > dev->max_discard_sectors)
            return BLK_ETOOBIG;
        break;
    default: return BLK_EINVAL;
    }
    return req->sector < dev->sectors && req->nsectors <= dev->sectors - req->sector ? BLK_OK
                                                                                     : BLK_ERANGE;
}

/* Gives q the first closed ring of rings[BLK_MEMQ_MAX]. */
static inline int blk_memq_open(struct blk_memq *rings, struct blk_queue *q)
{
    for (unsigned i = 0; i < BLK_MEMQ_MAX; i++) {
        struct blk_memq *mq = &rings[i];

        if (mq->open)
            continue;
        mq->open = true;
        mq->head = mq->tail = 0;
        q->backend_priv = mq;
        q->depth = BLK_MEMQ_DEPTH;
        return BLK_OK;
    }
    return BLK_ENOSPC;
}

static inline int blk_memq_close(struct blk_queue *q)
{
    struct blk_memq *mq = q->backend_priv;

    if (mq->head != mq->tail)
        return BLK_EBUSY;
    mq->open = false;
    q->backend_priv = NULL;
    return BLK_OK;
}

static inline bool blk_memq_full(const struct blk_memq *mq)
{
    return mq->tail - mq->head >= BLK_MEMQ_DEPTH;
}

/* Only after blk_memq_full() said no; due_ns must not be earlier than the
 * due time of any completion already waiting. */
static inline void blk_memq_push(struct blk_memq *mq, void *cookie, uint64_t due_ns, int status)
{
    mq->done[mq->tail % BLK_MEMQ_DEPTH] = (struct blk_memq_done){cookie, due_ns, status};
    mq->tail++;
}

/* Hands out at most budget completions due by now_ns, oldest first; due
 * times only grow along the ring, so the head alone decides. */
static inline unsigned blk_memq_poll(struct blk_queue *q, unsigned budget, uint64_t now_ns)
{
    struct blk_memq *mq = q->backend_priv;
    unsigned n = 0;

    while (n < budget && mq->head != mq->tail) {
        struct blk_memq_done d = mq->done[mq->head % BLK_MEMQ_DEPTH];

        if ((int64_t)(now_ns - d.due_ns) < 0)
            break;
        /* Off the ring before the callback, which may submit again. */
        mq->head++;
        n++;
        q->complete(q->complete_ctx, d.cookie, d.status);
    }
    return n;
}

/*
 * Fills in the device both backends describe the same way: a copy of name
 * (cut to fit name_buf), capacity in sectors, the limits, and discard and
 * write-zeroes as features.
 */
static inline void blk_memq_device_init(struct blk_device *dev, char *name_buf, size_t name_size,
                                        const char *name, uint64_t bytes, uint32_t max_transfer,
                                        uint32_t max_discard_sectors,
                                        const struct blk_device_ops *ops, void *priv)
{
    size_t n = name ? strnlen(name, name_size - 1) : 0;

    memcpy(name_buf, name ? name : "", n);
    name_buf[n] = '\0';
    dev->name = name_buf;
    dev->sectors = bytes >> BLK_SECTOR_SHIFT;
    dev->block_size = BLK_SECTOR_SIZE;
    dev->max_transfer = max_transfer;
    dev->max_discard_sectors = max_discard_sectors;
    dev->features = BLK_F_DISCARD | BLK_F_WRITE_ZEROES;
    dev->ops = ops;
    dev->backend_priv = priv;
}

#endif
