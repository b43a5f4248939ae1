/* SPDX-License-Identifier: MIT */
/* Unit tests for the SVM backend's virtual-interrupt bookkeeping
 * (vmm/svm/svm_event.c): which EXITINTINFO events are interrupts owed again
 * through V_IRQ (QEMU's exception-typed record of one included) and which
 * go back through EVENTINJ, which vector is still owed after an exit (not
 * taken, taken, cut short in delivery, only the window request), and the
 * INT_CTL word that offers a vector.
 * test-sources: vmm/svm/svm_event.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/svm/svm_event.h"

static uint64_t evt(unsigned type, uint8_t vector)
{
    return SVM_EVT_VALID | ((uint64_t)type << SVM_EVT_TYPE_SHIFT) | vector;
}

static void interrupts_and_the_rest(void **state)
{
    (void)state;
    assert_true(svm_event_is_interrupt(evt(SVM_EVT_TYPE_INTR, 0xec)));
    assert_true(svm_event_is_interrupt(evt(SVM_EVT_TYPE_INTR, 0x20)));
    /* QEMU's TCG records an interrupted interrupt as an "exception". */
    assert_true(svm_event_is_interrupt(evt(SVM_EVT_TYPE_EXC, 0xec)));
    assert_true(svm_event_is_interrupt(evt(SVM_EVT_TYPE_EXC, 32)));
    /* Real exceptions (with or without an error code), NMIs, INTn. */
    assert_false(svm_event_is_interrupt(evt(SVM_EVT_TYPE_EXC, 14) | (1ull << 11) | (2ull << 32)));
    assert_false(svm_event_is_interrupt(evt(SVM_EVT_TYPE_EXC, 31)));
    assert_false(svm_event_is_interrupt(evt(2, 2)));
    assert_false(svm_event_is_interrupt(evt(4, 0x80)));
    /* Not valid: nothing was being delivered. */
    assert_false(svm_event_is_interrupt(evt(SVM_EVT_TYPE_INTR, 0xec) & ~SVM_EVT_VALID));
    assert_false(svm_event_is_interrupt(0));
}

static void owed_after_an_exit(void **state)
{
    (void)state;
    /* Offered and still pending at the exit: owed again, once. */
    assert_int_equal(svm_virq_owed(0xec, true, 0), 0xec);
    /* Taken (V_IRQ cleared, nothing in delivery): done. */
    assert_int_equal(svm_virq_owed(0xec, false, 0), -1);
    /* Taken, but the exit cut its delivery short: owed again. */
    assert_int_equal(svm_virq_owed(0xec, false, evt(SVM_EVT_TYPE_INTR, 0xec)), 0xec);
    assert_int_equal(svm_virq_owed(0xec, false, evt(SVM_EVT_TYPE_EXC, 0xec)), 0xec);
    /* Vector 0 is a vector like any other here. */
    assert_int_equal(svm_virq_owed(0, true, 0), 0);
    /* Only the window request was set (V_IRQ with the VINTR intercept). */
    assert_int_equal(svm_virq_owed(-1, true, 0), -1);
    assert_int_equal(svm_virq_owed(-1, false, 0), -1);
    /* An exception in delivery is EVENTINJ's business, not V_IRQ's; one
     * offered and not taken yet stays owed beside it. */
    assert_int_equal(svm_virq_owed(-1, false, evt(SVM_EVT_TYPE_EXC, 14)), -1);
    assert_int_equal(svm_virq_owed(0x31, true, evt(SVM_EVT_TYPE_EXC, 14)), 0x31);
}

static void int_ctl_offer(void **state)
{
    (void)state;
    /* V_TPR 3, V_INTR_MASKING, a stale window request (prio 15, vector 0x41). */
    uint64_t before = 3 | (1ull << 24) | SVM_INT_CTL_V_IRQ | SVM_INT_CTL_V_PRIO |
                      (0x41ull << SVM_INT_CTL_VECTOR_SHIFT);
    uint64_t ctl = svm_int_ctl_offer(before, 0xec);

    assert_int_equal(ctl & SVM_INT_CTL_V_TPR, 3);
    assert_true(ctl & (1ull << 24));
    assert_true(ctl & SVM_INT_CTL_V_IRQ);
    assert_true(ctl & SVM_INT_CTL_V_IGN_TPR);
    assert_int_equal((ctl & SVM_INT_CTL_VECTOR) >> SVM_INT_CTL_VECTOR_SHIFT, 0xec);
    assert_int_equal((ctl & SVM_INT_CTL_V_PRIO) >> SVM_INT_CTL_V_PRIO_SHIFT, 0xe);
    ctl = svm_int_ctl_offer(0, 0x20);
    assert_int_equal(ctl, SVM_INT_CTL_V_IRQ | SVM_INT_CTL_V_IGN_TPR |
                              (0x20ull << SVM_INT_CTL_VECTOR_SHIFT) |
                              (2ull << SVM_INT_CTL_V_PRIO_SHIFT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(interrupts_and_the_rest),
        cmocka_unit_test(owed_after_an_exit),
        cmocka_unit_test(int_ctl_offer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
