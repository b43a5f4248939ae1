/* SPDX-License-Identifier: MIT */
/*
 * The admin queue: one command at a time under the controller's admin lock,
 * waited for by polling with a deadline. Boot, resets and queue creation are
 * the only users, so simplicity wins over depth here.
 */
#include "drivers/nvme/nvme_dev.h"

#include "drivers/nvme/nvme_regs.h"
#include "drivers/nvme/nvme_status.h"
#include "kernel/console/log.h"
#include "kernel/lib/string.h"
#include "kernel/time/clock.h"
#include "kernel/x86/cpu.h"

void nvme_admin_reset_rings(struct nvme_ctrl *c)
{
    memset(c->asq, 0, NVME_ADMIN_DEPTH * sizeof(struct nvme_sqe));
    memset(c->acq, 0, NVME_ADMIN_DEPTH * sizeof(struct nvme_cqe));
    nvme_sq_ring_init(&c->asqr, NVME_ADMIN_DEPTH);
    nvme_cq_ring_init(&c->acqr, NVME_ADMIN_DEPTH);
}

int nvme_admin_run_locked(struct nvme_ctrl *c, struct nvme_sqe *cmd, uint32_t *result)
{
    uint16_t slot = nvme_sq_ring_push(&c->asqr);
    uint8_t opcode = cmd->cdw0 & 0xff;

    /* One command at a time: the SQ slot index is a unique CID. */
    nvme_sqe_set_cid(cmd, opcode, slot);
    c->asq[slot] = *cmd;
    asm volatile("" ::: "memory");
    nvme_write32(c, nvme_sq_tail_doorbell(0, c->dstrd), c->asqr.tail);

    uint64_t deadline = clock_uptime_ns() + NVME_ADMIN_TIMEOUT_NS;
    for (;;) {
        volatile struct nvme_cqe *e = &c->acq[c->acqr.head];
        uint16_t status = e->status;

        if (nvme_cq_ring_is_new(&c->acqr, status)) {
            asm volatile("" ::: "memory");
            uint16_t cid = e->cid;
            uint32_t dw0 = e->result;

            nvme_sq_ring_set_head(&c->asqr, e->sq_head);
            nvme_write32(c, nvme_cq_head_doorbell(0, c->dstrd), nvme_cq_ring_pop(&c->acqr));
            if (cid != slot) {
                log_warn("nvme%u: admin completion for CID %u while waiting for %u; ignored",
                         c->index, cid, slot);
                continue;
            }
            struct nvme_status s = nvme_status_decode(status);
            if (result)
                *result = dw0;
            if (!nvme_status_ok(s)) {
                log_warn("nvme%u: admin opcode %#x failed: %s (SCT %u SC %#x%s)", c->index, opcode,
                         nvme_status_name(s), s.sct, s.sc, s.dnr ? " DNR" : "");
                return nvme_status_to_blk(s);
            }
            return BLK_OK;
        }
        if (clock_uptime_ns() > deadline) {
            log_error("nvme%u: admin opcode %#x got no answer in %llu ms", c->index, opcode,
                      (unsigned long long)(NVME_ADMIN_TIMEOUT_NS / 1000000));
            return BLK_ETIMEDOUT;
        }
        if (nvme_csts_fatal(nvme_read32(c, NVME_REG_CSTS)))
            return BLK_EOFFLINE;
        cpu_relax();
    }
}

int nvme_admin_identify(struct nvme_ctrl *c, uint8_t cns, uint32_t nsid)
{
    struct nvme_sqe cmd = {0};

    memset(c->identify_buf, 0, NVME_IDENTIFY_SIZE);
    cmd.cdw0 = NVME_ADMIN_IDENTIFY;
    cmd.nsid = nsid;
    cmd.prp1 = (uint64_t)(uintptr_t)c->identify_buf;
    cmd.cdw10 = cns;
    return nvme_admin_run_locked(c, &cmd, NULL);
}

int nvme_admin_set_queue_count(struct nvme_ctrl *c, unsigned wanted, unsigned *granted)
{
    struct nvme_sqe cmd = {0};
    uint32_t dw0 = 0;
    int err;

    cmd.cdw0 = NVME_ADMIN_SET_FEATURES;
    cmd.cdw10 = NVME_FEAT_NUM_QUEUES;
    cmd.cdw11 = (wanted - 1) << 16 | (wanted - 1);
    err = nvme_admin_run_locked(c, &cmd, &dw0);
    if (err)
        return err;
    unsigned sq = (dw0 & 0xffff) + 1, cq = (dw0 >> 16) + 1;

    *granted = sq < cq ? sq : cq;
    return BLK_OK;
}

int nvme_admin_create_io_pair(struct nvme_ctrl *c, struct nvme_io_queue *q)
{
    struct nvme_sqe cmd = {0};
    int err;

    /* The CQ first: the SQ names it. Physically contiguous, no interrupt. */
    cmd.cdw0 = NVME_ADMIN_CREATE_CQ;
    cmd.prp1 = (uint64_t)(uintptr_t)q->cq;
    cmd.cdw10 = (uint32_t)(q->depth - 1) << 16 | q->qid;
    cmd.cdw11 = 1; /* PC, IEN = 0 */
    err = nvme_admin_run_locked(c, &cmd, NULL);
    if (err)
        return err;
    memset(&cmd, 0, sizeof(cmd));
    cmd.cdw0 = NVME_ADMIN_CREATE_SQ;
    cmd.prp1 = (uint64_t)(uintptr_t)q->sq;
    cmd.cdw10 = (uint32_t)(q->depth - 1) << 16 | q->qid;
    cmd.cdw11 = (uint32_t)q->qid << 16 | 1; /* CQID, priority 0, PC */
    err = nvme_admin_run_locked(c, &cmd, NULL);
    if (err) {
        memset(&cmd, 0, sizeof(cmd));
        cmd.cdw0 = NVME_ADMIN_DELETE_CQ;
        cmd.cdw10 = q->qid;
        nvme_admin_run_locked(c, &cmd, NULL);
    }
    return err;
}

int nvme_admin_delete_io_pair(struct nvme_ctrl *c, struct nvme_io_queue *q)
{
    struct nvme_sqe cmd = {0};
    int err;

    cmd.cdw0 = NVME_ADMIN_DELETE_SQ; /* the SQ before its CQ */
    cmd.cdw10 = q->qid;
    err = nvme_admin_run_locked(c, &cmd, NULL);
    memset(&cmd, 0, sizeof(cmd));
    cmd.cdw0 = NVME_ADMIN_DELETE_CQ;
    cmd.cdw10 = q->qid;
    int err2 = nvme_admin_run_locked(c, &cmd, NULL);
    return err ? err : err2;
}
