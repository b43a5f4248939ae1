/* SPDX-License-Identifier: MIT */
/* Host tests for the UEFI memory map conversion (boot/efi/mmap_convert.c). */
/* test-sources: boot/efi/mmap_convert.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/efi/mmap_convert.h"

/* Firmware often uses a 48-byte stride, larger than the spec's descriptor. */
#define STRIDE 48

static uint8_t map[STRIDE * 2048];
static size_t map_len;
static struct handoff h;

static void add(uint32_t type, uint64_t base, uint64_t pages)
{
    uint8_t *d = map + map_len;
    memset(d, 0xAA, STRIDE); /* padding and unused fields must not matter */
    memcpy(d, &type, 4);
    memcpy(d + 8, &base, 8);
    memcpy(d + 24, &pages, 8);
    map_len += STRIDE;
}

static int setup(void **state)
{
    map_len = 0;
    memset(&h, 0, sizeof(h));
    return 0;
}

static void assert_range(uint32_t i, uint64_t base, uint64_t len, uint32_t type)
{
    assert_true(i < h.mmap_count);
    assert_int_equal(h.mmap[i].base, base);
    assert_int_equal(h.mmap[i].length, len);
    assert_int_equal(h.mmap[i].type, type);
}

static void test_types(void **state)
{
    assert_int_equal(mmap_type_from_efi(EFI_MEM_CONVENTIONAL), HANDOFF_MEM_USABLE);
    assert_int_equal(mmap_type_from_efi(EFI_MEM_BOOT_SERVICES_CODE), HANDOFF_MEM_USABLE);
    assert_int_equal(mmap_type_from_efi(EFI_MEM_BOOT_SERVICES_DATA), HANDOFF_MEM_USABLE);
    assert_int_equal(mmap_type_from_efi(EFI_MEM_LOADER_CODE), HANDOFF_MEM_USABLE);
    assert_int_equal(mmap_type_from_efi(EFI_MEM_LOADER_DATA), HANDOFF_MEM_USABLE);
    assert_int_equal(mmap_type_from_efi(EFI_MEM_ACPI_RECLAIM), HANDOFF_MEM_ACPI_RECLAIM);
    assert_int_equal(mmap_type_from_efi(EFI_MEM_ACPI_NVS), HANDOFF_MEM_ACPI_NVS);
    assert_int_equal(mmap_type_from_efi(EFI_MEM_UNUSABLE), HANDOFF_MEM_BAD);
    assert_int_equal(mmap_type_from_efi(EFI_MEM_RESERVED), HANDOFF_MEM_RESERVED);
    assert_int_equal(mmap_type_from_efi(EFI_MEM_RUNTIME_SERVICES_CODE), HANDOFF_MEM_RESERVED);
    assert_int_equal(mmap_type_from_efi(EFI_MEM_RUNTIME_SERVICES_DATA), HANDOFF_MEM_RESERVED);
    assert_int_equal(mmap_type_from_efi(11 /* MMIO */), HANDOFF_MEM_RESERVED);
    assert_int_equal(mmap_type_from_efi(14 /* persistent */), HANDOFF_MEM_RESERVED);
    assert_int_equal(mmap_type_from_efi(0x80000001u /* OEM */), HANDOFF_MEM_RESERVED);
}

static void test_merges_adjacent_same_type(void **state)
{
    add(EFI_MEM_CONVENTIONAL, 0x0, 0x9f);
    add(EFI_MEM_RESERVED, 0x9f000, 0x61);
    add(EFI_MEM_LOADER_DATA, 0x100000, 0x100);
    add(EFI_MEM_BOOT_SERVICES_CODE, 0x200000, 0x10);
    add(EFI_MEM_CONVENTIONAL, 0x210000, 0x10);
    add(EFI_MEM_ACPI_NVS, 0x220000, 0x1);
    add(EFI_MEM_RUNTIME_SERVICES_DATA, 0x221000, 0x1);
    add(11 /* MMIO */, 0x222000, 0x1);
    assert_int_equal(mmap_convert_efi(map, map_len, STRIDE, &h), 0);
    assert_int_equal(h.mmap_count, 5);
    assert_range(0, 0x0, 0x9f000, HANDOFF_MEM_USABLE);
    assert_range(1, 0x9f000, 0x61000, HANDOFF_MEM_RESERVED);
    /* 0x100000-0x220000: loader data + boot services + conventional, one range */
    assert_range(2, 0x100000, 0x120000, HANDOFF_MEM_USABLE);
    assert_range(3, 0x220000, 0x1000, HANDOFF_MEM_ACPI_NVS);
    assert_range(4, 0x221000, 0x2000, HANDOFF_MEM_RESERVED);
}

static void test_sorts_unsorted_map(void **state)
{
    add(EFI_MEM_CONVENTIONAL, 0x300000, 0x100);
    add(EFI_MEM_ACPI_RECLAIM, 0x100000, 0x1);
    add(EFI_MEM_CONVENTIONAL, 0x200000, 0x100); /* touches 0x300000 from below */
    add(EFI_MEM_CONVENTIONAL, 0x0, 0x10);
    assert_int_equal(mmap_convert_efi(map, map_len, STRIDE, &h), 0);
    assert_int_equal(h.mmap_count, 3);
    assert_range(0, 0x0, 0x10000, HANDOFF_MEM_USABLE);
    assert_range(1, 0x100000, 0x1000, HANDOFF_MEM_ACPI_RECLAIM);
    assert_range(2, 0x200000, 0x200000, HANDOFF_MEM_USABLE);
}

