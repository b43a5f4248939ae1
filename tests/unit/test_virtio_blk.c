/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the virtio-blk device, driven the way a guest drives it: a
 * driver-side ring model (virtq_driver) in a block of "guest memory" makes
 * requests available, the device serves them from a RAM disk or from a fake
 * backend that can be told to be full, fail, hold its completions or never
 * answer, and the tests read the status bytes and used entries back.
 * Covered: configuration space and features, every request type, any
 * descriptor layout, range and length errors, splitting by max_transfer,
 * BLK_EBUSY retries (also in the middle of a split), backend failures,
 * every malformed shape (NEEDS_RESET once, all queues stop, accepted work
 * still completes), the reset handshake and drain, DRIVER_OK gating, and
 * interrupts in sidecore (polled) and trap mode.
 */
/* test-sources: virtio/virtio_blk.c vmm/sidecore/coalesce.c drivers/block/nullblk.c virtio/virtqueue.c virtio/virtq_driver.c drivers/block/ramdisk.c drivers/block/blk_names.c kernel/lib/fmt.c */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "drivers/block/nullblk.h"
#include "drivers/block/ramdisk.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtq_driver.h"

#define GUEST_BYTES  (4u << 20)
#define DISK_BYTES   (1u << 20)
#define DISK_SECTORS (DISK_BYTES / 512)
#define RING_GPA(q)  (0x2000ull * (q))
#define TABLE_GPA    0x30000ull /* indirect tables */
#define HDR_GPA      0x40000ull /* 32 bytes per request: header, then status */
#define HDR_SLOTS    1024
#define DATA_GPA     0x100000ull
#define QSIZE        64

/* --- a fake backend ------------------------------------------------------ */

struct fake_req {
    enum blk_op op;
    uint64_t sector;
    uint32_t nsectors;
    unsigned nseg;
    struct blk_seg segs[VIRTIO_BLK_SEG_MAX];
    void *cookie;
};

struct fake_queue {
    bool open;
    void *cookie[1024];
    unsigned head, tail; /* accepted, not completed */
};

struct fake {
    struct blk_device dev;
    struct fake_queue q[VIRTIO_BLK_MAX_QUEUES];
    unsigned opens, closes, aborts;
    int abort_status;     /* what queue_abort answers */
    int busy_left;        /* submits answered BLK_EBUSY ... */
    unsigned busy_from;   /* ... once this many requests were accepted */
    int refuse;           /* when not 0, submit's answer ... */
    unsigned refuse_from; /* ... once this many requests were accepted */
    int complete_status;  /* status of each completion */
    bool hold;            /* poll completes nothing */
    unsigned nreq;
    struct fake_req req[256];
};

static struct fake_queue *fq(struct blk_queue *q)
{
    return q->backend_priv;
}

static int fake_open(struct blk_queue *q)
{
    struct fake *f = q->dev->backend_priv;

    for (unsigned i = 0; i < VIRTIO_BLK_MAX_QUEUES; i++) {
        if (f->q[i].open)
            continue;
        f->q[i] = (struct fake_queue){.open = true};
        q->backend_priv = &f->q[i];
        q->depth = 1024;
        f->opens++;
        return BLK_OK;
    }
    return BLK_ENOSPC;
}

static int fake_close(struct blk_queue *q)
{
    struct fake *f = q->dev->backend_priv;

    if (fq(q)->head != fq(q)->tail)
        return BLK_EBUSY;
    fq(q)->open = false;
    f->closes++;
    return BLK_OK;
}

static int fake_submit(struct blk_queue *q, const struct blk_request *r)
{
    struct fake *f = q->dev->backend_priv;

    if (f->busy_left > 0 && f->nreq >= f->busy_from) {
        f->busy_left--;
        return BLK_EBUSY;
    }
    if (f->refuse && f->nreq >= f->refuse_from)
        return f->refuse;
    assert_true(f->nreq < 256);
    struct fake_req *fr = &f->req[f->nreq++];
    fr->op = r->op;
    fr->sector = r->sector;
    fr->nsectors = r->nsectors;
    fr->nseg = r->nseg;
    fr->cookie = r->cookie;
    assert_true(r->nseg <= VIRTIO_BLK_SEG_MAX);
    if (r->nseg)
        memcpy(fr->segs, r->segs, r->nseg * sizeof(*r->segs));
    fq(q)->cookie[fq(q)->tail++ % 1024] = r->cookie;
    return BLK_OK;
}

static unsigned fake_poll(struct blk_queue *q, unsigned budget)
{
    struct fake *f = q->dev->backend_priv;
    unsigned n = 0;

    while (!f->hold && n < budget && fq(q)->head != fq(q)->tail) {
        void *c = fq(q)->cookie[fq(q)->head++ % 1024];

        n++;
        q->complete(q->complete_ctx, c, f->complete_status);
    }
    return n;
}

static const struct blk_device_ops fake_ops = {fake_open, fake_close, fake_submit, fake_poll, NULL};

/* The device stops the queue's requests (NVMe: deletes the queue pair):
 * they are forgotten and will never complete. */
static int fake_abort(struct blk_queue *q)
{
    struct fake *f = q->dev->backend_priv;

    f->aborts++;
    fq(q)->head = fq(q)->tail;
    fq(q)->open = false;
    return f->abort_status;
}

static const struct blk_device_ops fake_abort_ops = {fake_open, fake_close, fake_submit, fake_poll,
                                                     fake_abort};

static void fake_init(struct fake *f, unsigned features, uint32_t max_transfer)
{
    memset(f, 0, sizeof(*f));
    f->dev = (struct blk_device){.name = "fake",
                                 .sectors = DISK_SECTORS,
                                 .block_size = 512,
                                 .max_transfer = max_transfer,
                                 .max_discard_sectors = 1024,
                                 .features = features,
                                 .ops = &fake_ops,
                                 .backend_priv = f};
}

/* --- the test bench: guest memory, disk, device, driver rings ------------ */

struct tb {
    struct vmem mem;
    uint8_t *guest;
    uint8_t *disk;
    struct ramdisk rd;
    struct fake fk;
    struct virtio_blk d;
    struct virtq_driver drv[VIRTIO_BLK_MAX_QUEUES];
    uint64_t status_gpa[VIRTIO_BLK_MAX_QUEUES][QSIZE];
    unsigned next_hdr;
    unsigned signals[VIRTIO_BLK_MAX_QUEUES];
    unsigned broken;
    uint64_t drv_features;
};

static uint64_t fake_clock;

static uint64_t fake_now_ns(void)
{
    fake_clock += 1000000; /* every look costs a millisecond */
    return fake_clock;
}

static void on_signal(void *ctx, unsigned q)
{
    struct tb *t = ctx;

    assert_true(q < VIRTIO_BLK_MAX_QUEUES);
    t->signals[q]++;
}

static void on_broken(void *ctx)
{
    ((struct tb *)ctx)->broken++;
}

static void enable_queue(struct tb *t, unsigned q)
{
    struct virtq *vq = &t->d.vqs[q];
    bool ev = t->drv_features & (1ull << VIRTIO_F_RING_EVENT_IDX);

    assert_true(virtq_driver_init(&t->drv[q], &t->mem, RING_GPA(q), QSIZE, ev, 0));
    vq->size = QSIZE;
    vq->desc_gpa = t->drv[q].desc_gpa;
    vq->avail_gpa = t->drv[q].avail_gpa;
    vq->used_gpa = t->drv[q].used_gpa;
    vq->event_idx = ev;
    vq->indirect = t->drv_features & (1ull << VIRTIO_F_RING_INDIRECT_DESC);
    assert_true(virtio_blk_pci_ops.queue_enable(&t->d, q, t->drv_features));
}

enum backend_kind { RAMDISK, FAKE };

/* A device with nq queues, enabled and DRIVER_OK unless start is false. */
static struct tb *tb_new_mt(enum backend_kind kind, unsigned nq, bool polled, bool start,
                            uint32_t max_transfer)
{
    struct tb *t = calloc(1, sizeof(*t));
    char why[128];

    assert_non_null(t);
    t->guest = aligned_alloc(4096, GUEST_BYTES);
    t->disk = aligned_alloc(4096, DISK_BYTES);
    assert_non_null(t->guest);
    assert_non_null(t->disk);
    memset(t->guest, 0, GUEST_BYTES);
    for (unsigned i = 0; i < DISK_BYTES; i++)
        t->disk[i] = (uint8_t)(i / 512 + i * 13);
    t->mem = (struct vmem){t->guest, GUEST_BYTES};
    assert_true(ramdisk_init(&t->rd, t->disk, DISK_BYTES, "ram0"));
    fake_init(&t->fk, BLK_F_FLUSH, max_transfer);

    struct virtio_blk_params p = {.backend = kind == RAMDISK ? &t->rd.dev : &t->fk.dev,
                                  .num_queues = nq,
                                  .name = "test disk",
                                  .serial = "SIDECORE-0001",
                                  .mem = &t->mem,
                                  .polled = polled,
                                  .signal = on_signal,
                                  .broken = on_broken,
                                  .ctx = t,
                                  .now_ns = fake_now_ns};
    assert_true(virtio_blk_init(&t->d, &p, why, sizeof(why)));
    t->drv_features = t->d.features | (1ull << VIRTIO_F_VERSION_1);
    t->drv_features &= ~(1ull << VIRTIO_F_RING_EVENT_IDX); /* tests opt in */
    if (start) {
        for (unsigned q = 0; q < nq; q++)
            enable_queue(t, q);
        virtio_blk_pci_ops.driver_ok(&t->d);
    }
    return t;
}

