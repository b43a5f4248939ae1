/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the virtio-blk device over a RAM disk: the input
 * picks the device's shape (queues, polled or trap mode, ring features,
 * the backend's max_transfer) and then a script of guest actions: requests
 * of any type, sector, length and descriptor layout made available through
 * the driver-side ring model, raw writes anywhere in guest memory (rings,
 * descriptors, headers, indirect tables: a guest racing or lying), service
 * calls, notifications, resets, configuration reads and a backend that is
 * full now and then. Guest memory and the disk are separate heap blocks, so
 * the sanitizers catch any access outside them; besides that the target
 * aborts when a promise breaks: slots leaked or double-freed, the device
 * reported broken twice without a reset, requests still in flight after a
 * reset that had a backend which always answers.
 * fuzz-sources: virtio/virtio_blk.c vmm/sidecore/coalesce.c virtio/virtqueue.c virtio/virtq_driver.c drivers/block/ramdisk.c drivers/block/blk_names.c kernel/lib/fmt.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "drivers/block/ramdisk.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtq_driver.h"

#define GUEST_BYTES 0x10000u
#define DISK_BYTES  0x10000u
#define MAX_QUEUES  4
#define RING_GPA(q) (0x1000u * (q))
#define DATA_GPA    0x4000u
#define DATA_BYTES  0x8000u
#define HDR_GPA     0xc000u
#define TABLE_GPA   0xe000u
#define TABLE_BYTES 0x2000u

/* The bench. Everything the device may touch is a heap block of its own. */
struct bench {
    uint8_t *guest, *disk;
    struct vmem mem;
    struct ramdisk rd;
    struct blk_device flaky; /* the RAM disk, sometimes full */
    unsigned busy_left;
    struct virtio_blk *d;
    struct virtq_driver drv[MAX_QUEUES];
    unsigned nq;
    uint16_t qsize;
    uint64_t features;
    unsigned broken; /* reports since the last reset */
    uint64_t clock;
};

static struct bench *bench_of_flaky(struct blk_queue *q)
{
    return (struct bench *)((uint8_t *)q->dev - offsetof(struct bench, flaky));
}

static int flaky_open(struct blk_queue *q)
{
    return bench_of_flaky(q)->rd.dev.ops->queue_open(q);
}

static int flaky_close(struct blk_queue *q)
{
    return bench_of_flaky(q)->rd.dev.ops->queue_close(q);
}

static int flaky_submit(struct blk_queue *q, const struct blk_request *r)
{
    struct bench *b = bench_of_flaky(q);

    if (b->busy_left) {
        b->busy_left--;
        return BLK_EBUSY;
    }
    return b->rd.dev.ops->submit(q, r);
}

static unsigned flaky_poll(struct blk_queue *q, unsigned budget)
{
    return bench_of_flaky(q)->rd.dev.ops->poll(q, budget);
}

static const struct blk_device_ops flaky_ops = {flaky_open, flaky_close, flaky_submit, flaky_poll,
                                                NULL};

static struct bench *current;

static uint64_t bench_now(void)
{
    current->clock += 1000000;
    return current->clock;
}

static void on_signal(void *ctx, unsigned q)
{
    struct bench *b = ctx;

    check(q < b->nq, "signal for a queue that does not exist");
}

static void on_broken(void *ctx)
{
    struct bench *b = ctx;

    b->broken++;
    check(b->broken == 1, "broken reported twice without a reset");
    check(b->d->needs_reset && b->d->error[0], "broken without a message");
}

static void enable_queues(struct bench *b)
{
    bool ev = b->features & (1ull << VIRTIO_F_RING_EVENT_IDX);

    for (unsigned q = 0; q < b->nq; q++) {
        struct virtq *vq = &b->d->vqs[q];

        if (!virtq_driver_init(&b->drv[q], &b->mem, RING_GPA(q), b->qsize, ev, 0))
            abort(); /* the layout above always fits */
        vq->size = b->qsize;
        vq->desc_gpa = b->drv[q].desc_gpa;
        vq->avail_gpa = b->drv[q].avail_gpa;
        vq->used_gpa = b->drv[q].used_gpa;
        vq->event_idx = ev;
        vq->indirect = b->features & (1ull << VIRTIO_F_RING_INDIRECT_DESC);
        virtio_blk_pci_ops.queue_enable(b->d, q, b->features);
    }
    virtio_blk_pci_ops.driver_ok(b->d);
}

