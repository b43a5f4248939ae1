/* SPDX-License-Identifier: MIT */
/*
 * Host tests of NVMe queue bookkeeping: SQ full/empty with the one free
 * slot, tail wrap, bogus SQ heads refused; the CQ phase bit starting at 1
 * and flipping on every wrap, checked against a fake controller that posts
 * entries with its own phase; command-ID exhaustion, reuse and bad frees.
 */
/* test-sources: drivers/nvme/nvme_ring.c drivers/nvme/nvme_cid.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/nvme/nvme_cid.h"
#include "drivers/nvme/nvme_cmd.h"
#include "drivers/nvme/nvme_ring.h"

static void test_sq_full_and_wrap(void **state)
{
    struct nvme_sq_ring r;

    nvme_sq_ring_init(&r, 4);
    assert_false(nvme_sq_ring_full(&r));
    assert_int_equal(nvme_sq_ring_used(&r), 0);
    assert_int_equal(nvme_sq_ring_push(&r), 0);
    assert_int_equal(nvme_sq_ring_push(&r), 1);
    assert_int_equal(nvme_sq_ring_push(&r), 2);
    assert_true(nvme_sq_ring_full(&r)); /* 3 of 4: one slot stays empty */
    assert_int_equal(nvme_sq_ring_used(&r), 3);
    assert_true(nvme_sq_ring_set_head(&r, 2)); /* controller consumed two */
    assert_false(nvme_sq_ring_full(&r));
    assert_int_equal(nvme_sq_ring_push(&r), 3);
    assert_int_equal(nvme_sq_ring_push(&r), 0); /* tail wraps */
    assert_int_equal(r.tail, 1);
    assert_true(nvme_sq_ring_full(&r));
    assert_true(nvme_sq_ring_set_head(&r, 1)); /* consumed everything, across the wrap */
    assert_int_equal(nvme_sq_ring_used(&r), 0);
}

static void test_sq_bogus_head(void **state)
{
    struct nvme_sq_ring r;

    nvme_sq_ring_init(&r, 8);
    nvme_sq_ring_push(&r);
    nvme_sq_ring_push(&r);                      /* tail 2, head 0 */
    assert_false(nvme_sq_ring_set_head(&r, 8)); /* beyond the ring */
    assert_false(nvme_sq_ring_set_head(&r, 3)); /* beyond the tail */
    assert_false(nvme_sq_ring_set_head(&r, 7)); /* "behind" the head */
    assert_int_equal(r.head, 0);
    assert_true(nvme_sq_ring_set_head(&r, 2));
    assert_true(nvme_sq_ring_set_head(&r, 2)); /* repeating a head is fine */
}

/* A fake controller posting completions into a CQ with its own phase. */
struct fake_cq {
    struct nvme_cqe e[5];
    uint16_t tail;
    uint8_t phase;
};

static void fake_post(struct fake_cq *c, uint16_t cid)
{
    c->e[c->tail].cid = cid;
    c->e[c->tail].status = c->phase; /* success, phase tag */
    if (++c->tail == 5) {
        c->tail = 0;
        c->phase ^= 1;
    }
}

static void test_cq_phase_over_many_wraps(void **state)
{
    struct fake_cq c;
    struct nvme_cq_ring r;
    uint16_t next_cid = 0, expect_cid = 0;

    memset(&c, 0, sizeof(c)); /* zeroed memory: phase 0 = "old" for the first pass */
    c.phase = 1;
    nvme_cq_ring_init(&r, 5);
    assert_int_equal(r.phase, 1);
    assert_false(nvme_cq_ring_is_new(&r, c.e[0].status));
    for (int round = 0; round < 40; round++) {
        unsigned burst = 1 + round % 4; /* never more than size - 1 outstanding */
        for (unsigned i = 0; i < burst; i++)
            fake_post(&c, next_cid++);
        unsigned seen = 0;
        while (nvme_cq_ring_is_new(&r, c.e[r.head].status)) {
            assert_int_equal(c.e[r.head].cid, expect_cid++);
            nvme_cq_ring_pop(&r);
            seen++;
        }
        assert_int_equal(seen, burst);
        assert_int_equal(r.phase, c.phase);
        assert_int_equal(r.head, c.tail);
    }
}

