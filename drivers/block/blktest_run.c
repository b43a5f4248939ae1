/* SPDX-License-Identifier: MIT */
/*
 * The blktest engine (blktest_run.h). Each phase is one loop: top up the
 * free slots with requests from the phase's generator, let the device take
 * them and talk to the backend (virtio_blk_service), then reap what the
 * device completed, check it and time it. The first failure stops new
 * submissions; what is in flight is still collected, so a failed run
 * leaves nothing behind unless a request never completes.
 */
#include "drivers/block/blktest_run.h"

#include <stdarg.h>

#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"

#define AREA_GPA 0ull

/* A phase: which requests, and what each completion must bring. */
struct phase {
    uint32_t type;
    bool random;
    uint64_t cursor;    /* sequential: next byte */
    uint64_t remaining; /* random or one-shot lists: requests left */
    uint8_t expect;     /* status every completion must carry */
};

static uint64_t data_bytes(unsigned qd, uint32_t bs)
{
    return (uint64_t)qd * bs;
}

/* Room for qd buffers whatever the layout: a misaligned one takes its
 * bytes rounded up to pages, plus a page to start inside of. */
static uint64_t buffer_room(unsigned qd, uint32_t bs)
{
    return (uint64_t)qd * (((uint64_t)bs + 4095) / 4096 * 4096 + 4096);
}

static uint64_t buffer_stride(const struct blktest_params *p)
{
    return p->misalign ? ((uint64_t)p->bs + 4095) / 4096 * 4096 + 4096 : p->bs;
}

static uint64_t area_bytes(void)
{
    return (virtio_blk_driver_area_bytes(BLKTEST_QUEUE_SIZE, true) + 4095) & ~4095ull;
}

uint64_t blktest_mem_bytes(unsigned qd, uint32_t bs)
{
    if (qd == 0 || qd > BLKTEST_MAX_QD || bs == 0 || bs > BLKTEST_MAX_BS ||
        data_bytes(qd, bs) > BLKTEST_MAX_BUFFERS)
        return 0;
    return area_bytes() + buffer_room(qd, bs);
}

uint64_t blktest_ticks_to_ns(const struct blktest_job *j, uint64_t ticks)
{
    uint64_t hz = j->p.ticks_per_sec;

    /* No 128-bit product: the remainder times 1e9 fits for any hz < 18 GHz. */
    return ticks / hz * 1000000000ull + ticks % hz * 1000000000ull / hz;
}

static void on_signal(void *ctx, unsigned q)
{
}

static void on_broken(void *ctx)
{
    ((struct blktest_job *)ctx)->device_broken = true;
}

