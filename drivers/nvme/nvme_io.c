/* SPDX-License-Identifier: MIT */
/*
 * The I/O path of one queue pair: submit (build the command and its PRPs,
 * ring the SQ doorbell) and poll (reap completions by phase, ring the CQ
 * doorbell once per batch, watch deadlines). Runs on the queue owner's CPU
 * only and takes no lock; the controller's admin lock is taken only when a
 * reset has to happen.
 */
#include "drivers/nvme/nvme_dev.h"

#include "drivers/nvme/nvme_prp.h"
#include "drivers/nvme/nvme_regs.h"
#include "drivers/nvme/nvme_status.h"
#include "drivers/nvme/nvme_xfer.h"
#include "kernel/console/log.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pmm.h"
#include "kernel/time/clock.h"

#define TIMEOUT_CHECK_NS  1000000ull /* look at deadlines at most every 1 ms */
#define ERRORS_LOGGED_MAX 16         /* per queue, so a bad requester cannot flood the console */

static void sq_ring_doorbell(struct nvme_io_queue *q)
{
    asm volatile("" ::: "memory"); /* the entry is in memory before the tail moves */
    *q->sq_doorbell = q->sqr.tail;
}

static int build_rw(struct nvme_io_queue *q, struct nvme_ns *ns, const struct nvme_io *io,
                    uint16_t cid, struct nvme_sqe *e)
{
    struct nvme_ctrl *c = q->ctrl;
    struct nvme_prp_lists lists;
    struct nvme_prp prp;

    if (io->nlb == 0 || io->nlb > 0x10000)
        return io->nlb ? BLK_ETOOBIG : BLK_EINVAL;
    lists.count = c->prp_per_cmd;
    for (unsigned i = 0; i < c->prp_per_cmd; i++) {
        uint64_t phys = q->prp_pages + ((uint64_t)cid * c->prp_per_cmd + i) * PAGE_SIZE;
        lists.phys[i] = phys;
        lists.virt[i] = (uint64_t *)(uintptr_t)phys;
    }
    /* Segments the PRP rules refuse go through the queue's bounce buffer;
     * this must be the last check that can fail, as the buffer is taken. */
    struct nvme_xfer x = {.segs = io->segs,
                          .nseg = io->nseg,
                          .write = io->op == BLK_OP_WRITE,
                          .bytes = (uint64_t)io->nlb << ns->info.lba_shift,
                          .cid = cid,
                          .page_size = 1u << c->page_shift,
                          .max_bytes = c->max_transfer};
    int err = nvme_xfer_build(&q->bounce, &x, &lists, &prp);
    if (err)
        return err;
    e->prp1 = prp.prp1;
    e->prp2 = prp.prp2;
    e->cdw10 = (uint32_t)io->slba;
    e->cdw11 = (uint32_t)(io->slba >> 32);
    e->cdw12 = io->nlb - 1;
    return BLK_OK;
}

static int build_command(struct nvme_io_queue *q, struct nvme_ns *ns, const struct nvme_io *io,
                         uint16_t cid, struct nvme_sqe *e)
{
    struct nvme_ctrl *c = q->ctrl;

    memset(e, 0, sizeof(*e));
    e->nsid = ns->nsid;
    switch (io->op) {
    case BLK_OP_READ:
    case BLK_OP_WRITE:
        nvme_sqe_set_cid(e, io->op == BLK_OP_READ ? NVME_CMD_READ : NVME_CMD_WRITE, cid);
        return build_rw(q, ns, io, cid, e);
    case BLK_OP_FLUSH: nvme_sqe_set_cid(e, NVME_CMD_FLUSH, cid); return BLK_OK;
    case BLK_OP_DISCARD: {
        if (!nvme_ctrl_has_dsm(c))
            return BLK_ENOTSUP;
        if (io->nlb == 0)
            return BLK_EINVAL;
        uint64_t phys = q->dsm_ranges + (uint64_t)cid * 16;
        uint32_t *range = (uint32_t *)(uintptr_t)phys;
        range[0] = 0;       /* context attributes */
        range[1] = io->nlb; /* length in blocks */
        range[2] = (uint32_t)io->slba;
        range[3] = (uint32_t)(io->slba >> 32);
        nvme_sqe_set_cid(e, NVME_CMD_DSM, cid);
        e->prp1 = phys;
        e->cdw10 = 0; /* one range */
        e->cdw11 = NVME_DSM_DEALLOCATE;
        return BLK_OK;
    }
    case BLK_OP_WRITE_ZEROES:
        if (!nvme_ctrl_has_write_zeroes(c))
            return BLK_ENOTSUP;
        if (io->nlb == 0 || io->nlb > 0x10000)
            return io->nlb ? BLK_ETOOBIG : BLK_EINVAL;
        nvme_sqe_set_cid(e, NVME_CMD_WRITE_ZEROES, cid);
        e->cdw10 = (uint32_t)io->slba;
        e->cdw11 = (uint32_t)(io->slba >> 32);
        e->cdw12 = io->nlb - 1;
        return BLK_OK;
    default: return BLK_EINVAL;
    }
}

