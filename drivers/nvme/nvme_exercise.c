/* SPDX-License-Identifier: MIT */
/*
 * The `nvme rw` exerciser. It drives a window of a namespace only through
 * the block-backend interface (open, queue_open, submit, poll), exactly as
 * virtio-blk will, with several requests in flight. Requests alternate
 * between two buffer shapes: whole scattered pages, and a first segment that
 * starts 512 bytes into its page with a short last segment, so both plain
 * PRP lists and an offset PRP1 are exercised. Every buffer page comes from
 * the page allocator and is given back at the end, unless a request never
 * completed (then its pages are leaked on purpose: the device may still
 * write them).
 */
#include "drivers/nvme/nvme_exercise.h"

#include "drivers/block/blk.h"
#include "drivers/nvme/nvme_blk.h"
#include "kernel/console/console.h"
#include "kernel/lib/str.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pmm.h"
#include "kernel/time/clock.h"

#define EX_INFLIGHT   4
#define EX_CHUNK_MAX  (128u * 1024)
#define EX_PAGES      (EX_CHUNK_MAX / 4096 + 1)
#define EX_TIMEOUT_NS (60ull * 1000000000ull)

struct ex_req {
    uint64_t page[EX_PAGES];
    struct blk_seg segs[EX_PAGES];
    unsigned nseg;
    bool busy, done;
    int status;
    uint64_t offset; /* window byte offset of this request */
    uint32_t len;
};

struct ex_run {
    struct blk_device *dev;
    struct blk_queue q;
    struct ex_req req[EX_INFLIGHT];
    uint64_t ns_start; /* namespace byte offset of the window */
    uint32_t chunk;
    bool failed;
    char why[128];
};

static void ex_complete(void *ctx, void *cookie, int status)
{
    struct ex_req *r = cookie;

    r->status = status;
    r->done = true;
}

/* Lays out r's segments for len bytes: shape 0 is whole pages, shape 1
 * starts 512 bytes into the first page and ends 512 bytes into one more. */
static void ex_layout(struct ex_req *r, uint32_t len, unsigned shape)
{
    uint32_t left = len;
    unsigned n = 0;

    if (shape == 1 && len > 4096) {
        r->segs[n++] = (struct blk_seg){r->page[0] + 512, 4096 - 512};
        left -= 4096 - 512;
    }
    while (left > 0) {
        uint32_t piece = left < 4096 ? left : 4096;

        r->segs[n] = (struct blk_seg){r->page[n], piece};
        n++;
        left -= piece;
    }
    r->nseg = n;
    r->len = len;
}

static void ex_fill(struct ex_run *run, struct ex_req *r)
{
    uint64_t off = run->ns_start + r->offset;

    for (unsigned i = 0; i < r->nseg; i++) {
        uint64_t *w = (uint64_t *)(uintptr_t)r->segs[i].phys;
        for (uint32_t j = 0; j < r->segs[i].len / 8; j++, off += 8)
            w[j] = nvme_exercise_word(off);
    }
}

static bool ex_verify(struct ex_run *run, struct ex_req *r)
{
    uint64_t off = run->ns_start + r->offset;

    for (unsigned i = 0; i < r->nseg; i++) {
        const uint64_t *w = (const uint64_t *)(uintptr_t)r->segs[i].phys;
        for (uint32_t j = 0; j < r->segs[i].len / 8; j++, off += 8) {
            if (w[j] != nvme_exercise_word(off)) {
                str_copy(run->why, "data mismatch", sizeof(run->why));
                console_printf("nvme rw: mismatch at namespace byte %#llx: read %#llx, "
                               "expected %#llx\n",
                               (unsigned long long)off, (unsigned long long)w[j],
                               (unsigned long long)nvme_exercise_word(off));
                return false;
            }
        }
    }
    return true;
}

static void ex_fail(struct ex_run *run, const char *what, int status)
{
    if (!run->failed)
        console_printf("nvme rw: %s: %s\n", what, blk_status_name(status));
    run->failed = true;
}

/* One pass of op over the whole window; true when every request completed
 * (whatever its status), false when some never did. */
static bool ex_pass(struct ex_run *run, enum blk_op op, unsigned *requests)
{
    uint64_t total = run->dev->sectors << BLK_SECTOR_SHIFT;
    uint64_t next = 0;
    uint64_t deadline = clock_uptime_ns() + EX_TIMEOUT_NS;
    unsigned inflight = 0, shape = 0;

    while ((next < total && !run->failed) || inflight > 0) {
        for (unsigned i = 0; i < EX_INFLIGHT && next < total && !run->failed; i++) {
            struct ex_req *r = &run->req[i];
            if (r->busy)
                continue;
            uint64_t len = total - next < run->chunk ? total - next : run->chunk;

            ex_layout(r, (uint32_t)len, shape++ & 1);
            r->offset = next;
            if (op == BLK_OP_WRITE)
                ex_fill(run, r);
            else
                for (unsigned s = 0; s < r->nseg; s++)
                    memset((void *)(uintptr_t)r->segs[s].phys, 0, r->segs[s].len);
            struct blk_request req = {
                .op = op,
                .sector = next >> BLK_SECTOR_SHIFT,
                .nsectors = (uint32_t)(len >> BLK_SECTOR_SHIFT),
                .nseg = r->nseg,
                .segs = r->segs,
                .cookie = r,
            };
            r->done = false;
            int err = run->dev->ops->submit(&run->q, &req);
            if (err == BLK_EBUSY)
                break;
            if (err) {
                ex_fail(run, op == BLK_OP_WRITE ? "write refused" : "read refused", err);
                break;
            }
            r->busy = true;
            inflight++;
            (*requests)++;
            next += len;
        }
        run->dev->ops->poll(&run->q, 32);
        for (unsigned i = 0; i < EX_INFLIGHT; i++) {
            struct ex_req *r = &run->req[i];
            if (!r->busy || !r->done)
                continue;
            r->busy = false;
            inflight--;
            if (r->status != BLK_OK)
                ex_fail(run, op == BLK_OP_WRITE ? "write failed" : "read failed", r->status);
            else if (op == BLK_OP_READ && !run->failed && !ex_verify(run, r))
                run->failed = true;
        }
        if (clock_uptime_ns() > deadline) {
            console_printf("nvme rw: %u request(s) never completed in %llu s\n", inflight,
                           (unsigned long long)(EX_TIMEOUT_NS / 1000000000ull));
            run->failed = true;
            return false;
        }
    }
    return true;
}

