/* SPDX-License-Identifier: MIT */
/* Unit tests for the EPT builder. Table pages come from a test arena whose
 * pages have made-up host-physical addresses, and a walker written here
 * (independent of vmm/ept.c) checks the raw entries.
 * test-sources: vmm/ept.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/ept.h"

#define ARENA_PAGES 1200
#define ARENA_BASE  0x7000000000ull /* fake hpa of page 0: far from any mapped hpa */

struct arena {
    uint8_t *mem;
    uint8_t used[ARENA_PAGES];
    unsigned allocs, frees, limit; /* limit: allocations allowed (0 = unlimited) */
};

static uint64_t arena_alloc(void *ctx)
{
    struct arena *a = ctx;
    if (a->limit && a->allocs >= a->limit)
        return 0;
    for (unsigned i = 0; i < ARENA_PAGES; i++) {
        if (!a->used[i]) {
            a->used[i] = 1;
            a->allocs++;
            memset(a->mem + (size_t)i * 4096, 0xCC, 4096); /* the builder must clear it */
            return ARENA_BASE + (uint64_t)i * 4096;
        }
    }
    return 0;
}

static void *arena_ptr(void *ctx, uint64_t hpa)
{
    struct arena *a = ctx;
    assert_true(hpa >= ARENA_BASE && hpa < ARENA_BASE + ARENA_PAGES * 4096ull);
    assert_int_equal(hpa & 0xfff, 0);
    assert_true(a->used[(hpa - ARENA_BASE) / 4096]);
    return a->mem + (hpa - ARENA_BASE);
}

static void arena_free(void *ctx, uint64_t hpa)
{
    struct arena *a = ctx;
    unsigned i = (unsigned)((hpa - ARENA_BASE) / 4096);
    assert_true(i < ARENA_PAGES);
    assert_true(a->used[i]); /* no double free */
    a->used[i] = 0;
    a->frees++;
}

static struct arena arena;
static struct ept ept;

static void setup_ept(unsigned flags)
{
    memset(&arena, 0, sizeof(arena));
    arena.mem = aligned_alloc(4096, ARENA_PAGES * 4096ull);
    assert_non_null(arena.mem);
    struct ept_ops ops = {arena_alloc, arena_ptr, arena_free, &arena};
    assert_int_equal(ept_init(&ept, &ops, flags), EPT_OK);
}

static void teardown_ept(void)
{
    ept_destroy(&ept);
    assert_int_equal(arena.allocs, arena.frees); /* every page came back */
    free(arena.mem);
}

/* --- an independent walker over the raw tables --- */

struct leaf {
    uint64_t gpa, hpa, size, raw;
};

struct walk {
    struct leaf leaves[5000];
    unsigned count;
    unsigned tables;
};

static void walk_table(uint64_t hpa, int level, uint64_t base, struct walk *w)
{
    const uint64_t *t = arena_ptr(&arena, hpa);
    w->tables++;
    uint64_t sz = 1ull << (12 + 9 * level);
    for (unsigned i = 0; i < 512; i++) {
        uint64_t e = t[i];
        if (!(e & 7)) {
            assert_int_equal(e, 0); /* non-present entries are all zero */
            continue;
        }
        uint64_t addr = e & 0x000ffffffffff000ull;
        bool leaf = level == 0 || (e & 0x80);
        if (leaf) {
            assert_true(level <= 2); /* no 512 GiB pages exist */
            assert_int_equal(addr & (sz - 1), 0);
            assert_true(w->count < 5000);
            w->leaves[w->count++] = (struct leaf){base + i * sz, addr, sz, e};
        } else {
            assert_int_equal(e & 7, 7);        /* non-leaf: full rights, leaf decides */
            assert_int_equal(e & 0xff8ull, 0); /* no memtype/large bits in table entries */
            walk_table(addr, level - 1, base + i * sz, w);
        }
    }
}

static struct walk *walk_all(void)
{
    static struct walk w;
    memset(&w, 0, sizeof(w));
    walk_table(ept.pml4, 3, 0, &w);
    return &w;
}

static void check_lookup(uint64_t gpa, uint64_t hpa, uint64_t size, unsigned perms)
{
    struct ept_mapping m;
    assert_true(ept_lookup(&ept, gpa, &m));
    assert_int_equal(m.hpa, hpa);
    assert_int_equal(m.page_size, size);
    assert_int_equal(m.perms, perms);
}

