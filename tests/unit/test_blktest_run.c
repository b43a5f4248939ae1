/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the blktest engine: the real virtio-blk driver and device
 * over a RAM disk (or a RAM disk that misbehaves on purpose), a fake clock.
 * verify writes the pattern over exactly the device, flushes, reads it back
 * and passes; a write the backend puts in the wrong place, a failed write
 * and data that changes behind its back are each reported with the first
 * wrong byte; randread issues exactly count in-range reads; pastend gets
 * IOERR for reads across and beyond the end; a backend that never answers
 * ends the run at the request timeout with the outstanding requests counted,
 * and so does the abort flag; parameters that do not fit are refused; and
 * the pattern is what the header documents.
 */
/* test-sources: drivers/block/blktest_run.c drivers/block/blktest_pattern.c drivers/block/latency_stats.c virtio/virtio_blk_driver.c virtio/virtio_blk.c vmm/sidecore/coalesce.c virtio/virtqueue.c virtio/virtq_driver.c drivers/block/ramdisk.c drivers/block/blk_names.c kernel/lib/fmt.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/block/blktest_run.h"
#include "drivers/block/ramdisk.h"

#define DISK_BYTES (1u << 20)
#define ORIGIN     0x40000000ull /* the device is a window 1 GiB into a namespace */

static uint64_t clock_ticks;

static uint64_t fake_now(void)
{
    clock_ticks += 1000; /* 1 us per look */
    return clock_ticks;
}

/* A RAM disk whose submit can be bent: writes number misplace_at go one
 * sector further, write number fail_at is refused with EIO, and with hold
 * set nothing ever completes. */
static struct {
    struct ramdisk rd;
    struct blk_device dev;
    struct blk_device_ops ops;
    unsigned writes;
    unsigned misplace_at, fail_at;
    bool hold;
    unsigned max_nseg, mid_page_segs; /* seen by submit */
} bent;

static int bent_submit(struct blk_queue *q, const struct blk_request *req)
{
    struct blk_request r = *req;

    if (req->nseg > bent.max_nseg)
        bent.max_nseg = req->nseg;
    for (unsigned i = 0; i < req->nseg; i++)
        if ((req->segs[i].phys | (req->segs[i].phys + req->segs[i].len)) & 4095)
            bent.mid_page_segs++;
    if (req->op == BLK_OP_WRITE) {
        bent.writes++;
        if (bent.writes == bent.fail_at)
            return BLK_EIO;
        if (bent.writes == bent.misplace_at)
            r.sector += 1;
    }
    return bent.rd.dev.ops->submit(q, &r);
}

static unsigned bent_poll(struct blk_queue *q, unsigned budget)
{
    return bent.hold ? 0 : bent.rd.dev.ops->poll(q, budget);
}

struct run {
    uint8_t *disk, *mem;
    uint64_t mem_bytes;
    struct blktest_job *j;
};

static struct blk_device *bent_device(uint8_t *disk)
{
    memset(&bent, 0, sizeof(bent));
    assert_true(ramdisk_init(&bent.rd, disk, DISK_BYTES, "ram0"));
    bent.ops = *bent.rd.dev.ops;
    bent.ops.submit = bent_submit;
    bent.ops.poll = bent_poll;
    bent.dev = bent.rd.dev; /* same backend_priv: the ramdisk */
    bent.dev.ops = &bent.ops;
    return &bent.dev;
}

static struct run *run_new(void)
{
    struct run *r = calloc(1, sizeof(*r));

    assert_non_null(r);
    r->disk = aligned_alloc(4096, DISK_BYTES);
    assert_non_null(r->disk);
    memset(r->disk, 0x11, DISK_BYTES);
    r->j = calloc(1, sizeof(*r->j));
    assert_non_null(r->j);
    return r;
}

static uint32_t start_misalign; /* blktest's align=N for the next start() */

static bool start(struct run *r, enum blktest_op op, unsigned qd, uint32_t bs, uint64_t count)
{
    struct blktest_params p = {.op = op,
                               .qd = qd,
                               .count = count,
                               .bs = bs,
                               .seed = 0x5eed0001,
                               .origin = ORIGIN,
                               .now = fake_now,
                               .ticks_per_sec = 1000000000ull,
                               .request_timeout_ticks = 5000000000ull,
                               .misalign = start_misalign};
    char why[200];

    r->mem_bytes = blktest_mem_bytes(qd, bs);
    assert_true(r->mem_bytes > 0);
    free(r->mem);
    r->mem = aligned_alloc(4096, (r->mem_bytes + 4095) & ~4095ull);
    assert_non_null(r->mem);
    if (!blktest_setup(r->j, bent_device(r->disk), r->mem, r->mem_bytes, &p, why, sizeof(why)))
        return false;
    blktest_run(r->j);
    assert_true(r->j->done);
    return true;
}