static struct tb *tb_new(enum backend_kind kind, unsigned nq, bool polled, bool start)
{
    return tb_new_mt(kind, nq, polled, start, 1u << 20);
}

static void tb_free(struct tb *t)
{
    free(t->guest);
    free(t->disk);
    free(t);
}

static uint8_t *gp(struct tb *t, uint64_t gpa)
{
    return t->guest + gpa;
}

/* Writes a request header and a 0xff status byte into the next header
 * slot; returns the header's address (status at +16). */
static uint64_t new_header(struct tb *t, uint32_t type, uint64_t sector)
{
    uint64_t gpa = HDR_GPA + 32ull * (t->next_hdr++ % HDR_SLOTS);
    uint8_t *h = gp(t, gpa);

    memset(h, 0, 32);
    memcpy(h, &type, 4);
    memcpy(h + 8, &sector, 8);
    h[16] = 0xff;
    return gpa;
}

/* Makes sg available on queue q, remembering where its status byte is
 * (status_gpa; 0: the last writable byte of sg). */
static int post(struct tb *t, unsigned q, const struct virtq_sg *sg, unsigned nread,
                unsigned nwrite, uint64_t status_gpa)
{
    int head = virtq_driver_add(&t->drv[q], sg, nread, nwrite);

    assert_true(head >= 0);
    if (!status_gpa && nwrite)
        status_gpa = sg[nread + nwrite - 1].gpa + sg[nread + nwrite - 1].len - 1;
    t->status_gpa[q][head] = status_gpa;
    return head;
}

/* The usual layout: header | data in nseg equal pieces | status. */
static int request(struct tb *t, unsigned q, uint32_t type, uint64_t sector, uint64_t data_gpa,
                   uint32_t len, unsigned nseg, bool data_writable)
{
    uint64_t h = new_header(t, type, sector);
    struct virtq_sg sg[VIRTQ_MAX_CHAIN];
    unsigned n = 0;

    sg[n++] = (struct virtq_sg){h, 16};
    for (unsigned i = 0; i < nseg; i++) {
        uint32_t piece = len / nseg + (i == nseg - 1 ? len % nseg : 0);

        sg[n++] = (struct virtq_sg){data_gpa + (uint64_t)i * (len / nseg), piece};
    }
    sg[n++] = (struct virtq_sg){h + 16, 1};
    if (data_writable)
        return post(t, q, sg, 1, n - 1, h + 16);
    return post(t, q, sg, n - 1, 1, h + 16);
}

/* Services queue q until it has nothing more to do. */
static unsigned run(struct tb *t, unsigned q)
{
    unsigned total = 0, n;

    for (unsigned i = 0; i < 100 && (n = virtio_blk_service(&t->d, q, 256)); i++)
        total += n;
    return total;
}

/* Takes the next used entry of queue q: its head, and the status byte and
 * length the device left. False if there is none. */
static bool used(struct tb *t, unsigned q, uint16_t *head, uint8_t *status, uint32_t *len)
{
    uint16_t id;
    uint32_t l;
    int r = virtq_driver_take_used(&t->drv[q], &id, &l);

    assert_int_not_equal(r, -1);
    if (r == 0)
        return false;
    if (head)
        *head = id;
    if (status)
        *status = *gp(t, t->status_gpa[q][id]);
    if (len)
        *len = l;
    return true;
}

/* Runs one request to completion and returns its status. */
static uint8_t one(struct tb *t, unsigned q, uint32_t type, uint64_t sector, uint64_t data_gpa,
                   uint32_t len, unsigned nseg, bool data_writable)
{
    int head = request(t, q, type, sector, data_gpa, len, nseg, data_writable);
    uint16_t id;
    uint8_t st;

    run(t, q);
    assert_true(used(t, q, &id, &st, NULL));
    assert_int_equal(id, head);
    assert_false(used(t, q, NULL, NULL, NULL));
    return st;
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 31 + (i >> 9));
}

/* --- configuration ------------------------------------------------------- */

static uint32_t cfg(struct tb *t, unsigned off, unsigned size)
{
    return virtio_blk_pci_ops.config_read(&t->d, off, size);
}

static void test_config_space(void **state)
{
    struct tb *t = tb_new(RAMDISK, 4, true, false);
    uint64_t f = t->d.features;

    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_CAPACITY, 4), DISK_SECTORS);
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_CAPACITY + 4, 4), 0);
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_SIZE_MAX, 4), 0);
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_SEG_MAX, 4), VIRTIO_BLK_SEG_MAX);
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_GEOMETRY, 4), 0);
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_BLK_SIZE, 4), 512);
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_WRITEBACK, 1), 0);
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_NUM_QUEUES, 2), 4);
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, 4), t->rd.dev.max_discard_sectors);
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_MAX_DISCARD_SEG, 4), 1);
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_DISCARD_SECTOR_ALIGNMENT, 4), 1);
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS, 4),
                     t->rd.dev.max_discard_sectors);
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SEG, 4), 1);
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP, 1), 0);
    /* Narrow and unaligned reads see the same little-endian bytes. */
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_CAPACITY + 1, 1), (DISK_SECTORS >> 8) & 0xff);
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_CAPACITY + 1, 2), (DISK_SECTORS >> 8) & 0xffff);
    /* Past the structure, or a bad size: zero, never a fault. */
    assert_int_equal(cfg(t, VIRTIO_BLK_CONFIG_SIZE, 4), 0);
    assert_int_equal(cfg(t, 0xfffffff0u, 4), 0);
    assert_int_equal(cfg(t, 0, 3), 0);
    /* Writes change nothing. */
    virtio_blk_pci_ops.config_write(&t->d, VIRTIO_BLK_CFG_WRITEBACK, 1, 1);
    virtio_blk_pci_ops.config_write(&t->d, VIRTIO_BLK_CFG_CAPACITY, 4, 7);
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_WRITEBACK, 1), 0);
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_CAPACITY, 4), DISK_SECTORS);

    assert_true(f & (1ull << VIRTIO_BLK_F_SEG_MAX));
    assert_true(f & (1ull << VIRTIO_BLK_F_BLK_SIZE));
    assert_true(f & (1ull << VIRTIO_BLK_F_FLUSH)); /* even without a cache: Linux needs it */
    assert_true(f & (1ull << VIRTIO_BLK_F_MQ));
    assert_true(f & (1ull << VIRTIO_BLK_F_DISCARD));
    assert_true(f & (1ull << VIRTIO_BLK_F_WRITE_ZEROES));
    assert_true(f & (1ull << VIRTIO_F_RING_INDIRECT_DESC));
    assert_true(f & (1ull << VIRTIO_F_RING_EVENT_IDX));
    assert_false(f & (1ull << 11)); /* no CONFIG_WCE */
    tb_free(t);

    /* One queue: no MQ; a backend without discard: neither bit nor limits. */
    t = tb_new(FAKE, 1, true, false);
    f = t->d.features;
    assert_false(f & (1ull << VIRTIO_BLK_F_MQ));
    assert_false(f & (1ull << VIRTIO_BLK_F_DISCARD));
    assert_false(f & (1ull << VIRTIO_BLK_F_WRITE_ZEROES));
    assert_true(f & (1ull << VIRTIO_BLK_F_FLUSH));
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_NUM_QUEUES, 2), 1);
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, 4), 0);
    assert_int_equal(cfg(t, VIRTIO_BLK_CFG_MAX_DISCARD_SEG, 4), 0);
    tb_free(t);
}

