/* SPDX-License-Identifier: MIT */
/*
 * Building a READ/WRITE's PRPs directly or through the bounce buffer; see
 * nvme_xfer.h for why the bounce buffer and not a split.
 */
#include "drivers/nvme/nvme_xfer.h"

#include "kernel/lib/string.h"

static void *ptr(uint64_t phys)
{
    return (void *)(uintptr_t)phys; /* identity mapped */
}

void nvme_bounce_init(struct nvme_bounce *b, uint64_t phys, uint32_t size, struct blk_seg *segs)
{
    memset(b, 0, sizeof(*b));
    b->phys = phys;
    b->size = phys ? size : 0;
    b->segs = segs;
}

static int prp_error_to_blk(int err)
{
    switch (err) {
    case NVME_PRP_TOO_BIG:
    case NVME_PRP_NO_LIST_SPACE: return BLK_ETOOBIG;
    case NVME_PRP_EMPTY:
    case NVME_PRP_ADDRESS_OVERFLOW: return BLK_EINVAL;
    default: return BLK_ESEGMENTS;
    }
}

/* What the PRP rules refuse but the bounce buffer fixes. */
static bool bounceable(int err)
{
    return err == NVME_PRP_UNALIGNED || err == NVME_PRP_MID_START || err == NVME_PRP_MID_END;
}

/* The segments are not empty, do not wrap, and add up to x->bytes. */
static int check_lengths(const struct nvme_xfer *x)
{
    uint64_t sum = 0;

    if (!x->segs || x->nseg == 0 || x->bytes == 0)
        return BLK_EINVAL;
    for (unsigned i = 0; i < x->nseg; i++) {
        const struct blk_seg *s = &x->segs[i];

        if (s->len == 0 || s->phys + s->len < s->phys)
            return BLK_EINVAL;
        if (s->len > x->bytes - sum)
            return BLK_EINVAL; /* more than the command moves (and no overflow) */
        sum += s->len;
    }
    return sum == x->bytes ? BLK_OK : BLK_EINVAL;
}

static void copy_segments(uint8_t *buf, const struct blk_seg *segs, unsigned n, bool to_segs)
{
    for (unsigned i = 0; i < n; i++) {
        if (to_segs)
            memcpy(ptr(segs[i].phys), buf, segs[i].len);
        else
            memcpy(buf, ptr(segs[i].phys), segs[i].len);
        buf += segs[i].len;
    }
}

int nvme_xfer_build(struct nvme_bounce *b, const struct nvme_xfer *x,
                    const struct nvme_prp_lists *lists, struct nvme_prp *out)
{
    int err = check_lengths(x);

    if (err)
        return err;
    if (x->bytes > x->max_bytes)
        return BLK_ETOOBIG;
    err = nvme_prp_build(x->segs, x->nseg, x->page_size, x->max_bytes, lists, out);
    if (err == NVME_PRP_OK)
        return BLK_OK;
    if (!bounceable(err) || !b || !b->size)
        return prp_error_to_blk(err);
    if (x->bytes > b->size)
        return BLK_ETOOBIG;
    if (!x->write && x->nseg > NVME_BOUNCE_MAX_SEGS)
        return BLK_ESEGMENTS;
    if (b->busy)
        return BLK_EBUSY;

    struct blk_seg whole = {b->phys, (uint32_t)x->bytes};

    err = nvme_prp_build(&whole, 1, x->page_size, x->max_bytes, lists, out);
    if (err)
        return prp_error_to_blk(err);
    if (x->write) {
        copy_segments(ptr(b->phys), x->segs, x->nseg, false);
    } else {
        memcpy(b->segs, x->segs, x->nseg * sizeof(*x->segs));
        b->nseg = x->nseg;
    }
    b->busy = true;
    b->copy_back = !x->write;
    b->cid = x->cid;
    b->bounced++;
    return BLK_OK;
}

void nvme_xfer_done(struct nvme_bounce *b, uint16_t cid, bool ok)
{
    if (!b->busy || b->cid != cid)
        return;
    if (ok && b->copy_back)
        copy_segments(ptr(b->phys), b->segs, b->nseg, true);
    nvme_bounce_release(b);
}

void nvme_bounce_release(struct nvme_bounce *b)
{
    b->busy = false;
    b->copy_back = false;
    b->nseg = 0;
}