static void run_free(struct run *r, bool teardown)
{
    if (teardown)
        assert_true(blktest_teardown(r->j));
    free(r->mem);
    free(r->disk);
    free(r->j);
    free(r);
}

/* The disk holds the pattern of this run from start to end. */
static void assert_pattern(struct run *r)
{
    struct blktest_mismatch m;

    if (!blktest_pattern_check(r->disk, DISK_BYTES, ORIGIN, 0x5eed0001, &m))
        fail_msg("disk byte %#llx: %#llx, want %#llx", (unsigned long long)(m.offset - ORIGIN),
                 (unsigned long long)m.got, (unsigned long long)m.want);
}

static void test_pattern_layout(void **state)
{
    uint8_t sector[1024];
    uint64_t w;
    struct blktest_mismatch m;

    blktest_pattern_fill(sector, sizeof(sector), 0x200000, 42);
    memcpy(&w, sector, 8);
    assert_int_equal(w, 0x200000);
    memcpy(&w, sector + 8, 8);
    assert_int_equal(w, 42);
    memcpy(&w, sector + 16, 8);
    assert_int_equal(w, (42 ^ (0x200000ull + 16)) * 0x9E3779B97F4A7C15ull);
    memcpy(&w, sector + 512, 8);
    assert_int_equal(w, 0x200200); /* the second sector's own offset */
    memcpy(&w, sector + 512 + 504, 8);
    assert_int_equal(w, (42 ^ (0x200200ull + 504)) * 0x9E3779B97F4A7C15ull);
    assert_true(blktest_pattern_check(sector, sizeof(sector), 0x200000, 42, &m));
    /* The same data checked as if it belonged elsewhere, or to another run. */
    assert_false(blktest_pattern_check(sector, sizeof(sector), 0x200200, 42, &m));
    assert_int_equal(m.offset, 0x200200);
    assert_int_equal(m.tag_offset, 0x200000);
    assert_false(blktest_pattern_check(sector, sizeof(sector), 0x200000, 43, &m));
    assert_int_equal(m.offset, 0x200008);
    sector[1000] ^= 1;
    assert_false(blktest_pattern_check(sector, sizeof(sector), 0x200000, 42, &m));
    assert_int_equal(m.offset, 0x200000 + 1000 / 8 * 8);
}

static void test_verify_passes_and_writes_exactly_the_device(void **state)
{
    struct run *r = run_new();

    assert_true(start(r, BLKTEST_VERIFY, 8, 64 * 1024, 0));
    assert_true(r->j->res.pass);
    assert_string_equal(r->j->res.why, "");
    assert_int_equal(r->j->res.requests, 16 + 1 + 16);
    assert_int_equal(r->j->res.errors, 0);
    assert_int_equal(r->j->res.stuck, 0);
    assert_int_equal(r->j->res.bytes, 2 * DISK_BYTES);
    assert_int_equal(r->j->lat.count, 33);
    assert_true(r->j->lat.max_ns > 0 && r->j->res.ticks > 0);
    assert_pattern(r);
    assert_int_equal(r->j->dev.q[0].stats.writes, 16);
    assert_int_equal(r->j->dev.q[0].stats.flushes, 1);
    assert_int_equal(r->j->dev.q[0].stats.reads, 16);
    run_free(r, true);
}

/* align=N: buffers start mid-page and requests arrive in 16 segments that
 * start and end mid-page and mid-sector; the data still lands right. */
static void test_verify_misaligned(void **state)
{
    static const uint32_t aligns[] = {4, 512, 1000, 4095};

    for (unsigned i = 0; i < 4; i++) {
        struct run *r = run_new();

        start_misalign = aligns[i];
        assert_true(start(r, BLKTEST_VERIFY, 4, i & 1 ? 64 * 1024 : 3 * 4096 + 512, 0));
        start_misalign = 0;
        assert_true(r->j->res.pass);
        assert_pattern(r);
        assert_int_equal(bent.max_nseg, 16);
        assert_true(bent.mid_page_segs > 16);
        run_free(r, true);
    }
}

