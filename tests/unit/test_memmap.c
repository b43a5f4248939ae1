/* SPDX-License-Identifier: MIT */
/* Unit tests for memory-map handling: the range set behind the allocator and
 * the conversion of multiboot2 boot information into the hand-off.
 * test-sources: kernel/mm/range_set.c boot/mb2_handoff.c kernel/lib/str.c kernel/lib/fmt.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot/mb2_handoff.h"
#include "kernel/mm/range_set.h"

static struct range_set set;

static void expect_ranges(const struct range_set *s, unsigned n, const uint64_t *pairs)
{
    assert_int_equal(s->count, n);
    for (unsigned i = 0; i < n; i++) {
        assert_true(s->r[i].start == pairs[2 * i]);
        assert_true(s->r[i].end == pairs[2 * i + 1]);
    }
}

static void test_add_merges(void **state)
{
    range_set_init(&set);
    assert_true(range_set_add(&set, 0x3000, 0x4000));
    assert_true(range_set_add(&set, 0x1000, 0x2000));
    assert_true(range_set_add(&set, 0x6000, 0x7000));
    expect_ranges(&set, 3, (uint64_t[]){0x1000, 0x2000, 0x3000, 0x4000, 0x6000, 0x7000});
    /* Touching ranges merge; an overlapping one swallows several. */
    assert_true(range_set_add(&set, 0x2000, 0x3000));
    expect_ranges(&set, 2, (uint64_t[]){0x1000, 0x4000, 0x6000, 0x7000});
    assert_true(range_set_add(&set, 0x0, 0x8000));
    expect_ranges(&set, 1, (uint64_t[]){0x0, 0x8000});
    assert_true(range_set_add(&set, 0x5000, 0x5000)); /* empty: no-op */
    assert_int_equal(range_set_total(&set), 0x8000);
}

static void test_remove_splits(void **state)
{
    range_set_init(&set);
    range_set_add(&set, 0x0, 0x10000);
    assert_true(range_set_remove(&set, 0x4000, 0x5000));
    expect_ranges(&set, 2, (uint64_t[]){0x0, 0x4000, 0x5000, 0x10000});
    assert_true(range_set_remove(&set, 0x3000, 0x6000)); /* spans the gap */
    expect_ranges(&set, 2, (uint64_t[]){0x0, 0x3000, 0x6000, 0x10000});
    assert_true(range_set_remove(&set, 0x0, 0x1000));     /* head */
    assert_true(range_set_remove(&set, 0xf000, 0x20000)); /* tail and beyond */
    expect_ranges(&set, 2, (uint64_t[]){0x1000, 0x3000, 0x6000, 0xf000});
    assert_true(range_set_remove(&set, 0x0, 0x100000)); /* everything */
    assert_int_equal(set.count, 0);
}

static void test_full_set(void **state)
{
    range_set_init(&set);
    for (unsigned i = 0; i < RANGE_SET_MAX; i++)
        assert_true(range_set_add(&set, i * 0x10000ull, i * 0x10000ull + 0x1000));
    assert_false(range_set_add(&set, 0x10000000, 0x10001000));
    /* Splitting a range would need one more slot: refused, nothing changes. */
    assert_false(range_set_remove(&set, 0x100, 0x200));
    assert_int_equal(set.count, RANGE_SET_MAX);
    assert_int_equal(range_set_total(&set), RANGE_SET_MAX * 0x1000ull);
    /* Merging into an existing range still works when full. */
    assert_true(range_set_add(&set, 0x1000, 0x2000));
}

