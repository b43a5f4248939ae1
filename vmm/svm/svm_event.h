/* SPDX-License-Identifier: MIT */
/* Interrupts presented to an SVM guest through the VMCB's virtual interrupt
 * (V_IRQ with V_INTR_VECTOR) rather than EVENTINJ, and what an exit says about
 * one: taken, still waiting, or interrupted in delivery (EXITINTINFO). Plain C
 * that also builds for the host (tests/unit/test_svm_event.c). */
#ifndef SIDECORE_VMM_SVM_SVM_EVENT_H
#define SIDECORE_VMM_SVM_SVM_EVENT_H

#include <stdbool.h>
#include <stdint.h>

/* VMCB INT_CTL (offset 0x60, 64 bits with V_INTR_VECTOR at 0x64). */
#define SVM_INT_CTL_V_TPR        0xfull
#define SVM_INT_CTL_V_IRQ        (1ull << 8)
#define SVM_INT_CTL_V_PRIO_SHIFT 16
#define SVM_INT_CTL_V_PRIO       (0xfull << SVM_INT_CTL_V_PRIO_SHIFT)
#define SVM_INT_CTL_V_IGN_TPR    (1ull << 20)
#define SVM_INT_CTL_VECTOR_SHIFT 32
#define SVM_INT_CTL_VECTOR       (0xffull << SVM_INT_CTL_VECTOR_SHIFT)

/* EVENTINJ / EXITINTINFO: vector 7:0, type 10:8, valid 31. */
#define SVM_EVT_VALID      (1ull << 31)
#define SVM_EVT_TYPE_SHIFT 8
#define SVM_EVT_TYPE_INTR  0u
#define SVM_EVT_TYPE_EXC   3u

/* Whether EXITINTINFO (valid) names an external interrupt, which is owed
 * again through V_IRQ, rather than an exception, NMI or software interrupt,
 * which go back through EVENTINJ. QEMU's TCG records an interrupted
 * interrupt as an exception of its vector; no exception has a vector above
 * 31, so those count as interrupts too. */
bool svm_event_is_interrupt(uint64_t exitintinfo);

/* The vector still owed to the guest after an exit, or -1: presented is
 * what the last entry offered through V_IRQ (-1 for nothing or only the
 * interrupt-window request), v_irq_set whether the exit left V_IRQ set (not
 * taken yet), exitintinfo the exit's EXITINTINFO (an interrupt whose
 * delivery the exit cut short is owed again, whatever V_IRQ says). */
int svm_virq_owed(int presented, bool v_irq_set, uint64_t exitintinfo);

/* INT_CTL offering vector as a virtual interrupt: V_IRQ, the vector, its
 * priority class, and V_TPR ignored (the APIC model chose the vector against
 * its TPR). V_TPR, V_INTR_MASKING and the other bits are kept. */
uint64_t svm_int_ctl_offer(uint64_t int_ctl, uint8_t vector);

#endif