bool blktest_setup(struct blktest_job *j, struct blk_device *backend, void *mem, uint64_t mem_bytes,
                   const struct blktest_params *p, char *why, size_t why_size)
{
    uint64_t need = blktest_mem_bytes(p->qd, p->bs);
    uint64_t features;

    memset(j, 0, sizeof(*j));
    if (!need) {
        fmt_snprintf(why, why_size, "qd %u and bs %u: qd 1 to %u, bs up to %u, qd*bs up to %u",
                     p->qd, p->bs, BLKTEST_MAX_QD, BLKTEST_MAX_BS, BLKTEST_MAX_BUFFERS);
        return false;
    }
    if (need > mem_bytes || ((uintptr_t)mem & 15)) {
        fmt_snprintf(why, why_size, "memory block too small or misaligned");
        return false;
    }
    if (p->misalign >= 4096) {
        fmt_snprintf(why, why_size, "align=%u: an offset into a page is 0 to 4095", p->misalign);
        return false;
    }
    if (p->bs % backend->block_size) {
        fmt_snprintf(why, why_size, "bs %u is not a multiple of %s's %u-byte blocks", p->bs,
                     backend->name, backend->block_size);
        return false;
    }
    if (p->op == BLKTEST_PASTEND && p->bs < 2 * backend->block_size) {
        fmt_snprintf(why, why_size, "pastend needs bs of at least two %u-byte blocks",
                     backend->block_size);
        return false;
    }
    if (p->op == BLKTEST_RANDREAD && backend->sectors < p->bs / BLK_SECTOR_SIZE) {
        fmt_snprintf(why, why_size, "%s is smaller than one %u-byte read", backend->name, p->bs);
        return false;
    }
    if (!p->now || !p->ticks_per_sec || !p->request_timeout_ticks) {
        fmt_snprintf(why, why_size, "no clock");
        return false;
    }
    j->p = *p;
    j->backend = backend;
    j->mem = (struct vmem){mem, need};
    j->data_gpa = area_bytes();
    j->rng = p->seed | 1;
    latency_stats_reset(&j->lat);

    struct virtio_blk_params dp = {.backend = backend,
                                   .num_queues = 1,
                                   .name = "blktest",
                                   .serial = "sidecore-blktest",
                                   .mem = &j->mem,
                                   .polled = true,
                                   .signal = on_signal,
                                   .broken = on_broken,
                                   .ctx = j};
    if (!virtio_blk_init(&j->dev, &dp, why, why_size))
        return false;
    features = virtio_blk_driver_features(j->dev.features);
    if (!virtio_blk_driver_init(&j->drv, &j->mem, AREA_GPA, BLKTEST_QUEUE_SIZE,
                                features & (1ull << VIRTIO_F_RING_INDIRECT_DESC))) {
        fmt_snprintf(why, why_size, "the driver's ring does not fit");
        return false;
    }
    virtio_blk_driver_queue_config(&j->drv, &j->dev.vqs[0]);
    if (!virtio_blk_pci_ops.queue_enable(&j->dev, 0, features)) {
        fmt_snprintf(why, why_size, "%s", j->dev.error[0] ? j->dev.error : "queue refused");
        return false;
    }
    virtio_blk_pci_ops.driver_ok(&j->dev);
    return true;
}

bool blktest_teardown(struct blktest_job *j)
{
    virtio_blk_pci_ops.reset(&j->dev);
    /* The reset drains the backend; it leaves the queue open only if the
     * backend still holds requests. */
    return !j->dev.q[0].opened;
}

static uint64_t rng_next(struct blktest_job *j)
{
    j->rng ^= j->rng << 13;
    j->rng ^= j->rng >> 7;
    j->rng ^= j->rng << 17;
    return j->rng;
}

static void __attribute__((format(printf, 2, 3))) fail(struct blktest_job *j, const char *fmt, ...)
{
    va_list ap;

    if (!j->res.pass)
        return; /* the first failure is the one worth reading */
    j->res.pass = false;
    va_start(ap, fmt);
    fmt_vsnprintf(j->res.why, sizeof(j->res.why), fmt, ap);
    va_end(ap);
}

static uint8_t *data_ptr(struct blktest_job *j, unsigned s)
{
    return j->mem.base + j->data_gpa + (uint64_t)s * buffer_stride(&j->p) + j->p.misalign;
}

/* The next request of the phase: false when it has none left. */
static bool phase_next(struct blktest_job *j, struct phase *ph, uint64_t *sector, uint32_t *len)
{
    uint64_t total = j->backend->sectors * BLK_SECTOR_SIZE;

    if (j->p.op == BLKTEST_PASTEND) {
        uint32_t block = j->backend->block_size;

        /* Two reads: one across the end (last block and the one after),
         * one wholly beyond it. */
        if (ph->remaining == 0)
            return false;
        *len = ph->remaining == 2 ? 2 * block : block;
        *sector = ph->remaining == 2 ? (total - block) / BLK_SECTOR_SIZE : total / BLK_SECTOR_SIZE;
        ph->remaining--;
        return true;
    }
    if (ph->type == VIRTIO_BLK_T_FLUSH) {
        if (ph->remaining == 0)
            return false;
        ph->remaining--;
        *sector = 0;
        *len = 0;
        return true;
    }
    if (ph->random) {
        uint64_t blocks = total / j->p.bs;

        if (ph->remaining == 0)
            return false;
        ph->remaining--;
        *sector = rng_next(j) % blocks * (j->p.bs / BLK_SECTOR_SIZE);
        *len = j->p.bs;
        return true;
    }
    if (ph->cursor >= total)
        return false;
    *len = total - ph->cursor < j->p.bs ? (uint32_t)(total - ph->cursor) : j->p.bs;
    *sector = ph->cursor / BLK_SECTOR_SIZE;
    ph->cursor += *len;
    return true;
}

