/* SPDX-License-Identifier: MIT */
/*
 * The local APIC's register file as both of its interfaces reach it: the
 * register numbers (x2APIC MSR - 0x800, which is also the xAPIC MMIO offset
 * >> 4) and the register-level read and write that vlapic.c implements once
 * for the x2APIC MSRs and vlapic_xapic.c for the xAPIC page. Private to
 * vmm/dev/vlapic*.c and their tests.
 */
#ifndef SIDECORE_VMM_DEV_VLAPIC_REGS_H
#define SIDECORE_VMM_DEV_VLAPIC_REGS_H

#include "vmm/dev/vlapic.h"

#define REG_ID        0x02
#define REG_VERSION   0x03
#define REG_TPR       0x08
#define REG_APR       0x09 /* xAPIC only: arbitration priority */
#define REG_PPR       0x0a
#define REG_EOI       0x0b
#define REG_LDR       0x0d
#define REG_DFR       0x0e /* xAPIC only */
#define REG_SVR       0x0f
#define REG_ISR0      0x10
#define REG_TMR0      0x18
#define REG_IRR0      0x20
#define REG_ESR       0x28
#define REG_LVT_CMCI  0x2f
#define REG_ICR       0x30
#define REG_ICR_HIGH  0x31 /* xAPIC only: the destination half of the ICR */
#define REG_LVT_TIMER 0x32
#define REG_LVT_ERROR 0x37
#define REG_TIMER_ICR 0x38
#define REG_TIMER_CCR 0x39
#define REG_TIMER_DCR 0x3e
#define REG_SELF_IPI  0x3f /* x2APIC only */

/* Register reg at TSC time now, with the x2APIC rules (false: #GP there).
 * LDR reads the x2APIC logical ID; the xAPIC interface answers LDR, DFR and
 * ID itself. */
bool vlapic_reg_read(struct vlapic *v, unsigned reg, uint64_t now, uint64_t *value);

/* A write with the x2APIC rules (false: reserved bits or a read-only
 * register, #GP there). xapic: an ICR value is the xAPIC pair (high << 32 |
 * low), whose destination is the 8-bit field in bits 63:56. */
bool vlapic_reg_write(struct vlapic *v, unsigned reg, uint64_t value, uint64_t now, bool xapic,
                      struct vlapic_write_effect *effect);

#endif
