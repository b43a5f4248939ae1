/* SPDX-License-Identifier: MIT */
/*
 * The null backend (drivers/block/nullblk.h). Submit checks a request as a
 * real disk would (operation, lengths, bounds), zeroes a read's segments at
 * once, and queues the completion with its due time on the submitting
 * queue's ring; poll hands out the completions whose time has come, oldest
 * first. Because the latency is the same for every request, due times on a
 * ring only grow, so submission order is also completion order and poll
 * looks at the head only.
 */
#include "drivers/block/nullblk.h"

#include "kernel/lib/string.h"

#define NULLBLK_MAX_TRANSFER        (1u << 20)
#define NULLBLK_MAX_DISCARD_SECTORS (UINT32_MAX & ~7u)

static struct nullblk *nullblk_of(struct blk_queue *q)
{
    return q->dev->backend_priv;
}

static int nullblk_queue_open(struct blk_queue *q)
{
    struct nullblk *nb = nullblk_of(q);

    for (unsigned i = 0; i < NULLBLK_MAX_QUEUES; i++) {
        struct nullblk_queue *nq = &nb->queues[i];

        if (nq->open)
            continue;
        nq->open = true;
        nq->head = nq->tail = 0;
        q->backend_priv = nq;
        q->depth = NULLBLK_DEPTH;
        return BLK_OK;
    }
    return BLK_ENOSPC;
}

static int nullblk_queue_close(struct blk_queue *q)
{
    struct nullblk_queue *nq = q->backend_priv;

    if (nq->head != nq->tail)
        return BLK_EBUSY;
    nq->open = false;
    q->backend_priv = NULL;
    return BLK_OK;
}

static int nullblk_check(const struct nullblk *nb, const struct blk_request *req)
{
    uint64_t bytes = 0;

    switch (req->op) {
    case BLK_OP_READ:
    case BLK_OP_WRITE:
        if (req->nseg == 0 || req->nsectors == 0)
            return BLK_EINVAL;
        for (unsigned i = 0; i < req->nseg; i++)
            bytes += req->segs[i].len; /* nseg * 4 GiB cannot overflow 64 bits */
        if (bytes != (uint64_t)req->nsectors << BLK_SECTOR_SHIFT)
            return BLK_EINVAL;
        if (bytes > nb->dev.max_transfer)
            return BLK_ETOOBIG;
        break;
    case BLK_OP_FLUSH: return BLK_OK;
    case BLK_OP_DISCARD:
    case BLK_OP_WRITE_ZEROES:
        if (req->nsectors == 0)
            return BLK_EINVAL;
        break;
    default: return BLK_EINVAL;
    }
    return req->sector < nb->dev.sectors && req->nsectors <= nb->dev.sectors - req->sector
               ? BLK_OK
               : BLK_ERANGE;
}

static int nullblk_submit(struct blk_queue *q, const struct blk_request *req)
{
    struct nullblk *nb = nullblk_of(q);
    struct nullblk_queue *nq = q->backend_priv;
    int err;

    if (nq->tail - nq->head >= NULLBLK_DEPTH)
        return BLK_EBUSY;
    err = nullblk_check(nb, req);
    if (err)
        return err;
    /* The data a read returns is written now; the guest may only look at
     * it after the completion, so when does not matter. */
    if (req->op == BLK_OP_READ)
        for (unsigned i = 0; i < req->nseg; i++)
            memset((void *)(uintptr_t)req->segs[i].phys, 0, req->segs[i].len);
    nq->done[nq->tail % NULLBLK_DEPTH] =
        (struct nullblk_done){req->cookie, nb->now_ns() + nb->latency_ns, BLK_OK};
    nq->tail++;
    return BLK_OK;
}

static unsigned nullblk_poll(struct blk_queue *q, unsigned budget)
{
    struct nullblk *nb = nullblk_of(q);
    struct nullblk_queue *nq = q->backend_priv;
    unsigned n = 0;

    if (nq->head == nq->tail)
        return 0;
    uint64_t now = nb->now_ns();
    while (n < budget && nq->head != nq->tail) {
        struct nullblk_done d = nq->done[nq->head % NULLBLK_DEPTH];

        if ((int64_t)(now - d.due_ns) < 0)
            break;
        /* Off the ring before the callback, which may submit again. */
        nq->head++;
        n++;
        q->complete(q->complete_ctx, d.cookie, d.status);
    }
    return n;
}

static const struct blk_device_ops nullblk_ops = {
    .queue_open = nullblk_queue_open,
    .queue_close = nullblk_queue_close,
    .submit = nullblk_submit,
    .poll = nullblk_poll,
};

bool nullblk_init(struct nullblk *nb, uint64_t bytes, uint64_t latency_ns, nullblk_clock_fn now_ns,
                  const char *name)
{
    if (!now_ns || bytes < BLK_SECTOR_SIZE || bytes % BLK_SECTOR_SIZE ||
        latency_ns > NULLBLK_MAX_LATENCY_NS)
        return false;
    memset(nb, 0, sizeof(*nb));
    nb->latency_ns = latency_ns;
    nb->now_ns = now_ns;
    if (name) {
        size_t n = strnlen(name, sizeof(nb->name) - 1);

        memcpy(nb->name, name, n);
        nb->name[n] = '\0';
    }
    nb->dev.name = nb->name;
    nb->dev.sectors = bytes >> BLK_SECTOR_SHIFT;
    nb->dev.block_size = BLK_SECTOR_SIZE;
    nb->dev.max_transfer = NULLBLK_MAX_TRANSFER;
    nb->dev.max_discard_sectors = NULLBLK_MAX_DISCARD_SECTORS;
    nb->dev.features = BLK_F_DISCARD | BLK_F_WRITE_ZEROES;
    nb->dev.ops = &nullblk_ops;
    nb->dev.backend_priv = nb;
    return true;
}
