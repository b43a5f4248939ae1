/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the RAM disk backend: data written through scattered
 * segments reads back through differently cut ones and lands at the right
 * disk offset; requests outside the disk, with mismatched lengths or too
 * big are refused with no effect and no completion; a full completion ring
 * refuses with BLK_EBUSY until polled; queues keep their own completions;
 * discard and write-zeroes zero exactly their range; queue open/close
 * limits.
 */
/* test-sources: drivers/block/ramdisk.c drivers/block/blk_names.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/block/ramdisk.h"

#define DISK_BYTES (64u * 1024)

struct done_log {
    unsigned n;
    void *cookie[RAMDISK_DEPTH * 2];
    int status[RAMDISK_DEPTH * 2];
};

static void log_done(void *ctx, void *cookie, int status)
{
    struct done_log *l = ctx;

    assert_true(l->n < RAMDISK_DEPTH * 2);
    l->cookie[l->n] = cookie;
    l->status[l->n] = status;
    l->n++;
}

struct fixture {
    struct ramdisk rd;
    uint8_t disk[DISK_BYTES];
    struct blk_queue q;
    struct done_log log;
};

static struct fixture *fixture_new(void)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    for (unsigned i = 0; i < DISK_BYTES; i++)
        f->disk[i] = (uint8_t)(i * 7 + 3);
    assert_true(ramdisk_init(&f->rd, f->disk, sizeof(f->disk), "ram0"));
    f->q.dev = &f->rd.dev;
    f->q.complete = log_done;
    f->q.complete_ctx = &f->log;
    assert_int_equal(f->rd.dev.ops->queue_open(&f->q), BLK_OK);
    return f;
}

static int submit(struct blk_queue *q, enum blk_op op, uint64_t sector, uint32_t nsectors,
                  const struct blk_seg *segs, unsigned nseg, void *cookie)
{
    struct blk_request r = {.op = op,
                            .sector = sector,
                            .nsectors = nsectors,
                            .nseg = nseg,
                            .segs = segs,
                            .cookie = cookie};
    return q->dev->ops->submit(q, &r);
}

static struct blk_seg seg(void *p, uint32_t len)
{
    return (struct blk_seg){(uint64_t)(uintptr_t)p, len};
}

static void test_init_checks(void **state)
{
    static uint8_t buf[4096];
    struct ramdisk rd;

    assert_false(ramdisk_init(&rd, buf, 0, "x"));
    assert_false(ramdisk_init(&rd, buf, 511, "x"));
    assert_false(ramdisk_init(&rd, buf, 1000, "x"));
    assert_false(ramdisk_init(&rd, NULL, 4096, "x"));
    assert_true(ramdisk_init(&rd, buf, sizeof(buf),
                             "a-name-that-is-much-longer-than-forty-eight-characters-in-all"));
    assert_int_equal(rd.dev.sectors, 8);
    assert_int_equal(rd.dev.block_size, 512);
    assert_true(rd.dev.max_transfer >= 4096);
    assert_int_equal(strlen(rd.dev.name), sizeof(rd.name) - 1);
    assert_true(rd.dev.features & BLK_F_DISCARD);
    assert_true(rd.dev.features & BLK_F_WRITE_ZEROES);
    assert_false(rd.dev.features & BLK_F_FLUSH);
}

static void test_write_read_roundtrip(void **state)
{
    struct fixture *f = fixture_new();
    uint8_t src[3 * 512], dst[3 * 512];
    int c1, c2;

    for (unsigned i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i ^ 0x5a);
    /* Written through three uneven pieces, sectors 10..12. */
    struct blk_seg w[3] = {seg(src, 100), seg(src + 100, 1000), seg(src + 1100, 436)};
    assert_int_equal(submit(&f->q, BLK_OP_WRITE, 10, 3, w, 3, &c1), BLK_OK);
    /* Submit already did the copy; its neighbours are untouched. */
    assert_memory_equal(f->disk + 10 * 512, src, sizeof(src));
    assert_int_equal(f->disk[10 * 512 - 1], (uint8_t)((10 * 512 - 1) * 7 + 3));
    assert_int_equal(f->disk[13 * 512], (uint8_t)((13 * 512) * 7 + 3));
    /* No completion before a poll. */
    assert_int_equal(f->log.n, 0);

    memset(dst, 0, sizeof(dst));
    struct blk_seg r[2] = {seg(dst, 512), seg(dst + 512, 1024)};
    assert_int_equal(submit(&f->q, BLK_OP_READ, 10, 3, r, 2, &c2), BLK_OK);
    assert_memory_equal(dst, src, sizeof(src));

    assert_int_equal(f->rd.dev.ops->poll(&f->q, 16), 2);
    assert_int_equal(f->log.n, 2);
    assert_ptr_equal(f->log.cookie[0], &c1);
    assert_ptr_equal(f->log.cookie[1], &c2);
    assert_int_equal(f->log.status[0], BLK_OK);
    assert_int_equal(f->log.status[1], BLK_OK);
    assert_int_equal(f->rd.dev.ops->poll(&f->q, 16), 0);
    free(f);
}