static void check_slots(struct bench *b)
{
    for (unsigned q = 0; q < VIRTIO_BLK_MAX_QUEUES; q++) {
        const struct virtio_blk_queue *vq = &b->d->q[q];

        if (!vq->opened)
            continue;
        check(vq->free_count <= VIRTIO_BLK_QUEUE_SIZE, "free list overflow");
        check(vq->free_count + vq->stats.inflight == VIRTIO_BLK_QUEUE_SIZE,
              "slots leaked or freed twice");
    }
}

/* A request through the driver model, its shape from the input. */
static void add_request(struct bench *b, struct input *in)
{
    static const uint32_t types[] = {VIRTIO_BLK_T_IN,      VIRTIO_BLK_T_OUT,
                                     VIRTIO_BLK_T_FLUSH,   VIRTIO_BLK_T_GET_ID,
                                     VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES};
    unsigned q = (unsigned)take(in, 1) % b->nq;
    unsigned shape = (unsigned)take(in, 1);
    uint32_t type = (shape & 7) < 6 ? types[shape & 7] : (uint32_t)take(in, 4);
    uint64_t sector = (shape & 8) ? take(in, 8) : take(in, 1);
    uint32_t len = (uint32_t)take(in, 2) % DATA_BYTES;
    uint32_t off = (uint32_t)take(in, 2) % (DATA_BYTES - len + 1);
    unsigned nseg = 1 + (unsigned)take(in, 1) % 8;
    uint64_t hdr = HDR_GPA + 32u * ((unsigned)take(in, 1) % 64);
    uint8_t *h = b->guest + hdr;
    struct virtq_sg sg[16];
    unsigned n = 0, nread, nwrite;
    bool writable = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;

    memcpy(h, &type, 4);
    memset(h + 4, 0, 4);
    memcpy(h + 8, &sector, 8);
    if (shape & 0x10) { /* header in two pieces */
        sg[n++] = (struct virtq_sg){hdr, 8};
        sg[n++] = (struct virtq_sg){hdr + 8, 8};
    } else {
        sg[n++] = (struct virtq_sg){hdr, (shape & 0x20) ? 8 : 16}; /* maybe too short */
    }
    nread = n;
    if (shape & 0x40)
        writable = !writable; /* data in the wrong direction */
    for (unsigned i = 0; i < nseg && len; i++) {
        uint32_t piece = i == nseg - 1 ? len : len / nseg;

        if (piece == 0)
            continue;
        sg[n++] = (struct virtq_sg){DATA_GPA + off, piece};
        off += piece;
        len -= piece;
    }
    if (!writable)
        nread = n;
    if (!(shape & 0x80))
        sg[n++] = (struct virtq_sg){hdr + 16, 1}; /* else: no status byte */
    nwrite = n - nread;
    if (b->features & (1ull << VIRTIO_F_RING_INDIRECT_DESC) && (take(in, 1) & 1))
        virtq_driver_add_indirect(&b->drv[q], sg, nread, nwrite,
                                  TABLE_GPA + 256u * ((unsigned)take(in, 1) % 32));
    else
        virtq_driver_add(&b->drv[q], sg, nread, nwrite);
}

