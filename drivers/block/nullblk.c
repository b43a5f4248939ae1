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
    return blk_memq_open(nullblk_of(q)->queues, q);
}

static int nullblk_submit(struct blk_queue *q, const struct blk_request *req)
{
    struct nullblk *nb = nullblk_of(q);
    struct blk_memq *mq = q->backend_priv;
    int err;

    if (blk_memq_full(mq))
        return BLK_EBUSY;
    err = blk_memq_check(&nb->dev, req);
    if (err)
        return err;
    /* The data a read returns is written now; the guest may only look at
     * it after the completion, so when does not matter. */
    if (req->op == BLK_OP_READ)
        for (unsigned i = 0; i < req->nseg; i++)
            memset((void *)(uintptr_t)req->segs[i].phys, 0, req->segs[i].len);
    blk_memq_push(mq, req->cookie, nb->now_ns() + nb->latency_ns, BLK_OK);
    return BLK_OK;
}

static unsigned nullblk_poll(struct blk_queue *q, unsigned budget)
{
    struct blk_memq *mq = q->backend_priv;

    if (mq->head == mq->tail)
        return 0; /* no clock read for an idle queue */
    return blk_memq_poll(q, budget, nullblk_of(q)->now_ns());
}

static const struct blk_device_ops nullblk_ops = {
    .queue_open = nullblk_queue_open,
    .queue_close = blk_memq_close,
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
    blk_memq_device_init(&nb->dev, nb->name, sizeof(nb->name), name, bytes, NULLBLK_MAX_TRANSFER,
                         NULLBLK_MAX_DISCARD_SECTORS, &nullblk_ops, nb);
    return true;
}
