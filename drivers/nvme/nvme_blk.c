/* SPDX-License-Identifier: MIT */
/*
 * The block-backend side of the NVMe driver: windows of namespaces as
 * struct blk_device, requests translated from 512-byte sectors into the
 * namespace's blocks, checked against the window, and handed to the queue
 * pair of the blk queue (no lock, no allocation on that path). Any segment
 * list is taken: those the PRP rules cannot express go through the queue
 * pair's bounce buffer (nvme_xfer.h), the rest reach the device as they are.
 */
#include "drivers/nvme/nvme_blk.h"

#include "drivers/block/blk_range.h"
#include "drivers/nvme/nvme.h"
#include "drivers/nvme/nvme_dev.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/str.h"
#include "kernel/lib/string.h"

struct nvme_blk_dev {
    struct blk_device blk;
    bool used;
    unsigned open_queues;
    struct nvme_ctrl *ctrl;
    struct nvme_ns *ns;
    struct blk_range range;
    char name[48];
};

static struct nvme_blk_dev devices[NVME_BLK_MAX_DEVICES];
static struct spinlock devices_lock = SPINLOCK_INIT;

static int nvme_blk_queue_open(struct blk_queue *q)
{
    struct nvme_blk_dev *d = q->dev->backend_priv;
    int err = BLK_OK;
    struct nvme_io_queue *ioq = nvme_create_io_queue(d->ctrl, q->complete, q->complete_ctx, &err);

    if (!ioq)
        return err;
    q->backend_priv = ioq;
    q->depth = nvme_io_queue_depth(ioq);
    __atomic_add_fetch(&d->open_queues, 1, __ATOMIC_SEQ_CST);
    return BLK_OK;
}

static int nvme_blk_queue_close(struct blk_queue *q)
{
    struct nvme_blk_dev *d = q->dev->backend_priv;
    int err = nvme_delete_io_queue(q->backend_priv);

    if (err == BLK_EBUSY)
        return err;
    q->backend_priv = NULL;
    __atomic_sub_fetch(&d->open_queues, 1, __ATOMIC_SEQ_CST);
    return BLK_OK;
}

static int nvme_blk_queue_abort(struct blk_queue *q)
{
    struct nvme_blk_dev *d = q->dev->backend_priv;
    int err = nvme_abort_io_queue(q->backend_priv);

    q->backend_priv = NULL;
    __atomic_sub_fetch(&d->open_queues, 1, __ATOMIC_SEQ_CST);
    return err;
}

static int nvme_blk_submit(struct blk_queue *q, const struct blk_request *req)
{
    struct nvme_blk_dev *d = q->dev->backend_priv;
    struct nvme_io io = {
        .op = req->op, .segs = req->segs, .nseg = req->nseg, .cookie = req->cookie};
    uint64_t slba = 0, nlb = 0;
    int err;

    switch (req->op) {
    case BLK_OP_READ:
    case BLK_OP_WRITE: {
        uint64_t bytes = 0;
        for (unsigned i = 0; i < req->nseg; i++)
            bytes += req->segs[i].len;
        if (req->nseg == 0 || bytes != (uint64_t)req->nsectors << BLK_SECTOR_SHIFT)
            return BLK_EINVAL;
        if (bytes > q->dev->max_transfer)
            return BLK_ETOOBIG;
        break;
    }
    case BLK_OP_FLUSH: return nvme_io_submit(q->backend_priv, d->ns, &io);
    case BLK_OP_DISCARD:
    case BLK_OP_WRITE_ZEROES: break;
    default: return BLK_EINVAL;
    }
    err = blk_range_map(&d->range, req->sector, req->nsectors, &slba, &nlb);
    if (err)
        return err;
    io.slba = slba;
    io.nlb = (uint32_t)nlb; /* nsectors is 32-bit, so nlb fits */
    return nvme_io_submit(q->backend_priv, d->ns, &io);
}

static unsigned nvme_blk_poll(struct blk_queue *q, unsigned budget)
{
    return nvme_io_poll(q->backend_priv, budget);
}

static const struct blk_device_ops nvme_blk_ops = {
    .queue_open = nvme_blk_queue_open,
    .queue_close = nvme_blk_queue_close,
    .queue_abort = nvme_blk_queue_abort,
    .submit = nvme_blk_submit,
    .poll = nvme_blk_poll,
};

