/* SPDX-License-Identifier: MIT */
/*
 * The local APIC's xAPIC interface: the 4 KiB register page a guest reaches
 * at IA32_APIC_BASE while its APIC is in xAPIC mode (the mode from reset).
 * Every register lives once in struct vlapic and is read and written through
 * vlapic_reg_read/vlapic_reg_write; this file only adds what differs from
 * x2APIC mode: the offset decode, the 8-bit ID in bits 31:24, the guest's
 * own LDR and DFR, the ICR as two 32-bit halves, EOI taking any value, no
 * SELF IPI, and that nothing ever faults (reserved bits and read-only
 * registers are ignored). Pure code, host-tested and fuzzed: the offset,
 * size and value come from the guest.
 */
#include "vmm/dev/vlapic.h"

#include "vmm/dev/vlapic_regs.h"

/* Writable bits of the xAPIC-only fields. */
#define XLDR_WRITABLE    0xff000000u /* logical APIC ID */
#define DFR_WRITABLE     0xf0000000u /* model: 1111b flat, 0000b cluster */
#define ICR_HIGH_WRITE   0xff000000u /* destination */
#define ICR_LOW_WRITABLE 0x000ccfffu /* vector, mode, dest mode, level, trigger, shorthand */
#define LVT_ALL_BITS     0x000fffffu /* what any LVT can hold; write_lvt keeps the rest */

int vlapic_xapic_reg(uint32_t offset, unsigned size)
{
    if (size != 4 || (offset & 0xf) || offset >= VLAPIC_XAPIC_SIZE)
        return -1;
    return (int)(offset >> 4);
}

uint32_t vlapic_mmio_read(struct vlapic *v, uint32_t offset, unsigned size, uint64_t now)
{
    int reg = vlapic_xapic_reg(offset, size);
    uint64_t value = 0;

    if (reg < 0 || v->mode != VLAPIC_MODE_XAPIC)
        return 0;
    switch (reg) {
    case REG_ID: return v->id << 24;
    case REG_LDR: return v->xldr;
    case REG_DFR: return v->dfr;
    case REG_ICR: return (uint32_t)v->icr; /* delivery status (bit 12): always idle */
    case REG_ICR_HIGH: return (uint32_t)(v->icr >> 32);
    case REG_APR:
    case REG_EOI:
    case REG_SELF_IPI: return 0;
    default: break;
    }
    if (!vlapic_reg_read(v, (unsigned)reg, now, &value))
        return 0;
    return (uint32_t)value;
}

void vlapic_mmio_write(struct vlapic *v, uint32_t offset, unsigned size, uint32_t value,
                       uint64_t now, struct vlapic_write_effect *effect)
{
    int reg = vlapic_xapic_reg(offset, size);

    effect->has_ipi = false;
    effect->level_eoi_vector = -1;
    if (reg < 0 || v->mode != VLAPIC_MODE_XAPIC)
        return;

    uint64_t w;
    switch (reg) {
    case REG_LDR: __atomic_store_n(&v->xldr, value & XLDR_WRITABLE, __ATOMIC_RELAXED); return;
    case REG_DFR:
        __atomic_store_n(&v->dfr, (value & DFR_WRITABLE) | ~DFR_WRITABLE, __ATOMIC_RELAXED);
        return;
    case REG_ICR_HIGH: v->icr = (uint32_t)v->icr | (uint64_t)(value & ICR_HIGH_WRITE) << 32; return;
    case REG_ICR:
        w = (v->icr & ((uint64_t)ICR_HIGH_WRITE << 32)) | (value & ICR_LOW_WRITABLE);
        break;
    case REG_EOI: w = 0; break; /* any value ends the interrupt */
    case REG_TPR: w = value & 0xffu; break;
    case REG_SVR: w = value & 0x3ffu; break;
    case REG_ESR: w = 0; break; /* any write latches the errors */
    case REG_TIMER_DCR: w = value & 0xbu; break;
    case REG_TIMER_ICR: w = value; break;
    case REG_LVT_CMCI:
    case REG_LVT_TIMER:
    case REG_LVT_TIMER + 1:
    case REG_LVT_TIMER + 2:
    case REG_LVT_TIMER + 3:
    case REG_LVT_TIMER + 4:
    case REG_LVT_ERROR: w = value & LVT_ALL_BITS; break;
    default: return; /* read-only (ID, version, PPR, ISR/TMR/IRR, CCR), SELF IPI, undefined */
    }
    /* What the x2APIC rules would refuse (an LVT's reserved bits, the
     * reserved timer mode) is dropped here, as a write the xAPIC ignores. */
    if (!vlapic_reg_write(v, (unsigned)reg, w, now, true, effect)) {
        effect->has_ipi = false;
        effect->level_eoi_vector = -1;
    }
}