/* --- tests --- */

static void test_every_granularity(void **state)
{
    setup_ept(EPT_ALLOW_2M | EPT_ALLOW_1G);
    uint64_t size = EPT_PAGE_1G + EPT_PAGE_2M + EPT_PAGE_4K;
    assert_int_equal(ept_map(&ept, 0, 0x40000000, size, EPT_RWX, EPT_MT_WB), EPT_OK);
    check_lookup(0, 0x40000000, EPT_PAGE_1G, EPT_RWX);
    check_lookup(0x3fffffff, 0x7fffffff, EPT_PAGE_1G, EPT_RWX);
    check_lookup(EPT_PAGE_1G + 5, 0x80000005, EPT_PAGE_2M, EPT_RWX);
    check_lookup(EPT_PAGE_1G + EPT_PAGE_2M + 0xabc, 0x80200abc, EPT_PAGE_4K, EPT_RWX);
    struct ept_mapping m;
    assert_false(ept_lookup(&ept, size, &m));
    struct walk *w = walk_all();
    assert_int_equal(w->count, 3);
    assert_int_equal(w->tables, 4); /* PML4, PDPT, PD, PT */
    assert_int_equal(ept.tables, 4);
    /* leaf bits: RWX, WB in 5:3, IPAT clear for RAM, large on the 1G and 2M leaves */
    assert_int_equal(w->leaves[0].raw & 0xff, 0x7 | (6 << 3) | 0x80);
    assert_int_equal(w->leaves[1].raw & 0xff, 0x7 | (6 << 3) | 0x80);
    assert_int_equal(w->leaves[2].raw & 0x7f, 0x7 | (6 << 3));
    teardown_ept();
}

/* A 256 MiB guest at hpa 1 GiB: GPA 0..256M is mapped to exactly that host
 * range and nothing else exists anywhere in the tables. */
static void test_guest_256m_maps_nothing_else(void **state)
{
    const uint64_t hpa = 0x40000000, size = 256ull << 20;
    setup_ept(EPT_ALLOW_2M | EPT_ALLOW_1G);
    assert_int_equal(ept_map(&ept, 0, hpa, size, EPT_RWX, EPT_MT_WB), EPT_OK);
    struct walk *w = walk_all();
    uint64_t covered = 0, next_gpa = 0;
    for (unsigned i = 0; i < w->count; i++) {
        struct leaf *l = &w->leaves[i];
        assert_int_equal(l->gpa, next_gpa); /* contiguous from 0, ascending */
        assert_true(l->hpa >= hpa && l->hpa + l->size <= hpa + size);
        assert_int_equal(l->hpa - hpa, l->gpa); /* a linear map */
        assert_int_equal(l->size, EPT_PAGE_2M); /* 256M is below one 1G page */
        covered += l->size;
        next_gpa = l->gpa + l->size;
    }
    assert_int_equal(covered, size);
    assert_int_equal(w->count, 128);
    assert_int_equal(w->tables, 3);
    struct ept_mapping m;
    assert_false(ept_lookup(&ept, size, &m));
    assert_false(ept_lookup(&ept, hpa, &m));
    check_lookup(size - 1, hpa + size - 1, EPT_PAGE_2M, EPT_RWX);
    teardown_ept();
}