static int submit(struct blktest_job *j, unsigned s)
{
    struct blktest_slot *sl = &j->slot[s];
    uint64_t gpa = j->data_gpa + (uint64_t)s * buffer_stride(&j->p) + j->p.misalign;
    struct virtq_sg sg[VIRTIO_BLK_DRIVER_MAX_SEGS];
    unsigned n = 0;

    if (!sl->len)
        return virtio_blk_driver_submit(&j->drv, sl->type, sl->sector, NULL, 0, sl);
    if (!j->p.misalign) {
        sg[0] = (struct virtq_sg){gpa, sl->len};
        return virtio_blk_driver_submit(&j->drv, sl->type, sl->sector, sg, 1, sl);
    }
    /* Cut at k * len/16, every other cut 12 bytes later: pieces that start
     * and end inside pages and inside sectors, some smaller than a sector. */
    uint32_t step = sl->len / VIRTIO_BLK_DRIVER_MAX_SEGS, at = 0;
    for (unsigned k = 1; k < VIRTIO_BLK_DRIVER_MAX_SEGS && step > 12; k++) {
        uint32_t cut = k * step + (k & 1 ? 12 : 0);

        sg[n++] = (struct virtq_sg){gpa + at, cut - at};
        at = cut;
    }
    sg[n++] = (struct virtq_sg){gpa + at, sl->len - at};
    return virtio_blk_driver_submit(&j->drv, sl->type, sl->sector, sg, n, sl);
}

static void complete(struct blktest_job *j, struct phase *ph, const struct virtio_blk_completion *c,
                     uint64_t now)
{
    struct blktest_slot *sl = c->cookie;
    unsigned s = (unsigned)(sl - j->slot);
    uint64_t offset = j->p.origin + sl->sector * BLK_SECTOR_SIZE;

    latency_stats_add(&j->lat, blktest_ticks_to_ns(j, now - sl->start));
    sl->busy = false;
    j->res.requests++;
    __atomic_store_n(&j->progress, j->res.requests, __ATOMIC_RELEASE);
    if (c->status != ph->expect) {
        j->res.errors++;
        fail(j, "%s of %u bytes at byte %#llx: status %u, expected %u",
             sl->type == VIRTIO_BLK_T_IN    ? "read"
             : sl->type == VIRTIO_BLK_T_OUT ? "write"
                                            : "flush",
             sl->len, (unsigned long long)offset, c->status, ph->expect);
        return;
    }
    if (c->status == VIRTIO_BLK_S_OK)
        j->res.bytes += sl->len;
    if (j->p.op == BLKTEST_VERIFY && sl->type == VIRTIO_BLK_T_IN && !j->res.mismatch &&
        !blktest_pattern_check(data_ptr(j, s), sl->len, offset, j->p.seed, &j->res.m)) {
        j->res.mismatch = true;
        fail(j, "data mismatch");
    }
}

/* The oldest request in flight has waited too long, or the waiting CPU
 * gave up: the run ends with what is outstanding counted as stuck. */
static bool cut_short(struct blktest_job *j, uint64_t now)
{
    if (__atomic_load_n(&j->abort, __ATOMIC_ACQUIRE)) {
        fail(j, "aborted with %u request(s) in flight", virtio_blk_driver_in_flight(&j->drv));
        return true;
    }
    for (unsigned s = 0; s < j->p.qd; s++) {
        const struct blktest_slot *sl = &j->slot[s];

        if (sl->busy && now - sl->start > j->p.request_timeout_ticks) {
            fail(j, "a request at byte %#llx got no answer in %llu s (%u in flight)",
                 (unsigned long long)(j->p.origin + sl->sector * BLK_SECTOR_SIZE),
                 (unsigned long long)(j->p.request_timeout_ticks / j->p.ticks_per_sec),
                 virtio_blk_driver_in_flight(&j->drv));
            return true;
        }
    }
    return false;
}