static void describe(struct nvme_blk_dev *d, unsigned ci, uint32_t nsid, uint64_t start,
                     uint64_t length, bool whole)
{
    char s[16], l[16];

    if (whole) {
        fmt_snprintf(d->name, sizeof(d->name), "nvme%un%u", ci, nsid);
        return;
    }
    str_format_size(s, sizeof(s), start);
    str_format_size(l, sizeof(l), length);
    fmt_snprintf(d->name, sizeof(d->name), "nvme%un%u@%s+%s", ci, nsid, s, l);
}

int nvme_blk_open(unsigned ci, uint32_t nsid, uint64_t start, uint64_t length,
                  struct blk_device **out, char *why, size_t why_size)
{
    struct nvme_ctrl *c = nvme_ctrl_get(ci);
    struct nvme_ns *ns;
    struct blk_range r;
    char size[16];
    int err;

    if (!c) {
        fmt_snprintf(why, why_size, "no NVMe controller %u (%u found)", ci, nvme_ctrl_count());
        return BLK_EINVAL;
    }
    if (nvme_ctrl_state(c) != NVME_CTRL_ONLINE) {
        fmt_snprintf(why, why_size, "nvme%u is %s", ci, nvme_ctrl_state_name(nvme_ctrl_state(c)));
        return BLK_EOFFLINE;
    }
    ns = nvme_ns_get(c, nsid);
    if (!ns) {
        fmt_snprintf(why, why_size, "nvme%u has no usable namespace %u", ci, nsid);
        return BLK_EINVAL;
    }
    err = blk_range_from_bytes(ns->info.nsze, ns->info.lba_shift, start, length, &r);
    str_format_size(size, sizeof(size), ns->info.nsze << ns->info.lba_shift);
    if (err == BLK_EINVAL) {
        fmt_snprintf(why, why_size,
                     "start and length must be multiples of nvme%un%u's %u-byte "
                     "blocks",
                     ci, nsid, 1u << ns->info.lba_shift);
        return err;
    }
    if (err) {
        fmt_snprintf(why, why_size, "range %#llx+%#llx runs past the end of nvme%un%u (%s)",
                     (unsigned long long)start, (unsigned long long)length, ci, nsid, size);
        return err;
    }

    struct nvme_blk_dev *d = NULL;
    spin_lock(&devices_lock);
    for (unsigned i = 0; i < NVME_BLK_MAX_DEVICES; i++) {
        struct nvme_blk_dev *o = &devices[i];

        if (!o->used) {
            if (!d)
                d = o;
            continue;
        }
        if (o->ns == ns && blk_range_overlaps(&o->range, &r)) {
            fmt_snprintf(why, why_size, "range overlaps %s, which is in use", o->name);
            spin_unlock(&devices_lock);
            return BLK_EINVAL;
        }
    }
    if (!d) {
        spin_unlock(&devices_lock);
        fmt_snprintf(why, why_size, "more than %u NVMe block devices", NVME_BLK_MAX_DEVICES);
        return BLK_ENOSPC;
    }
    memset(d, 0, sizeof(*d));
    d->used = true;
    spin_unlock(&devices_lock);

    d->ctrl = c;
    d->ns = ns;
    d->range = r;
    describe(d, ci, nsid, start, r.nlba << r.lba_shift, length == 0 && start == 0);
    uint64_t max = nvme_ctrl_max_transfer(c);
    if (max > 0x80000000u)
        max = 0x80000000u;
    d->blk.name = d->name;
    d->blk.sectors = blk_range_sectors(&r);
    d->blk.block_size = 1u << r.lba_shift;
    d->blk.max_transfer = (uint32_t)(max & ~(uint64_t)(d->blk.block_size - 1));
    d->blk.max_discard_sectors = 0xffffffffu & ~((d->blk.block_size >> BLK_SECTOR_SHIFT) - 1);
    d->blk.features = (nvme_ctrl_has_write_cache(c) ? BLK_F_FLUSH : 0) |
                      (nvme_ctrl_has_dsm(c) ? BLK_F_DISCARD : 0) |
                      (nvme_ctrl_has_write_zeroes(c) ? BLK_F_WRITE_ZEROES : 0);
    d->blk.ops = &nvme_blk_ops;
    d->blk.backend_priv = d;
    *out = &d->blk;
    return BLK_OK;
}

int nvme_blk_close(struct blk_device *dev)
{
    struct nvme_blk_dev *d = dev->backend_priv;

    if (d->open_queues)
        return BLK_EBUSY;
    spin_lock(&devices_lock);
    d->used = false;
    spin_unlock(&devices_lock);
    return BLK_OK;
}