static void test_refusals_have_no_effect(void **state)
{
    struct fixture *f = fixture_new();
    uint8_t before[DISK_BYTES];
    uint8_t buf[4096] = {0xee};
    struct blk_seg s = seg(buf, 1024);
    uint64_t last = f->rd.dev.sectors - 1;

    memcpy(before, f->disk, sizeof(before));
    /* Outside the disk, or running past its end, or wrapping around. */
    assert_int_equal(submit(&f->q, BLK_OP_WRITE, last, 2, &s, 1, NULL), BLK_ERANGE);
    assert_int_equal(submit(&f->q, BLK_OP_WRITE, f->rd.dev.sectors, 2, &s, 1, NULL), BLK_ERANGE);
    assert_int_equal(submit(&f->q, BLK_OP_READ, UINT64_MAX, 2, &s, 1, NULL), BLK_ERANGE);
    assert_int_equal(submit(&f->q, BLK_OP_DISCARD, last, 2, NULL, 0, NULL), BLK_ERANGE);
    assert_int_equal(submit(&f->q, BLK_OP_WRITE_ZEROES, UINT64_MAX - 1, 4, NULL, 0, NULL),
                     BLK_ERANGE);
    /* Segment lengths that do not add up, no segments, no sectors. */
    assert_int_equal(submit(&f->q, BLK_OP_WRITE, 0, 3, &s, 1, NULL), BLK_EINVAL);
    assert_int_equal(submit(&f->q, BLK_OP_WRITE, 0, 2, NULL, 0, NULL), BLK_EINVAL);
    struct blk_seg z = seg(buf, 0);
    assert_int_equal(submit(&f->q, BLK_OP_READ, 0, 0, &z, 1, NULL), BLK_EINVAL);
    assert_int_equal(submit(&f->q, BLK_OP_DISCARD, 0, 0, NULL, 0, NULL), BLK_EINVAL);
    assert_int_equal(submit(&f->q, (enum blk_op)42, 0, 1, &s, 1, NULL), BLK_EINVAL);
    /* Longer than max_transfer (1 MiB): checked before the range. */
    struct blk_seg big[2] = {seg(buf, 0x80000000u), seg(buf, 0x80000000u)};
    assert_int_equal(submit(&f->q, BLK_OP_READ, 0, 0x800000u, big, 2, NULL), BLK_ETOOBIG);
    assert_int_equal(
        submit(&f->q, BLK_OP_DISCARD, 0, f->rd.dev.max_discard_sectors + 1, NULL, 0, NULL),
        BLK_ETOOBIG);

    assert_memory_equal(f->disk, before, sizeof(before));
    assert_int_equal(f->rd.dev.ops->poll(&f->q, 100), 0);
    assert_int_equal(f->log.n, 0);
    /* The last sector itself is fine. */
    struct blk_seg one = seg(buf, 512);
    assert_int_equal(submit(&f->q, BLK_OP_READ, last, 1, &one, 1, NULL), BLK_OK);
    assert_memory_equal(buf, f->disk + last * 512, 512);
    assert_int_equal(f->rd.dev.ops->poll(&f->q, 100), 1);
    free(f);
}

static void test_unsupported_ops(void **state)
{
    struct fixture *f = fixture_new();

    f->rd.dev.features = 0;
    assert_int_equal(submit(&f->q, BLK_OP_DISCARD, 0, 1, NULL, 0, NULL), BLK_ENOTSUP);
    assert_int_equal(submit(&f->q, BLK_OP_WRITE_ZEROES, 0, 1, NULL, 0, NULL), BLK_ENOTSUP);
    /* Flush is always accepted: there is no cache, so it is done at once. */
    assert_int_equal(submit(&f->q, BLK_OP_FLUSH, 0, 0, NULL, 0, (void *)7), BLK_OK);
    assert_int_equal(f->rd.dev.ops->poll(&f->q, 4), 1);
    assert_ptr_equal(f->log.cookie[0], (void *)7);
    free(f);
}

static void test_busy_when_ring_full(void **state)
{
    struct fixture *f = fixture_new();
    uint8_t buf[512];
    struct blk_seg s = seg(buf, 512);

    for (uintptr_t i = 0; i < RAMDISK_DEPTH; i++)
        assert_int_equal(submit(&f->q, BLK_OP_READ, i % 8, 1, &s, 1, (void *)(i + 1)), BLK_OK);
    /* Full: refused, and a refused write must not reach the disk. */
    memset(buf, 0xab, sizeof(buf));
    assert_int_equal(submit(&f->q, BLK_OP_WRITE, 0, 1, &s, 1, (void *)999), BLK_EBUSY);
    assert_int_equal(f->disk[0], 3);
    assert_int_equal(f->rd.dev.ops->queue_close(&f->q), BLK_EBUSY);

    /* A partial poll frees room for exactly that many. */
    assert_int_equal(f->rd.dev.ops->poll(&f->q, 3), 3);
    for (uintptr_t i = 0; i < 3; i++)
        assert_int_equal(submit(&f->q, BLK_OP_FLUSH, 0, 0, NULL, 0, (void *)(1000 + i)), BLK_OK);
    assert_int_equal(submit(&f->q, BLK_OP_FLUSH, 0, 0, NULL, 0, NULL), BLK_EBUSY);

    /* Everything comes back once, in submission order. */
    while (f->rd.dev.ops->poll(&f->q, 50))
        ;
    assert_int_equal(f->log.n, RAMDISK_DEPTH + 3);
    for (uintptr_t i = 0; i < RAMDISK_DEPTH; i++)
        assert_ptr_equal(f->log.cookie[i], (void *)(i + 1));
    for (uintptr_t i = 0; i < 3; i++)
        assert_ptr_equal(f->log.cookie[RAMDISK_DEPTH + i], (void *)(1000 + i));
    assert_int_equal(f->rd.dev.ops->queue_close(&f->q), BLK_OK);
    free(f);
}

