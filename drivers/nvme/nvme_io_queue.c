/* SPDX-License-Identifier: MIT */
/*
 * I/O queue pairs: creation on demand (one per requester, so no two
 * requesters share a ring), deletion, and revival after a controller reset,
 * which fails every command that was in flight back to its requester before
 * the pair is created again. Memory for a QID is allocated the first time it
 * is used and kept, so creating and deleting queues never leaks.
 */
#include "drivers/nvme/nvme_dev.h"

#include "drivers/nvme/nvme_regs.h"
#include "kernel/console/log.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pmm.h"

static uint64_t pages_for(uint64_t bytes)
{
    return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

static bool queue_alloc(struct nvme_ctrl *c, struct nvme_io_queue *q)
{
    uint16_t depth = NVME_IO_DEPTH;

    if (depth > c->max_entries)
        depth = (uint16_t)c->max_entries;
    q->depth = depth;
    q->sq = (struct nvme_sqe *)(uintptr_t)pmm_alloc_pages(pages_for(depth * sizeof(*q->sq)));
    q->cq = (struct nvme_cqe *)(uintptr_t)pmm_alloc_pages(pages_for(depth * sizeof(*q->cq)));
    q->slots =
        (struct nvme_io_slot *)(uintptr_t)pmm_alloc_pages(pages_for(depth * sizeof(*q->slots)));
    q->dsm_ranges = pmm_alloc_pages(pages_for(depth * 16u));
    q->prp_pages = c->prp_per_cmd ? pmm_alloc_pages((size_t)depth * c->prp_per_cmd) : 0;
    /* The bounce buffer holds the largest transfer; kept with the rest. */
    uint64_t bounce = pmm_alloc_pages(pages_for(c->max_transfer));
    uint64_t bounce_segs =
        pmm_alloc_pages(pages_for(NVME_BOUNCE_MAX_SEGS * sizeof(struct blk_seg)));
    /* A failed allocation leaks the pieces that worked; boot-time only. */
    if (!q->sq || !q->cq || !q->slots || !q->dsm_ranges || (c->prp_per_cmd && !q->prp_pages) ||
        !bounce || !bounce_segs)
        return false;
    nvme_bounce_init(&q->bounce, bounce, (uint32_t)c->max_transfer,
                     (struct blk_seg *)(uintptr_t)bounce_segs);
    q->allocated = true;
    return true;
}

void nvme_io_queue_reset_state(struct nvme_io_queue *q)
{
    memset(q->sq, 0, q->depth * sizeof(*q->sq));
    memset((void *)q->cq, 0, q->depth * sizeof(*q->cq));
    memset(q->slots, 0, q->depth * sizeof(*q->slots));
    nvme_sq_ring_init(&q->sqr, q->depth);
    nvme_cq_ring_init(&q->cqr, q->depth);
    /* depth - 1 IDs: the CQ can then never hold more entries than it has
     * room for. */
    nvme_cid_init(&q->cids, q->depth - 1u);
    /* Whatever used the bounce buffer was failed back or never ran. */
    nvme_bounce_release(&q->bounce);
}

struct nvme_io_queue *nvme_create_io_queue(struct nvme_ctrl *c, blk_complete_fn done, void *ctx,
                                           int *err)
{
    struct nvme_io_queue *q = NULL;
    uint32_t gen;
    int e;

    spin_lock(&c->admin_lock);
    gen = c->generation;
    if (c->state != NVME_CTRL_ONLINE) {
        e = BLK_EOFFLINE;
        goto out;
    }
    for (unsigned i = 0; i < c->io_queues; i++) {
        if (!c->io[i].in_use) {
            q = &c->io[i];
            break;
        }
    }
    if (!q) {
        e = BLK_ENOSPC;
        goto out;
    }
    q->ctrl = c;
    q->qid = (uint16_t)(q - c->io) + 1;
    if (!q->allocated && !queue_alloc(c, q)) {
        log_error("nvme%u: out of memory for I/O queue %u", c->index, q->qid);
        q = NULL;
        e = BLK_ENOSPC;
        goto out;
    }
    q->sq_doorbell = (volatile uint32_t *)(c->regs + nvme_sq_tail_doorbell(q->qid, c->dstrd));
    q->cq_doorbell = (volatile uint32_t *)(c->regs + nvme_cq_head_doorbell(q->qid, c->dstrd));
    nvme_io_queue_reset_state(q);
    e = nvme_admin_create_io_pair(c, q);
    if (e != BLK_OK) {
        log_error("nvme%u: creating I/O queue %u failed: %s", c->index, q->qid, blk_status_name(e));
        q = NULL;
        goto out;
    }
    q->done = done;
    q->done_ctx = ctx;
    q->generation = gen;
    q->dead = false;
    q->in_use = true;
    q->next_check_ns = 0;
    q->submitted = q->completed = q->errors = q->timeouts = q->retries = q->stale = 0;
    q->errors_logged = 0;
out:
    spin_unlock(&c->admin_lock);
    if (e == BLK_ETIMEDOUT)
        nvme_ctrl_recover(c, gen, "admin command timed out");
    if (err)
        *err = e;
    return q;
}

int nvme_delete_io_queue(struct nvme_io_queue *q)
{
    struct nvme_ctrl *c = q->ctrl;
    int e = BLK_OK;

    if (q->generation != c->generation)
        nvme_io_queue_revive(q);
    if (q->cids.in_use)
        return BLK_EBUSY;
    spin_lock(&c->admin_lock);
    if (c->state == NVME_CTRL_ONLINE && q->generation == c->generation && !q->dead)
        e = nvme_admin_delete_io_pair(c, q);
    q->in_use = false;
    spin_unlock(&c->admin_lock);
    return e;
}

int nvme_abort_io_queue(struct nvme_io_queue *q)
{
    struct nvme_ctrl *c = q->ctrl;
    int e = BLK_OK;

    spin_lock(&c->admin_lock);
    /* Deleting the SQ makes the controller abort what it still holds of it,
     * and the CQ deletion completes only after that (NVMe 1.4, 5.6, 5.7). */
    if (c->state == NVME_CTRL_ONLINE && q->generation == c->generation && !q->dead)
        e = nvme_admin_delete_io_pair(c, q);
    if (e != BLK_OK)
        nvme_ctrl_take_offline(c, "an I/O queue with requests in flight could not be deleted");
    /* A controller that is offline or was reset since holds none of them
     * either: reset clears every queue, offline cut its bus mastering. */
    nvme_cid_init(&q->cids, q->cids.count);
    q->in_use = false;
    spin_unlock(&c->admin_lock);
    return e;
}

unsigned nvme_io_queue_depth(const struct nvme_io_queue *q)
{
    return q->cids.count;
}

void nvme_io_queue_revive(struct nvme_io_queue *q)
{
    struct nvme_ctrl *c = q->ctrl;
    struct {
        void *cookie;
        int status;
    } failed[NVME_IO_DEPTH];
    unsigned nfailed = 0;
    int e;

    spin_lock(&c->admin_lock);
    bool gone = c->state != NVME_CTRL_ONLINE;
    for (uint16_t cid = 0; cid < q->cids.count; cid++) {
        if (!nvme_cid_in_use(&q->cids, cid))
            continue;
        struct nvme_io_slot *s = &q->slots[cid];

        failed[nfailed].cookie = s->cookie;
        failed[nfailed].status =
            s->timed_out ? BLK_ETIMEDOUT : (gone ? BLK_EOFFLINE : BLK_EABORTED);
        nfailed++;
    }
    q->generation = c->generation;
    nvme_io_queue_reset_state(q);
    if (gone) {
        q->dead = true;
    } else {
        e = nvme_admin_create_io_pair(c, q);
        q->dead = e != BLK_OK;
        if (q->dead)
            log_error_ratelimited("nvme%u: re-creating I/O queue %u after the reset failed: %s",
                                  c->index, q->qid, blk_status_name(e));
    }
    spin_unlock(&c->admin_lock);
    if (nfailed)
        log_warn_ratelimited(
            "nvme%u: queue %u: %u command(s) in flight failed back to their requesters", c->index,
            q->qid, nfailed);
    q->errors += nfailed;
    for (unsigned i = 0; i < nfailed; i++)
        q->done(q->done_ctx, failed[i].cookie, failed[i].status);
}