static void test_misaligned_and_invalid_refused(void **state)
{
    setup_ept(EPT_ALLOW_2M | EPT_ALLOW_1G);
    assert_int_equal(ept_map(&ept, 0x1001, 0, 4096, EPT_RWX, EPT_MT_WB), EPT_E_ALIGN);
    assert_int_equal(ept_map(&ept, 0, 0x1800, 4096, EPT_RWX, EPT_MT_WB), EPT_E_ALIGN);
    assert_int_equal(ept_map(&ept, 0, 0, 0x800, EPT_RWX, EPT_MT_WB), EPT_E_ALIGN);
    assert_int_equal(ept_map(&ept, 0, 0, 0, EPT_RWX, EPT_MT_WB), EPT_E_ALIGN);
    assert_int_equal(ept_map(&ept, EPT_GPA_LIMIT, 0, 4096, EPT_RWX, EPT_MT_WB), EPT_E_RANGE);
    assert_int_equal(ept_map(&ept, EPT_GPA_LIMIT - 4096, 0, 8192, EPT_RWX, EPT_MT_WB), EPT_E_RANGE);
    assert_int_equal(ept_map(&ept, 0, EPT_HPA_LIMIT - 4096, 8192, EPT_RWX, EPT_MT_WB), EPT_E_RANGE);
    assert_int_equal(ept_map(&ept, 0, 0, 4096, EPT_W, EPT_MT_WB), EPT_E_PERMS);
    assert_int_equal(ept_map(&ept, 0, 0, 4096, EPT_W | EPT_X, EPT_MT_WB), EPT_E_PERMS);
    assert_int_equal(ept_map(&ept, 0, 0, 4096, 0, EPT_MT_WB), EPT_E_PERMS);
    assert_int_equal(ept_map(&ept, 0, 0, 4096, 8, EPT_MT_WB), EPT_E_PERMS);
    assert_int_equal(ept_map(&ept, 0, 0, 4096, EPT_RWX, 2), EPT_E_MEMTYPE);
    assert_int_equal(ept_map(&ept, 0, 0, 4096, EPT_RWX, 7), EPT_E_MEMTYPE);
    assert_int_equal(ept_unmap(&ept, 0x800, 4096), EPT_E_ALIGN);
    assert_int_equal(walk_all()->count, 0);
    assert_int_equal(ept.tables, 1);
    teardown_ept();
}

static void test_overlap_refused_and_nothing_changes(void **state)
{
    setup_ept(EPT_ALLOW_2M);
    assert_int_equal(ept_map(&ept, 0x200000, 0x1000000, 0x200000, EPT_RWX, EPT_MT_WB), EPT_OK);
    unsigned tables = ept.tables;
    /* overlaps the end, the start, the inside, and covers it */
    assert_int_equal(ept_map(&ept, 0x1ff000, 0x0, 0x2000, EPT_RWX, EPT_MT_WB), EPT_E_OVERLAP);
    assert_int_equal(ept_map(&ept, 0x3ff000, 0x0, 0x2000, EPT_RWX, EPT_MT_WB), EPT_E_OVERLAP);
    assert_int_equal(ept_map(&ept, 0x300000, 0x0, 0x1000, EPT_R, EPT_MT_UC), EPT_E_OVERLAP);
    assert_int_equal(ept_map(&ept, 0, 0, 0x40000000, EPT_RWX, EPT_MT_WB), EPT_E_OVERLAP);
    assert_int_equal(ept.tables, tables);
    assert_int_equal(walk_all()->count, 1);
    /* neighbours on both sides are fine */
    assert_int_equal(ept_map(&ept, 0x1ff000, 0x5000, 0x1000, EPT_R, EPT_MT_UC), EPT_OK);
    assert_int_equal(ept_map(&ept, 0x400000, 0x6000, 0x1000, EPT_R | EPT_X, EPT_MT_WB), EPT_OK);
    struct ept_mapping m;
    assert_true(ept_lookup(&ept, 0x1ff000, &m));
    assert_int_equal(m.memtype, EPT_MT_UC);
    assert_int_equal(m.perms, EPT_R);
    struct walk *w = walk_all();
    assert_int_equal(w->count, 3);
    assert_int_equal(w->leaves[0].raw & 0x7f, 1 | (0 << 3) | 0x40); /* UC with IPAT */
    teardown_ept();
}

