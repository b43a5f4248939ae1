/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the hypervisor's virtio-blk driver against the real device
 * (virtio/virtio_blk.c over virtio/virtqueue.c) in front of a RAM disk, all
 * in one block of "device memory", set up the way the virtio-pci transport
 * would (queue configuration, queue enable, DRIVER_OK). Covered: writes
 * land at the right disk offset and read back, with direct and indirect
 * descriptors and scattered segments; queue depth up to the ring size with
 * indirect tables (and limited by free descriptors without); every
 * completion comes back once with its cookie; random mixed I/O at depth 32
 * against a shadow copy; out-of-range, odd-length and unknown requests
 * complete with IOERR/UNSUPP and leave the device usable; bad arguments are
 * refused before the device sees them; a used ring naming a request that is
 * not in flight is caught, and an unanswered status byte is reported as
 * such.
 */
/* test-sources: virtio/virtio_blk_driver.c virtio/virtio_blk.c vmm/sidecore/coalesce.c virtio/virtqueue.c virtio/virtq_driver.c drivers/block/ramdisk.c drivers/block/blk_names.c kernel/lib/fmt.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/block/ramdisk.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_blk_driver.h"

#define MEM_BYTES    (4u << 20)
#define DISK_BYTES   (1u << 20)
#define DISK_SECTORS (DISK_BYTES / 512)
#define AREA_GPA     0x0ull
#define DATA_GPA     0x100000ull

struct bench {
    uint8_t *mem_block;
    uint8_t *disk;
    struct vmem mem;
    struct ramdisk rd;
    struct virtio_blk dev;
    struct virtio_blk_driver drv;
    unsigned broken;
};

static void on_signal(void *ctx, unsigned q)
{
}

static void on_broken(void *ctx)
{
    ((struct bench *)ctx)->broken++;
}

/* A device on a RAM disk, its queue 0 started with the driver's ring of
 * queue_size entries, indirect descriptors if wanted and offered. */
static struct bench *bench_new(uint16_t queue_size, bool want_indirect)
{
    struct bench *b = calloc(1, sizeof(*b));
    char why[128];
    uint64_t features;

    assert_non_null(b);
    b->mem_block = aligned_alloc(4096, MEM_BYTES);
    b->disk = aligned_alloc(4096, DISK_BYTES);
    assert_non_null(b->mem_block);
    assert_non_null(b->disk);
    memset(b->mem_block, 0, MEM_BYTES);
    for (unsigned i = 0; i < DISK_BYTES; i++)
        b->disk[i] = (uint8_t)(i * 7 + i / 512);
    b->mem = (struct vmem){b->mem_block, MEM_BYTES};
    assert_true(ramdisk_init(&b->rd, b->disk, DISK_BYTES, "ram0"));
    struct virtio_blk_params p = {.backend = &b->rd.dev,
                                  .num_queues = 1,
                                  .name = "blktest",
                                  .mem = &b->mem,
                                  .polled = true,
                                  .signal = on_signal,
                                  .broken = on_broken,
                                  .ctx = b};
    assert_true(virtio_blk_init(&b->dev, &p, why, sizeof(why)));

    features = virtio_blk_driver_features(b->dev.features);
    assert_true(features & (1ull << VIRTIO_F_VERSION_1));
    assert_true(features & (1ull << VIRTIO_F_RING_INDIRECT_DESC)); /* the device offers it */
    if (!want_indirect)
        features &= ~(1ull << VIRTIO_F_RING_INDIRECT_DESC);
    assert_true(virtio_blk_driver_init(&b->drv, &b->mem, AREA_GPA, queue_size,
                                       features & (1ull << VIRTIO_F_RING_INDIRECT_DESC)));
    assert_true(virtio_blk_driver_area_bytes(queue_size, want_indirect) < DATA_GPA);
    virtio_blk_driver_queue_config(&b->drv, &b->dev.vqs[0]);
    assert_true(virtio_blk_pci_ops.queue_enable(&b->dev, 0, features));
    virtio_blk_pci_ops.driver_ok(&b->dev);
    assert_true(virtio_blk_queue_live(&b->dev, 0));
    return b;
}

static void bench_free(struct bench *b)
{
    virtio_blk_pci_ops.reset(&b->dev);
    free(b->mem_block);
    free(b->disk);
    free(b);
}

static uint8_t *at(struct bench *b, uint64_t gpa)
{
    return b->mem_block + gpa;
}

/* Services the device and reaps until n completions arrived (or nothing
 * moves any more); returns how many arrived. */
