/* SPDX-License-Identifier: MIT */
/* RDMSR/WRMSR: the policy table (vmm/msr_policy.c) decides; this file
 * carries the decision out on the vCPU. */
#include "kernel/x86/cpu.h"
#include "vmm/exit.h"
#include "vmm/guest.h"
#include "vmm/guest_apic.h"
#include "vmm/msr_policy.h"

#define VEC_GP 13
#define CR0_PG (1ull << 31)

static const enum vcpu_sreg field_sreg[] = {
    [MSR_FIELD_EFER] = VCPU_SREG_EFER,
    [MSR_FIELD_PAT] = VCPU_SREG_PAT,
    [MSR_FIELD_FS_BASE] = VCPU_SREG_FS_BASE,
    [MSR_FIELD_GS_BASE] = VCPU_SREG_GS_BASE,
    [MSR_FIELD_SYSENTER_CS] = VCPU_SREG_SYSENTER_CS,
    [MSR_FIELD_SYSENTER_ESP] = VCPU_SREG_SYSENTER_ESP,
    [MSR_FIELD_SYSENTER_EIP] = VCPU_SREG_SYSENTER_EIP,
};

static bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* A write to a guest-state field, checked as the CPU would check it. */
static bool write_field(struct vcpu *v, uint8_t field, uint64_t value)
{
    const struct vcpu_ops *ops = vcpu_backend();

    switch (field) {
    case MSR_FIELD_EFER: {
        uint64_t supported = MSR_EFER_SCE | MSR_EFER_LME | MSR_EFER_LMA | MSR_EFER_NXE;
        uint64_t result;
        bool paging = ops->read_sreg(v, VCPU_SREG_CR0) & CR0_PG;
        if (!msr_efer_write(ops->read_sreg(v, VCPU_SREG_EFER), value, paging, supported, &result))
            return false;
        ops->write_sreg(v, VCPU_SREG_EFER, result);
        return true;
    }
    case MSR_FIELD_FS_BASE:
    case MSR_FIELD_GS_BASE:
    case MSR_FIELD_SYSENTER_ESP:
    case MSR_FIELD_SYSENTER_EIP:
        if (!canonical(value))
            return false;
        break;
    default: break;
    }
    ops->write_sreg(v, field_sreg[field], value);
    return true;
}

bool exit_msr(struct vcpu *v, const struct vcpu_exit *e)
{
    const struct vcpu_ops *ops = vcpu_backend();
    uint32_t msr = (uint32_t)v->gprs[VCPU_RCX];
    const struct msr_policy_entry *entry = msr_policy_lookup(msr);
    uint64_t value = 0;
    enum msr_result r;

    if (vlapic_handles_msr(msr)) {
        bool ok;
        if (e->kind == VCPU_EXIT_MSR_READ) {
            ok = guest_apic_msr_read(v, msr, &value);
            v->gprs[VCPU_RAX] = (uint32_t)value;
            v->gprs[VCPU_RDX] = value >> 32;
        } else {
            ok = guest_apic_msr_write(v, msr,
                                      (v->gprs[VCPU_RDX] << 32) | (uint32_t)v->gprs[VCPU_RAX]);
            if (ok && ops->apic_hw(v))
                ops->apic_regs_changed(v);
        }
        if (!ok) {
            ops->inject_exception(v, VEC_GP, true, 0);
            return true;
        }
        ops->skip_instruction(v, e);
        return true;
    }
    if (e->kind == VCPU_EXIT_MSR_READ) {
        r = msr_emulate_read(msr, &v->msr, &value);
        if (r == MSR_USE_FIELD && entry)
            value = ops->read_sreg(v, field_sreg[entry->field]);
        else if (r == MSR_USE_HARDWARE)
            value = rdmsr(msr);
        if (r == MSR_INJECT_GP) {
            ops->inject_exception(v, VEC_GP, true, 0);
            return true;
        }
        v->gprs[VCPU_RAX] = (uint32_t)value;
        v->gprs[VCPU_RDX] = value >> 32;
    } else {
        value = (v->gprs[VCPU_RDX] << 32) | (uint32_t)v->gprs[VCPU_RAX];
        r = msr_emulate_write(msr, value, &v->msr);
        if (r == MSR_USE_FIELD && entry && !write_field(v, entry->field, value))
            r = MSR_INJECT_GP;
        else if (r == MSR_USE_HARDWARE)
            wrmsr(msr, value);
        if (r == MSR_INJECT_GP) {
            ops->inject_exception(v, VEC_GP, true, 0);
            return true;
        }
        if (msr == MSR_IA32_APIC_BASE)
            guest_apic_base_changed(v);
    }
    ops->skip_instruction(v, e);
    return true;
}