/* Waits for the single request r submitted with submit() returning BLK_OK. */
static int ex_wait_one(struct ex_run *run, struct ex_req *r)
{
    uint64_t deadline = clock_uptime_ns() + EX_TIMEOUT_NS;

    while (!r->done && clock_uptime_ns() < deadline)
        run->dev->ops->poll(&run->q, 1);
    return r->done ? r->status : BLK_ETIMEDOUT;
}

static bool ex_alloc(struct ex_run *run)
{
    for (unsigned i = 0; i < EX_INFLIGHT; i++)
        for (unsigned p = 0; p < EX_PAGES; p++)
            if (!(run->req[i].page[p] = pmm_alloc_pages(1)))
                return false;
    return true;
}

static void ex_free(struct ex_run *run)
{
    for (unsigned i = 0; i < EX_INFLIGHT; i++)
        for (unsigned p = 0; p < EX_PAGES; p++)
            if (run->req[i].page[p])
                pmm_free_pages(run->req[i].page[p], 1);
}

static struct ex_run run_state;

int nvme_exercise_rw(unsigned ctrl, uint32_t nsid, uint64_t start, uint64_t length)
{
    struct ex_run *run = &run_state;
    char why[128], size[16];
    unsigned writes = 0, reads = 0;
    bool settled = true;
    int err;

    memset(run, 0, sizeof(*run));
    err = nvme_blk_open(ctrl, nsid, start, length, &run->dev, why, sizeof(why));
    if (err) {
        console_printf("nvme rw: %s\n", why);
        return 1;
    }
    run->ns_start = start;
    run->chunk = run->dev->max_transfer < EX_CHUNK_MAX ? run->dev->max_transfer : EX_CHUNK_MAX;
    str_format_size(size, sizeof(size), length);
    console_printf("nvme rw: writing a test pattern to %s: bytes %#llx-%#llx (%s) only, "
                   "nothing outside this range\n",
                   run->dev->name, (unsigned long long)start,
                   (unsigned long long)(start + length - 1), size);
    run->q.dev = run->dev;
    run->q.complete = ex_complete;
    run->q.complete_ctx = run;
    err = run->dev->ops->queue_open(&run->q);
    if (err) {
        console_printf("nvme rw: FAIL: cannot open a queue: %s\n", blk_status_name(err));
        nvme_blk_close(run->dev);
        return 1;
    }
    if (!ex_alloc(run)) {
        console_printf("nvme rw: FAIL: out of memory for buffers\n");
        ex_free(run);
        run->dev->ops->queue_close(&run->q);
        nvme_blk_close(run->dev);
        return 1;
    }

    uint64_t t0 = clock_uptime_ns();
    settled = ex_pass(run, BLK_OP_WRITE, &writes);
    if (settled && !run->failed) {
        struct ex_req *r = &run->req[0];
        struct blk_request fl = {.op = BLK_OP_FLUSH, .cookie = r};
        r->done = false;
        err = run->dev->ops->submit(&run->q, &fl);
        if (!err) {
            err = ex_wait_one(run, r);
            settled = r->done;
        }
        if (err)
            ex_fail(run, "flush failed", err);
    }
    if (settled && !run->failed)
        settled = ex_pass(run, BLK_OP_READ, &reads);
    uint64_t ms = (clock_uptime_ns() - t0) / 1000000;

    if (settled && !run->failed) {
        /* One block just past the window's end must be refused up front. */
        struct ex_req *r = &run->req[0];
        ex_layout(r, run->dev->block_size, 0);
        struct blk_request past = {
            .op = BLK_OP_READ,
            .sector = run->dev->sectors,
            .nsectors = run->dev->block_size >> BLK_SECTOR_SHIFT,
            .nseg = r->nseg,
            .segs = r->segs,
            .cookie = r,
        };
        err = run->dev->ops->submit(&run->q, &past);
        if (err == BLK_ERANGE) {
            console_printf("nvme rw: a read just past the end was refused: %s (as expected)\n",
                           blk_status_name(err));
        } else {
            console_printf("nvme rw: FAIL: a read just past the end was %s\n",
                           err ? blk_status_name(err) : "accepted");
            if (!err) {
                ex_wait_one(run, r);
                settled = r->done;
            }
            run->failed = true;
        }
    }
    if (!run->failed)
        console_printf("nvme rw: PASS: %s written in %u requests, read back in %u and verified "
                       "(%llu ms)\n",
                       size, writes, reads, (unsigned long long)ms);
    else
        console_printf("nvme rw: FAIL\n");

    if (settled) {
        ex_free(run);
        err = run->dev->ops->queue_close(&run->q);
        if (err)
            console_printf("nvme rw: closing the queue: %s\n", blk_status_name(err));
        else
            nvme_blk_close(run->dev);
    } else {
        console_printf("nvme rw: buffers and queue left allocated: requests are outstanding\n");
    }
    return run->failed ? 1 : 0;
}
