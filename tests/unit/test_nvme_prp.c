/* SPDX-License-Identifier: MIT */
/*
 * Host tests of PRP construction: every alignment the rules allow (offset
 * first page, page crossing, exact page, exactly two pages, a list, a list
 * chained across list pages, many segments), and every shape they forbid
 * (a middle segment that starts or ends mid-page, an unaligned start, a
 * transfer over the limit, too few list pages). Data pages are fake physical
 * addresses; list pages are real buffers with fake physical addresses, and
 * each test walks the PRPs the way a controller would and compares the
 * pages it reaches with the pages the segments cover.
 */
/* test-sources: drivers/nvme/nvme_prp.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/nvme/nvme_prp.h"

#define PS           4096u
#define ENTRIES      (PS / 8)
#define LIST_PHYS(i) (0x7000000000ull + (uint64_t)(i)*PS)

static uint64_t list_mem[NVME_PRP_MAX_LIST_PAGES][ENTRIES] __attribute__((aligned(4096)));
static struct nvme_prp_lists lists;

static int setup(void **state)
{
    memset(list_mem, 0xee, sizeof(list_mem));
    lists.count = NVME_PRP_MAX_LIST_PAGES;
    for (unsigned i = 0; i < NVME_PRP_MAX_LIST_PAGES; i++) {
        lists.virt[i] = list_mem[i];
        lists.phys[i] = LIST_PHYS(i);
    }
    return 0;
}

static uint64_t *list_virt(uint64_t phys)
{
    for (unsigned i = 0; i < NVME_PRP_MAX_LIST_PAGES; i++)
        if (phys == LIST_PHYS(i))
            return list_mem[i];
    fail_msg("PRP list pointer %#llx is not one of the list pages", (unsigned long long)phys);
    return NULL;
}

/* The page-sized pieces (address of first byte) the segments cover, in order. */
static unsigned expected_pages(const struct blk_seg *segs, unsigned n, uint64_t *out)
{
    unsigned count = 0;

    for (unsigned i = 0; i < n; i++) {
        uint64_t a = segs[i].phys, end = segs[i].phys + segs[i].len;

        while (a < end) {
            out[count++] = a;
            a = (a & ~(uint64_t)(PS - 1)) + PS;
        }
    }
    return count;
}

/* Walks PRP1/PRP2/lists like a controller moving `bytes` bytes, and checks
 * each page it reaches against the expected pages. Returns the number of
 * list pages visited. */
static unsigned controller_walk(const struct nvme_prp *p, const struct blk_seg *segs, unsigned n)
{
    static uint64_t want[4096];
    unsigned npages = expected_pages(segs, n, want);
    uint64_t got[4096];
    unsigned count = 0, lists_seen = 0;

    assert_int_equal(p->prp1 & 3, 0);
    got[count++] = p->prp1;
    if (npages == 2) {
        assert_int_equal(p->prp2 & (PS - 1), 0);
        got[count++] = p->prp2;
    } else if (npages > 2) {
        uint64_t *list = list_virt(p->prp2);
        unsigned slot = 0;

        lists_seen = 1;
        while (count < npages) {
            if (slot == ENTRIES - 1 && npages - count > 1) {
                list = list_virt(list[slot]);
                lists_seen++;
                slot = 0;
                continue;
            }
            assert_int_equal(list[slot] & (PS - 1), 0); /* later entries carry no offset */
            got[count++] = list[slot++];
        }
    } else {
        assert_int_equal(p->prp2, 0);
    }
    assert_int_equal(count, npages);
    for (unsigned i = 0; i < npages; i++)
        assert_int_equal(got[i], want[i]);
    return lists_seen;
}

static struct nvme_prp build_ok(const struct blk_seg *segs, unsigned n, uint64_t expect_bytes)
{
    struct nvme_prp p;

    assert_int_equal(nvme_prp_build(segs, n, PS, 8u << 20, &lists, &p), NVME_PRP_OK);
    assert_int_equal(p.bytes, expect_bytes);
    return p;
}

static void test_single_page_with_offset(void **state)
{
    struct blk_seg s = {0x100200, 512};
    struct nvme_prp p = build_ok(&s, 1, 512);

    assert_int_equal(p.prp1, 0x100200);
    assert_int_equal(p.prp2, 0);
    assert_int_equal(p.list_pages_used, 0);
    controller_walk(&p, &s, 1);
}