static void test_take_top(void **state)
{
    range_set_init(&set);
    range_set_add(&set, 0x1000, 0x9f000);          /* low memory */
    range_set_add(&set, 0x100000, 0x7fe0000);      /* ~128 MiB */
    range_set_add(&set, 0x100000000, 0x140000000); /* 1 GiB above 4 GiB */

    uint64_t a = range_set_take_top(&set, 0x1000, 0x1000, UINT64_MAX);
    assert_true(a == 0x13ffff000);
    uint64_t b = range_set_take_top(&set, 0x1000, 0x1000, 0x100000);
    assert_true(b == 0x9e000);
    uint64_t c = range_set_take_top(&set, 0x200000, 0x200000, 4ull << 30);
    assert_true(c == 0x7c00000); /* 2 MiB aligned below 0x7fe0000 */
    assert_false(range_set_contains(&set, c, c + 1));
    assert_true(range_set_contains(&set, 0x100000, 0x200000));
    /* Too large for anything, or bad alignment: 0. */
    assert_int_equal(range_set_take_top(&set, 2ull << 30, 0x1000, UINT64_MAX), 0);
    assert_int_equal(range_set_take_top(&set, 0x1000, 0x3000, UINT64_MAX), 0);
    assert_int_equal(range_set_take_top(&set, 0x1000, 0x1000, 0x1000), 0);
}

/* ---- multiboot2 boot information ---- */

struct mb2_builder {
    uint8_t buf[4096] __attribute__((aligned(8)));
    size_t len;
};

static void mb2_begin(struct mb2_builder *b)
{
    memset(b->buf, 0, sizeof(b->buf));
    b->len = 8;
}

static uint8_t *mb2_tag(struct mb2_builder *b, uint32_t type, uint32_t body_len)
{
    uint8_t *t = b->buf + b->len;
    uint32_t size = 8 + body_len;
    memcpy(t, &type, 4);
    memcpy(t + 4, &size, 4);
    b->len += (size + 7) & ~7u;
    return t + 8;
}

static void mb2_end(struct mb2_builder *b)
{
    mb2_tag(b, 0, 0);
    uint32_t total = (uint32_t)b->len;
    memcpy(b->buf, &total, 4);
}

static void add_mmap(struct mb2_builder *b, unsigned n, const uint64_t *entries /* base,len,type */)
{
    uint8_t *body = mb2_tag(b, 6, 8 + 24 * n);
    uint32_t entry_size = 24, version = 0;
    memcpy(body, &entry_size, 4);
    memcpy(body + 4, &version, 4);
    for (unsigned i = 0; i < n; i++) {
        uint32_t type = (uint32_t)entries[3 * i + 2];
        memcpy(body + 8 + 24 * i, &entries[3 * i], 8);
        memcpy(body + 16 + 24 * i, &entries[3 * i + 1], 8);
        memcpy(body + 24 + 24 * i, &type, 4);
    }
}

static struct handoff h;

static void test_mb2_full(void **state)
{
    struct mb2_builder b;
    const char *err;

    mb2_begin(&b);
    strcpy((char *)mb2_tag(&b, 1, 20), "console=com2,9600");
    uint8_t *mod = mb2_tag(&b, 3, 8 + 13);
    uint32_t start = 0x200000, end = 0x200123;
    memcpy(mod, &start, 4);
    memcpy(mod + 4, &end, 4);
    strcpy((char *)mod + 8, "sidecore.cfg");
    add_mmap(&b, 3, (uint64_t[]){0, 0x9fc00, 1, 0x9fc00, 0x400, 2, 0x100000, 0x7ee0000, 99});
    uint8_t *rsdp_old = mb2_tag(&b, 14, 20);
    memcpy(rsdp_old, "RSD PTR ", 8);
    uint8_t *rsdp_new = mb2_tag(&b, 15, 36);
    memcpy(rsdp_new, "RSD PTR ", 8);
    rsdp_new[15] = 2;
    uint64_t st = 0x7f000000;
    memcpy(mb2_tag(&b, 12, 8), &st, 8);
    mb2_tag(&b, 42, 5); /* unknown tags are skipped */
    mb2_end(&b);

    assert_true(mb2_to_handoff(b.buf, b.len, &h, &err));
    assert_null(err);
    assert_true(h.magic == HANDOFF_MAGIC);
    assert_int_equal(h.boot_path, HANDOFF_BOOT_MB2_EFI);
    assert_true(h.efi_system_table == st);
    assert_string_equal(h.cmdline, "console=com2,9600");
    assert_int_equal(h.file_count, 1);
    assert_string_equal(h.files[0].name, "sidecore.cfg");
    assert_int_equal(h.files[0].base, 0x200000);
    assert_int_equal(h.files[0].size, 0x123);
    assert_int_equal(h.mmap_count, 3);
    assert_int_equal(h.mmap[1].type, HANDOFF_MEM_RESERVED);
    assert_int_equal(h.mmap[2].type, HANDOFF_MEM_RESERVED); /* unknown type 99 */
    assert_true(h.mmap[2].length == 0x7ee0000);
    /* The ACPI 2.0 RSDP wins, whichever order the tags come in. */
    assert_true(h.rsdp == (uint64_t)(uintptr_t)h.rsdp_copy);
    assert_int_equal(h.rsdp_copy[15], 2);
}

