/* SPDX-License-Identifier: MIT */
/*
 * The RAM disk backend: requests are checked (operation, lengths, bounds),
 * carried out with memcpy/memset at submit, and their completions queued on
 * the submitting queue's own ring so that poll() hands them out later, in
 * order, as blk.h promises. A full ring refuses with BLK_EBUSY before
 * anything is copied, so a refused request has had no effect. The checks
 * and the rings are shared with the null backend (blk_memq.h).
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
    return blk_memq_open(ramdisk_of(q)->queues, q);
}

static void ramdisk_transfer(struct ramdisk *rd, const struct blk_request *req)
{
    uint8_t *disk;

    if (req->op == BLK_OP_FLUSH)
        return; /* nothing volatile to write back; its sector is not checked */
    disk = rd->data + (req->sector << BLK_SECTOR_SHIFT); /* blk_memq_check kept it in range */
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
    case BLK_OP_FLUSH: break;
    }
}

static int ramdisk_submit(struct blk_queue *q, const struct blk_request *req)
{
    struct ramdisk *rd = ramdisk_of(q);
    struct blk_memq *mq = q->backend_priv;
    int err;

    if (blk_memq_full(mq))
        return BLK_EBUSY;
    err = blk_memq_check(&rd->dev, req);
    if (err)
        return err;
    ramdisk_transfer(rd, req);
    blk_memq_push(mq, req->cookie, 0, BLK_OK);
    return BLK_OK;
}

static unsigned ramdisk_poll(struct blk_queue *q, unsigned budget)
{
    return blk_memq_poll(q, budget, 0);
}

static const struct blk_device_ops ramdisk_ops = {
    .queue_open = ramdisk_queue_open,
    .queue_close = blk_memq_close,
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
    blk_memq_device_init(&rd->dev, rd->name, sizeof(rd->name), name, bytes, RAMDISK_MAX_TRANSFER,
                         RAMDISK_MAX_DISCARD_SECTORS, &ramdisk_ops, rd);
    return true;
}