static void test_init_refuses(void **state)
{
    struct virtio_blk *d = calloc(1, sizeof(*d));
    struct fake f;
    struct vmem m = {NULL, 0};
    char why[128];
    struct virtio_blk_params p = {
        .backend = &f.dev, .num_queues = 1, .mem = &m, .signal = on_signal, .broken = on_broken};

    fake_init(&f, 0, 4096);
    assert_true(virtio_blk_init(d, &p, why, sizeof(why)));
    p.num_queues = 0;
    assert_false(virtio_blk_init(d, &p, why, sizeof(why)));
    p.num_queues = VIRTIO_BLK_MAX_QUEUES + 1;
    assert_false(virtio_blk_init(d, &p, why, sizeof(why)));
    assert_non_null(strstr(why, "queues"));
    p.num_queues = 1;
    f.dev.block_size = 1000;
    assert_false(virtio_blk_init(d, &p, why, sizeof(why)));
    assert_non_null(strstr(why, "1000-byte"));
    f.dev.block_size = 4096;
    f.dev.max_transfer = 2048;
    assert_false(virtio_blk_init(d, &p, why, sizeof(why)));
    f.dev.max_transfer = 4096;
    f.dev.sectors = 0;
    assert_false(virtio_blk_init(d, &p, why, sizeof(why)));
    f.dev.sectors = 8;
    p.broken = NULL;
    assert_false(virtio_blk_init(d, &p, why, sizeof(why)));
    p.broken = on_broken;
    p.backend = NULL;
    assert_false(virtio_blk_init(d, &p, why, sizeof(why)));
    free(d);
}

/* --- requests ------------------------------------------------------------ */

static void test_write_read_roundtrip(void **state)
{
    struct tb *t = tb_new(RAMDISK, 1, true, true);
    uint8_t *src = gp(t, DATA_GPA), *dst = gp(t, DATA_GPA + 0x10000);
    uint8_t st;
    uint32_t len;

    /* Write 4 sectors at sector 100 through three uneven descriptors. */
    fill(src, 2048, 1);
    uint64_t h = new_header(t, VIRTIO_BLK_T_OUT, 100);
    struct virtq_sg w[] = {
        {h, 16}, {DATA_GPA, 700}, {DATA_GPA + 700, 1000}, {DATA_GPA + 1700, 348}, {h + 16, 1}};
    post(t, 0, w, 4, 1, h + 16);
    run(t, 0);
    assert_true(used(t, 0, NULL, &st, &len));
    assert_int_equal(st, VIRTIO_BLK_S_OK);
    assert_int_equal(len, 1); /* only the status byte was written */
    assert_memory_equal(t->disk + 100 * 512, src, 2048);
    assert_int_equal(t->disk[99 * 512 + 511], (uint8_t)(99 + (99 * 512 + 511) * 13));
    assert_int_equal(t->disk[104 * 512], (uint8_t)(104 + 104 * 512 * 13));

    /* Read it back through two descriptors. */
    memset(dst, 0, 2048);
    request(t, 0, VIRTIO_BLK_T_IN, 100, DATA_GPA + 0x10000, 2048, 2, true);
    run(t, 0);
    assert_true(used(t, 0, NULL, &st, &len));
    assert_int_equal(st, VIRTIO_BLK_S_OK);
    assert_int_equal(len, 2049); /* data and status */
    assert_memory_equal(dst, src, 2048);

    struct virtio_blk_queue_stats *s = &t->d.q[0].stats;
    assert_int_equal(s->requests, 2);
    assert_int_equal(s->reads, 1);
    assert_int_equal(s->writes, 1);
    assert_int_equal(s->bytes, 4096);
    assert_int_equal(s->errors, 0);
    assert_int_equal(s->inflight, 0);
    tb_free(t);
}

/* ANY_LAYOUT: a header cut in two, a header sharing its descriptor with the
 * data, data sharing its descriptor with the status byte, and indirect
 * tables all mean the same request. */
static void test_any_layout(void **state)
{
    struct tb *t = tb_new(RAMDISK, 1, true, false);
    uint8_t st;

    t->drv_features |= 1ull << VIRTIO_F_RING_EVENT_IDX;
    enable_queue(t, 0);
    virtio_blk_pci_ops.driver_ok(&t->d);

    /* Write sector 7: header in two 8-byte pieces. */
    uint64_t h = new_header(t, VIRTIO_BLK_T_OUT, 7);
    fill(gp(t, DATA_GPA), 512, 9);
    struct virtq_sg a[] = {{h, 8}, {h + 8, 8}, {DATA_GPA, 512}, {h + 16, 1}};
    post(t, 0, a, 3, 1, h + 16);
    run(t, 0);
    assert_true(used(t, 0, NULL, &st, NULL));
    assert_int_equal(st, VIRTIO_BLK_S_OK);
    assert_memory_equal(t->disk + 7 * 512, gp(t, DATA_GPA), 512);

    /* Write sector 8: header and data in one 528-byte buffer. */
    uint64_t buf = DATA_GPA + 0x1000;
    uint32_t type = VIRTIO_BLK_T_OUT;
    uint64_t sector = 8;
    memset(gp(t, buf), 0, 16);
    memcpy(gp(t, buf), &type, 4);
    memcpy(gp(t, buf + 8), &sector, 8);
    fill(gp(t, buf + 16), 512, 77);
    uint64_t s = DATA_GPA + 0x2000;
    *gp(t, s) = 0xff;
    struct virtq_sg b[] = {{buf, 528}, {s, 1}};
    post(t, 0, b, 1, 1, s);
    run(t, 0);
    assert_true(used(t, 0, NULL, &st, NULL));
    assert_int_equal(st, VIRTIO_BLK_S_OK);
    assert_memory_equal(t->disk + 8 * 512, gp(t, buf + 16), 512);

    /* Read sectors 7..8 into one 1025-byte buffer whose last byte is the
     * status. */
    h = new_header(t, VIRTIO_BLK_T_IN, 7);
    uint64_t r = DATA_GPA + 0x3000;
    memset(gp(t, r), 0xee, 1025);
    struct virtq_sg c[] = {{h, 16}, {r, 1025}};
    post(t, 0, c, 1, 1, r + 1024);
    run(t, 0);
    assert_true(used(t, 0, NULL, &st, NULL));
    assert_int_equal(st, VIRTIO_BLK_S_OK);
    assert_memory_equal(gp(t, r), t->disk + 7 * 512, 1024);

    /* The same read through an indirect table. */
    h = new_header(t, VIRTIO_BLK_T_IN, 7);
    memset(gp(t, r), 0, 1024);
    struct virtq_sg d[] = {{h, 16}, {r, 512}, {r + 512, 512}, {h + 16, 1}};
    int head = virtq_driver_add_indirect(&t->drv[0], d, 1, 3, TABLE_GPA);
    assert_true(head >= 0);
    t->status_gpa[0][head] = h + 16;
    run(t, 0);
    assert_true(used(t, 0, NULL, &st, NULL));
    assert_int_equal(st, VIRTIO_BLK_S_OK);
    assert_memory_equal(gp(t, r), t->disk + 7 * 512, 1024);
    assert_false(t->d.needs_reset);
    tb_free(t);
}

static void test_flush_and_get_id(void **state)
{
    struct tb *t = tb_new(RAMDISK, 1, true, true);
    uint8_t *id = gp(t, DATA_GPA);
    uint32_t len;
    uint8_t st;

    /* The RAM disk has no cache: flush is answered at once. */
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0, false), VIRTIO_BLK_S_OK);
    assert_int_equal(t->d.q[0].stats.flushes, 1);

    memset(id, 0xcc, 32);
    request(t, 0, VIRTIO_BLK_T_GET_ID, 0, DATA_GPA, VIRTIO_BLK_ID_BYTES, 1, true);
    run(t, 0);
    assert_true(used(t, 0, NULL, &st, &len));
    assert_int_equal(st, VIRTIO_BLK_S_OK);
    assert_memory_equal(id, "SIDECORE-0001\0\0\0\0\0\0\0", 20);
    assert_int_equal(id[20], 0xcc); /* nothing beyond the buffer */
    /* A short buffer gets what fits. */
    memset(id, 0xcc, 32);
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_GET_ID, 0, DATA_GPA, 4, 1, true), VIRTIO_BLK_S_OK);
    assert_memory_equal(id, "SIDE", 4);
    assert_int_equal(id[4], 0xcc);
    tb_free(t);

    /* A backend with a cache sees the flush. */
    t = tb_new(FAKE, 1, true, true);
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0, false), VIRTIO_BLK_S_OK);
    assert_int_equal(t->fk.nreq, 1);
    assert_int_equal(t->fk.req[0].op, BLK_OP_FLUSH);
    assert_int_equal(t->fk.req[0].nseg, 0);
    tb_free(t);
}

/* A discard / write-zeroes request with one payload segment. */
static uint8_t dwz(struct tb *t, uint32_t type, uint64_t sector, uint32_t n, uint32_t flags,
                   unsigned nsegs)
{
    uint8_t *p = gp(t, DATA_GPA + 0x8000);

    for (unsigned i = 0; i < nsegs; i++) {
        memcpy(p + 16 * i, &sector, 8);
        memcpy(p + 16 * i + 8, &n, 4);
        memcpy(p + 16 * i + 12, &flags, 4);
    }
    return one(t, 0, type, 0, DATA_GPA + 0x8000, 16 * nsegs, 1, false);
}