static void test_exact_page(void **state)
{
    struct blk_seg s = {0x200000, PS};
    struct nvme_prp p = build_ok(&s, 1, PS);

    assert_int_equal(p.prp1, 0x200000);
    assert_int_equal(p.prp2, 0);
}

static void test_offset_crossing_one_boundary(void **state)
{
    /* 4 KiB starting mid-page: two pages, PRP2 is the second page itself. */
    struct blk_seg s = {0x300800, PS};
    struct nvme_prp p = build_ok(&s, 1, PS);

    assert_int_equal(p.prp1, 0x300800);
    assert_int_equal(p.prp2, 0x301000);
    assert_int_equal(p.list_pages_used, 0);
    controller_walk(&p, &s, 1);
}

static void test_exactly_two_pages(void **state)
{
    struct blk_seg s = {0x400000, 2 * PS};
    struct nvme_prp p = build_ok(&s, 1, 2 * PS);

    assert_int_equal(p.prp2, 0x401000);
    assert_int_equal(p.list_pages_used, 0);
}

static void test_two_pages_as_two_segments(void **state)
{
    struct blk_seg s[2] = {{0x500c00, 0x400}, {0x900000, 0x200}};
    struct nvme_prp p = build_ok(s, 2, 0x600);

    assert_int_equal(p.prp1, 0x500c00);
    assert_int_equal(p.prp2, 0x900000);
}

static void test_three_pages_need_a_list(void **state)
{
    struct blk_seg s = {0x600000, 3 * PS};
    struct nvme_prp p = build_ok(&s, 1, 3 * PS);

    assert_int_equal(p.prp2, LIST_PHYS(0));
    assert_int_equal(p.list_pages_used, 1);
    assert_int_equal(list_mem[0][0], 0x601000);
    assert_int_equal(list_mem[0][1], 0x602000);
    assert_int_equal(controller_walk(&p, &s, 1), 1);
}

static void test_offset_start_uneven_end_list(void **state)
{
    /* Starts at +0x204, ends mid-page 5 pages later. */
    struct blk_seg s = {0x700204, 5 * PS};
    struct nvme_prp p = build_ok(&s, 1, 5 * PS);

    assert_int_equal(p.prp1, 0x700204);
    assert_int_equal(p.list_pages_used, 1);
    controller_walk(&p, &s, 1);
}

static void test_scattered_pages(void **state)
{
    /* A first partial page, whole middle pages anywhere, a short last one. */
    struct blk_seg s[5] = {
        {0x10f00, 0x100}, {0x80000, PS}, {0x20000, 2 * PS}, {0x55000, PS}, {0x99000, 0x200},
    };
    struct nvme_prp p = build_ok(s, 5, 0x100 + 4 * PS + 0x200);

    assert_int_equal(controller_walk(&p, s, 5), 1);
}

static void test_full_list_page_does_not_chain(void **state)
{
    /* 1 + 512 pages: exactly fills one list page, last slot is data. */
    struct blk_seg s = {0x1000000, (1 + ENTRIES) * PS};
    struct nvme_prp p = build_ok(&s, 1, (1 + ENTRIES) * PS);

    assert_int_equal(p.list_pages_used, 1);
    assert_int_equal(list_mem[0][ENTRIES - 1], 0x1000000 + (uint64_t)ENTRIES * PS);
    assert_int_equal(controller_walk(&p, &s, 1), 1);
}

static void test_list_chains_across_pages(void **state)
{
    /* 1 + 513 pages: the first list page holds 511 entries and the chain. */
    struct blk_seg s = {0x2000000, (2 + ENTRIES) * PS};
    struct nvme_prp p = build_ok(&s, 1, (2 + ENTRIES) * PS);

    assert_int_equal(p.list_pages_used, 2);
    assert_int_equal(list_mem[0][ENTRIES - 1], LIST_PHYS(1));
    assert_int_equal(list_mem[1][0], 0x2000000 + (uint64_t)ENTRIES * PS);
    assert_int_equal(list_mem[1][1], 0x2000000 + (uint64_t)(ENTRIES + 1) * PS);
    assert_int_equal(controller_walk(&p, &s, 1), 2);
}