static void test_fills_gap_between_two_ranges(void **state)
{
    add(EFI_MEM_CONVENTIONAL, 0x0, 0x1);
    add(EFI_MEM_CONVENTIONAL, 0x2000, 0x1);
    add(EFI_MEM_BOOT_SERVICES_DATA, 0x1000, 0x1);
    assert_int_equal(mmap_convert_efi(map, map_len, STRIDE, &h), 0);
    assert_int_equal(h.mmap_count, 1);
    assert_range(0, 0x0, 0x3000, HANDOFF_MEM_USABLE);
}

static void test_drops_empty_and_wrapping(void **state)
{
    add(EFI_MEM_CONVENTIONAL, 0x1000, 0);
    add(EFI_MEM_CONVENTIONAL, 0xFFFFFFFFFFFFF000ull, 2);
    add(EFI_MEM_CONVENTIONAL, 0x0, UINT64_MAX);
    add(EFI_MEM_CONVENTIONAL, 0x5000, 1);
    assert_int_equal(mmap_convert_efi(map, map_len, STRIDE, &h), 2);
    assert_int_equal(h.mmap_count, 1);
    assert_range(0, 0x5000, 0x1000, HANDOFF_MEM_USABLE);
}

static void test_many_descriptors_that_merge_fit(void **state)
{
    /* 2000 contiguous descriptors alternating usable types: one range. */
    for (uint64_t i = 0; i < 2000; i++)
        add(i % 2 ? EFI_MEM_CONVENTIONAL : EFI_MEM_BOOT_SERVICES_DATA, i * 0x1000, 1);
    assert_int_equal(mmap_convert_efi(map, map_len, STRIDE, &h), 0);
    assert_int_equal(h.mmap_count, 1);
    assert_range(0, 0, 2000 * 0x1000, HANDOFF_MEM_USABLE);
}

static void test_overflow_counts_dropped(void **state)
{
    /* Alternating types never merge: 600 ranges, 512 fit. */
    for (uint64_t i = 0; i < 600; i++)
        add(i % 2 ? EFI_MEM_CONVENTIONAL : EFI_MEM_ACPI_NVS, i * 0x1000, 1);
    assert_int_equal(mmap_convert_efi(map, map_len, STRIDE, &h), 600 - HANDOFF_MAX_MMAP);
    assert_int_equal(h.mmap_count, HANDOFF_MAX_MMAP);
    for (uint32_t i = 1; i < h.mmap_count; i++)
        assert_true(h.mmap[i - 1].base < h.mmap[i].base);
}

static void test_bad_stride_and_partial_tail(void **state)
{
    add(EFI_MEM_CONVENTIONAL, 0x0, 1);
    assert_int_equal(mmap_convert_efi(map, map_len, 8, &h), -1);
    /* A map size that is not a multiple of the stride: the tail is ignored. */
    assert_int_equal(mmap_convert_efi(map, map_len + STRIDE - 1, STRIDE, &h), 0);
    assert_int_equal(h.mmap_count, 1);
    assert_int_equal(mmap_convert_efi(map, STRIDE - 1, STRIDE, &h), 0);
    assert_int_equal(h.mmap_count, 0);
}

static void test_range_reclaimable(void **state)
{
    /* OVMF-like: DXE firmware volume as boot services data across 16 MiB. */
    add(EFI_MEM_CONVENTIONAL, 0x100000, 0x7ff); /* hole at 0x8ff000 */
    add(EFI_MEM_BOOT_SERVICES_DATA, 0x900000, 0xc00);
    add(EFI_MEM_BOOT_SERVICES_CODE, 0x1500000, 0x10);
    add(EFI_MEM_LOADER_DATA, 0x1510000, 0x10);
    add(EFI_MEM_RUNTIME_SERVICES_DATA, 0x1600000, 0x10);
    assert_true(mmap_range_reclaimable(map, map_len, STRIDE, 0x1000000, 0x1014000));
    /* Spans two reclaimable descriptors. */
    assert_true(mmap_range_reclaimable(map, map_len, STRIDE, 0x14ff000, 0x1501000));
    /* Reaches into our own loader data, runtime memory, or a hole. */
    assert_false(mmap_range_reclaimable(map, map_len, STRIDE, 0x1500000, 0x1511000));
    assert_false(mmap_range_reclaimable(map, map_len, STRIDE, 0x15ff000, 0x1601000));
    assert_false(mmap_range_reclaimable(map, map_len, STRIDE, 0x8ff000, 0x901000));
    assert_false(mmap_range_reclaimable(map, map_len, STRIDE, 0x1000000, 0x1000000));
    assert_false(mmap_range_reclaimable(map, map_len, 8, 0x1000000, 0x1001000));
}

static void test_range_reclaimable_overlapping_descriptors(void **state)
{
    /* Overlapping descriptors (a firmware bug) must not pass as covering a hole. */
    add(EFI_MEM_CONVENTIONAL, 0x0, 2);
    add(EFI_MEM_CONVENTIONAL, 0x1000, 1);
    assert_false(mmap_range_reclaimable(map, map_len, STRIDE, 0x0, 0x3000));
    assert_true(mmap_range_reclaimable(map, map_len, STRIDE, 0x0, 0x2000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),
        cmocka_unit_test_setup(test_merges_adjacent_same_type, setup),
        cmocka_unit_test_setup(test_sorts_unsorted_map, setup),
        cmocka_unit_test_setup(test_fills_gap_between_two_ranges, setup),
        cmocka_unit_test_setup(test_drops_empty_and_wrapping, setup),
        cmocka_unit_test_setup(test_many_descriptors_that_merge_fit, setup),
        cmocka_unit_test_setup(test_overflow_counts_dropped, setup),
        cmocka_unit_test_setup(test_bad_stride_and_partial_tail, setup),
        cmocka_unit_test_setup(test_range_reclaimable, setup),
        cmocka_unit_test_setup(test_range_reclaimable_overlapping_descriptors, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