static void test_discard_write_zeroes(void **state)
{
    struct tb *t = tb_new(RAMDISK, 1, true, true);
    uint32_t max = t->rd.dev.max_discard_sectors;

    assert_int_equal(dwz(t, VIRTIO_BLK_T_DISCARD, 10, 3, 0, 1), VIRTIO_BLK_S_OK);
    assert_int_equal(dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, 20, 1, VIRTIO_BLK_DWZ_F_UNMAP, 1),
                     VIRTIO_BLK_S_OK);
    for (unsigned i = 9 * 512; i < 22 * 512; i++) {
        bool zero = (i >= 10 * 512 && i < 13 * 512) || (i >= 20 * 512 && i < 21 * 512);

        if (zero ? t->disk[i] != 0 : t->disk[i] != (uint8_t)(i / 512 + i * 13))
            fail_msg("disk byte %u is %#x", i, t->disk[i]);
    }
    uint8_t keep[512];
    memcpy(keep, t->disk + 30 * 512, 512);
    /* Unmap on a discard, unknown flags, more segments than offered. */
    assert_int_equal(dwz(t, VIRTIO_BLK_T_DISCARD, 30, 1, VIRTIO_BLK_DWZ_F_UNMAP, 1),
                     VIRTIO_BLK_S_UNSUPP);
    assert_int_equal(dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, 30, 1, 2, 1), VIRTIO_BLK_S_UNSUPP);
    assert_int_equal(dwz(t, VIRTIO_BLK_T_DISCARD, 30, 1, 0, 2), VIRTIO_BLK_S_UNSUPP);
    /* Too many sectors, out of range, a payload that is not whole segments. */
    assert_int_equal(dwz(t, VIRTIO_BLK_T_DISCARD, 30, max + 1, 0, 1), VIRTIO_BLK_S_IOERR);
    assert_int_equal(dwz(t, VIRTIO_BLK_T_DISCARD, DISK_SECTORS - 1, 2, 0, 1), VIRTIO_BLK_S_IOERR);
    assert_int_equal(dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, UINT64_MAX, 2, 0, 1), VIRTIO_BLK_S_IOERR);
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_DISCARD, 0, DATA_GPA + 0x8000, 12, 1, false),
                     VIRTIO_BLK_S_IOERR);
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_DISCARD, 0, 0, 0, 0, false), VIRTIO_BLK_S_IOERR);
    assert_memory_equal(t->disk + 30 * 512, keep, 512);
    assert_int_equal(t->d.q[0].stats.errors, 8);
    assert_false(t->d.needs_reset);
    tb_free(t);

    /* Not offered by the backend: unsupported, never reaching it. */
    t = tb_new(FAKE, 1, true, true);
    assert_int_equal(dwz(t, VIRTIO_BLK_T_DISCARD, 1, 1, 0, 1), VIRTIO_BLK_S_UNSUPP);
    assert_int_equal(dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, 1, 1, 0, 1), VIRTIO_BLK_S_UNSUPP);
    assert_int_equal(t->fk.nreq, 0);
    tb_free(t);
}

static void test_unsupported_and_bad_ranges(void **state)
{
    struct tb *t = tb_new(FAKE, 1, true, true);

    assert_int_equal(one(t, 0, 99, 0, 0, 0, 0, false), VIRTIO_BLK_S_UNSUPP);
    assert_int_equal(one(t, 0, 10 /* GET_LIFETIME */, 0, DATA_GPA, 16, 1, true),
                     VIRTIO_BLK_S_UNSUPP);
    assert_int_equal(one(t, 0, 0x100, 0, DATA_GPA, 512, 1, true), VIRTIO_BLK_S_UNSUPP);
    /* Past the end, straddling it, wrapping, and not whole sectors: IOERR
     * without the backend hearing of it. */
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_IN, DISK_SECTORS, DATA_GPA, 512, 1, true),
                     VIRTIO_BLK_S_IOERR);
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_OUT, DISK_SECTORS - 1, DATA_GPA, 1024, 1, false),
                     VIRTIO_BLK_S_IOERR);
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_IN, UINT64_MAX, DATA_GPA, 512, 1, true),
                     VIRTIO_BLK_S_IOERR);
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_IN, 0, DATA_GPA, 513, 1, true), VIRTIO_BLK_S_IOERR);
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 100, 1, false), VIRTIO_BLK_S_IOERR);
    assert_int_equal(t->fk.nreq, 0);
    /* The last sector itself is fine. */
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, DATA_GPA, 512, 1, true),
                     VIRTIO_BLK_S_OK);
    assert_int_equal(t->fk.nreq, 1);
    assert_int_equal(t->fk.req[0].sector, DISK_SECTORS - 1);
    assert_int_equal(t->d.q[0].stats.errors, 8);
    assert_int_equal(t->d.q[0].stats.others, 3);
    assert_false(t->d.needs_reset);
    assert_int_equal(t->broken, 0);
    tb_free(t);
}

static void test_backend_errors(void **state)
{
    struct tb *t = tb_new(FAKE, 1, true, true);

    t->fk.complete_status = BLK_EIO;
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, 1, true), VIRTIO_BLK_S_IOERR);
    t->fk.complete_status = BLK_EMEDIA;
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 512, 1, false), VIRTIO_BLK_S_IOERR);
    t->fk.complete_status = BLK_ENOTSUP;
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0, false), VIRTIO_BLK_S_UNSUPP);
    t->fk.complete_status = BLK_OK;
    /* Refused at submit: no completion will come, the device answers. */
    t->fk.refuse = BLK_EINVAL;
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, 1, true), VIRTIO_BLK_S_IOERR);
    t->fk.refuse = BLK_EOFFLINE;
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 512, 1, false), VIRTIO_BLK_S_IOERR);
    t->fk.refuse = 0;
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, 1, true), VIRTIO_BLK_S_OK);
    assert_int_equal(t->d.q[0].stats.errors, 5);
    assert_int_equal(t->d.q[0].stats.requests, 6);
    assert_int_equal(t->d.q[0].stats.inflight, 0);
    assert_false(t->d.needs_reset);
    tb_free(t);
}

/* A transfer longer than max_transfer becomes several backend requests
 * whose segments cover the guest's buffers exactly, in order. */
static void test_split_by_max_transfer(void **state)
{
    struct tb *t = tb_new_mt(FAKE, 1, true, true, 4096 + 100); /* used as 4096: block aligned */

    assert_int_equal(t->d.max_chunk, 4096);
    /* 14 sectors (7 KiB) in 3 descriptors of 2389, 2389 and 2390 bytes,
     * from sector 40: parts of 4096 and 3072 bytes. */
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_OUT, 40, DATA_GPA, 7168, 3, false), VIRTIO_BLK_S_OK);
    assert_int_equal(t->fk.nreq, 2);
    assert_int_equal(t->fk.req[0].op, BLK_OP_WRITE);
    assert_int_equal(t->fk.req[0].sector, 40);
    assert_int_equal(t->fk.req[0].nsectors, 8);
    assert_int_equal(t->fk.req[1].sector, 48);
    assert_int_equal(t->fk.req[1].nsectors, 6);
    uint64_t at = (uint64_t)(uintptr_t)gp(t, DATA_GPA);
    for (unsigned r = 0; r < 2; r++) {
        uint64_t bytes = 0;

        for (unsigned i = 0; i < t->fk.req[r].nseg; i++) {
            /* The guest's pieces are contiguous here, so the segments must
             * follow each other without gap or overlap. */
            assert_int_equal(t->fk.req[r].segs[i].phys, at);
            at += t->fk.req[r].segs[i].len;
            bytes += t->fk.req[r].segs[i].len;
        }
        assert_int_equal(bytes, (uint64_t)t->fk.req[r].nsectors * 512);
    }
    assert_int_equal(t->fk.req[0].nseg, 2); /* 2389 + 1707 */
    assert_int_equal(t->fk.req[0].segs[1].len, 1707);
    assert_int_equal(t->fk.req[1].nseg, 2); /* 682 + 2390 */
    assert_int_equal(t->d.q[0].stats.requests, 1);
    assert_int_equal(t->d.q[0].stats.bytes, 7168);

    /* One failing part fails the request, once. */
    t->fk.nreq = 0;
    t->fk.complete_status = BLK_EIO;
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_IN, 0, DATA_GPA, 3 * 4096, 3, true),
                     VIRTIO_BLK_S_IOERR);
    assert_int_equal(t->fk.nreq, 3);
    assert_int_equal(t->d.q[0].stats.requests, 2);
    assert_int_equal(t->d.q[0].stats.errors, 1);
    assert_int_equal(t->d.q[0].stats.inflight, 0);
    tb_free(t);
}

