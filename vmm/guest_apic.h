/* SPDX-License-Identifier: MIT */
/*
 * The guest's interrupt controllers: a local APIC per vCPU (xAPIC mode at
 * 0xfee00000 from reset, x2APIC once the guest switches through
 * IA32_APIC_BASE) and one IOAPIC,
 * and the routing between them: IPIs from one vCPU's ICR to others, IOAPIC
 * messages to local APICs, level-triggered EOIs back to the IOAPIC.
 */
#ifndef SIDECORE_VMM_GUEST_APIC_H
#define SIDECORE_VMM_GUEST_APIC_H

#include <stdbool.h>
#include <stdint.h>

struct guest;
struct vcpu;

/* IOAPIC pins of the platform's devices. */
#define GUEST_IRQ_UART 4
#define GUEST_IRQ_SCI  9

/* Power-on state of every local APIC and of the IOAPIC (creation, restart). */
void guest_apic_reset(struct guest *g);
/* An INIT signal reached v (on v's own CPU). */
void guest_apic_init_signal(struct vcpu *v);

/* x2APIC MSR access from v (RDMSR/WRMSR exits); false means #GP. */
bool guest_apic_msr_read(struct vcpu *v, uint32_t msr, uint64_t *value);
bool guest_apic_msr_write(struct vcpu *v, uint32_t msr, uint64_t value);
/* The xAPIC register page of v (at v's IA32_APIC_BASE, in xAPIC mode only):
 * whether gpa is in it, and v's access there (MMIO exits). */
bool guest_apic_mmio_claims(const struct vcpu *v, uint64_t gpa);
uint64_t guest_apic_mmio_read(struct vcpu *v, uint64_t gpa, unsigned size);
void guest_apic_mmio_write(struct vcpu *v, uint64_t gpa, unsigned size, uint64_t value);

/* IA32_APIC_BASE changed: follow its enable and x2APIC bits. */
void guest_apic_base_changed(struct vcpu *v);

/* The CPU virtualized an EOI of a level-triggered vector (APIC
 * virtualization): the IOAPIC may deliver that pin again. */
void guest_apic_eoi(struct vcpu *v, uint8_t vector);

/* How an MSI reached its vCPUs. With several targets (a broadcast, a
 * logical destination with several members) it reports the costliest
 * delivery among them: KICKED if any target cost an exit, else LOCAL if any
 * was the caller's own vCPU, else POSTED; DROPPED only when no target took
 * it. */
enum guest_msi_result {
    GUEST_MSI_DROPPED, /* reached no vCPU: not an interrupt message Sidecore
                        * delivers, no matching APIC, or every target refused
                        * it (APIC disabled); the caller counts it
                        * (msi_dropped in stats) */
    GUEST_MSI_POSTED,  /* posted interrupt: no exit */
    GUEST_MSI_KICKED,  /* accepted by the vCPU's APIC model, vCPU kicked (one exit) */
    GUEST_MSI_LOCAL,   /* accepted on the caller's own vCPU: seen before its next entry */
};

/* A device's MSI (address and data as the guest programmed them), from any
 * CPU. Fixed or lowest-priority delivery, or NMI (sent to every target,
 * never posted, reported KICKED); the destination follows the
 * address's destination mode (physical or logical, vmm/dev/apic_dest.h) and
 * reaches every vCPU it names; lowest priority or the redirection hint pick
 * one of them. Posted where the backend can; otherwise the vector is
 * accepted by the target's APIC model and the target is kicked, on a
 * sidecore once per round (vmm/sidecore/). */
enum guest_msi_result guest_apic_msi(struct guest *g, uint64_t address, uint32_t data);

/* A device drives an IOAPIC pin (any CPU). */
void guest_apic_set_irq(struct guest *g, unsigned pin, bool level);

#endif