static void test_mb2_bios_no_rsdp(void **state)
{
    struct mb2_builder b;
    const char *err;

    mb2_begin(&b);
    add_mmap(&b, 1, (uint64_t[]){0x100000, 0x1000000, 1});
    mb2_end(&b);
    assert_true(mb2_to_handoff(b.buf, b.len, &h, &err));
    assert_int_equal(h.boot_path, HANDOFF_BOOT_MB2_BIOS);
    assert_int_equal(h.rsdp, 0);
    assert_string_equal(h.cmdline, "");
}

static void expect_failure(struct mb2_builder *b, size_t max, const char *fragment)
{
    const char *err = NULL;

    assert_false(mb2_to_handoff(b->buf, max, &h, &err));
    assert_non_null(err);
    assert_non_null(strstr(err, fragment));
}

static void test_mb2_malformed(void **state)
{
    struct mb2_builder b;

    /* No memory map at all. */
    mb2_begin(&b);
    mb2_end(&b);
    expect_failure(&b, b.len, "no memory map");

    /* Total size larger than what may be read. */
    mb2_begin(&b);
    add_mmap(&b, 1, (uint64_t[]){0, 0x1000, 1});
    mb2_end(&b);
    expect_failure(&b, b.len - 8, "size out of range");

    /* No end tag: the walk must stop at the total size. */
    mb2_begin(&b);
    add_mmap(&b, 1, (uint64_t[]){0, 0x1000, 1});
    uint32_t total = (uint32_t)b.len;
    memcpy(b.buf, &total, 4);
    expect_failure(&b, b.len, "no end tag");

    /* A tag whose size runs past the end. */
    mb2_begin(&b);
    uint8_t *body = mb2_tag(&b, 1, 4);
    uint32_t huge = 0x10000;
    memcpy(body - 4, &huge, 4);
    mb2_end(&b);
    expect_failure(&b, b.len, "tag size");

    /* A tag size below the header size (would loop forever). */
    mb2_begin(&b);
    body = mb2_tag(&b, 1, 4);
    uint32_t tiny = 4;
    memcpy(body - 4, &tiny, 4);
    mb2_end(&b);
    expect_failure(&b, b.len, "tag size");

    /* An unterminated command line. */
    mb2_begin(&b);
    memset(mb2_tag(&b, 1, 8), 'x', 8);
    add_mmap(&b, 1, (uint64_t[]){0, 0x1000, 1});
    mb2_end(&b);
    expect_failure(&b, b.len, "not terminated");

    /* A module that ends before it starts. */
    mb2_begin(&b);
    uint8_t *mod = mb2_tag(&b, 3, 10);
    uint32_t s = 0x3000, e = 0x2000;
    memcpy(mod, &s, 4);
    memcpy(mod + 4, &e, 4);
    add_mmap(&b, 1, (uint64_t[]){0, 0x1000, 1});
    mb2_end(&b);
    expect_failure(&b, b.len, "module ends");

    /* Memory map entries smaller than the format's. */
    mb2_begin(&b);
    uint8_t *mm = mb2_tag(&b, 6, 8 + 16);
    uint32_t esz = 16;
    memcpy(mm, &esz, 4);
    mb2_end(&b);
    expect_failure(&b, b.len, "entry size");

    /* Less than a header. */
    expect_failure(&b, 4, "too small");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_merges),    cmocka_unit_test(test_remove_splits),
        cmocka_unit_test(test_full_set),      cmocka_unit_test(test_take_top),
        cmocka_unit_test(test_mb2_full),      cmocka_unit_test(test_mb2_bios_no_rsdp),
        cmocka_unit_test(test_mb2_malformed),
    };
    return cmocka_run_group_tests_name("memmap", tests, NULL, NULL);
}