static unsigned pump(struct bench *b, struct virtio_blk_completion *c, unsigned n)
{
    unsigned got = 0;

    for (unsigned idle = 0; got < n && idle < 4;) {
        int r;

        virtio_blk_service(&b->dev, 0, 256);
        r = virtio_blk_driver_reap(&b->drv, &c[got]);
        assert_true(r >= 0);
        if (r == 1) {
            got++;
            idle = 0;
            while (got < n && virtio_blk_driver_reap(&b->drv, &c[got]) == 1)
                got++;
        } else {
            idle++;
        }
    }
    return got;
}

static uint8_t one_request(struct bench *b, int submit_result, void *cookie)
{
    struct virtio_blk_completion c;

    assert_int_equal(submit_result, VIRTIO_BLK_DRIVER_OK);
    assert_int_equal(pump(b, &c, 1), 1);
    assert_ptr_equal(c.cookie, cookie);
    assert_int_equal(virtio_blk_driver_in_flight(&b->drv), 0);
    return c.status;
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 31 + i * 13 + (i >> 9));
}

static void round_trip(bool indirect)
{
    struct bench *b = bench_new(64, indirect);
    struct virtio_blk_completion c;
    int tag_w, tag_r;

    fill(at(b, DATA_GPA), 8192, 1);
    assert_int_equal(virtio_blk_driver_write(&b->drv, 10, DATA_GPA, 8192, &tag_w),
                     VIRTIO_BLK_DRIVER_OK);
    assert_int_equal(pump(b, &c, 1), 1);
    assert_ptr_equal(c.cookie, &tag_w);
    assert_int_equal(c.type, VIRTIO_BLK_T_OUT);
    assert_int_equal(c.status, VIRTIO_BLK_S_OK);
    assert_int_equal(c.written, 1); /* only the status byte */
    assert_memory_equal(b->disk + 10 * 512, at(b, DATA_GPA), 8192);
    assert_int_equal(b->disk[10 * 512 - 1], (uint8_t)((10 * 512 - 1) * 7 + 9)); /* untouched */
    assert_int_equal(b->disk[26 * 512], (uint8_t)(26 * 512 * 7 + 26));

    assert_int_equal(virtio_blk_driver_read(&b->drv, 10, DATA_GPA + 65536, 8192, &tag_r),
                     VIRTIO_BLK_DRIVER_OK);
    assert_int_equal(pump(b, &c, 1), 1);
    assert_ptr_equal(c.cookie, &tag_r);
    assert_int_equal(c.type, VIRTIO_BLK_T_IN);
    assert_int_equal(c.status, VIRTIO_BLK_S_OK);
    assert_int_equal(c.written, 8193);
    assert_memory_equal(at(b, DATA_GPA + 65536), at(b, DATA_GPA), 8192);

    assert_int_equal(one_request(b, virtio_blk_driver_flush(&b->drv, &tag_w), &tag_w),
                     VIRTIO_BLK_S_OK);
    assert_int_equal(b->broken, 0);
    bench_free(b);
}

static void test_round_trip_indirect(void **state)
{
    round_trip(true);
}

static void test_round_trip_direct(void **state)
{
    round_trip(false);
}

static void test_scattered_segments(void **state)
{
    struct bench *b = bench_new(32, false);
    /* 512 + 1536 + 100 + 412 + 2048 = 4608 = 9 sectors, cut anywhere. */
    static const uint32_t wlen[] = {512, 1536, 100, 412, 2048};
    static const uint32_t rlen[] = {4000, 608};
    struct virtq_sg sg[5];
    uint8_t want[4608];
    unsigned off = 0;
    int tag;

    fill(want, sizeof(want), 2);
    for (unsigned i = 0; i < 5; i++) {
        sg[i] = (struct virtq_sg){DATA_GPA + 0x10000ull * i + 3, wlen[i]};
        memcpy(at(b, sg[i].gpa), want + off, wlen[i]);
        off += wlen[i];
    }
    assert_int_equal(
        one_request(b, virtio_blk_driver_submit(&b->drv, VIRTIO_BLK_T_OUT, 100, sg, 5, &tag), &tag),
        VIRTIO_BLK_S_OK);
    assert_memory_equal(b->disk + 100 * 512, want, sizeof(want));

    sg[0] = (struct virtq_sg){DATA_GPA + 0x80001ull, rlen[0]};
    sg[1] = (struct virtq_sg){DATA_GPA + 0x90000ull, rlen[1]};
    assert_int_equal(
        one_request(b, virtio_blk_driver_submit(&b->drv, VIRTIO_BLK_T_IN, 100, sg, 2, &tag), &tag),
        VIRTIO_BLK_S_OK);
    assert_memory_equal(at(b, sg[0].gpa), want, rlen[0]);
    assert_memory_equal(at(b, sg[1].gpa), want + rlen[0], rlen[1]);
    bench_free(b);
}