static void test_cq_pop_flips_phase_at_wrap(void **state)
{
    struct nvme_cq_ring r;

    nvme_cq_ring_init(&r, 3);
    assert_int_equal(nvme_cq_ring_pop(&r), 1);
    assert_int_equal(nvme_cq_ring_pop(&r), 2);
    assert_int_equal(r.phase, 1);
    assert_int_equal(nvme_cq_ring_pop(&r), 0);
    assert_int_equal(r.phase, 0);
    assert_true(nvme_cq_ring_is_new(&r, 0x0000));
    assert_false(nvme_cq_ring_is_new(&r, 0x0001));
    assert_true(nvme_cq_ring_is_new(&r, 0x8002)); /* only bit 0 is the phase */
}

static void test_cid_exhaustion_and_reuse(void **state)
{
    struct nvme_cid_map m;
    int seen[63] = {0};

    nvme_cid_init(&m, 63);
    for (int i = 0; i < 63; i++) {
        int cid = nvme_cid_alloc(&m);
        assert_true(cid >= 0 && cid < 63);
        assert_int_equal(seen[cid], 0);
        seen[cid] = 1;
    }
    assert_int_equal(nvme_cid_alloc(&m), -1);
    assert_int_equal(m.in_use, 63);
    assert_true(nvme_cid_free(&m, 17));
    assert_false(nvme_cid_in_use(&m, 17));
    assert_int_equal(nvme_cid_alloc(&m), 17); /* the only free one */
    assert_int_equal(nvme_cid_alloc(&m), -1);
}

static void test_cid_not_reused_at_once(void **state)
{
    struct nvme_cid_map m;

    nvme_cid_init(&m, 8);
    int a = nvme_cid_alloc(&m);
    assert_true(nvme_cid_free(&m, (uint16_t)a));
    int b = nvme_cid_alloc(&m);
    assert_int_not_equal(a, b); /* round-robin: a stale completion for a is caught */
}

static void test_cid_bad_free(void **state)
{
    struct nvme_cid_map m;

    nvme_cid_init(&m, 64);
    assert_false(nvme_cid_free(&m, 3));   /* never allocated */
    assert_false(nvme_cid_free(&m, 64));  /* out of range */
    assert_false(nvme_cid_free(&m, 999)); /* way out of range */
    int c = nvme_cid_alloc(&m);
    assert_true(nvme_cid_free(&m, (uint16_t)c));
    assert_false(nvme_cid_free(&m, (uint16_t)c)); /* double free */
    assert_int_equal(m.in_use, 0);
}

static void test_cid_limits(void **state)
{
    struct nvme_cid_map m;

    nvme_cid_init(&m, 5000);
    assert_int_equal(m.count, NVME_CID_MAX);
    for (int i = 0; i < NVME_CID_MAX; i++)
        assert_true(nvme_cid_alloc(&m) >= 0);
    assert_int_equal(nvme_cid_alloc(&m), -1);
    nvme_cid_init(&m, 0);
    assert_int_equal(nvme_cid_alloc(&m), 0);
    assert_int_equal(nvme_cid_alloc(&m), -1);
}

static void test_sqe_cid(void **state)
{
    struct nvme_sqe e;

    memset(&e, 0, sizeof(e));
    nvme_sqe_set_cid(&e, 0x02, 0xbeef);
    assert_int_equal(e.cdw0, 0xbeef0002);
    assert_int_equal(nvme_sqe_cid(&e), 0xbeef);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sq_full_and_wrap),
        cmocka_unit_test(test_sq_bogus_head),
        cmocka_unit_test(test_cq_phase_over_many_wraps),
        cmocka_unit_test(test_cq_pop_flips_phase_at_wrap),
        cmocka_unit_test(test_cid_exhaustion_and_reuse),
        cmocka_unit_test(test_cid_not_reused_at_once),
        cmocka_unit_test(test_cid_bad_free),
        cmocka_unit_test(test_cid_limits),
        cmocka_unit_test(test_sqe_cid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