static void test_1g_only_when_allowed(void **state)
{
    /* 2M allowed, 1G not: an aligned 1G range becomes 512 2M pages */
    setup_ept(EPT_ALLOW_2M);
    assert_int_equal(ept_map(&ept, 0x40000000, 0x80000000, EPT_PAGE_1G, EPT_RWX, EPT_MT_WB),
                     EPT_OK);
    struct walk *w = walk_all();
    assert_int_equal(w->count, 512);
    for (unsigned i = 0; i < w->count; i++)
        assert_int_equal(w->leaves[i].size, EPT_PAGE_2M);
    teardown_ept();

    /* nothing allowed: 16 MiB becomes 4096 4K pages in 8 page tables */
    setup_ept(0);
    assert_int_equal(ept_map(&ept, 0, 0x40000000, 16 << 20, EPT_RWX, EPT_MT_WB), EPT_OK);
    w = walk_all();
    assert_int_equal(w->count, 4096);
    assert_int_equal(w->tables, 3 + 8);
    for (unsigned i = 0; i < w->count; i++)
        assert_int_equal(w->leaves[i].size, EPT_PAGE_4K);
    teardown_ept();

    /* both allowed, but the hpa is only 2M aligned: no 1G page */
    setup_ept(EPT_ALLOW_2M | EPT_ALLOW_1G);
    assert_int_equal(ept_map(&ept, 0, 0x40200000, EPT_PAGE_1G, EPT_RWX, EPT_MT_WB), EPT_OK);
    check_lookup(0, 0x40200000, EPT_PAGE_2M, EPT_RWX);
    assert_int_equal(walk_all()->count, 512);
    teardown_ept();

    /* gpa 4K aligned only: 4K pages up to the 2M boundary, then 2M pages */
    setup_ept(EPT_ALLOW_2M | EPT_ALLOW_1G);
    assert_int_equal(ept_map(&ept, 0x1ff000, 0x401ff000, 0x201000, EPT_RWX, EPT_MT_WB), EPT_OK);
    check_lookup(0x1ff000, 0x401ff000, EPT_PAGE_4K, EPT_RWX);
    check_lookup(0x200000, 0x40200000, EPT_PAGE_2M, EPT_RWX);
    assert_int_equal(walk_all()->count, 2);
    teardown_ept();
}

static void test_unmap_splits_large_pages(void **state)
{
    setup_ept(EPT_ALLOW_2M | EPT_ALLOW_1G);
    const uint64_t hpa = 0x100000000ull;
    assert_int_equal(ept_map(&ept, 0, hpa, EPT_PAGE_1G, EPT_R | EPT_X, EPT_MT_WB), EPT_OK);
    assert_int_equal(walk_all()->count, 1);
    /* trap one 4K page inside the 1G page */
    assert_int_equal(ept_unmap(&ept, 0x3000, 0x1000), EPT_OK);
    struct ept_mapping m;
    assert_false(ept_lookup(&ept, 0x3000, &m));
    assert_false(ept_lookup(&ept, 0x3fff, &m));
    check_lookup(0x2fff, hpa + 0x2fff, EPT_PAGE_4K, EPT_R | EPT_X);
    check_lookup(0x4000, hpa + 0x4000, EPT_PAGE_4K, EPT_R | EPT_X);
    check_lookup(0x200000, hpa + 0x200000, EPT_PAGE_2M, EPT_R | EPT_X);
    check_lookup(EPT_PAGE_1G - 1, hpa + EPT_PAGE_1G - 1, EPT_PAGE_2M, EPT_R | EPT_X);
    struct walk *w = walk_all();
    assert_int_equal(w->count, 511 + 511); /* 511 2M leaves + 511 4K leaves */
    uint64_t total = 0;
    for (unsigned i = 0; i < w->count; i++) {
        total += w->leaves[i].size;
        assert_int_equal(w->leaves[i].hpa, hpa + w->leaves[i].gpa); /* still linear */
        assert_int_equal(w->leaves[i].raw & 0x78, 6 << 3);          /* attributes inherited */
        assert_int_equal(w->leaves[i].raw & 7, EPT_R | EPT_X);
    }
    assert_int_equal(total, EPT_PAGE_1G - 0x1000);
    assert_int_equal(ept.tables, 4);

    /* removing a whole 2M region frees its page table */
    assert_int_equal(ept_unmap(&ept, 0, EPT_PAGE_2M), EPT_OK);
    assert_int_equal(ept.tables, 3);
    assert_false(ept_lookup(&ept, 0x4000, &m));
    /* a range straddling two 2M pages splits both */
    assert_int_equal(ept_unmap(&ept, 0x3ff000, 0x2000), EPT_OK);
    assert_false(ept_lookup(&ept, 0x3ff000, &m));
    assert_false(ept_lookup(&ept, 0x400fff, &m));
    check_lookup(0x3fe000, hpa + 0x3fe000, EPT_PAGE_4K, EPT_R | EPT_X);
    check_lookup(0x401000, hpa + 0x401000, EPT_PAGE_4K, EPT_R | EPT_X);
    check_lookup(0x600000, hpa + 0x600000, EPT_PAGE_2M, EPT_R | EPT_X);
    /* unmapping something never mapped is harmless, and the hole can be refilled */
    assert_int_equal(ept_unmap(&ept, 0x800000000ull, 0x1000), EPT_OK);
    assert_int_equal(ept_map(&ept, 0x3000, 0xfee00000, 0x1000, EPT_R | EPT_W, EPT_MT_UC), EPT_OK);
    check_lookup(0x3000, 0xfee00000, EPT_PAGE_4K, EPT_R | EPT_W);
    /* and removing everything leaves only the PML4 */
    assert_int_equal(ept_unmap(&ept, 0, EPT_GPA_LIMIT), EPT_OK);
    assert_int_equal(walk_all()->count, 0);
    assert_int_equal(ept.tables, 1);
    teardown_ept();
}