/* Indirect tables: as many requests in flight as the ring has entries. */
static void test_queue_depth_32_indirect(void **state)
{
    struct bench *b = bench_new(32, true);
    struct virtio_blk_completion c[40];
    int tag[33];
    unsigned seen[33] = {0};

    for (unsigned i = 0; i < 32; i++)
        assert_int_equal(
            virtio_blk_driver_read(&b->drv, 8 * (31 - i), DATA_GPA + 4096ull * i, 4096, &tag[i]),
            VIRTIO_BLK_DRIVER_OK);
    assert_int_equal(virtio_blk_driver_in_flight(&b->drv), 32);
    assert_int_equal(virtio_blk_driver_read(&b->drv, 0, DATA_GPA, 4096, &tag[32]),
                     VIRTIO_BLK_DRIVER_EBUSY);
    /* Nothing moves until the device runs. */
    assert_int_equal(virtio_blk_driver_reap(&b->drv, &c[0]), 0);

    assert_int_equal(pump(b, c, 40), 32);
    assert_int_equal(virtio_blk_driver_in_flight(&b->drv), 0);
    for (unsigned k = 0; k < 32; k++) {
        unsigned i = (unsigned)((int *)c[k].cookie - tag);

        assert_true(i < 32);
        seen[i]++;
        assert_int_equal(c[k].status, VIRTIO_BLK_S_OK);
        assert_int_equal(c[k].written, 4097);
        assert_memory_equal(at(b, DATA_GPA + 4096ull * i), b->disk + 4096ull * (31 - i), 4096);
    }
    for (unsigned i = 0; i < 32; i++)
        assert_int_equal(seen[i], 1);
    /* Room again. */
    assert_int_equal(virtio_blk_driver_read(&b->drv, 0, DATA_GPA, 4096, &tag[32]),
                     VIRTIO_BLK_DRIVER_OK);
    assert_int_equal(pump(b, c, 1), 1);
    bench_free(b);
}

/* Direct chains take three descriptors per one-segment request. */
static void test_queue_depth_direct_limited_by_descriptors(void **state)
{
    struct bench *b = bench_new(64, false);
    struct virtio_blk_completion c[32];
    int tag;
    unsigned n = 0;

    while (virtio_blk_driver_read(&b->drv, n, DATA_GPA + 512ull * n, 512, &tag) ==
           VIRTIO_BLK_DRIVER_OK)
        n++;
    assert_int_equal(n, 64 / 3);
    assert_int_equal(pump(b, c, 32), 21);
    assert_int_equal(virtio_blk_driver_read(&b->drv, 0, DATA_GPA, 512, &tag), VIRTIO_BLK_DRIVER_OK);
    assert_int_equal(pump(b, c, 1), 1);
    bench_free(b);
}

/* Random reads and writes, 32 in flight, each slot on its own part of the
 * disk so no two requests in flight overlap; every read must see the last
 * write to its sectors (the shadow copy). */
static void test_random_mixed_queue_depth_32(void **state)
{
    enum { SLOTS = 32, REGION = DISK_BYTES / SLOTS, OPS = 4000 };
    struct bench *b = bench_new(32, true);
    uint8_t *shadow = malloc(DISK_BYTES);
    struct {
        bool busy, read;
        uint64_t off;
        uint32_t len;
    } slot[SLOTS] = {0};
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    unsigned submitted = 0, completed = 0, reads = 0;

    assert_non_null(shadow);
    memcpy(shadow, b->disk, DISK_BYTES);
    while (completed < OPS) {
        for (unsigned s = 0; s < SLOTS && submitted < OPS; s++) {
            if (slot[s].busy)
                continue;
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            uint32_t len = 512u * (1 + (unsigned)(rng % 8));
            uint64_t off = (uint64_t)s * REGION + 512u * ((rng >> 8) % ((REGION - len) / 512));
            uint64_t gpa = DATA_GPA + (uint64_t)s * REGION;
            bool read = (rng >> 40) & 1;
            int r;

            if (read) {
                memset(at(b, gpa), 0xee, len);
                r = virtio_blk_driver_read(&b->drv, off / 512, gpa, len, &slot[s]);
            } else {
                fill(at(b, gpa), len, submitted);
                memcpy(shadow + off, at(b, gpa), len);
                r = virtio_blk_driver_write(&b->drv, off / 512, gpa, len, &slot[s]);
            }
            assert_int_equal(r, VIRTIO_BLK_DRIVER_OK);
            slot[s].busy = true;
            slot[s].read = read;
            slot[s].off = off;
            slot[s].len = len;
            submitted++;
        }
        virtio_blk_service(&b->dev, 0, 7); /* small budgets: partial batches */
        struct virtio_blk_completion c;
        while (virtio_blk_driver_reap(&b->drv, &c) == 1) {
            unsigned s = (unsigned)(((uint8_t *)c.cookie - (uint8_t *)slot) / sizeof(slot[0]));

            assert_true(s < SLOTS && slot[s].busy);
            assert_int_equal(c.status, VIRTIO_BLK_S_OK);
            if (slot[s].read) {
                reads++;
                assert_memory_equal(at(b, DATA_GPA + (uint64_t)s * REGION), shadow + slot[s].off,
                                    slot[s].len);
            }
            slot[s].busy = false;
            completed++;
        }
    }
    assert_memory_equal(b->disk, shadow, DISK_BYTES);
    assert_true(reads > OPS / 4 && reads < OPS * 3 / 4);
    assert_int_equal(b->dev.q[0].stats.requests, OPS);
    free(shadow);
    bench_free(b);
}

