/* SPDX-License-Identifier: MIT */
/*
 * The RAM disk backend: requests are checked (operation, lengths, bounds),
 * carried out with memcpy/memset at submit, and their completions queued on
 * the submitting queue's own ring so that poll() hands them out later, in
 * order, as blk.h promises. A full ring refuses with BLK_EBUSY before
 * anything is copied, so a refused request has had no effect.
 */
#include "drivers/block/ramdisk.h"

#include "kernel/lib/string.h"

#define RAMDISK_MAX_TRANSFER        (1u << 20)
#define RAMDISK_MAX_DISCARD_SECTORS ((8u << 20) >> BLK_SECTOR_SHIFT) /* bounds one memset */

static struct ramdisk *ramdisk_of(struct blk_queue *q)
{
    return q->dev->backend_priv;
}

static int ramdisk_queue_open(struct blk_queue *q)
{
    struct ramdisk *rd = ramdisk_of(q);

    for (unsigned i = 0; i < RAMDISK_MAX_QUEUES; i++) {
        struct ramdisk_queue *rq = &rd->queues[i];

        if (rq->open)
            continue;
        rq->open = true;
        rq->head = rq->tail = 0;
        q->backend_priv = rq;
        q->depth = RAMDISK_DEPTH;
        return BLK_OK;
    }
    return BLK_ENOSPC;
}

static int ramdisk_queue_close(struct blk_queue *q)
{
    struct ramdisk_queue *rq = q->backend_priv;

    if (rq->head != rq->tail)
        return BLK_EBUSY;
    rq->open = false;
    q->backend_priv = NULL;
    return BLK_OK;
}

/* Whether [sector, sector + n) lies inside the disk; written so nothing
 * overflows whatever the requester passes. */
static bool ramdisk_in_range(const struct ramdisk *rd, uint64_t sector, uint64_t n)
{
    return sector < rd->dev.sectors && n <= rd->dev.sectors - sector;
}

static int ramdisk_check(const struct ramdisk *rd, const struct blk_request *req)
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
        if (bytes > rd->dev.max_transfer)
            return BLK_ETOOBIG;
        break;
    }
    case BLK_OP_FLUSH: return BLK_OK;
    case BLK_OP_DISCARD:
    case BLK_OP_WRITE_ZEROES:
        if (!(rd->dev.features & (req->op == BLK_OP_DISCARD ? BLK_F_DISCARD : BLK_F_WRITE_ZEROES)))
            return BLK_ENOTSUP;
        if (req->nsectors == 0)
            return BLK_EINVAL;
        if (req->nsectors > rd->dev.max_discard_sectors)
            return BLK_ETOOBIG;
        break;
    default: return BLK_EINVAL;
    }
    return ramdisk_in_range(rd, req->sector, req->nsectors) ? BLK_OK : BLK_ERANGE;
}

static void ramdisk_transfer(struct ramdisk *rd, const struct blk_request *req)
{
    uint8_t *disk = rd->data + (req->sector << BLK_SECTOR_SHIFT);

    switch (req->op) {
    case BLK_OP_READ:
    case BLK_OP_WRITE:
        for (unsigned i = 0; i < req->nseg; i++) {
            void *buf = (void *)(uintptr_t)req->segs[i].phys;

            if (req->op == BLK_OP_READ)
                memcpy(buf, disk, req->segs[i].len);
            else
                memcpy(disk, buf, req->segs[i].len);
            disk += req->segs[i].len;
        }
        break;
    case BLK_OP_DISCARD:
    case BLK_OP_WRITE_ZEROES:
        /* Discarded sectors read back as zeroes, which the virtio-blk
         * guest may rely on only for write-zeroes, but it costs nothing. */
        memset(disk, 0, (size_t)req->nsectors << BLK_SECTOR_SHIFT);
        break;
    case BLK_OP_FLUSH: break; /* nothing volatile to write back */
    }
}

static int ramdisk_submit(struct blk_queue *q, const struct blk_request *req)
{
    struct ramdisk *rd = ramdisk_of(q);
    struct ramdisk_queue *rq = q->backend_priv;
    int err;

    if (rq->tail - rq->head >= RAMDISK_DEPTH)
        return BLK_EBUSY;
    err = ramdisk_check(rd, req);
    if (err)
        return err;
    ramdisk_transfer(rd, req);
    rq->done[rq->tail % RAMDISK_DEPTH] = (struct ramdisk_done){req->cookie, BLK_OK};
    rq->tail++;
    return BLK_OK;
}

static unsigned ramdisk_poll(struct blk_queue *q, unsigned budget)
{
    struct ramdisk_queue *rq = q->backend_priv;
    unsigned n = 0;

    while (n < budget && rq->head != rq->tail) {
        struct ramdisk_done d = rq->done[rq->head % RAMDISK_DEPTH];

        /* Taken off the ring before the callback, which may submit again. */
        rq->head++;
        n++;
        q->complete(q->complete_ctx, d.cookie, d.status);
    }
    return n;
}

static const struct blk_device_ops ramdisk_ops = {
    .queue_open = ramdisk_queue_open,
    .queue_close = ramdisk_queue_close,
    .submit = ramdisk_submit,
    .poll = ramdisk_poll,
};

bool ramdisk_init(struct ramdisk *rd, void *data, uint64_t bytes, const char *name)
{
    if (!data || bytes < BLK_SECTOR_SIZE || bytes % BLK_SECTOR_SIZE)
        return false;
    memset(rd, 0, sizeof(*rd));
    rd->data = data;
    rd->bytes = bytes;
    if (name) {
        size_t n = strnlen(name, sizeof(rd->name) - 1);

        memcpy(rd->name, name, n);
        rd->name[n] = '\0';
    }
    rd->dev.name = rd->name;
    rd->dev.sectors = bytes >> BLK_SECTOR_SHIFT;
    rd->dev.block_size = BLK_SECTOR_SIZE;
    rd->dev.max_transfer = RAMDISK_MAX_TRANSFER;
    rd->dev.max_discard_sectors = RAMDISK_MAX_DISCARD_SECTORS;
    rd->dev.features = BLK_F_DISCARD | BLK_F_WRITE_ZEROES;
    rd->dev.ops = &ramdisk_ops;
    rd->dev.backend_priv = rd;
    return true;
}