/* Runs a phase to its end; false if the run was cut short (requests are
 * still outstanding: res.stuck). */
static bool run_phase(struct blktest_job *j, struct phase *ph)
{
    unsigned depth = ph->type == VIRTIO_BLK_T_FLUSH ? 1 : j->p.qd;
    bool more = j->res.pass;

    while (more || virtio_blk_driver_in_flight(&j->drv) > 0) {
        struct virtio_blk_completion c;
        uint64_t now = j->p.now();
        int r;

        for (unsigned s = 0; s < depth && more; s++) {
            struct blktest_slot *sl = &j->slot[s];

            if (sl->busy)
                continue;
            if (!j->res.pass || !phase_next(j, ph, &sl->sector, &sl->len)) {
                more = false;
                break;
            }
            sl->type = ph->type;
            if (ph->type == VIRTIO_BLK_T_OUT)
                blktest_pattern_fill(data_ptr(j, s), sl->len,
                                     j->p.origin + sl->sector * BLK_SECTOR_SIZE, j->p.seed);
            else if (ph->type == VIRTIO_BLK_T_IN && j->p.op == BLKTEST_VERIFY)
                memset(data_ptr(j, s), 0xa5, sl->len); /* a read that returns nothing shows */
            sl->start = j->p.now();
            r = submit(j, s);
            if (r != VIRTIO_BLK_DRIVER_OK) {
                /* The ring has room for every slot: this is a bug or a
                 * broken ring, not back-pressure. */
                fail(j, "the driver refused a request (%d): %s", r,
                     j->drv.error ? j->drv.error : "no room");
                more = false;
                break;
            }
            sl->busy = true;
        }
        virtio_blk_service(&j->dev, 0, depth);
        now = j->p.now();
        while ((r = virtio_blk_driver_reap(&j->drv, &c)) == 1)
            complete(j, ph, &c, now);
        if (r < 0) {
            fail(j, "the device's used ring is corrupt: %s", j->drv.error);
            j->res.stuck = virtio_blk_driver_in_flight(&j->drv);
            return false;
        }
        if (j->device_broken) {
            fail(j, "the virtio-blk device broke: %s", j->dev.error);
            more = false;
            /* What it accepted still completes; go on reaping. */
        }
        if (cut_short(j, now)) {
            j->res.stuck = virtio_blk_driver_in_flight(&j->drv);
            return false;
        }
    }
    return true;
}

void blktest_run(struct blktest_job *j)
{
    uint64_t t0 = j->p.now();
    struct phase ph = {0};

    j->res.pass = true;
    switch (j->p.op) {
    case BLKTEST_VERIFY:
        ph = (struct phase){.type = VIRTIO_BLK_T_OUT, .expect = VIRTIO_BLK_S_OK};
        if (!run_phase(j, &ph))
            break;
        ph = (struct phase){.type = VIRTIO_BLK_T_FLUSH, .remaining = 1};
        if (!run_phase(j, &ph))
            break;
        ph = (struct phase){.type = VIRTIO_BLK_T_IN, .expect = VIRTIO_BLK_S_OK};
        run_phase(j, &ph);
        break;
    case BLKTEST_RANDREAD:
        ph = (struct phase){.type = VIRTIO_BLK_T_IN,
                            .random = true,
                            .remaining = j->p.count,
                            .expect = VIRTIO_BLK_S_OK};
        run_phase(j, &ph);
        break;
    case BLKTEST_PASTEND:
        ph = (struct phase){.type = VIRTIO_BLK_T_IN, .remaining = 2, .expect = VIRTIO_BLK_S_IOERR};
        run_phase(j, &ph);
        break;
    }
    j->res.ticks = j->p.now() - t0;
    __atomic_store_n(&j->done, true, __ATOMIC_RELEASE);
}
