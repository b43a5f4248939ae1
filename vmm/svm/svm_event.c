/* SPDX-License-Identifier: MIT */
/*
 * Interrupt bookkeeping for the SVM backend's virtual-interrupt delivery (see
 * svm_event.h). External interrupts go to the guest through V_IRQ, as in
 * bhyve, and not through EVENTINJ: QEMU's TCG, which the tests run on,
 * delivers an EVENTINJ interrupt inside VMRUN but leaves it as the CPU's
 * pending exception, and a kick of that vCPU's thread (another thread's
 * request, a monitor stop) before the next exit delivers it a second time
 * whatever RFLAGS.IF says. Linux then took its timer interrupt again on the
 * entry stack before SWAPGS and overflowed it (issue 18). A virtual interrupt
 * is taken through the emulator's ordinary interrupt path, which has no such
 * leftover, and on hardware it is the architected way to offer one.
 */
#include "vmm/svm/svm_event.h"

bool svm_event_is_interrupt(uint64_t exitintinfo)
{
    if (!(exitintinfo & SVM_EVT_VALID))
        return false;
    unsigned type = (unsigned)(exitintinfo >> SVM_EVT_TYPE_SHIFT) & 7;
    uint8_t vector = (uint8_t)exitintinfo;

    return type == SVM_EVT_TYPE_INTR || (type == SVM_EVT_TYPE_EXC && vector >= 32);
}

int svm_virq_owed(int presented, bool v_irq_set, uint64_t exitintinfo)
{
    if (svm_event_is_interrupt(exitintinfo))
        return (uint8_t)exitintinfo;
    if (presented >= 0 && v_irq_set)
        return presented;
    return -1;
}

uint64_t svm_int_ctl_offer(uint64_t int_ctl, uint8_t vector)
{
    int_ctl &= ~(SVM_INT_CTL_VECTOR | SVM_INT_CTL_V_PRIO);
    return int_ctl | SVM_INT_CTL_V_IRQ | SVM_INT_CTL_V_IGN_TPR |
           ((uint64_t)vector << SVM_INT_CTL_VECTOR_SHIFT) |
           ((uint64_t)(vector >> 4) << SVM_INT_CTL_V_PRIO_SHIFT);
}
