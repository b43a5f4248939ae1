/* SPDX-License-Identifier: MIT */
/* The VT-x implementation of the vendor-neutral vCPU interface. */
#include "vmm/vmx/vmx.h"
#include "vmm/vmx/vmx_posted.h"

const struct vcpu_ops vmx_vcpu_ops = {
    .name = "VT-x",
    .probe = vmx_probe,
    .cpu_enable = vmx_cpu_enable,
    .guest_init = vmx_guest_init,
    .create = vmx_create,
    .destroy = vmx_destroy,
    .run = vmx_run,
    .read_sreg = vmx_read_sreg,
    .write_sreg = vmx_write_sreg,
    .skip_instruction = vmx_skip_instruction,
    .inject_exception = vmx_inject_exception,
    .cpl = vmx_cpl,
    .sipi_start = vmx_sipi_start,
    .exit_name = vmx_exit_name,
    .slot_reason = vmx_slot_reason,
    .apic_hw = vmx_apic_hw,
    .apic_hw_available = vmx_apic_hw_available,
    .apic_regs_changed = vmx_apicv_mirror,
    .apic_pending = vmx_apic_pending,
    .post_interrupt = vmx_posted_send,
};
