/* SPDX-License-Identifier: MIT */
/* Unit tests for the second-level table builder in AMD NPT format
 * (EPT_FORMAT_NPT): the same guest memory maps exactly as with EPT, and the
 * raw entries are x86-64 page-table entries with the bits nested paging
 * needs. Table pages come from a test arena with made-up host-physical
 * addresses; the walker here is independent of vmm/ept.c.
 * test-sources: vmm/ept.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/ept.h"

#define ARENA_PAGES 600
#define ARENA_BASE  0x7000000000ull

#define P         (1ull << 0)
#define RW        (1ull << 1)
#define US        (1ull << 2)
#define PWT       (1ull << 3)
#define PCD       (1ull << 4)
#define PS        (1ull << 7)
#define NX        (1ull << 63)
#define ADDR_MASK 0x000ffffffffff000ull

static uint8_t *arena_mem;
static uint8_t arena_used[ARENA_PAGES];
static unsigned arena_allocs, arena_frees;

static uint64_t arena_alloc(void *ctx)
{
    for (unsigned i = 0; i < ARENA_PAGES; i++) {
        if (!arena_used[i]) {
            arena_used[i] = 1;
            arena_allocs++;
            memset(arena_mem + (size_t)i * 4096, 0xCC, 4096); /* the builder must clear it */
            return ARENA_BASE + (uint64_t)i * 4096;
        }
    }
    return 0;
}

static void *arena_ptr(void *ctx, uint64_t hpa)
{
    assert_true(hpa >= ARENA_BASE && hpa < ARENA_BASE + ARENA_PAGES * 4096ull);
    assert_true(arena_used[(hpa - ARENA_BASE) / 4096]);
    return arena_mem + (hpa - ARENA_BASE);
}

static void arena_free(void *ctx, uint64_t hpa)
{
    unsigned i = (unsigned)((hpa - ARENA_BASE) / 4096);
    assert_true(arena_used[i]);
    arena_used[i] = 0;
    arena_frees++;
}

static struct ept tables;

static void setup(unsigned flags)
{
    memset(arena_used, 0, sizeof(arena_used));
    arena_allocs = arena_frees = 0;
    arena_mem = aligned_alloc(4096, ARENA_PAGES * 4096ull);
    assert_non_null(arena_mem);
    struct ept_ops ops = {arena_alloc, arena_ptr, arena_free, NULL};
    assert_int_equal(ept_init(&tables, &ops, flags), EPT_OK);
}

static void teardown(void)
{
    ept_destroy(&tables);
    assert_int_equal(arena_allocs, arena_frees);
    free(arena_mem);
}

struct leaf {
    uint64_t gpa, hpa, size, raw;
};

struct walk {
    struct leaf leaves[3000];
    unsigned count, tables;
};

/* present_mask: EPT 7 (any right), NPT 1 (P). */
static void walk_table(uint64_t hpa, int level, uint64_t base, uint64_t present_mask, bool npt,
                       struct walk *w)
{
    const uint64_t *t = arena_ptr(NULL, hpa);
    uint64_t sz = 1ull << (12 + 9 * level);

    w->tables++;
    for (unsigned i = 0; i < 512; i++) {
        uint64_t e = t[i];
        if (!(e & present_mask)) {
            assert_int_equal(e, 0);
            continue;
        }
        if (level == 0 || (e & PS)) {
            assert_true(w->count < 3000);
            w->leaves[w->count++] = (struct leaf){base + i * sz, e & ADDR_MASK, sz, e};
        } else {
            if (npt) /* non-leaf: present, writable, user, executable; the leaf decides */
                assert_int_equal(e & ~ADDR_MASK, P | RW | US);
            walk_table(e & ADDR_MASK, level - 1, base + i * sz, present_mask, npt, w);
        }
    }
}

static struct walk *walk_all(bool npt)
{
    static struct walk w;

    memset(&w, 0, sizeof(w));
    walk_table(tables.pml4, 3, 0, npt ? P : 7, npt, &w);
    return &w;
}

/* A 256 MiB guest at hpa 1 GiB plus an odd 4 KiB-granular MMIO window: the NPT
 * has the same leaves (gpa, hpa, size) as the EPT, and nothing else. */
static void build_guest(unsigned format)
{
    setup(EPT_ALLOW_2M | EPT_ALLOW_1G | format);
    assert_int_equal(ept_map(&tables, 0, 0x40000000, 256ull << 20, EPT_RWX, EPT_MT_WB), EPT_OK);
    assert_int_equal(ept_map(&tables, 0xfe000000, 0x7f001000, 0x3000, EPT_R | EPT_W, EPT_MT_UC),
                     EPT_OK);
}