static void test_verify_odd_sizes(void **state)
{
    struct run *r = run_new();

    /* bs that does not divide the device: the last request is shorter. */
    assert_true(start(r, BLKTEST_VERIFY, 3, 3 * 4096 + 512, 0));
    assert_true(r->j->res.pass);
    assert_int_equal(r->j->res.requests, 2 * ((DISK_BYTES + 12799) / 12800) + 1);
    assert_pattern(r);
    run_free(r, true);

    r = run_new();
    assert_true(start(r, BLKTEST_VERIFY, 1, 512, 0));
    assert_true(r->j->res.pass);
    assert_int_equal(r->j->res.requests, 2 * DISK_BYTES / 512 + 1);
    assert_pattern(r);
    run_free(r, true);
}

static void test_verify_catches_a_misplaced_write(void **state)
{
    struct run *r = run_new();

    /* By hand rather than start(): the fault is set between setup (which
     * resets the bent disk) and the run. */
    struct blktest_params p = {.op = BLKTEST_VERIFY,
                               .qd = 4,
                               .bs = 4096,
                               .seed = 0x5eed0001,
                               .origin = ORIGIN,
                               .now = fake_now,
                               .ticks_per_sec = 1000000000ull,
                               .request_timeout_ticks = 5000000000ull};
    char why[200];
    r->mem_bytes = blktest_mem_bytes(4, 4096);
    r->mem = aligned_alloc(4096, (r->mem_bytes + 4095) & ~4095ull);
    assert_true(
        blktest_setup(r->j, bent_device(r->disk), r->mem, r->mem_bytes, &p, why, sizeof(why)));
    bent.misplace_at = 5; /* the 5th write, bytes 16K..20K, lands at 16K + 512 */
    blktest_run(r->j);
    assert_false(r->j->res.pass);
    assert_true(r->j->res.mismatch);
    assert_string_equal(r->j->res.why, "data mismatch");
    /* Its first sector was never written: 0x11 filler, tag 0x1111... */
    assert_int_equal(r->j->res.m.offset, ORIGIN + 16384);
    assert_int_equal(r->j->res.m.tag_offset, 0x1111111111111111ull);
    assert_int_equal(r->j->res.stuck, 0);
    run_free(r, true);
}

static void test_verify_reports_a_failed_write(void **state)
{
    struct run *r = run_new();
    struct blktest_params p = {.op = BLKTEST_VERIFY,
                               .qd = 4,
                               .bs = 8192,
                               .seed = 1,
                               .origin = 0,
                               .now = fake_now,
                               .ticks_per_sec = 1000000000ull,
                               .request_timeout_ticks = 5000000000ull,
                               .misalign = start_misalign};
    char why[200];

    r->mem_bytes = blktest_mem_bytes(4, 8192);
    r->mem = aligned_alloc(4096, (r->mem_bytes + 4095) & ~4095ull);
    assert_true(
        blktest_setup(r->j, bent_device(r->disk), r->mem, r->mem_bytes, &p, why, sizeof(why)));
    bent.fail_at = 10;
    blktest_run(r->j);
    assert_false(r->j->res.pass);
    assert_false(r->j->res.mismatch);
    assert_int_equal(r->j->res.errors, 1);
    assert_string_equal(r->j->res.why, "write of 8192 bytes at byte 0x12000: status 1, expected 0");
    /* It stopped: no flush, no read; what was in flight completed. */
    assert_int_equal(r->j->dev.q[0].stats.reads, 0);
    assert_int_equal(r->j->dev.q[0].stats.flushes, 0);
    assert_int_equal(r->j->res.stuck, 0);
    assert_true(r->j->res.requests >= 10 && r->j->res.requests <= 13);
    run_free(r, true);
}

static void test_randread(void **state)
{
    struct run *r = run_new();

    assert_true(start(r, BLKTEST_RANDREAD, 8, 4096, 1000));
    assert_true(r->j->res.pass);
    assert_int_equal(r->j->res.requests, 1000);
    assert_int_equal(r->j->res.bytes, 1000 * 4096);
    assert_int_equal(r->j->lat.count, 1000);
    assert_int_equal(r->j->dev.q[0].stats.reads, 1000);
    assert_int_equal(r->j->dev.q[0].stats.writes, 0);
    for (unsigned i = 0; i < DISK_BYTES; i++)
        if (r->disk[i] != 0x11)
            fail_msg("randread changed byte %u", i);
    run_free(r, true);
}

static void test_pastend_gets_ioerr(void **state)
{
    struct run *r = run_new();

    assert_true(start(r, BLKTEST_PASTEND, 2, 4096, 0));
    assert_true(r->j->res.pass);
    assert_int_equal(r->j->res.requests, 2);
    assert_int_equal(r->j->res.errors, 0);
    assert_int_equal(r->j->dev.q[0].stats.errors, 2);
    assert_false(r->j->device_broken);
    run_free(r, true);
}