static void test_ebusy_retry(void **state)
{
    struct tb *t = tb_new(FAKE, 1, true, true);
    uint16_t id;
    uint8_t st;

    t->fk.busy_left = 2;
    int h1 = request(t, 0, VIRTIO_BLK_T_IN, 5, DATA_GPA, 1024, 2, true);
    int h2 = request(t, 0, VIRTIO_BLK_T_OUT, 9, DATA_GPA + 0x1000, 512, 1, false);

    /* Full: the first request is held, the second not even taken. */
    assert_int_equal(virtio_blk_service(&t->d, 0, 8), 1);
    assert_int_equal(t->fk.nreq, 0);
    assert_ptr_not_equal(t->d.q[0].pending, NULL);
    assert_int_equal(t->d.q[0].stats.busy, 1);
    assert_false(used(t, 0, NULL, NULL, NULL));
    assert_int_equal(virtio_blk_service(&t->d, 0, 8), 0); /* still full */
    assert_int_equal(t->d.q[0].stats.busy, 2);
    assert_int_equal(t->fk.nreq, 0);

    /* Room again: the same request goes first, whole, then the next. */
    run(t, 0);
    assert_int_equal(t->fk.nreq, 2);
    assert_int_equal(t->fk.req[0].op, BLK_OP_READ);
    assert_int_equal(t->fk.req[0].sector, 5);
    assert_int_equal(t->fk.req[0].nsectors, 2);
    assert_int_equal(t->fk.req[0].nseg, 2);
    assert_int_equal(t->fk.req[1].op, BLK_OP_WRITE);
    assert_int_equal(t->fk.req[1].sector, 9);
    assert_true(used(t, 0, &id, &st, NULL));
    assert_int_equal(id, h1);
    assert_int_equal(st, VIRTIO_BLK_S_OK);
    assert_true(used(t, 0, &id, &st, NULL));
    assert_int_equal(id, h2);
    assert_int_equal(st, VIRTIO_BLK_S_OK);
    assert_int_equal(t->d.q[0].stats.requests, 2);
    tb_free(t);
}

/* EBUSY in the middle of a split request: it resumes where it stopped. */
static void test_ebusy_mid_split(void **state)
{
    struct tb *t = tb_new_mt(FAKE, 1, true, true, 1024);
    uint8_t st;

    t->fk.busy_from = 2;
    t->fk.busy_left = 3;
    request(t, 0, VIRTIO_BLK_T_OUT, 100, DATA_GPA, 4096, 4, false);
    virtio_blk_service(&t->d, 0, 8);
    assert_int_equal(t->fk.nreq, 2);
    assert_int_equal(t->fk.req[1].sector, 102);
    virtio_blk_service(&t->d, 0, 8); /* busy */
    virtio_blk_service(&t->d, 0, 8); /* busy */
    assert_int_equal(t->fk.nreq, 2);
    assert_false(used(t, 0, NULL, NULL, NULL)); /* not complete while parts remain */
    run(t, 0);
    assert_int_equal(t->fk.nreq, 4);
    assert_int_equal(t->fk.req[2].sector, 104);
    assert_int_equal(t->fk.req[3].sector, 106);
    assert_int_equal(t->fk.req[3].segs[0].phys, (uint64_t)(uintptr_t)gp(t, DATA_GPA + 3072));
    assert_true(used(t, 0, NULL, &st, NULL));
    assert_int_equal(st, VIRTIO_BLK_S_OK);
    assert_int_equal(t->d.q[0].stats.busy, 3);
    tb_free(t);
}

/* A part refused with an error after an earlier part was accepted: no more
 * parts go out, and the request fails only once the accepted part is back. */
static void test_refusal_mid_split(void **state)
{
    struct tb *t = tb_new_mt(FAKE, 1, true, true, 1024);
    uint8_t st;

    t->fk.hold = true;
    t->fk.refuse = BLK_EIO;
    t->fk.refuse_from = 1;
    request(t, 0, VIRTIO_BLK_T_IN, 0, DATA_GPA, 4096, 1, true);
    run(t, 0);
    assert_int_equal(t->fk.nreq, 1);
    assert_false(used(t, 0, NULL, NULL, NULL));
    assert_int_equal(t->d.q[0].stats.inflight, 1);
    t->fk.hold = false;
    run(t, 0);
    assert_true(used(t, 0, NULL, &st, NULL));
    assert_int_equal(st, VIRTIO_BLK_S_IOERR);
    assert_int_equal(t->fk.nreq, 1);
    assert_int_equal(t->d.q[0].stats.inflight, 0);
    tb_free(t);
}

static void test_multi_queue(void **state)
{
    struct tb *t = tb_new(RAMDISK, 4, true, true);
    uint16_t id;
    uint8_t st;

    for (unsigned q = 0; q < 4; q++)
        fill(gp(t, DATA_GPA + q * 0x1000), 512, (uint8_t)(q * 40));
    int heads[4];
    for (unsigned q = 0; q < 4; q++)
        heads[q] = request(t, q, VIRTIO_BLK_T_OUT, 200 + q, DATA_GPA + q * 0x1000, 512, 1, false);
    /* Servicing queue 2 serves only queue 2. */
    run(t, 2);
    assert_true(used(t, 2, &id, &st, NULL));
    assert_int_equal(id, heads[2]);
    assert_int_equal(st, VIRTIO_BLK_S_OK);
    assert_false(used(t, 0, NULL, NULL, NULL));
    assert_false(used(t, 1, NULL, NULL, NULL));
    assert_false(used(t, 3, NULL, NULL, NULL));
    assert_int_equal(t->signals[2], 1);
    assert_int_equal(t->signals[0] + t->signals[1] + t->signals[3], 0);
    for (unsigned q = 0; q < 4; q++) {
        if (q != 2)
            run(t, q);
        if (q != 2) {
            assert_true(used(t, q, &id, &st, NULL));
            assert_int_equal(id, heads[q]);
            assert_int_equal(st, VIRTIO_BLK_S_OK);
        }
        assert_memory_equal(t->disk + (200 + q) * 512, gp(t, DATA_GPA + q * 0x1000), 512);
        assert_int_equal(t->d.q[q].stats.writes, 1);
        assert_int_equal(t->signals[q], 1);
        assert_true(virtio_blk_queue_live(&t->d, q));
    }
    /* Every queue has a backend queue of its own. */
    assert_ptr_not_equal(t->d.q[0].bq.backend_priv, t->d.q[1].bq.backend_priv);
    assert_false(virtio_blk_queue_live(&t->d, 4));
    assert_int_equal(virtio_blk_service(&t->d, 4, 8), 0);
    tb_free(t);
}

/* --- malformed requests -------------------------------------------------- */

/* Builds one malformed chain on queue 0 (case k), while queue 1 has a
 * request accepted by the backend and another one made available. */
static void make_malformed(struct tb *t, unsigned k)
{
    uint64_t h = new_header(t, VIRTIO_BLK_T_IN, 0);
    uint64_t out = new_header(t, VIRTIO_BLK_T_OUT, 0);

    switch (k) {
    case 0: { /* no status byte */
        struct virtq_sg sg[] = {{out, 16}, {DATA_GPA, 512}};
        post(t, 0, sg, 2, 0, 0);
        break;
    }
    case 1: { /* header too short */
        struct virtq_sg sg[] = {{h, 8}, {DATA_GPA, 512}, {h + 16, 1}};
        post(t, 0, sg, 1, 2, h + 16);
        break;
    }
    case 2: { /* read with device-readable data */
        struct virtq_sg sg[] = {{h, 16}, {DATA_GPA, 512}, {h + 16, 1}};
        post(t, 0, sg, 2, 1, h + 16);
        break;
    }
    case 3: { /* write with device-writable data */
        struct virtq_sg sg[] = {{out, 16}, {DATA_GPA, 512}, {out + 16, 1}};
        post(t, 0, sg, 1, 2, out + 16);
        break;
    }
    case 4: { /* 129 data segments: header shares the first with data */
        static struct virtq_sg sg[VIRTQ_MAX_CHAIN];
        uint64_t b = DATA_GPA + 0x20000;
        uint32_t type = VIRTIO_BLK_T_OUT;

        memset(gp(t, b), 0, 16);
        memcpy(gp(t, b), &type, 4);
        sg[0] = (struct virtq_sg){b, 16 + 512};
        for (unsigned i = 1; i < VIRTQ_MAX_CHAIN - 1; i++)
            sg[i] = (struct virtq_sg){b + 0x1000 + 512ull * i, 512};
        sg[VIRTQ_MAX_CHAIN - 1] = (struct virtq_sg){out + 16, 1};
        int head = virtq_driver_add_indirect(&t->drv[0], sg, VIRTQ_MAX_CHAIN - 1, 1, TABLE_GPA);
        assert_true(head >= 0);
        break;
    }
    case 5: { /* the ring itself: a descriptor outside guest memory */
        struct virtq_sg sg[] = {{h, 16}, {DATA_GPA, 512}, {h + 16, 1}};
        int head = post(t, 0, sg, 1, 2, h + 16);
        uint64_t bad = GUEST_BYTES - 8;
        memcpy(t->drv[0].desc + 16 * head, &bad, 8);
        break;
    }
    case 6: { /* discard with device-writable payload */
        uint64_t dh = new_header(t, VIRTIO_BLK_T_DISCARD, 0);
        struct virtq_sg sg[] = {{dh, 16}, {DATA_GPA, 16}, {dh + 16, 1}};
        post(t, 0, sg, 1, 2, dh + 16);
        break;
    }
    }
}