static void run(struct bench *b, struct input *in)
{
    while (in->n) {
        unsigned op = (unsigned)take(in, 1) % 9;

        switch (op) {
        case 0: add_request(b, in); break;
        case 1: {
            unsigned q = (unsigned)take(in, 1);

            virtio_blk_service(b->d, q % (b->nq + 1), 1 + (unsigned)take(in, 1));
            break;
        }
        case 2: { /* the guest writes anything anywhere in its memory */
            uint32_t at = (uint32_t)take(in, 2) % GUEST_BYTES;
            unsigned n = (unsigned)take(in, 1) % 32;

            for (unsigned i = 0; i < n && at + i < GUEST_BYTES; i++)
                b->guest[at + i] = (uint8_t)take(in, 1);
            break;
        }
        case 3: {
            void *q = virtio_blk_queue(b->d, (unsigned)take(in, 1) % (b->nq + 1));
            if (q)
                virtio_blk_queue_service(q, VIRTIO_BLK_QUEUE_SIZE);
            break;
        }
        case 4:
            virtio_blk_pci_ops.reset(b->d);
            check(!b->d->needs_reset, "still broken after reset");
            for (unsigned q = 0; q < VIRTIO_BLK_MAX_QUEUES; q++)
                check(b->d->q[q].stats.inflight == 0, "requests left after a reset");
            b->broken = 0;
            b->busy_left = 0;
            enable_queues(b);
            break;
        case 5:
            (void)virtio_blk_pci_ops.config_read(b->d, (unsigned)take(in, 1),
                                                 1u << ((unsigned)take(in, 1) % 4));
            break;
        case 6: {
            unsigned q = (unsigned)take(in, 1) % b->nq;
            uint16_t id;
            uint32_t len;

            while (virtq_driver_take_used(&b->drv[q], &id, &len) == 1)
                check(id < b->qsize, "used id beyond the queue");
            break;
        }
        case 7: b->busy_left = (unsigned)take(in, 1) % 8; break;
        case 8:
            virtq_driver_set_interrupt(&b->drv[(unsigned)take(in, 1) % b->nq], take(in, 1) & 1);
            break;
        }
        check_slots(b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    struct bench *b = calloc(1, sizeof(*b));
    char why[160];

    if (!b)
        abort();
    b->d = calloc(1, sizeof(*b->d));
    b->guest = malloc(GUEST_BYTES);
    b->disk = malloc(DISK_BYTES);
    if (!b->d || !b->guest || !b->disk)
        abort();
    current = b;
    memset(b->guest, 0, GUEST_BYTES);
    memset(b->disk, 0x5a, DISK_BYTES);
    b->mem = (struct vmem){b->guest, GUEST_BYTES};
    if (!ramdisk_init(&b->rd, b->disk, DISK_BYTES, "fuzz"))
        abort();

    unsigned cfg = (unsigned)take(&in, 2);
    b->nq = 1 + (cfg & 3);
    b->qsize = (uint16_t)(1u << (((cfg >> 2) & 7) % 7)); /* 1..64 */
    b->flaky = b->rd.dev;
    b->flaky.ops = &flaky_ops;
    b->flaky.max_transfer = 512u << ((cfg >> 5) & 7); /* 512 .. 64K: splits */
    if (cfg & 0x100)
        b->flaky.features = 0;
    if (cfg & 0x200)
        b->flaky.features |= BLK_F_FLUSH;

    struct virtio_blk_params p = {.backend = &b->flaky,
                                  .num_queues = b->nq,
                                  .name = "fuzz disk",
                                  .serial = "FUZZ",
                                  .mem = &b->mem,
                                  .polled = !(cfg & 0x400),
                                  .signal = on_signal,
                                  .broken = on_broken,
                                  .ctx = b,
                                  .now_ns = bench_now};
    if (!virtio_blk_init(b->d, &p, why, sizeof(why)))
        abort(); /* every shape above is valid */
    b->features = b->d->features | (1ull << VIRTIO_F_VERSION_1);
    if (cfg & 0x800)
        b->features &= ~(1ull << VIRTIO_F_RING_EVENT_IDX);
    if (cfg & 0x1000)
        b->features &= ~(1ull << VIRTIO_F_RING_INDIRECT_DESC);
    enable_queues(b);

    run(b, &in);

    virtio_blk_pci_ops.reset(b->d);
    for (unsigned q = 0; q < VIRTIO_BLK_MAX_QUEUES; q++)
        check(b->d->q[q].stats.inflight == 0, "requests left after the final reset");
    free(b->guest);
    free(b->disk);
    free(b->d);
    free(b);
    return 0;
}