/* Mistakes in a request's contents are the requester's errors: each gets
 * its status, the device stays sound, nothing is written. */
static void test_errors_reach_the_requester(void **state)
{
    struct bench *b = bench_new(64, true);
    uint8_t *before = malloc(DISK_BYTES);
    struct virtq_sg sg = {DATA_GPA, 700};
    int tag;

    assert_non_null(before);
    memcpy(before, b->disk, DISK_BYTES);
    fill(at(b, DATA_GPA), 8192, 3);
    /* Wholly past the end, straddling the end, reading and writing. */
    assert_int_equal(
        one_request(b, virtio_blk_driver_read(&b->drv, DISK_SECTORS, DATA_GPA, 512, &tag), &tag),
        VIRTIO_BLK_S_IOERR);
    assert_int_equal(
        one_request(b, virtio_blk_driver_read(&b->drv, DISK_SECTORS - 1, DATA_GPA, 1024, &tag),
                    &tag),
        VIRTIO_BLK_S_IOERR);
    assert_int_equal(
        one_request(b, virtio_blk_driver_write(&b->drv, DISK_SECTORS - 4, DATA_GPA, 4096, &tag),
                    &tag),
        VIRTIO_BLK_S_IOERR);
    assert_int_equal(
        one_request(b, virtio_blk_driver_write(&b->drv, UINT64_MAX, DATA_GPA, 512, &tag), &tag),
        VIRTIO_BLK_S_IOERR);
    /* Not a whole number of sectors. */
    assert_int_equal(
        one_request(b, virtio_blk_driver_submit(&b->drv, VIRTIO_BLK_T_OUT, 0, &sg, 1, &tag), &tag),
        VIRTIO_BLK_S_IOERR);
    /* A type the device does not know. */
    assert_int_equal(one_request(b, virtio_blk_driver_submit(&b->drv, 99, 0, &sg, 1, &tag), &tag),
                     VIRTIO_BLK_S_UNSUPP);
    assert_memory_equal(b->disk, before, DISK_BYTES);
    assert_int_equal(b->broken, 0);
    assert_true(virtio_blk_queue_live(&b->dev, 0));
    assert_int_equal(b->dev.q[0].stats.errors, 6);

    /* The last sector still works. */
    assert_int_equal(
        one_request(b, virtio_blk_driver_read(&b->drv, DISK_SECTORS - 1, DATA_GPA, 512, &tag),
                    &tag),
        VIRTIO_BLK_S_OK);
    assert_memory_equal(at(b, DATA_GPA), b->disk + DISK_BYTES - 512, 512);
    free(before);
    bench_free(b);
}