static void test_npt_maps_exactly_as_ept(void **state)
{
    static struct walk ept_walk;

    build_guest(0);
    ept_walk = *walk_all(false);
    teardown();

    build_guest(EPT_FORMAT_NPT);
    struct walk *w = walk_all(true);
    assert_int_equal(w->count, ept_walk.count);
    assert_int_equal(w->tables, ept_walk.tables);
    for (unsigned i = 0; i < w->count; i++) {
        assert_int_equal(w->leaves[i].gpa, ept_walk.leaves[i].gpa);
        assert_int_equal(w->leaves[i].hpa, ept_walk.leaves[i].hpa);
        assert_int_equal(w->leaves[i].size, ept_walk.leaves[i].size);
        uint64_t raw = w->leaves[i].raw;
        assert_true(raw & P);
        assert_true(raw & US); /* every guest access is a user access to the nested walk */
        assert_true(raw & RW);
        if (w->leaves[i].gpa < (256ull << 20)) {
            assert_int_equal(raw & (PWT | PCD | NX), 0); /* WB RAM, executable */
            assert_int_equal(raw & PS, PS);              /* 2 MiB pages */
        } else {
            assert_int_equal(raw & (PWT | PCD), PWT | PCD); /* UC MMIO */
            assert_int_equal(raw & NX, NX);                 /* not executable */
        }
    }
    assert_int_equal(w->count, 128 + 3);
    struct ept_mapping m;
    assert_false(ept_lookup(&tables, 256ull << 20, &m));
    assert_false(ept_lookup(&tables, 0x40000000, &m));
    assert_true(ept_lookup(&tables, (256ull << 20) - 1, &m));
    assert_int_equal(m.hpa, 0x40000000 + (256ull << 20) - 1);
    assert_int_equal(m.perms, EPT_RWX);
    assert_int_equal(m.memtype, EPT_MT_WB);
    assert_true(ept_lookup(&tables, 0xfe002010, &m));
    assert_int_equal(m.hpa, 0x7f003010);
    assert_int_equal(m.perms, EPT_R | EPT_W);
    assert_int_equal(m.memtype, EPT_MT_UC);
    assert_int_equal(ept_npt_root(&tables), tables.pml4);
    teardown();
}

static void test_npt_rights_and_memory_types(void **state)
{
    setup(EPT_FORMAT_NPT);
    static const struct {
        unsigned perms, memtype;
        uint64_t set, clear;
    } cases[] = {
        {EPT_R, EPT_MT_WB, P | US | NX, RW | PWT | PCD},
        {EPT_R | EPT_X, EPT_MT_WB, P | US, RW | NX},
        {EPT_R | EPT_W, EPT_MT_WT, P | US | RW | NX | PWT, PCD},
        {EPT_RWX, EPT_MT_UC, P | US | RW | PWT | PCD, NX},
        {EPT_RWX, EPT_MT_WC, P | US | RW | PWT | PCD, NX}, /* WC made UC for the hardware */
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t gpa = 0x100000 + i * 0x1000;
        assert_int_equal(
            ept_map(&tables, gpa, 0x200000 + i * 0x1000, 0x1000, cases[i].perms, cases[i].memtype),
            EPT_OK);
        struct walk *w = walk_all(true);
        struct leaf *l = &w->leaves[i];
        assert_int_equal(l->gpa, gpa);
        assert_int_equal(l->raw & cases[i].set, cases[i].set);
        assert_int_equal(l->raw & cases[i].clear, 0);
        struct ept_mapping m;
        assert_true(ept_lookup(&tables, gpa, &m));
        assert_int_equal(m.perms, cases[i].perms);
        assert_int_equal(m.memtype, cases[i].memtype); /* as asked, for the callers */
    }
    /* NPT has no execute-only, and write still needs read. */
    assert_int_equal(ept_map(&tables, 0x800000, 0, 0x1000, EPT_X, EPT_MT_WB), EPT_E_PERMS);
    assert_int_equal(ept_map(&tables, 0x800000, 0, 0x1000, EPT_W, EPT_MT_WB), EPT_E_PERMS);
    teardown();
}

static void test_npt_unmap_split_keeps_attributes(void **state)
{
    setup(EPT_ALLOW_2M | EPT_FORMAT_NPT);
    assert_int_equal(ept_map(&tables, 0x200000, 0x600000, EPT_PAGE_2M, EPT_R | EPT_W, EPT_MT_UC),
                     EPT_OK);
    assert_int_equal(ept_unmap(&tables, 0x201000, 0x1000), EPT_OK);
    struct walk *w = walk_all(true);
    assert_int_equal(w->count, 511);
    for (unsigned i = 0; i < w->count; i++) {
        assert_int_equal(w->leaves[i].size, EPT_PAGE_4K);
        assert_int_equal(w->leaves[i].hpa - 0x600000, w->leaves[i].gpa - 0x200000);
        assert_int_equal(w->leaves[i].raw & (P | US | RW | PWT | PCD | NX | PS),
                         P | US | RW | PWT | PCD | NX);
    }
    struct ept_mapping m;
    assert_false(ept_lookup(&tables, 0x201000, &m));
    assert_true(ept_lookup(&tables, 0x3ff000, &m));
    assert_int_equal(m.memtype, EPT_MT_UC);
    assert_int_equal(m.perms, EPT_R | EPT_W);
    teardown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_npt_maps_exactly_as_ept),
        cmocka_unit_test(test_npt_rights_and_memory_types),
        cmocka_unit_test(test_npt_unmap_split_keeps_attributes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