static void test_list_chains_three_pages_with_offset(void **state)
{
    /* A start 0x80 into a page and 1099 pages of data touch 1100 pages. */
    struct blk_seg s = {0x40000080, 1099u * PS};
    struct nvme_prp p = build_ok(&s, 1, 1099u * PS);

    /* 1100 pages touched: 1099 entries = 511 + 511 + 77. */
    assert_int_equal(p.list_pages_used, 3);
    assert_int_equal(controller_walk(&p, &s, 1), 3);
}

static void test_chaining_with_many_segments(void **state)
{
    static struct blk_seg s[600];

    for (unsigned i = 0; i < 600; i++)
        s[i] = (struct blk_seg){0x80000000ull + (uint64_t)(599 - i) * 2 * PS, PS};
    s[0].phys += 0x800;
    s[0].len = 0x800;
    s[599].len = 0x10;
    struct nvme_prp p = build_ok(s, 600, 0x800 + 598u * PS + 0x10);

    assert_int_equal(p.list_pages_used, 2);
    assert_int_equal(controller_walk(&p, s, 600), 2);
}

static void test_bad_middle_segments(void **state)
{
    struct nvme_prp p;
    struct blk_seg mid_start[3] = {{0x1000, PS}, {0x5200, 0xe00}, {0x9000, PS}};
    struct blk_seg mid_end[3] = {{0x1000, PS}, {0x5000, 0xe00}, {0x9000, PS}};
    struct blk_seg first_short[2] = {{0x1000, 0x800}, {0x5000, PS}};
    struct blk_seg last_offset[2] = {{0x1000, PS}, {0x5004, 0x100}};

    assert_int_equal(nvme_prp_build(mid_start, 3, PS, 1 << 20, &lists, &p), NVME_PRP_MID_START);
    assert_int_equal(nvme_prp_build(mid_end, 3, PS, 1 << 20, &lists, &p), NVME_PRP_MID_END);
    assert_int_equal(nvme_prp_build(first_short, 2, PS, 1 << 20, &lists, &p), NVME_PRP_MID_END);
    assert_int_equal(nvme_prp_build(last_offset, 2, PS, 1 << 20, &lists, &p), NVME_PRP_MID_START);
}

static void test_bad_shapes(void **state)
{
    struct nvme_prp p;
    struct blk_seg unaligned = {0x1002, 0x200};
    struct blk_seg zero[2] = {{0x1000, PS}, {0x3000, 0}};
    struct blk_seg wraps = {0xfffffffffffff000ull, 2 * PS};
    struct blk_seg ok = {0x1000, PS};

    assert_int_equal(nvme_prp_build(&unaligned, 1, PS, 1 << 20, &lists, &p), NVME_PRP_UNALIGNED);
    assert_int_equal(nvme_prp_build(zero, 2, PS, 1 << 20, &lists, &p), NVME_PRP_EMPTY);
    assert_int_equal(nvme_prp_build(&ok, 0, PS, 1 << 20, &lists, &p), NVME_PRP_EMPTY);
    assert_int_equal(nvme_prp_build(&wraps, 1, PS, 1 << 20, &lists, &p), NVME_PRP_ADDRESS_OVERFLOW);
    assert_int_equal(nvme_prp_build(&ok, 1, 3000, 1 << 20, &lists, &p), NVME_PRP_BAD_PAGE_SIZE);
}

static void test_over_mdts(void **state)
{
    struct nvme_prp p;
    /* MDTS 5 with 4 KiB pages: 128 KiB. */
    uint64_t max = 1ull << (5 + 12);
    struct blk_seg at_limit = {0x100000, (uint32_t)max};
    struct blk_seg over = {0x100000, (uint32_t)max + 512};
    struct blk_seg split[2] = {{0x100000, (uint32_t)max}, {0x900000, PS}};

    assert_int_equal(nvme_prp_build(&at_limit, 1, PS, max, &lists, &p), NVME_PRP_OK);
    assert_int_equal(nvme_prp_build(&over, 1, PS, max, &lists, &p), NVME_PRP_TOO_BIG);
    assert_int_equal(nvme_prp_build(split, 2, PS, max, &lists, &p), NVME_PRP_TOO_BIG);
}