#define MALFORMED_CASES 7

static void test_malformed_needs_reset(void **state)
{
    for (unsigned k = 0; k < MALFORMED_CASES; k++) {
        struct tb *t = tb_new(FAKE, 3, true, false);
        uint16_t id;
        uint8_t st;

        t->drv_features |= 1ull << VIRTIO_F_RING_INDIRECT_DESC;
        for (unsigned q = 0; q < 3; q++)
            enable_queue(t, q);
        virtio_blk_pci_ops.driver_ok(&t->d);

        /* Queue 1: one request accepted and held by the backend. Queue 2:
         * one half-submitted (the backend is full). */
        t->fk.hold = true;
        int held = request(t, 1, VIRTIO_BLK_T_IN, 3, DATA_GPA + 0x40000, 512, 1, true);
        run(t, 1);
        assert_int_equal(t->fk.nreq, 1);
        t->fk.busy_left = 1;
        t->fk.busy_from = t->fk.nreq;
        int busy = request(t, 2, VIRTIO_BLK_T_OUT, 4, DATA_GPA + 0x41000, 512, 1, false);
        virtio_blk_service(&t->d, 2, 8);
        assert_ptr_not_equal(t->d.q[2].pending, NULL);

        make_malformed(t, k);
        virtio_blk_service(&t->d, 0, 8);
        if (!t->d.needs_reset)
            fail_msg("case %u: not broken", k);
        assert_int_equal(t->broken, 1);
        assert_true(strlen(t->d.error) > 10);
        assert_non_null(strstr(t->d.error, "test disk"));
        assert_false(virtio_blk_queue_live(&t->d, 1));
        /* Nothing of the malformed chain reached the backend. */
        assert_int_equal(t->fk.nreq, 1);

        /* Another bad chain and more service, another driver mistake (a
         * queue enabled twice): no second report, the first message stays. */
        char first[sizeof(t->d.error)];
        memcpy(first, t->d.error, sizeof(first));
        make_malformed(t, k == 5 ? 0 : k);
        virtio_blk_service(&t->d, 0, 8);
        assert_false(virtio_blk_pci_ops.queue_enable(&t->d, 1, t->drv_features));
        assert_int_equal(t->broken, 1);
        assert_string_equal(t->d.error, first);

        /* Queue 1 takes no new request... */
        request(t, 1, VIRTIO_BLK_T_IN, 5, DATA_GPA + 0x42000, 512, 1, true);
        t->fk.hold = false;
        run(t, 1);
        assert_int_equal(t->fk.nreq, 1);
        /* ... but the one the backend held completes to the guest. */
        assert_true(used(t, 1, &id, &st, NULL));
        assert_int_equal(id, held);
        assert_int_equal(st, VIRTIO_BLK_S_OK);
        assert_false(used(t, 1, NULL, NULL, NULL));
        /* Queue 2's half-submitted request is not lost either: it fails. */
        run(t, 2);
        assert_true(used(t, 2, &id, &st, NULL));
        assert_int_equal(id, busy);
        assert_int_equal(st, VIRTIO_BLK_S_IOERR);
        assert_int_equal(t->fk.nreq, 1);
        for (unsigned q = 0; q < 3; q++)
            assert_int_equal(t->d.q[q].stats.inflight, 0);

        /* A reset cures it. */
        virtio_blk_pci_ops.reset(&t->d);
        assert_false(t->d.needs_reset);
        for (unsigned q = 0; q < 3; q++)
            enable_queue(t, q);
        virtio_blk_pci_ops.driver_ok(&t->d);
        assert_int_equal(one(t, 0, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, 1, true), VIRTIO_BLK_S_OK);
        tb_free(t);
    }
}

/* --- reset and DRIVER_OK ------------------------------------------------- */

static void test_nothing_before_driver_ok(void **state)
{
    struct tb *t = tb_new(RAMDISK, 1, true, false);
    uint8_t st;

    enable_queue(t, 0);
    request(t, 0, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, 1, true);
    assert_int_equal(virtio_blk_service(&t->d, 0, 8), 0);
    assert_false(virtio_blk_queue_live(&t->d, 0));
    virtio_blk_pci_ops.driver_ok(&t->d);
    assert_true(virtio_blk_queue_live(&t->d, 0));
    run(t, 0);
    assert_true(used(t, 0, NULL, &st, NULL));
    assert_int_equal(st, VIRTIO_BLK_S_OK);
    /* Enabling a queue twice is a driver bug. */
    assert_false(virtio_blk_pci_ops.queue_enable(&t->d, 0, t->drv_features));
    assert_true(t->d.needs_reset);
    assert_false(virtio_blk_pci_ops.queue_enable(&t->d, 7, t->drv_features));
    tb_free(t);
}

static void test_reset_drains_and_closes(void **state)
{
    struct tb *t = tb_new(FAKE, 2, true, true);

    t->fk.hold = true;
    for (unsigned i = 0; i < 3; i++)
        request(t, 0, VIRTIO_BLK_T_IN, i, DATA_GPA + i * 0x1000, 512, 1, true);
    request(t, 1, VIRTIO_BLK_T_IN, 9, DATA_GPA + 0x8000, 512, 1, true);
    run(t, 0);
    run(t, 1);
    assert_int_equal(t->fk.nreq, 4);
    assert_int_equal(t->d.q[0].stats.inflight, 3);
    /* Nothing completes during service while held; the reset's own polls
     * are let through. */
    t->fk.hold = false;
    virtio_blk_pci_ops.reset(&t->d);
    assert_int_equal(t->d.q[0].stats.inflight, 0);
    assert_int_equal(t->d.q[1].stats.inflight, 0);
    assert_int_equal(t->fk.closes, 2);
    assert_false(t->d.q[0].opened);
    assert_false(virtio_blk_queue_live(&t->d, 0));
    assert_int_equal(t->d.error[0], 0);
    /* The guest is not touched after its reset: no used entry, status
     * bytes as it left them, no interrupt. */
    assert_int_equal(*(volatile uint16_t *)(t->drv[0].used + 2), 0);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(*gp(t, HDR_GPA + 32 * i + 16), 0xff);
    assert_int_equal(t->signals[0], 0);
    assert_int_equal(t->d.q[0].stats.requests, 0);
    /* Service after reset does nothing. */
    request(t, 0, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, 1, true);
    assert_int_equal(virtio_blk_service(&t->d, 0, 8), 0);
    assert_int_equal(t->fk.nreq, 4);

    /* Up again: the queue is reopened at the backend. */
    enable_queue(t, 0);
    enable_queue(t, 1);
    virtio_blk_pci_ops.driver_ok(&t->d);
    assert_int_equal(t->fk.opens, 4);
    assert_int_equal(one(t, 0, VIRTIO_BLK_T_IN, 1, DATA_GPA, 512, 1, true), VIRTIO_BLK_S_OK);
    tb_free(t);
}

/* A backend that never answers: the reset gives up after its time limit,
 * says so, and keeps the slots until the late completions come. */
static void test_reset_backend_never_completes(void **state)
{
    struct tb *t = tb_new(FAKE, 1, true, true);

    t->fk.hold = true;
    request(t, 0, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, 1, true);
    request(t, 0, VIRTIO_BLK_T_OUT, 1, DATA_GPA + 0x1000, 512, 1, false);
    run(t, 0);
    assert_int_equal(t->d.q[0].stats.inflight, 2);
    fake_clock = 0;
    virtio_blk_pci_ops.reset(&t->d);
    assert_true(fake_clock > VIRTIO_BLK_DRAIN_NS);
    assert_non_null(strstr(t->d.error, "never completed 2"));
    assert_false(t->d.needs_reset);
    assert_true(t->d.q[0].opened); /* cannot close with requests in flight */
    assert_int_equal(t->fk.closes, 0);

    /* The driver starts over on a fresh ring; the old requests complete
     * late and only free their slots. */
    enable_queue(t, 0);
    virtio_blk_pci_ops.driver_ok(&t->d);
    t->fk.hold = false;
    int head = request(t, 0, VIRTIO_BLK_T_IN, 2, DATA_GPA + 0x2000, 512, 1, true);
    run(t, 0);
    uint16_t id;
    uint8_t st;
    assert_true(used(t, 0, &id, &st, NULL));
    assert_int_equal(id, head);
    assert_int_equal(st, VIRTIO_BLK_S_OK);
    assert_false(used(t, 0, NULL, NULL, NULL));
    assert_int_equal(t->d.q[0].stats.inflight, 0);
    assert_int_equal(t->d.q[0].free_count, VIRTIO_BLK_QUEUE_SIZE);
    tb_free(t);
}