/* Requests the device could not take without breaking are refused here. */
static void test_bad_arguments_refused(void **state)
{
    struct bench *b = bench_new(4, false);
    struct virtio_blk_driver d2;
    struct virtq_sg sg[VIRTIO_BLK_DRIVER_MAX_SEGS + 1];
    int tag;

    for (unsigned i = 0; i <= VIRTIO_BLK_DRIVER_MAX_SEGS; i++)
        sg[i] = (struct virtq_sg){DATA_GPA + 512ull * i, 512};
    /* A 4-entry direct ring fits at most 2 data segments. */
    assert_int_equal(virtio_blk_driver_submit(&b->drv, VIRTIO_BLK_T_IN, 0, sg, 3, &tag),
                     VIRTIO_BLK_DRIVER_EINVAL);
    assert_int_equal(virtio_blk_driver_submit(&b->drv, VIRTIO_BLK_T_IN, 0, sg,
                                              VIRTIO_BLK_DRIVER_MAX_SEGS + 1, &tag),
                     VIRTIO_BLK_DRIVER_EINVAL);
    assert_int_equal(virtio_blk_driver_submit(&b->drv, VIRTIO_BLK_T_FLUSH, 0, sg, 1, &tag),
                     VIRTIO_BLK_DRIVER_EINVAL);
    assert_int_equal(virtio_blk_driver_read(&b->drv, 0, MEM_BYTES - 256, 512, &tag),
                     VIRTIO_BLK_DRIVER_EINVAL);
    assert_int_equal(virtio_blk_driver_read(&b->drv, 0, UINT64_MAX - 100, 512, &tag),
                     VIRTIO_BLK_DRIVER_EINVAL);
    assert_int_equal(virtio_blk_driver_read(&b->drv, 0, DATA_GPA, 0, &tag),
                     VIRTIO_BLK_DRIVER_EINVAL);
    assert_int_equal(virtio_blk_driver_in_flight(&b->drv), 0);
    assert_int_equal(b->dev.vqs[0].last_avail, 0); /* nothing reached the ring */

    assert_false(virtio_blk_driver_init(&d2, &b->mem, 8, 32, true));  /* misaligned */
    assert_false(virtio_blk_driver_init(&d2, &b->mem, 0, 48, true));  /* not a power of 2 */
    assert_false(virtio_blk_driver_init(&d2, &b->mem, 0, 512, true)); /* too big */
    assert_false(virtio_blk_driver_init(&d2, &b->mem, MEM_BYTES - 4096, 256, true));
    assert_true(virtio_blk_driver_init(&d2, &b->mem, MEM_BYTES - 0x20000, 256, true));
    bench_free(b);
}

/* A used entry for a head that is not in flight: caught, nothing more is
 * taken or submitted. */
static void test_used_ring_nonsense_caught(void **state)
{
    struct bench *b = bench_new(8, true);
    struct virtio_blk_completion c;
    uint8_t *used = b->drv.vq.used;
    int tag;

    assert_int_equal(virtio_blk_driver_read(&b->drv, 0, DATA_GPA, 512, &tag), VIRTIO_BLK_DRIVER_OK);
    /* The device did not run; pretend it completed head 5. */
    used[4] = 5;
    used[2] = 1;
    assert_int_equal(virtio_blk_driver_reap(&b->drv, &c), -1);
    assert_non_null(b->drv.error);
    assert_int_equal(virtio_blk_driver_reap(&b->drv, &c), -1);
    assert_int_equal(virtio_blk_driver_read(&b->drv, 0, DATA_GPA, 512, &tag),
                     VIRTIO_BLK_DRIVER_EBROKEN);
    bench_free(b);
}

/* A used entry for a request whose status the device never wrote. */
static void test_unwritten_status_reported(void **state)
{
    struct bench *b = bench_new(8, true);
    struct virtio_blk_completion c;
    uint8_t *used = b->drv.vq.used, *avail = b->drv.vq.avail;
    int tag;

    b->disk[0] = 0x5a;
    assert_int_equal(virtio_blk_driver_read(&b->drv, 0, DATA_GPA, 512, &tag), VIRTIO_BLK_DRIVER_OK);
    used[4] = avail[4]; /* the head the driver made available */
    used[8] = 0;        /* len 0 */
    used[2] = 1;
    assert_int_equal(virtio_blk_driver_reap(&b->drv, &c), 1);
    assert_ptr_equal(c.cookie, &tag);
    assert_int_equal(c.status, VIRTIO_BLK_DRIVER_S_NONE);
    assert_int_equal(c.written, 0);
    assert_int_equal(virtio_blk_driver_in_flight(&b->drv), 0);
    free(b->mem_block);
    free(b->disk);
    free(b); /* no reset: the device still holds that chain */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_indirect),
        cmocka_unit_test(test_round_trip_direct),
        cmocka_unit_test(test_scattered_segments),
        cmocka_unit_test(test_queue_depth_32_indirect),
        cmocka_unit_test(test_queue_depth_direct_limited_by_descriptors),
        cmocka_unit_test(test_random_mixed_queue_depth_32),
        cmocka_unit_test(test_errors_reach_the_requester),
        cmocka_unit_test(test_bad_arguments_refused),
        cmocka_unit_test(test_used_ring_nonsense_caught),
        cmocka_unit_test(test_unwritten_status_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