static void test_hung_backend_times_out(void **state)
{
    struct run *r = run_new();
    struct blktest_params p = {.op = BLKTEST_RANDREAD,
                               .qd = 4,
                               .count = 100,
                               .bs = 4096,
                               .seed = 7,
                               .now = fake_now,
                               .ticks_per_sec = 1000000000ull,
                               .request_timeout_ticks = 2000000ull};
    char why[200];

    r->mem_bytes = blktest_mem_bytes(4, 4096);
    r->mem = aligned_alloc(4096, (r->mem_bytes + 4095) & ~4095ull);
    assert_true(
        blktest_setup(r->j, bent_device(r->disk), r->mem, r->mem_bytes, &p, why, sizeof(why)));
    bent.hold = true;
    blktest_run(r->j);
    assert_false(r->j->res.pass);
    assert_int_equal(r->j->res.stuck, 4);
    assert_int_equal(r->j->res.requests, 0);
    assert_non_null(strstr(r->j->res.why, "got no answer"));
    /* The backend answers at last: the reset can drain and close. */
    bent.hold = false;
    run_free(r, true);
}

static void test_abort(void **state)
{
    struct run *r = run_new();
    struct blktest_params p = {.op = BLKTEST_RANDREAD,
                               .qd = 2,
                               .count = 100,
                               .bs = 4096,
                               .seed = 7,
                               .now = fake_now,
                               .ticks_per_sec = 1000000000ull,
                               .request_timeout_ticks = 5000000000ull,
                               .misalign = start_misalign};
    char why[200];

    r->mem_bytes = blktest_mem_bytes(2, 4096);
    r->mem = aligned_alloc(4096, (r->mem_bytes + 4095) & ~4095ull);
    assert_true(
        blktest_setup(r->j, bent_device(r->disk), r->mem, r->mem_bytes, &p, why, sizeof(why)));
    r->j->abort = true;
    blktest_run(r->j);
    assert_false(r->j->res.pass);
    assert_non_null(strstr(r->j->res.why, "aborted"));
    assert_true(r->j->res.stuck <= 2);
    run_free(r, true);
}

static void test_setup_refusals(void **state)
{
    struct run *r = run_new();
    struct blktest_params p = {.op = BLKTEST_VERIFY,
                               .qd = 4,
                               .bs = 4096,
                               .now = fake_now,
                               .ticks_per_sec = 1000000000ull,
                               .request_timeout_ticks = 1};
    char why[200];
    uint64_t bytes = blktest_mem_bytes(4, 4096);

    r->mem = aligned_alloc(4096, (bytes + 4095) & ~4095ull);
    assert_int_equal(blktest_mem_bytes(0, 4096), 0);
    assert_int_equal(blktest_mem_bytes(BLKTEST_MAX_QD + 1, 4096), 0);
    assert_int_equal(blktest_mem_bytes(128, 1u << 20), 0); /* 128 MiB of buffers */
    assert_int_equal(blktest_mem_bytes(4, 0), 0);
    assert_false(
        blktest_setup(r->j, bent_device(r->disk), r->mem, bytes - 1, &p, why, sizeof(why)));
    p.misalign = 4096;
    assert_false(blktest_setup(r->j, bent_device(r->disk), r->mem, bytes, &p, why, sizeof(why)));
    assert_non_null(strstr(why, "align=4096"));
    p.misalign = 0;
    p.bs = 1000;
    assert_false(blktest_setup(r->j, bent_device(r->disk), r->mem, bytes, &p, why, sizeof(why)));
    assert_non_null(strstr(why, "not a multiple"));
    p.bs = 4096;
    p.op = BLKTEST_RANDREAD;
    p.now = NULL;
    assert_false(blktest_setup(r->j, bent_device(r->disk), r->mem, bytes, &p, why, sizeof(why)));
    p.now = fake_now;
    p.op = BLKTEST_PASTEND;
    p.bs = 512;
    assert_false(blktest_setup(r->j, bent_device(r->disk), r->mem, bytes, &p, why, sizeof(why)));
    assert_non_null(strstr(why, "two"));
    run_free(r, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_layout),
        cmocka_unit_test(test_verify_passes_and_writes_exactly_the_device),
        cmocka_unit_test(test_verify_odd_sizes),
        cmocka_unit_test(test_verify_misaligned),
        cmocka_unit_test(test_verify_catches_a_misplaced_write),
        cmocka_unit_test(test_verify_reports_a_failed_write),
        cmocka_unit_test(test_randread),
        cmocka_unit_test(test_pastend_gets_ioerr),
        cmocka_unit_test(test_hung_backend_times_out),
        cmocka_unit_test(test_abort),
        cmocka_unit_test(test_setup_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