int nvme_io_submit(struct nvme_io_queue *q, struct nvme_ns *ns, const struct nvme_io *io)
{
    struct nvme_ctrl *c = q->ctrl;

    if (q->generation != c->generation)
        nvme_io_queue_revive(q);
    if (q->dead || c->state != NVME_CTRL_ONLINE)
        return BLK_EOFFLINE;
    if (ns->ctrl != c || !ns->usable)
        return BLK_EINVAL;
    /* The block layer checked the range; this is the last line of defence. */
    if (io->op != BLK_OP_FLUSH && (io->slba >= ns->info.nsze || io->nlb > ns->info.nsze - io->slba))
        return BLK_ERANGE;
    if (nvme_sq_ring_full(&q->sqr))
        return BLK_EBUSY;
    int cid = nvme_cid_alloc(&q->cids);
    if (cid < 0)
        return BLK_EBUSY;

    struct nvme_io_slot *slot = &q->slots[cid];
    int err = build_command(q, ns, io, (uint16_t)cid, &slot->sqe);
    if (err) {
        nvme_cid_free(&q->cids, (uint16_t)cid);
        return err;
    }
    slot->cookie = io->cookie;
    slot->deadline_ns = clock_uptime_ns() + NVME_IO_TIMEOUT_NS;
    slot->retried = false;
    slot->timed_out = false;
    q->submitted++;
    if (c->inject_lost) {
        c->inject_lost = false;
        log_async(LOG_WARN, "nvme%u: test: command %u on queue %u is lost on purpose", c->index,
                  cid, q->qid);
        return BLK_OK;
    }
    q->sq[nvme_sq_ring_push(&q->sqr)] = slot->sqe;
    sq_ring_doorbell(q);
    return BLK_OK;
}

static void complete_one(struct nvme_io_queue *q, uint16_t cid, uint16_t status_word)
{
    struct nvme_ctrl *c = q->ctrl;

    if (!nvme_cid_in_use(&q->cids, cid)) {
        if (q->stale++ < ERRORS_LOGGED_MAX)
            log_warn_ratelimited(
                "nvme%u: queue %u: completion for CID %u, which is not in flight; ignored",
                c->index, q->qid, cid);
        return;
    }
    struct nvme_io_slot *slot = &q->slots[cid];
    struct nvme_status s = nvme_status_decode(status_word);

    if (!nvme_status_ok(s) && !slot->retried && nvme_status_retryable(s) &&
        !nvme_sq_ring_full(&q->sqr)) {
        slot->retried = true;
        slot->deadline_ns = clock_uptime_ns() + NVME_IO_TIMEOUT_NS;
        q->retries++;
        log_warn_ratelimited("nvme%u: queue %u: opcode %#x failed (%s); retrying once", c->index,
                             q->qid, slot->sqe.cdw0 & 0xff, nvme_status_name(s));
        q->sq[nvme_sq_ring_push(&q->sqr)] = slot->sqe;
        sq_ring_doorbell(q);
        return;
    }
    int status = nvme_status_to_blk(s);

    if (status != BLK_OK) {
        q->errors++;
        if (q->errors_logged++ < ERRORS_LOGGED_MAX)
            log_warn_ratelimited(
                "nvme%u: queue %u: opcode %#x LBA %#llx failed: %s (SCT %u SC %#x%s)", c->index,
                q->qid, slot->sqe.cdw0 & 0xff,
                (unsigned long long)slot->sqe.cdw10 | (unsigned long long)slot->sqe.cdw11 << 32,
                nvme_status_name(s), s.sct, s.sc, s.dnr ? " DNR" : "");
    }
    void *cookie = slot->cookie;

    nvme_xfer_done(&q->bounce, cid, status == BLK_OK);
    nvme_cid_free(&q->cids, cid);
    q->completed++;
    q->done(q->done_ctx, cookie, status);
}

static void check_deadlines(struct nvme_io_queue *q, uint64_t now)
{
    struct nvme_ctrl *c = q->ctrl;
    uint32_t seen = q->generation;
    bool late = false;

    if (nvme_ctrl_check_fatal(c)) {
        nvme_io_queue_revive(q);
        return;
    }
    for (uint16_t cid = 0; cid < q->cids.count; cid++) {
        struct nvme_io_slot *s = &q->slots[cid];

        if (nvme_cid_in_use(&q->cids, cid) && now > s->deadline_ns && !s->timed_out) {
            s->timed_out = true;
            q->timeouts++;
            late = true;
            log_warn_ratelimited(
                "nvme%u: queue %u: command %u (opcode %#x) got no answer in %llu ms", c->index,
                q->qid, cid, s->sqe.cdw0 & 0xff,
                (unsigned long long)(NVME_IO_TIMEOUT_NS / 1000000));
        }
    }
    if (!late)
        return;
    nvme_ctrl_recover(c, seen, "I/O command timed out");
    if (q->generation != c->generation)
        nvme_io_queue_revive(q);
}

unsigned nvme_io_poll(struct nvme_io_queue *q, unsigned budget)
{
    struct nvme_ctrl *c = q->ctrl;
    uint32_t gen = q->generation;
    unsigned n = 0;

    if (gen != c->generation) {
        nvme_io_queue_revive(q);
        return 0;
    }
    if (q->dead)
        return 0;
    while (n < budget) {
        volatile struct nvme_cqe *e = &q->cq[q->cqr.head];
        uint16_t status = e->status;

        if (!nvme_cq_ring_is_new(&q->cqr, status))
            break;
        asm volatile("" ::: "memory"); /* the rest of the entry after its phase */
        uint16_t cid = e->cid;
        uint16_t sq_head = e->sq_head;

        nvme_cq_ring_pop(&q->cqr);
        nvme_sq_ring_set_head(&q->sqr, sq_head);
        n++;
        complete_one(q, cid, status);
        if (q->generation != gen)
            return n; /* a callback's submit found a reset: the ring is new */
    }
    if (n)
        *q->cq_doorbell = q->cqr.head;
    if (q->cids.in_use) {
        uint64_t now = clock_uptime_ns();

        if (now >= q->next_check_ns) {
            q->next_check_ns = now + TIMEOUT_CHECK_NS;
            check_deadlines(q, now);
        }
    }
    return n;
}