/* The same with a backend that can abort a queue: the requests the drain
 * gave up on are stopped at the device before the queue is forgotten, so a
 * restart may reuse the guest's memory; nothing completes into it later. */
static void test_reset_aborts_what_the_backend_never_completed(void **state)
{
    for (int failing = 0; failing < 2; failing++) {
        struct tb *t = tb_new(FAKE, 1, true, true);

        t->fk.dev.ops = &fake_abort_ops;
        t->fk.abort_status = failing ? BLK_EOFFLINE : BLK_OK;
        t->fk.hold = true;
        request(t, 0, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, 1, true);
        request(t, 0, VIRTIO_BLK_T_OUT, 1, DATA_GPA + 0x1000, 512, 1, false);
        run(t, 0);
        fake_clock = 0;
        virtio_blk_pci_ops.reset(&t->d);
        assert_int_equal(t->fk.aborts, 1);
        assert_non_null(strstr(t->d.error, "never completed 2"));
        assert_non_null(strstr(t->d.error, failing ? "cut off" : "aborted at the device"));
        assert_false(t->d.q[0].opened);
        assert_int_equal(t->d.q[0].stats.inflight, 0);
        assert_int_equal(t->d.q[0].stats.aborted, 2);
        assert_int_equal(t->d.q[0].free_count, VIRTIO_BLK_QUEUE_SIZE);
        /* Up again on a fresh queue; the old requests never come back. */
        enable_queue(t, 0);
        virtio_blk_pci_ops.driver_ok(&t->d);
        t->fk.hold = false;
        assert_int_equal(one(t, 0, VIRTIO_BLK_T_IN, 1, DATA_GPA, 512, 1, true), VIRTIO_BLK_S_OK);
        assert_int_equal(t->d.q[0].stats.requests, 1);
        tb_free(t);
    }
}

struct reset_thread {
    struct tb *t;
    volatile int done;
};