static void test_out_of_memory_changes_nothing(void **state)
{
    setup_ept(EPT_ALLOW_2M | EPT_ALLOW_1G);
    /* 1 PML4 + 1 PDPT allowed, but 2M pages need a PD too */
    arena.limit = 2;
    assert_int_equal(ept_map(&ept, 0, 0, EPT_PAGE_2M, EPT_RWX, EPT_MT_WB), EPT_E_NOMEM);
    assert_int_equal(walk_all()->count, 0);
    /* a map that succeeds partway (1G pages) then fails (needs a PD) rolls back */
    assert_int_equal(ept_map(&ept, 0, 0, EPT_PAGE_1G * 2 + EPT_PAGE_2M, EPT_RWX, EPT_MT_WB),
                     EPT_E_NOMEM);
    assert_int_equal(walk_all()->count, 0);
    arena.limit = 0;
    assert_int_equal(ept_map(&ept, 0, 0, EPT_PAGE_1G, EPT_RWX, EPT_MT_WB), EPT_OK);
    /* a split with no pages left fails without changing the translation */
    arena.limit = arena.allocs;
    assert_int_equal(ept_unmap(&ept, 0x5000, 0x1000), EPT_E_NOMEM);
    check_lookup(0x5000, 0x5000, EPT_PAGE_1G, EPT_RWX);
    /* one page: 1G -> 2M split done, 2M -> 4K split fails: still all mapped */
    arena.limit = arena.allocs + 1;
    assert_int_equal(ept_unmap(&ept, 0x5000, 0x1000), EPT_E_NOMEM);
    check_lookup(0x5000, 0x5000, EPT_PAGE_2M, EPT_RWX);
    check_lookup(0x3ffff000, 0x3ffff000, EPT_PAGE_2M, EPT_RWX);
    arena.limit = 0;
    teardown_ept();
}

static bool count_leaf(void *ctx, uint64_t gpa, const struct ept_mapping *m)
{
    uint64_t *last = ctx;
    assert_true(gpa >= last[0]); /* ascending */
    last[0] = gpa + m->page_size;
    last[1]++;
    return last[1] < 3; /* stop after three */
}

static void test_for_each_leaf_and_eptp(void **state)
{
    setup_ept(EPT_ALLOW_2M);
    assert_int_equal(ept_map(&ept, 0x800000, 0x800000, 0x1000, EPT_R, EPT_MT_WB), EPT_OK);
    assert_int_equal(ept_map(&ept, 0, 0, 0x400000, EPT_RWX, EPT_MT_WB), EPT_OK);
    assert_int_equal(ept_map(&ept, 0x8000000000ull, 0, 0x1000, EPT_R, EPT_MT_UC), EPT_OK);
    uint64_t acc[2] = {0, 0};
    ept_for_each_leaf(&ept, count_leaf, acc);
    assert_int_equal(acc[1], 3);
    assert_int_equal(acc[0], 0x801000);

    uint64_t eptp = ept_eptp(&ept, false);
    assert_int_equal(eptp & 7, 6);
    assert_int_equal((eptp >> 3) & 7, 3);
    assert_int_equal(eptp & (1 << 6), 0);
    assert_int_equal(eptp & ~0xfffull, ept.pml4);
    assert_int_equal(ept_eptp(&ept, true), eptp | (1 << 6));
    assert_string_equal(ept_status_name(EPT_E_OVERLAP), "overlaps an existing mapping");
    teardown_ept();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_granularity),
        cmocka_unit_test(test_guest_256m_maps_nothing_else),
        cmocka_unit_test(test_misaligned_and_invalid_refused),
        cmocka_unit_test(test_overlap_refused_and_nothing_changes),
        cmocka_unit_test(test_1g_only_when_allowed),
        cmocka_unit_test(test_unmap_splits_large_pages),
        cmocka_unit_test(test_out_of_memory_changes_nothing),
        cmocka_unit_test(test_for_each_leaf_and_eptp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
