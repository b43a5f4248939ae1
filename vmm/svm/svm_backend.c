/* SPDX-License-Identifier: MIT */
/* The AMD-V (SVM) implementation of the vendor-neutral vCPU interface. The
 * local APIC is always the software model: no AVIC. */
#include "vmm/svm/svm.h"

static bool svm_apic_hw(const struct vcpu *v)
{
    return false;
}

static bool svm_apic_hw_available(const struct vcpu *v)
{
    return false;
}

static void svm_apic_regs_changed(struct vcpu *v)
{
}

static bool svm_apic_pending(struct vcpu *v)
{
    return false;
}

const struct vcpu_ops svm_vcpu_ops = {
    .name = "AMD-V",
    .probe = svm_probe,
    .cpu_enable = svm_cpu_enable,
    .guest_init = svm_guest_init,
    .create = svm_create,
    .destroy = svm_destroy,
    .run = svm_run,
    .read_sreg = svm_read_sreg,
    .cpl = svm_cpl,
    .write_sreg = svm_write_sreg,
    .skip_instruction = svm_skip_instruction,
    .inject_exception = svm_inject_exception,
    .sipi_start = svm_sipi_start,
    .exit_name = svm_exit_name,
    .slot_reason = svm_slot_reason,
    .apic_hw = svm_apic_hw,
    .apic_hw_available = svm_apic_hw_available,
    .apic_regs_changed = svm_apic_regs_changed,
    .apic_pending = svm_apic_pending,
    .post_interrupt = NULL,
};
