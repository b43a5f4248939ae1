/* SPDX-License-Identifier: MIT */
/* Host tests of block windows (the START+LENGTH ranges NVMe namespaces are
 * offered as): byte bounds to blocks, requests mapped and bounds-checked,
 * overlaps, and extent parsing. */
/* test-sources: drivers/block/blk_range.c kernel/lib/str.c kernel/lib/fmt.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/block/blk.h"
#include "drivers/block/blk_range.h"

static void test_from_bytes(void **state)
{
    struct blk_range r;

    /* 1 GiB namespace of 512-byte blocks. */
    assert_int_equal(blk_range_from_bytes(1u << 21, 9, 1 << 20, 4 << 20, &r), BLK_OK);
    assert_int_equal(r.first_lba, 2048);
    assert_int_equal(r.nlba, 8192);
    assert_int_equal(blk_range_sectors(&r), 8192);
    /* Whole device (length 0). */
    assert_int_equal(blk_range_from_bytes(1000, 12, 0, 0, &r), BLK_OK);
    assert_int_equal(r.nlba, 1000);
    assert_int_equal(blk_range_sectors(&r), 8000);
    /* Up to the last byte exactly. */
    assert_int_equal(blk_range_from_bytes(1000, 12, 996 * 4096, 4 * 4096, &r), BLK_OK);
    /* One block too far, or starting at the end. */
    assert_int_equal(blk_range_from_bytes(1000, 12, 996 * 4096, 5 * 4096, &r), BLK_ERANGE);
    assert_int_equal(blk_range_from_bytes(1000, 12, 1000 * 4096, 0, &r), BLK_ERANGE);
    /* A huge length must not wrap around. */
    assert_int_equal(blk_range_from_bytes(1000, 12, 4096, 0xfffffffffffff000ull, &r), BLK_ERANGE);
    /* Misaligned to the 4 KiB block. */
    assert_int_equal(blk_range_from_bytes(1000, 12, 512, 4096, &r), BLK_EINVAL);
    assert_int_equal(blk_range_from_bytes(1000, 12, 0, 4096 + 512, &r), BLK_EINVAL);
    assert_int_equal(blk_range_from_bytes(1000, 8, 0, 0, &r), BLK_EINVAL);
}

static void test_map(void **state)
{
    struct blk_range r = {.first_lba = 100, .nlba = 50, .lba_shift = 12};
    uint64_t slba, nlb;

    assert_int_equal(blk_range_map(&r, 0, 8, &slba, &nlb), BLK_OK);
    assert_int_equal(slba, 100);
    assert_int_equal(nlb, 1);
    assert_int_equal(blk_range_map(&r, 49 * 8, 8, &slba, &nlb), BLK_OK); /* last block */
    assert_int_equal(slba, 149);
    assert_int_equal(blk_range_map(&r, 49 * 8, 16, &slba, &nlb), BLK_ERANGE);
    assert_int_equal(blk_range_map(&r, 50 * 8, 8, &slba, &nlb), BLK_ERANGE); /* past end */
    assert_int_equal(blk_range_map(&r, 0xfffffffffffffff8ull, 8, &slba, &nlb), BLK_ERANGE);
    assert_int_equal(blk_range_map(&r, 8, 0xfffffffffffffff8ull, &slba, &nlb), BLK_ERANGE);
    assert_int_equal(blk_range_map(&r, 4, 8, &slba, &nlb), BLK_EINVAL); /* mid-block */
    assert_int_equal(blk_range_map(&r, 0, 4, &slba, &nlb), BLK_EINVAL);
    assert_int_equal(blk_range_map(&r, 0, 0, &slba, &nlb), BLK_EINVAL);
    struct blk_range small = {.first_lba = 10, .nlba = 4, .lba_shift = 9};
    assert_int_equal(blk_range_map(&small, 3, 1, &slba, &nlb), BLK_OK);
    assert_int_equal(slba, 13);
    assert_int_equal(blk_range_map(&small, 3, 2, &slba, &nlb), BLK_ERANGE);
}

static void test_overlaps(void **state)
{
    struct blk_range a = {.first_lba = 0, .nlba = 10, .lba_shift = 9};
    struct blk_range b = {.first_lba = 10, .nlba = 10, .lba_shift = 9};
    struct blk_range c = {.first_lba = 9, .nlba = 1, .lba_shift = 9};
    struct blk_range d = {.first_lba = 1, .nlba = 1, .lba_shift = 12}; /* sectors 8..15 */

    assert_false(blk_range_overlaps(&a, &b));
    assert_false(blk_range_overlaps(&b, &a));
    assert_true(blk_range_overlaps(&a, &c));
    assert_true(blk_range_overlaps(&c, &a));
    assert_true(blk_range_overlaps(&a, &d));
    assert_true(blk_range_overlaps(&d, &b));
}

static void test_parse_extent(void **state)
{
    uint64_t s, l;

    assert_true(blk_parse_extent("1M+64K", &s, &l));
    assert_int_equal(s, 1 << 20);
    assert_int_equal(l, 64 << 10);
    assert_true(blk_parse_extent("0+4096", &s, &l));
    assert_int_equal(s, 0);
    assert_false(blk_parse_extent("1M", &s, &l));
    assert_false(blk_parse_extent("1M+", &s, &l));
    assert_false(blk_parse_extent("+1M", &s, &l));
    assert_false(blk_parse_extent("1M+0", &s, &l));
    assert_false(blk_parse_extent("1Q+1M", &s, &l));
    assert_false(blk_parse_extent("123456789012345678901234567890123+1", &s, &l));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_bytes),
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_overlaps),
        cmocka_unit_test(test_parse_extent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
