/* SPDX-License-Identifier: MIT */
/* Host tests for the hand-over page tables (boot/efi/identity_map.c). */
/* test-sources: boot/efi/identity_map.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot/efi/identity_map.h"

#define PHYS 0x3e000000ull

static uint64_t tables[IDENTITY_MAP_PAGES * 512];

/* Walks the tables as the CPU would, with PHYS standing for &tables[0]. */
static uint64_t *table_at(uint64_t entry)
{
    uint64_t phys = entry & 0x000ffffffffff000ull;
    assert_true(phys >= PHYS && phys < PHYS + sizeof(tables));
    return tables + (phys - PHYS) / 8;
}

static int translate(uint64_t va, uint64_t *pa)
{
    uint64_t e = tables[(va >> 39) & 511];
    if (!(e & 1))
        return -1;
    e = table_at(e)[(va >> 30) & 511];
    if (!(e & 1))
        return -1;
    e = table_at(e)[(va >> 21) & 511];
    if (!(e & 1) || !(e & (1 << 7)) || !(e & 2))
        return -1;
    *pa = (e & 0x000fffffffe00000ull) | (va & 0x1fffff);
    return 0;
}

static void test_identity_below_4g(void **state)
{
    memset(tables, 0xff, sizeof(tables)); /* stale contents must be cleared */
    assert_int_equal(identity_map_4g(tables, PHYS), PHYS);
    const uint64_t probes[] = {0,          0x1000,     0x1000169,  0x3e000000,
                               0x7fffffff, 0xfee00000, 0xffffffff, 0x123456789 & 0xffffffff};
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        uint64_t pa;
        assert_int_equal(translate(probes[i], &pa), 0);
        assert_int_equal(pa, probes[i]);
    }
}

static void test_nothing_above_4g(void **state)
{
    uint64_t pa;
    identity_map_4g(tables, PHYS);
    assert_int_equal(translate(IDENTITY_MAP_LIMIT, &pa), -1);
    assert_int_equal(translate(0x8000000000ull, &pa), -1);
    for (int i = 1; i < 512; i++)
        assert_int_equal(tables[i], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_below_4g),
        cmocka_unit_test(test_nothing_above_4g),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
