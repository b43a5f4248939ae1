/* SPDX-License-Identifier: MIT */
/* Unit tests for how SVM exit codes (up to 0x403, and VMEXIT_INVALID) fold
 * into the statistics slots (vcpu.h VCPU_EXIT_SLOTS) and come back out.
 * test-sources: vmm/svm/svm_exit_names.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/svm/svm.h"

static void test_codes_round_trip(void **state)
{
    static const uint32_t codes[] = {0x00, 0x46, 0x60, 0x72,  0x78,  0x7b,  0x7c, 0x7f,
                                     0x81, 0x8d, 0xa5, 0x400, 0x401, 0x402, 0x403};

    for (unsigned i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        unsigned slot = svm_exit_slot(codes[i]);
        assert_true(slot < VCPU_EXIT_SLOTS);
        assert_int_equal(svm_slot_reason(slot), codes[i]);
    }
    assert_int_equal(svm_exit_slot(SVM_EXIT_INVALID), VCPU_EXIT_SLOTS - 1);
    assert_int_equal(svm_slot_reason(VCPU_EXIT_SLOTS - 1), SVM_EXIT_INVALID);
    assert_int_equal(svm_exit_slot(0x500), VCPU_EXIT_SLOTS - 1);
    /* Every slot maps back to a code that maps to it again. */
    for (unsigned s = 0; s < VCPU_EXIT_SLOTS; s++)
        assert_int_equal(svm_exit_slot(svm_slot_reason(s)), s);
}

static void test_names(void **state)
{
    assert_string_equal(svm_exit_name(SVM_EXIT_NPF), "npf");
    assert_string_equal(svm_exit_name(SVM_EXIT_VMMCALL), "vmmcall");
    assert_string_equal(svm_exit_name(SVM_EXIT_IOIO), "io");
    assert_string_equal(svm_exit_name(SVM_EXIT_SHUTDOWN), "shutdown");
    assert_string_equal(svm_exit_name(SVM_EXIT_INVALID), "invalid");
    assert_string_equal(svm_exit_name(0x3ff), "other");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_round_trip),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