static void test_not_enough_list_pages(void **state)
{
    struct nvme_prp p;
    struct nvme_prp_lists one = lists;
    struct blk_seg s = {0x2000000, (2 + ENTRIES) * PS};

    one.count = 1;
    assert_int_equal(nvme_prp_build(&s, 1, PS, 4u << 20, &one, &p), NVME_PRP_NO_LIST_SPACE);
    one.count = 0;
    struct blk_seg three = {0x2000000, 3 * PS};
    assert_int_equal(nvme_prp_build(&three, 1, PS, 4u << 20, &one, &p), NVME_PRP_NO_LIST_SPACE);
    struct blk_seg two = {0x2000000, 2 * PS};
    assert_int_equal(nvme_prp_build(&two, 1, PS, 4u << 20, &one, &p), NVME_PRP_OK);
}

static void test_list_pages_for(void **state)
{
    assert_int_equal(nvme_prp_list_pages_for(PS, PS), 0);              /* 2 pages if offset */
    assert_int_equal(nvme_prp_list_pages_for(2 * PS, PS), 1);          /* up to 3 pages */
    assert_int_equal(nvme_prp_list_pages_for(512 * 1024, PS), 1);      /* QEMU's MDTS 7 */
    assert_int_equal(nvme_prp_list_pages_for(2u << 20, PS), 1);        /* 512 entries */
    assert_int_equal(nvme_prp_list_pages_for((2u << 20) + PS, PS), 2); /* 513 entries */
    assert_int_equal(nvme_prp_list_pages_for(0, PS), 0);
    /* Whatever the builder needs for the worst-case shape fits the estimate. */
    for (uint64_t bytes = PS; bytes <= (3u << 20); bytes += 37 * PS) {
        struct blk_seg s = {0x10000000 + PS - 4, (uint32_t)bytes};
        struct nvme_prp p;
        struct nvme_prp_lists l = lists;

        l.count = nvme_prp_list_pages_for(bytes, PS);
        assert_int_equal(nvme_prp_build(&s, 1, PS, bytes, &l, &p), NVME_PRP_OK);
    }
}

static void test_larger_page_size(void **state)
{
    /* 16 KiB controller pages: 3 pages of data with a 64 KiB-aligned start. */
    static uint64_t big[2048] __attribute__((aligned(16384)));
    struct nvme_prp_lists l = {.virt = {big}, .phys = {0xabc0000}, .count = 1};
    struct blk_seg s = {0x100000, 3 * 16384};
    struct nvme_prp p;

    assert_int_equal(nvme_prp_build(&s, 1, 16384, 1 << 20, &l, &p), NVME_PRP_OK);
    assert_int_equal(p.prp2, 0xabc0000);
    assert_int_equal(big[0], 0x104000);
    assert_int_equal(big[1], 0x108000);
    /* A 4 KiB-aligned middle segment is mid-page for 16 KiB pages. */
    struct blk_seg s2[2] = {{0x100000, 16384}, {0x201000, 4096}};
    assert_int_equal(nvme_prp_build(s2, 2, 16384, 1 << 20, &l, &p), NVME_PRP_MID_START);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_single_page_with_offset, setup),
        cmocka_unit_test_setup(test_exact_page, setup),
        cmocka_unit_test_setup(test_offset_crossing_one_boundary, setup),
        cmocka_unit_test_setup(test_exactly_two_pages, setup),
        cmocka_unit_test_setup(test_two_pages_as_two_segments, setup),
        cmocka_unit_test_setup(test_three_pages_need_a_list, setup),
        cmocka_unit_test_setup(test_offset_start_uneven_end_list, setup),
        cmocka_unit_test_setup(test_scattered_pages, setup),
        cmocka_unit_test_setup(test_full_list_page_does_not_chain, setup),
        cmocka_unit_test_setup(test_list_chains_across_pages, setup),
        cmocka_unit_test_setup(test_list_chains_three_pages_with_offset, setup),
        cmocka_unit_test_setup(test_chaining_with_many_segments, setup),
        cmocka_unit_test_setup(test_bad_middle_segments, setup),
        cmocka_unit_test_setup(test_bad_shapes, setup),
        cmocka_unit_test_setup(test_over_mdts, setup),
        cmocka_unit_test_setup(test_not_enough_list_pages, setup),
        cmocka_unit_test_setup(test_list_pages_for, setup),
        cmocka_unit_test_setup(test_larger_page_size, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
