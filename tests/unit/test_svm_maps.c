/* SPDX-License-Identifier: MIT */
/* Unit tests for SVM's MSR and I/O permission maps (vmm/svm/svm_maps.c):
 * bit positions as AMD's layout puts them, and the same decisions as VT-x's
 * bitmaps built from the same policy tables.
 * test-sources: vmm/svm/svm_maps.c vmm/msr_policy.c vmm/io_policy.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/svm/svm_maps.h"

static uint8_t msrpm[SVM_MSRPM_SIZE];
static uint8_t iopm[SVM_IOPM_SIZE];
static uint8_t vmx_msr[4096], vmx_io_a[4096], vmx_io_b[4096];

static bool bit(const uint8_t *map, unsigned byte, unsigned b)
{
    return (map[byte] >> b) & 1;
}

static void test_msrpm_bit_positions(void **state)
{
    static const struct msr_policy_entry table[] = {
        {0x10, 0x10, "a", MSR_PASS, MSR_EMULATE, 0, ""},
        {0xc0000082, 0xc0000082, "b", MSR_PASS, MSR_PASS, 0, ""},
        {0xc0010015, 0xc0010015, "c", MSR_GP, MSR_PASS, 0, ""},
        {0x1fff, 0x1fff, "d", MSR_PASS, MSR_PASS, 0, ""},
    };
    unsigned cleared = 0;

    svm_msrpm_build_from(table, 4, msrpm);
    /* MSR 0x10: read bit 0x20, write bit 0x21 -> byte 4, bits 0 and 1. */
    assert_false(bit(msrpm, 4, 0));
    assert_true(bit(msrpm, 4, 1));
    /* 0xc0000082: second range at byte 0x800; bits 0x104/0x105 -> byte 0x820 bits 4, 5. */
    assert_false(bit(msrpm, 0x820, 4));
    assert_false(bit(msrpm, 0x820, 5));
    /* 0xc0010015: third range at byte 0x1000; bits 0x2a/0x2b -> byte 0x1005 bits 2, 3. */
    assert_true(bit(msrpm, 0x1005, 2));
    assert_false(bit(msrpm, 0x1005, 3));
    /* 0x1fff: the last pair of the first range, byte 0x7ff bits 6 and 7. */
    assert_false(bit(msrpm, 0x7ff, 6));
    assert_false(bit(msrpm, 0x7ff, 7));
    for (unsigned i = 0; i < SVM_MSRPM_SIZE * 8; i++)
        cleared += !bit(msrpm, i / 8, i % 8);
    assert_int_equal(cleared, 1 + 2 + 1 + 2); /* nothing else passes */
    assert_false(svm_msrpm_exits(msrpm, 0x10, false));
    assert_true(svm_msrpm_exits(msrpm, 0x10, true));
    assert_false(svm_msrpm_exits(msrpm, 0xc0010015, true));
    assert_true(svm_msrpm_exits(msrpm, 0xc0010015, false));
    /* Outside the three ranges every access intercepts. */
    assert_true(svm_msrpm_exits(msrpm, 0x2000, false));
    assert_true(svm_msrpm_exits(msrpm, 0xc0002000, false));
    assert_true(svm_msrpm_exits(msrpm, 0xc0012000, true));
    assert_true(svm_msrpm_exits(msrpm, 0x40000000, false));
}

/* The real policy: wherever VT-x's bitmap has a bit, SVM's map decides alike,
 * and the policy's action says the same (PASS: no exit). */
static void test_msrpm_matches_policy_and_vmx(void **state)
{
    unsigned n;
    const struct msr_policy_entry *t = msr_policy_table(&n);
    static const uint32_t bases[] = {0x0, 0xc0000000, 0xc0010000};

    svm_msrpm_build(msrpm);
    msr_bitmap_build(vmx_msr);
    for (unsigned r = 0; r < 3; r++) {
        for (uint32_t msr = bases[r]; msr < bases[r] + 0x2000; msr++) {
            for (int w = 0; w < 2; w++) {
                const struct msr_policy_entry *e = msr_policy_lookup(msr);
                bool pass = (w ? e->write : e->read) == MSR_PASS;
                assert_int_equal(svm_msrpm_exits(msrpm, msr, w), !pass);
                if (r < 2)
                    assert_int_equal(svm_msrpm_exits(msrpm, msr, w),
                                     msr_bitmap_exits(vmx_msr, msr, w));
            }
        }
    }
    /* Every table entry is covered where a map can say so. */
    for (unsigned i = 0; i < n; i++) {
        if (t[i].read == MSR_PASS)
            assert_false(svm_msrpm_exits(msrpm, t[i].first, false));
        if (t[i].write != MSR_PASS)
            assert_true(svm_msrpm_exits(msrpm, t[i].last, true));
    }
    /* AMD-V's own MSRs are never the guest's. */
    assert_true(svm_msrpm_exits(msrpm, MSR_AMD_VM_CR, false));
    assert_true(svm_msrpm_exits(msrpm, MSR_AMD_VM_HSAVE_PA, true));
    assert_int_equal(msr_policy_lookup(MSR_AMD_VM_HSAVE_PA)->read, MSR_GP);
    assert_int_equal(msr_policy_lookup(MSR_AMD_VM_CR)->write, MSR_GP);
}

static void test_iopm_bits_and_wrap(void **state)
{
    static const struct io_policy_entry table[] = {
        {0x80, 0x81, "a", IO_PASS, false, ""},
        {0x3f8, 0x3ff, "b", IO_SERIAL, false, ""},
        {0xfffe, 0xffff, "c", IO_PASS, false, ""},
    };

    svm_iopm_build_from(table, 3, iopm);
    assert_false(bit(iopm, 0x10, 0));
    assert_false(bit(iopm, 0x10, 1));
    assert_true(bit(iopm, 0x10, 2));
    assert_false(svm_iopm_exits(iopm, 0x80, 2));
    assert_true(svm_iopm_exits(iopm, 0x7f, 2)); /* touches 0x7f */
    assert_true(svm_iopm_exits(iopm, 0x81, 2)); /* touches 0x82 */
    assert_true(svm_iopm_exits(iopm, 0x3f8, 1));
    assert_false(svm_iopm_exits(iopm, 0xfffe, 2));
    assert_true(svm_iopm_exits(iopm, 0xffff, 2)); /* wraps past 0xffff */
    assert_true(svm_iopm_exits(iopm, 0xfffe, 4));
    for (unsigned b = 0x2000; b < SVM_IOPM_SIZE; b++)
        assert_int_equal(iopm[b], 0xff); /* the third page stays all ones */
}

static void test_iopm_matches_vmx(void **state)
{
    static const unsigned sizes[] = {1, 2, 4};

    svm_iopm_build(iopm);
    io_bitmaps_build(vmx_io_a, vmx_io_b);
    for (uint32_t port = 0; port <= 0xffff; port++) {
        for (unsigned s = 0; s < 3; s++)
            assert_int_equal(svm_iopm_exits(iopm, (uint16_t)port, sizes[s]),
                             io_bitmaps_exit(vmx_io_a, vmx_io_b, (uint16_t)port, sizes[s]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msrpm_bit_positions),
        cmocka_unit_test(test_msrpm_matches_policy_and_vmx),
        cmocka_unit_test(test_iopm_bits_and_wrap),
        cmocka_unit_test(test_iopm_matches_vmx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
