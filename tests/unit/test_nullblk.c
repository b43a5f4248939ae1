/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the null backend with a fake clock: a read zeroes every
 * segment, a write leaves its buffer alone, nothing completes before its
 * latency has passed and everything does after, completions come in
 * submission order per queue, a full queue refuses with BLK_EBUSY and no
 * completion, bad requests are refused, latency 0 completes at the next
 * poll, and init refuses sizes and latencies out of range.
 */
/* test-sources: drivers/block/nullblk.c drivers/block/blk_names.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/block/nullblk.h"

static uint64_t fake_now;

static uint64_t fake_clock(void)
{
    return fake_now;
}

struct done_log {
    unsigned n;
    void *cookie[NULLBLK_DEPTH * 2];
    int status[NULLBLK_DEPTH * 2];
};

static void log_done(void *ctx, void *cookie, int status)
{
    struct done_log *l = ctx;

    assert_true(l->n < NULLBLK_DEPTH * 2);
    l->cookie[l->n] = cookie;
    l->status[l->n] = status;
    l->n++;
}

static struct nullblk nb;

static void open_queue(struct blk_queue *q, struct done_log *log)
{
    memset(q, 0, sizeof(*q));
    memset(log, 0, sizeof(*log));
    q->dev = &nb.dev;
    q->complete = log_done;
    q->complete_ctx = log;
    assert_int_equal(nb.dev.ops->queue_open(q), BLK_OK);
    assert_int_equal(q->depth, NULLBLK_DEPTH);
}

static int rw(struct blk_queue *q, enum blk_op op, uint64_t sector, struct blk_seg *segs,
              unsigned nseg, void *cookie)
{
    uint32_t bytes = 0;

    for (unsigned i = 0; i < nseg; i++)
        bytes += segs[i].len;
    struct blk_request r = {.op = op,
                            .sector = sector,
                            .nsectors = bytes / BLK_SECTOR_SIZE,
                            .nseg = nseg,
                            .segs = segs,
                            .cookie = cookie};
    return nb.dev.ops->submit(q, &r);
}

static int setup(void **state)
{
    fake_now = 1000;
    assert_true(nullblk_init(&nb, 1ull << 30, 100000, fake_clock, "null:1G:100us"));
    return 0;
}

static void test_geometry(void **state)
{
    assert_int_equal(nb.dev.sectors, (1ull << 30) / 512);
    assert_int_equal(nb.dev.block_size, 512);
    assert_string_equal(nb.dev.name, "null:1G:100us");
    assert_true(nb.dev.features & BLK_F_DISCARD);
}

static void test_read_zeroes_write_drops(void **state)
{
    struct blk_queue q;
    struct done_log log;
    static uint8_t a[1536], b[512];
    struct blk_seg segs[2] = {{(uintptr_t)a, sizeof(a)}, {(uintptr_t)b, sizeof(b)}};

    open_queue(&q, &log);
    memset(a, 0xaa, sizeof(a));
    memset(b, 0xbb, sizeof(b));
    assert_int_equal(rw(&q, BLK_OP_WRITE, 0, segs, 2, (void *)1), BLK_OK);
    assert_int_equal(a[0], 0xaa); /* a write leaves the guest's data alone */
    assert_int_equal(rw(&q, BLK_OP_READ, 0, segs, 2, (void *)2), BLK_OK);
    for (unsigned i = 0; i < sizeof(a); i++)
        assert_int_equal(a[i], 0);
    for (unsigned i = 0; i < sizeof(b); i++)
        assert_int_equal(b[i], 0);
    fake_now += 100000;
    assert_int_equal(nb.dev.ops->poll(&q, 8), 2);
    assert_int_equal(log.n, 2);
    assert_ptr_equal(log.cookie[0], (void *)1);
    assert_ptr_equal(log.cookie[1], (void *)2);
    assert_int_equal(log.status[0], BLK_OK);
    assert_int_equal(nb.dev.ops->queue_close(&q), BLK_OK);
}

static void test_latency(void **state)
{
    struct blk_queue q;
    struct done_log log;
    static uint8_t buf[512];
    struct blk_seg seg = {(uintptr_t)buf, sizeof(buf)};

    open_queue(&q, &log);
    assert_int_equal(rw(&q, BLK_OP_READ, 5, &seg, 1, (void *)1), BLK_OK);
    fake_now += 40000;
    assert_int_equal(rw(&q, BLK_OP_READ, 6, &seg, 1, (void *)2), BLK_OK);
    assert_int_equal(nb.dev.ops->poll(&q, 8), 0);
    /* Closing with requests in flight is refused. */
    assert_int_equal(nb.dev.ops->queue_close(&q), BLK_EBUSY);
    fake_now += 59999; /* 1 ns before the first is due */
    assert_int_equal(nb.dev.ops->poll(&q, 8), 0);
    fake_now += 1;
    assert_int_equal(nb.dev.ops->poll(&q, 8), 1);
    assert_ptr_equal(log.cookie[0], (void *)1);
    fake_now += 39999;
    assert_int_equal(nb.dev.ops->poll(&q, 8), 0);
    fake_now += 1;
    assert_int_equal(nb.dev.ops->poll(&q, 8), 1);
    assert_ptr_equal(log.cookie[1], (void *)2);
    assert_int_equal(nb.dev.ops->queue_close(&q), BLK_OK);
}