static void *do_reset(void *arg)
{
    struct reset_thread *r = arg;

    virtio_blk_pci_ops.reset(&r->t->d);
    __atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* The reset waits for a servicer inside its work (busy) to leave. */
static void test_reset_waits_for_servicer(void **state)
{
    struct tb *t = tb_new(RAMDISK, 1, true, true);
    struct reset_thread r = {t, 0};
    pthread_t th;

    __atomic_store_n(&t->d.q[0].busy, 1, __ATOMIC_SEQ_CST); /* a servicer mid-call */
    assert_int_equal(pthread_create(&th, NULL, do_reset, &r), 0);
    usleep(50000);
    assert_int_equal(__atomic_load_n(&r.done, __ATOMIC_SEQ_CST), 0);
    assert_int_equal(__atomic_load_n(&t->d.q[0].running, __ATOMIC_SEQ_CST), 0);
    __atomic_store_n(&t->d.q[0].busy, 0, __ATOMIC_SEQ_CST); /* it leaves */
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(r.done, 1);
    tb_free(t);
}

/* --- interrupts and notifications ---------------------------------------- */

static void test_polled_mode_batches_interrupts(void **state)
{
    struct tb *t = tb_new(RAMDISK, 1, true, true);

    /* Notifications suppressed: the driver need not kick. */
    for (unsigned i = 0; i < 5; i++)
        request(t, 0, VIRTIO_BLK_T_IN, i, DATA_GPA + i * 512, 512, 1, true);
    assert_false(virtq_driver_kick_needed(&t->drv[0]));
    virtio_blk_service(&t->d, 0, 256);  /* submits (the RAM disk completes on the next poll) */
    virtio_blk_service(&t->d, 0, 256);  /* reaps all five */
    assert_int_equal(t->signals[0], 1); /* one interrupt for the batch */
    assert_int_equal(t->d.q[0].stats.interrupts, 1);
    for (unsigned i = 0; i < 5; i++)
        assert_true(used(t, 0, NULL, NULL, NULL));
    /* The driver turns interrupts off: none is sent. */
    virtq_driver_set_interrupt(&t->drv[0], false);
    request(t, 0, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, 1, true);
    run(t, 0);
    assert_int_equal(t->signals[0], 1);
    assert_true(used(t, 0, NULL, NULL, NULL));
    tb_free(t);
}

static void test_trap_mode(void **state)
{
    for (int ev = 0; ev < 2; ev++) {
        struct tb *t = tb_new(RAMDISK, 2, false, false);

        if (ev)
            t->drv_features |= 1ull << VIRTIO_F_RING_EVENT_IDX;
        enable_queue(t, 0);
        enable_queue(t, 1);
        virtio_blk_pci_ops.driver_ok(&t->d);
        for (unsigned i = 0; i < 3; i++)
            request(t, 1, VIRTIO_BLK_T_IN, i, DATA_GPA + i * 512, 512, 1, true);
        /* Notifications are on: the driver kicks, and the vCPU the gate
         * (vmm/guest_virtio.c) lets service the queue serves it all, one
         * interrupt per completion. */
        assert_true(virtq_driver_kick_needed(&t->drv[1]));
        unsigned work = 0, n;
        for (unsigned round = 0;
             round < 4 && (n = virtio_blk_queue_service(virtio_blk_queue(&t->d, 1), 256)); round++)
            work += n;
        assert_true(work >= 3);
        assert_int_equal(t->d.q[1].stats.requests, 3);
        assert_false(virtio_blk_queue_inflight(virtio_blk_queue(&t->d, 1)));
        if (!ev) {
            assert_int_equal(t->signals[1], 3);
        } else {
            /* With EVENT_IDX the driver asked for the first entry only
             * (used_event 0): one interrupt, for it. */
            assert_int_equal(t->signals[1], 1);
        }
        assert_int_equal(t->signals[0], 0);
        for (unsigned i = 0; i < 3; i++) {
            uint8_t st;

            assert_true(used(t, 1, NULL, &st, NULL));
            assert_int_equal(st, VIRTIO_BLK_S_OK);
        }
        /* Bad queue numbers have no queue. */
        assert_null(virtio_blk_queue(&t->d, 9));
        assert_int_equal(virtio_blk_service(&t->d, 9, 256), 0);
        tb_free(t);
    }
}

/* --- adaptive interrupt coalescing, against the null backend ------------- */

static uint64_t co_now;

static uint64_t co_clock(void)
{
    return co_now;
}

struct co_run {
    struct tb *t;
    unsigned inflight; /* the driver's view */
    unsigned target;   /* requests the driver keeps in flight */
    uint64_t taken;    /* completions the driver has taken */
    unsigned next;     /* data slot */
    uint64_t max_held; /* longest an interrupt stayed held */
};

static void co_post(struct co_run *r)
{
    /* Two descriptors (header | data and status), so 32 fit the ring. */
    uint64_t h = new_header(r->t, VIRTIO_BLK_T_IN, r->next % 64);
    uint64_t data = DATA_GPA + (r->next % 64) * 1024ull;
    struct virtq_sg sg[2] = {{h, 16}, {data, 513}};

    post(r->t, 0, sg, 1, 1, data + 512);
    r->next++;
    r->inflight++;
}

/* A Linux-like interrupt-driven driver: on an interrupt it takes every
 * used entry, enables interrupts again (EVENT_IDX: used_event = the next
 * entry), takes what arrived meanwhile, and tops the queue up to target. */
static void co_step(struct co_run *r, uint64_t step_ns, bool stagger)
{
    struct tb *t = r->t;
    unsigned before = t->signals[0];

    co_now += step_ns;
    /* Starting up: up to 2 new requests a step, so due times are spread
     * (a driver topping up many at once would make them complete in one
     * batch). */
    for (unsigned i = 0; stagger && i < 2 && r->inflight < r->target; i++)
        co_post(r);
    virtio_blk_service(&t->d, 0, 256);
    struct coalesce_queue *c = &t->d.q[0].co;
    if (c->held && co_now - c->held_since_ns > r->max_held)
        r->max_held = co_now - c->held_since_ns;
    if (t->signals[0] == before)
        return;
    do {
        while (used(t, 0, NULL, NULL, NULL)) {
            r->inflight--;
            r->taken++;
        }
    } while (virtq_driver_set_interrupt(&t->drv[0], true));
    while (!stagger && r->inflight < r->target)
        co_post(r);
}

static void test_coalescing_with_event_idx(void **state)
{
    struct tb *t = tb_new(RAMDISK, 1, true, false);
    static struct nullblk nb;
    struct coalesce_params cp;
    struct co_run r = {.t = t, .target = 32};
    const uint64_t step = 10000; /* 10 us */

    co_now = 1000000;
    coalesce_params_default(&cp);
    assert_true(nullblk_init(&nb, 1 << 20, 200000, co_clock, "null:1M:200us"));
    t->d.p.backend = &nb.dev;
    t->d.p.now_ns = co_clock;
    t->d.p.coalesce = &cp;
    t->drv_features |= 1ull << VIRTIO_F_RING_EVENT_IDX;
    enable_queue(t, 0);
    virtio_blk_pci_ops.driver_ok(&t->d);

    /* The first epoch: R = 1, one interrupt per completion. */
    uint64_t start = co_now;
    for (unsigned i = 0; i < 16; i++)
        co_step(&r, step, true);
    assert_int_equal(r.inflight, 32);
    while (co_now - start < 199000000)
        co_step(&r, step, false);
    assert_int_equal(coalesce_ratio_permille(&t->d.q[0].co), 1000);
    /* Nothing held: each batch (2 completions a step) got its interrupt. */
    assert_int_equal(t->d.q[0].co.held_count, 0);
    assert_true(t->d.q[0].stats.interrupts * 2 >= t->d.q[0].stats.requests);
    /* Then 32 in flight for the driver at 160,000 per second, of which
     * the device holds 30 when it publishes (2 wait on the ring each
     * step): a mean CIF of 30, R = 1/4. */
    for (unsigned i = 0; i < 100; i++)
        co_step(&r, step, false);
    unsigned ratio = coalesce_ratio_permille(&t->d.q[0].co);
    assert_int_equal(ratio, 250);
    uint64_t req0 = t->d.q[0].stats.requests, int0 = t->d.q[0].stats.interrupts;
    uint64_t taken0 = r.taken;
    for (uint64_t x = 0; x < 50000000 / step; x++)
        co_step(&r, step, false);
    uint64_t reqs = t->d.q[0].stats.requests - req0;
    uint64_t ints = t->d.q[0].stats.interrupts - int0;
    assert_true(reqs > 6000); /* the driver never stalled: 8,000 at full speed */
    assert_true(r.taken - taken0 > 6000);
    assert_true(ints * 10 <= reqs * 3); /* at most 0.3 per completion */
    assert_true(ints * 10 >= reqs);     /* and no fewer than R allows */
    /* Nothing held past the cap (plus the step it is checked at). */
    assert_true(r.max_held <= cp.time_cap_ns + step);
    /* It did hold (the driver soon tops up 4 at once, so most batches
     * are 4 = 1/R, but not all), and each held one went out in time. */
    assert_true(t->d.q[0].co.held_count > 0);
    assert_int_equal(t->signals[0], t->d.q[0].stats.interrupts);

    /* The driver turns synchronous: one request at a time. Every
     * completion is signalled by the service call that publishes it, at
     * once, though R is still below 1. */
    r.target = 1;
    for (unsigned i = 0; i < 400 && r.inflight > 1; i++)
        co_step(&r, step, false);
    assert_true(r.inflight <= 1);
    while (r.inflight < 1)
        co_post(&r);
    assert_int_equal(coalesce_ratio_permille(&t->d.q[0].co), ratio);
    uint64_t taken = r.taken;
    for (unsigned i = 0; i < 80; i++) {
        uint64_t done = t->d.q[0].stats.requests;
        unsigned sigs = t->signals[0];
        co_step(&r, 50000, false); /* a quarter of the null disk's latency */
        if (t->d.q[0].stats.requests != done)
            assert_int_equal(t->signals[0], sigs + 1);
        assert_false(t->d.q[0].co.held);
    }
    assert_true(r.taken - taken >= 10); /* one per 250 us */
    /* The scheduler's counters: every chain taken, 512 bytes each. */
    const struct virtio_blk_queue_stats *st = &t->d.q[0].stats;
    assert_int_equal(st->taken, st->requests + st->inflight);
    assert_int_equal(st->bytes_taken, st->taken * 512);
    tb_free(t);
}

static void test_coalescing_cap_without_event_idx(void **state)
{
    struct tb *t = tb_new(RAMDISK, 1, true, false);
    static struct nullblk nb;
    struct coalesce_params cp;
    const uint64_t step = 10000; /* 10 us */
    unsigned posted = 0, taken = 0;

    co_now = 1000000;
    coalesce_params_default(&cp);
    cp.time_cap_ns = 35000; /* 3.5 steps */
    assert_true(nullblk_init(&nb, 1 << 20, 200000, co_clock, "null:1M:200us"));
    t->d.p.backend = &nb.dev;
    t->d.p.now_ns = co_clock;
    t->d.p.coalesce = &cp;
    enable_queue(t, 0); /* no EVENT_IDX: the driver asks by leaving interrupts on */
    virtio_blk_pci_ops.driver_ok(&t->d);
    struct coalesce_queue *c = &t->d.q[0].co;
    c->shift = 3; /* as if an epoch of 32 in flight had set R = 1/8 */
    c->countdown = 8;

    /* One request a step, 30 steps: 20 in flight when the first completes,
     * then one completion a step. The driver takes entries only when
     * signalled. */
    unsigned max_gap = 0, gap = 0;
    for (unsigned i = 0; i < 60; i++) {
        co_now += step;
        if (posted < 30) {
            struct co_run r = {.t = t, .next = posted};
            co_post(&r);
            posted++;
        }
        unsigned before = t->signals[0];
        virtio_blk_service(&t->d, 0, 256);
        if (t->signals[0] != before) {
            while (used(t, 0, NULL, NULL, NULL))
                taken++;
            gap = 0;
        } else if (t->d.q[0].stats.requests > taken) {
            gap++; /* completed entries waiting for their interrupt */
        }
        if (gap > max_gap)
            max_gap = gap;
    }
    /* Everything completed reached the driver; R held interrupts back,
     * each at most the cap (3.5 steps: out at the 4th). */
    assert_int_equal(t->d.q[0].stats.requests, 30);
    assert_int_equal(taken, 30);
    assert_true(c->held_count > 0);
    assert_true(c->released_cap > 0);
    assert_true(max_gap <= 4);
    assert_true(t->d.q[0].stats.interrupts < 30);
    assert_false(c->held);

    /* A held interrupt with no completion after it: one request, then 9
     * more 50 us later. The first completes alone with 9 in flight and is
     * held; nothing else completes for 50 us, so the poller (the service
     * call, every step) must send it once the cap passes. */
    c->countdown = 8;
    struct co_run r = {.t = t, .next = 100};
    co_post(&r);
    co_now += step;
    virtio_blk_service(&t->d, 0, 256);
    co_now += 5 * step;
    for (unsigned i = 0; i < 9; i++)
        co_post(&r);
    virtio_blk_service(&t->d, 0, 256);
    unsigned sigs = t->signals[0];
    uint64_t done = t->d.q[0].stats.requests, held_at = 0;
    for (unsigned i = 0; i < 30 && t->d.q[0].stats.requests == done; i++) {
        co_now += step;
        virtio_blk_service(&t->d, 0, 256);
    }
    assert_int_equal(t->d.q[0].stats.requests, done + 1);
    assert_true(c->held);
    assert_int_equal(t->signals[0], sigs);
    held_at = co_now;
    while (c->held && co_now - held_at < 200000) {
        co_now += step;
        virtio_blk_service(&t->d, 0, 256);
        assert_int_equal(t->d.q[0].stats.requests, done + 1); /* no completion carried it */
    }
    assert_false(c->held);
    assert_int_equal(t->signals[0], sigs + 1);
    assert_true(co_now - held_at <= cp.time_cap_ns + step);
    tb_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_space),
        cmocka_unit_test(test_init_refuses),
        cmocka_unit_test(test_write_read_roundtrip),
        cmocka_unit_test(test_any_layout),
        cmocka_unit_test(test_flush_and_get_id),
        cmocka_unit_test(test_discard_write_zeroes),
        cmocka_unit_test(test_unsupported_and_bad_ranges),
        cmocka_unit_test(test_backend_errors),
        cmocka_unit_test(test_split_by_max_transfer),
        cmocka_unit_test(test_ebusy_retry),
        cmocka_unit_test(test_ebusy_mid_split),
        cmocka_unit_test(test_refusal_mid_split),
        cmocka_unit_test(test_multi_queue),
        cmocka_unit_test(test_malformed_needs_reset),
        cmocka_unit_test(test_nothing_before_driver_ok),
        cmocka_unit_test(test_reset_drains_and_closes),
        cmocka_unit_test(test_reset_aborts_what_the_backend_never_completed),
        cmocka_unit_test(test_reset_backend_never_completes),
        cmocka_unit_test(test_reset_waits_for_servicer),
        cmocka_unit_test(test_polled_mode_batches_interrupts),
        cmocka_unit_test(test_coalescing_with_event_idx),
        cmocka_unit_test(test_coalescing_cap_without_event_idx),
        cmocka_unit_test(test_trap_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
