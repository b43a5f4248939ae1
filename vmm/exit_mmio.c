/* SPDX-License-Identifier: MIT */
/*
 * Memory-mapped I/O: an EPT violation at an address a guest device claims.
 * The instruction is fetched through the guest's page tables and decoded
 * (vmm/decode/), the access is carried out on the device, and RIP moves past
 * the instruction (the exit's instruction length is not valid for EPT
 * violations). Anything that cannot be decoded stops the guest with a
 * report: it is a guest the platform does not support, not a hypervisor
 * error.
 */
#include "vmm/decode/guest_walk.h"
#include "vmm/decode/mmio_decode.h"
#include "vmm/exit.h"
#include "vmm/guest.h"
#include "vmm/guest_apic.h"
#include "vmm/guest_mmio.h"

#define CS_AR_L  (1u << 13)
#define CS_AR_DB (1u << 14)
#define EFER_LMA (1ull << 10)

static bool read_guest8(void *ctx, uint64_t gpa, uint64_t *value)
{
    const uint64_t *p = guest_phys_to_host(ctx, gpa, 8);

    if (!p)
        return false;
    __builtin_memcpy(value, p, 8);
    return true;
}

static enum mmio_cpu_mode cpu_mode(struct vcpu *v, uint64_t efer)
{
    uint64_t ar = vcpu_backend()->read_sreg(v, VCPU_SREG_CS_AR);

    if ((efer & EFER_LMA) && (ar & CS_AR_L))
        return MMIO_MODE_64;
    return (ar & CS_AR_DB) ? MMIO_MODE_32 : MMIO_MODE_16;
}

/* Returns false if the guest was stopped. */
bool exit_mmio(struct vcpu *v, const struct vcpu_exit *e)
{
    const struct vcpu_ops *ops = vcpu_backend();
    struct guest *g = v->guest;
    uint64_t rip = ops->read_sreg(v, VCPU_SREG_RIP);
    struct guest_paging paging = {
        .cr0 = ops->read_sreg(v, VCPU_SREG_CR0),
        .cr3 = ops->read_sreg(v, VCPU_SREG_CR3),
        .cr4 = ops->read_sreg(v, VCPU_SREG_CR4),
        .efer = ops->read_sreg(v, VCPU_SREG_EFER),
        .read8 = read_guest8,
        .ctx = g,
    };
    enum mmio_cpu_mode mode = cpu_mode(v, paging.efer);
    uint64_t linear = ops->read_sreg(v, VCPU_SREG_CS_BASE) + rip;
    uint8_t bytes[MMIO_INSN_MAX];
    struct guest_walk fault;
    struct mmio_insn insn;

    if (mode != MMIO_MODE_64)
        linear &= 0xffffffffull;
    size_t n = guest_read_linear(&paging, linear, bytes, sizeof(bytes), GUEST_ACCESS_FETCH, &fault);
    if (n == 0) {
        guest_stop(g, "vCPU %u: MMIO at %#lx, but its instruction at RIP %#lx cannot be read (%s)",
                   v->index, (unsigned long)e->mem.gpa, (unsigned long)rip,
                   guest_walk_status_name(fault.status));
        return false;
    }
    if (mmio_decode(bytes, n, mode, &insn) != MMIO_DECODE_OK) {
        guest_stop(g,
                   "vCPU %u: MMIO at %#lx by an instruction Sidecore does not emulate (%s, "
                   "opcode %02x %02x), RIP %#lx",
                   v->index, (unsigned long)e->mem.gpa, mmio_status_name(insn.status),
                   insn.opcode_len > 0 ? insn.opcode[0] : 0,
                   insn.opcode_len > 1 ? insn.opcode[1] : 0, (unsigned long)rip);
        return false;
    }
    if (insn.reg == VCPU_RSP && !insn.high_byte)
        v->gprs[VCPU_RSP] = ops->read_sreg(v, VCPU_SREG_RSP);
    /* The vCPU's own xAPIC page first: it may have been moved over
     * anything (IA32_APIC_BASE), and only this vCPU sees it there. */
    bool apic = guest_apic_mmio_claims(v, e->mem.gpa);
    if (insn.write) {
        uint64_t value = mmio_write_value(&insn, v->gprs);
        if (apic)
            guest_apic_mmio_write(v, e->mem.gpa, insn.size, value);
        else
            guest_mmio_write(g, e->mem.gpa, insn.size, value);
    } else {
        uint64_t value = apic ? guest_apic_mmio_read(v, e->mem.gpa, insn.size)
                              : guest_mmio_read(g, e->mem.gpa, insn.size);
        mmio_complete_read(&insn, v->gprs, value);
        if (insn.reg == VCPU_RSP && !insn.high_byte)
            ops->write_sreg(v, VCPU_SREG_RSP, v->gprs[VCPU_RSP]);
    }
    struct vcpu_exit step = {.instr_len = insn.length};
    ops->skip_instruction(v, &step);
    return true;
}