static void test_order_budget_and_full(void **state)
{
    struct blk_queue q, q2;
    struct done_log log, log2;
    static uint8_t buf[512];
    struct blk_seg seg = {(uintptr_t)buf, sizeof(buf)};

    open_queue(&q, &log);
    open_queue(&q2, &log2);
    for (uintptr_t i = 0; i < NULLBLK_DEPTH; i++)
        assert_int_equal(rw(&q, i % 2 ? BLK_OP_READ : BLK_OP_WRITE, i, &seg, 1, (void *)(i + 1)),
                         BLK_OK);
    assert_int_equal(rw(&q, BLK_OP_READ, 0, &seg, 1, (void *)999), BLK_EBUSY);
    /* The other queue has its own ring. */
    assert_int_equal(rw(&q2, BLK_OP_READ, 0, &seg, 1, (void *)77), BLK_OK);
    fake_now += 100000;
    assert_int_equal(nb.dev.ops->poll(&q, 10), 10);
    assert_int_equal(rw(&q, BLK_OP_READ, 0, &seg, 1, (void *)1000), BLK_OK);
    assert_int_equal(nb.dev.ops->poll(&q, NULLBLK_DEPTH * 2), NULLBLK_DEPTH - 10);
    assert_int_equal(log.n, NULLBLK_DEPTH);
    for (uintptr_t i = 0; i < NULLBLK_DEPTH; i++)
        assert_ptr_equal(log.cookie[i], (void *)(i + 1));
    assert_int_equal(log2.n, 0);
    assert_int_equal(nb.dev.ops->poll(&q2, 8), 1);
    assert_ptr_equal(log2.cookie[0], (void *)77);
    fake_now += 100000;
    assert_int_equal(nb.dev.ops->poll(&q, 8), 1);
    assert_ptr_equal(log.cookie[NULLBLK_DEPTH], (void *)1000);
    assert_int_equal(nb.dev.ops->queue_close(&q), BLK_OK);
    assert_int_equal(nb.dev.ops->queue_close(&q2), BLK_OK);
}

static void test_refused(void **state)
{
    struct blk_queue q;
    struct done_log log;
    static uint8_t buf[4096];
    struct blk_seg seg = {(uintptr_t)buf, 512};
    struct blk_seg odd = {(uintptr_t)buf, 100};
    uint64_t last = nb.dev.sectors - 1;

    open_queue(&q, &log);
    assert_int_equal(rw(&q, BLK_OP_READ, last, &seg, 1, NULL), BLK_OK);
    seg.len = 1024;
    assert_int_equal(rw(&q, BLK_OP_READ, last, &seg, 1, NULL), BLK_ERANGE);
    assert_int_equal(rw(&q, BLK_OP_READ, UINT64_MAX, &seg, 1, NULL), BLK_ERANGE);
    struct blk_request r = {.op = BLK_OP_READ, .sector = 0, .nsectors = 1, .nseg = 1, .segs = &odd};
    assert_int_equal(nb.dev.ops->submit(&q, &r), BLK_EINVAL);
    r = (struct blk_request){.op = BLK_OP_READ, .nsectors = 1};
    assert_int_equal(nb.dev.ops->submit(&q, &r), BLK_EINVAL);
    r = (struct blk_request){.op = (enum blk_op)42};
    assert_int_equal(nb.dev.ops->submit(&q, &r), BLK_EINVAL);
    r = (struct blk_request){.op = BLK_OP_DISCARD, .sector = 8, .nsectors = 8};
    assert_int_equal(nb.dev.ops->submit(&q, &r), BLK_OK);
    r = (struct blk_request){.op = BLK_OP_FLUSH};
    assert_int_equal(nb.dev.ops->submit(&q, &r), BLK_OK);
    fake_now += 100000;
    assert_int_equal(nb.dev.ops->poll(&q, 8), 3); /* only what was accepted */
    assert_int_equal(nb.dev.ops->queue_close(&q), BLK_OK);
}

static void test_zero_latency_and_queue_limit(void **state)
{
    struct blk_queue q[NULLBLK_MAX_QUEUES + 1];
    struct done_log log;
    static uint8_t buf[512];
    struct blk_seg seg = {(uintptr_t)buf, sizeof(buf)};

    assert_true(nullblk_init(&nb, 512, 0, fake_clock, NULL));
    for (unsigned i = 0; i < NULLBLK_MAX_QUEUES; i++)
        open_queue(&q[i], &log);
    memset(&q[NULLBLK_MAX_QUEUES], 0, sizeof(q[0]));
    q[NULLBLK_MAX_QUEUES].dev = &nb.dev;
    assert_int_equal(nb.dev.ops->queue_open(&q[NULLBLK_MAX_QUEUES]), BLK_ENOSPC);
    assert_int_equal(rw(&q[0], BLK_OP_READ, 0, &seg, 1, (void *)5), BLK_OK);
    assert_int_equal(nb.dev.ops->poll(&q[0], 8), 1);
}

static void test_init_refused(void **state)
{
    struct nullblk x;

    assert_false(nullblk_init(&x, 0, 0, fake_clock, NULL));
    assert_false(nullblk_init(&x, 1000, 0, fake_clock, NULL));
    assert_false(nullblk_init(&x, 4096, NULLBLK_MAX_LATENCY_NS + 1, fake_clock, NULL));
    assert_false(nullblk_init(&x, 4096, 0, NULL, NULL));
    assert_true(nullblk_init(&x, 4096, NULLBLK_MAX_LATENCY_NS, fake_clock, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_geometry, setup),
        cmocka_unit_test_setup(test_read_zeroes_write_drops, setup),
        cmocka_unit_test_setup(test_latency, setup),
        cmocka_unit_test_setup(test_order_budget_and_full, setup),
        cmocka_unit_test_setup(test_refused, setup),
        cmocka_unit_test_setup(test_zero_latency_and_queue_limit, setup),
        cmocka_unit_test_setup(test_init_refused, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