static void test_queues_independent(void **state)
{
    struct fixture *f = fixture_new();
    struct blk_queue q2 = {.dev = &f->rd.dev, .complete = log_done};
    struct done_log log2 = {0};
    uint8_t buf[512];
    struct blk_seg s = seg(buf, 512);

    q2.complete_ctx = &log2;
    assert_int_equal(f->rd.dev.ops->queue_open(&q2), BLK_OK);
    assert_ptr_not_equal(q2.backend_priv, f->q.backend_priv);
    assert_int_equal(q2.depth, RAMDISK_DEPTH);

    /* Filling one queue does not make the other busy. */
    for (unsigned i = 0; i < RAMDISK_DEPTH; i++)
        assert_int_equal(submit(&f->q, BLK_OP_READ, 0, 1, &s, 1, (void *)1), BLK_OK);
    assert_int_equal(submit(&f->q, BLK_OP_READ, 0, 1, &s, 1, (void *)1), BLK_EBUSY);
    assert_int_equal(submit(&q2, BLK_OP_READ, 1, 1, &s, 1, (void *)2), BLK_OK);

    /* Each poll hands out only its own queue's completions. */
    assert_int_equal(f->rd.dev.ops->poll(&q2, 1000), 1);
    assert_int_equal(log2.n, 1);
    assert_ptr_equal(log2.cookie[0], (void *)2);
    assert_int_equal(f->log.n, 0);
    assert_int_equal(f->rd.dev.ops->queue_close(&q2), BLK_OK);
    assert_int_equal(f->rd.dev.ops->poll(&f->q, 1000), RAMDISK_DEPTH);
    assert_int_equal(log2.n, 1);
    free(f);
}

static void test_queue_limit_and_reuse(void **state)
{
    struct fixture *f = fixture_new();
    struct blk_queue qs[RAMDISK_MAX_QUEUES];

    /* The fixture holds one already. */
    for (unsigned i = 0; i < RAMDISK_MAX_QUEUES - 1; i++) {
        qs[i] =
            (struct blk_queue){.dev = &f->rd.dev, .complete = log_done, .complete_ctx = &f->log};
        assert_int_equal(f->rd.dev.ops->queue_open(&qs[i]), BLK_OK);
    }
    struct blk_queue extra = {.dev = &f->rd.dev, .complete = log_done, .complete_ctx = &f->log};
    assert_int_equal(f->rd.dev.ops->queue_open(&extra), BLK_ENOSPC);
    assert_int_equal(f->rd.dev.ops->queue_close(&qs[3]), BLK_OK);
    assert_int_equal(f->rd.dev.ops->queue_open(&extra), BLK_OK);
    free(f);
}

static void test_discard_and_write_zeroes(void **state)
{
    struct fixture *f = fixture_new();

    assert_int_equal(submit(&f->q, BLK_OP_DISCARD, 4, 2, NULL, 0, (void *)1), BLK_OK);
    assert_int_equal(submit(&f->q, BLK_OP_WRITE_ZEROES, 20, 1, NULL, 0, (void *)2), BLK_OK);
    for (unsigned i = 0; i < DISK_BYTES; i++) {
        bool zeroed = (i >= 4 * 512 && i < 6 * 512) || (i >= 20 * 512 && i < 21 * 512);
        uint8_t expect = zeroed ? 0 : (uint8_t)(i * 7 + 3);

        if (f->disk[i] != expect)
            fail_msg("byte %u is %#x, expected %#x", i, f->disk[i], expect);
    }
    assert_int_equal(f->rd.dev.ops->poll(&f->q, 8), 2);
    assert_ptr_equal(f->log.cookie[0], (void *)1);
    assert_ptr_equal(f->log.cookie[1], (void *)2);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_checks),
        cmocka_unit_test(test_write_read_roundtrip),
        cmocka_unit_test(test_refusals_have_no_effect),
        cmocka_unit_test(test_unsupported_ops),
        cmocka_unit_test(test_busy_when_ring_full),
        cmocka_unit_test(test_queues_independent),
        cmocka_unit_test(test_queue_limit_and_reuse),
        cmocka_unit_test(test_discard_and_write_zeroes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
