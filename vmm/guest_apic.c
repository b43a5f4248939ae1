/* SPDX-License-Identifier: MIT */
#include "vmm/guest_apic.h"

#include "kernel/console/log.h"
#include "kernel/x86/cpu.h"
#include "kernel/cpu/percpu.h"
#include "vmm/dev/apic_dest.h"
#include "vmm/guest.h"
#include "vmm/sidecore/sidecore.h"

/* The APIC timer counts at the TSC rate (divided by its divide register);
 * CPUID leaf 0x15 tells the guest so. */
#define APIC_TICK_NUM 1
#define APIC_TICK_DEN 1

static void deliver_to(struct guest *g, const uint64_t *targets, uint8_t mode, uint8_t vector,
                       bool level, struct vcpu *from)
{
    for (uint32_t i = 0; i < g->nvcpus; i++) {
        if (!(targets[i / 64] & (1ull << (i % 64))))
            continue;
        struct vcpu *t = &g->vcpus[i];
        switch (mode) {
        case VLAPIC_DM_FIXED:
        case VLAPIC_DM_LOWEST:
            if (vlapic_accept(&t->lapic, vector, level) && t != from)
                vcpu_kick(t);
            break;
        case VLAPIC_DM_NMI: vcpu_send_nmi(t); break;
        case VLAPIC_DM_INIT: vcpu_send_init(t); break;
        case VLAPIC_DM_STARTUP: vcpu_send_sipi(t, vector); break;
        case VLAPIC_DM_INIT_DEASSERT: break;
        default:
            log_warn_ratelimited(
                "guest %s: interrupt delivery mode %u to vCPU %u is not supported; dropped",
                g->cfg.name, mode, i);
            break;
        }
    }
}

/* Each vCPU's local APIC as a destination: its ID, mode and (xAPIC mode)
 * the guest's LDR and DFR now, read from any CPU: a vCPU changing them
 * meanwhile gets the message or not, as on hardware. */
static void describe_apics(struct guest *g, struct apic_dest_cpu *cpus)
{
    for (uint32_t i = 0; i < g->nvcpus; i++) {
        const struct vlapic *l = &g->vcpus[i].lapic;
        uint8_t mode = __atomic_load_n(&l->mode, __ATOMIC_RELAXED);
        cpus[i] = (struct apic_dest_cpu){
            .mode = mode,
            .id = l->id,
            .ldr = mode == VLAPIC_MODE_X2APIC ? vlapic_ldr_of(l->id)
                                              : __atomic_load_n(&l->xldr, __ATOMIC_RELAXED),
            .dfr = __atomic_load_n(&l->dfr, __ATOMIC_RELAXED),
        };
    }
}

/* An ICR's targets: the shorthand's, or its destination against every APIC
 * as it is now (an xAPIC sender's 8-bit one like a message's, so 0xff is a
 * broadcast and an x2APIC target reads it zero-extended). */
static void ipi_targets(struct guest *g, const struct vlapic_ipi *ipi, uint32_t sender,
                        uint64_t *targets)
{
    if (ipi->shorthand != VLAPIC_SH_NONE) {
        vlapic_ipi_targets(ipi, sender, g->nvcpus, targets);
        return;
    }
    struct apic_dest_cpu cpus[GUEST_MAX_VCPUS];
    struct apic_dest d = {
        .dest = ipi->dest,
        .logical = ipi->logical,
        .msg8 = ipi->dest8,
        .one = ipi->mode == VLAPIC_DM_LOWEST,
        .vector = ipi->vector,
    };
    describe_apics(g, cpus);
    apic_dest_resolve(cpus, g->nvcpus, &d, targets);
}

static void ioapic_deliver(void *ctx, const struct vioapic_msg *msg)
{
    struct guest *g = ctx;
    struct apic_dest_cpu cpus[GUEST_MAX_VCPUS];
    uint64_t targets[GUEST_MAX_VCPUS / 64];
    struct apic_dest d = {
        .dest = msg->dest,
        .logical = msg->logical,
        .msg8 = true,
        .one = msg->delivery_mode == VLAPIC_DM_LOWEST,
        .vector = msg->vector,
    };

    describe_apics(g, cpus);
    apic_dest_resolve(cpus, g->nvcpus, &d, targets);
    deliver_to(g, targets, msg->delivery_mode, msg->vector, msg->level, NULL);
}

void guest_apic_reset(struct guest *g)
{
    /* The IOAPIC's ID follows the local APICs' (0 .. nvcpus-1) in the MADT. */
    vioapic_init(&g->ioapic, (uint8_t)g->nvcpus, ioapic_deliver, g);
    for (uint32_t i = 0; i < g->nvcpus; i++) {
        struct vcpu *v = &g->vcpus[i];
        vlapic_init(&v->lapic, i, APIC_TICK_NUM, APIC_TICK_DEN);
        /* xAPIC at 0xfee00000, as a PC's APIC comes out of reset; a guest
         * that wants x2APIC switches through IA32_APIC_BASE (Linux does,
         * seeing x2APIC in CPUID and a hypervisor it trusts with it). */
        v->msr.apic_base &= ~MSR_APIC_BASE_EXTD;
        guest_apic_base_changed(v);
    }
}

void guest_apic_init_signal(struct vcpu *v)
{
    vlapic_init_signal(&v->lapic);
}

void guest_apic_base_changed(struct vcpu *v)
{
    uint64_t base = v->msr.apic_base;
    enum vlapic_mode mode = !(base & MSR_APIC_BASE_EN)    ? VLAPIC_MODE_DISABLED
                            : (base & MSR_APIC_BASE_EXTD) ? VLAPIC_MODE_X2APIC
                                                          : VLAPIC_MODE_XAPIC;

    vlapic_set_mode(&v->lapic, mode);
}

bool guest_apic_msr_read(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    return vlapic_msr_read(&v->lapic, msr, rdtsc(), value);
}

bool guest_apic_msr_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
    struct vlapic_write_effect effect;
    struct guest *g = v->guest;

    if (!vlapic_msr_write(&v->lapic, msr, value, rdtsc(), &effect))
        return false;
    if (effect.level_eoi_vector >= 0)
        vioapic_eoi(&g->ioapic, (uint8_t)effect.level_eoi_vector);
    if (effect.has_ipi) {
        uint64_t targets[GUEST_MAX_VCPUS / 64] = {0};
        ipi_targets(g, &effect.ipi, v->index, targets);
        deliver_to(g, targets, effect.ipi.mode, effect.ipi.vector, effect.ipi.level, v);
    }
    return true;
}

/* The page IA32_APIC_BASE points at, while the APIC is in xAPIC mode. */
static uint64_t xapic_page(const struct vcpu *v)
{
    if (__atomic_load_n(&v->lapic.mode, __ATOMIC_RELAXED) != VLAPIC_MODE_XAPIC)
        return ~0ull;
    return v->msr.apic_base & MSR_APIC_BASE_ADDR;
}

bool guest_apic_mmio_claims(const struct vcpu *v, uint64_t gpa)
{
    return (gpa & ~(uint64_t)(VLAPIC_XAPIC_SIZE - 1)) == xapic_page(v);
}

uint64_t guest_apic_mmio_read(struct vcpu *v, uint64_t gpa, unsigned size)
{
    return vlapic_mmio_read(&v->lapic, (uint32_t)(gpa - xapic_page(v)), size, rdtsc());
}

void guest_apic_mmio_write(struct vcpu *v, uint64_t gpa, unsigned size, uint64_t value)
{
    struct vlapic_write_effect effect;
    struct guest *g = v->guest;

    vlapic_mmio_write(&v->lapic, (uint32_t)(gpa - xapic_page(v)), size, (uint32_t)value, rdtsc(),
                      &effect);
    if (effect.level_eoi_vector >= 0)
        vioapic_eoi(&g->ioapic, (uint8_t)effect.level_eoi_vector);
    if (effect.has_ipi) {
        uint64_t targets[GUEST_MAX_VCPUS / 64] = {0};
        ipi_targets(g, &effect.ipi, v->index, targets);
        deliver_to(g, targets, effect.ipi.mode, effect.ipi.vector, effect.ipi.level, v);
    }
}

void guest_apic_set_irq(struct guest *g, unsigned pin, bool level)
{
    vioapic_set_irq(&g->ioapic, pin, level);
}

void guest_apic_eoi(struct vcpu *v, uint8_t vector)
{
    /* The model's TMR bit for it is cleared with the EOI, as the APIC does. */
    __atomic_fetch_and(&v->lapic.tmr[vector / 32], ~(1u << (vector % 32)), __ATOMIC_ACQ_REL);
    vioapic_eoi(&v->guest->ioapic, vector);
}

/* One target of an MSI: posted, or accepted into its APIC model and then
 * kicked unless it is the caller's own vCPU. */
static enum guest_msi_result msi_deliver_one(struct vcpu *t, uint8_t vector, bool level)
{
    const struct vcpu_ops *ops = vcpu_backend();

    /* Before the interrupt can wake or kick the vCPU: that exit is I/O's
     * (stats.exits_io). Only devices send MSIs here. Raised on the vCPU's
     * own core it needs no exit, unless it ends the vCPU's halt there
     * (trap mode reaping a completion while halted). */
    bool mark = t->cpu != this_cpu()->index || t->state == VCPU_HALTED;
    bool try_post = !level && ops->post_interrupt;
    /* A vCPU that halts in guest mode (halt = guest) takes a posted
     * interrupt with no exit at all: only a refused post, which kicks,
     * costs one. Marked beforehand otherwise, so a halted vCPU's wake-up
     * sees it. */
    bool exitless = try_post && t->guest->cfg.halt_in_guest;
    if (mark && !exitless)
        __atomic_store_n(&t->io_irq, true, __ATOMIC_RELAXED);
    if (try_post && ops->post_interrupt(t, vector))
        return GUEST_MSI_POSTED;
    if (mark && exitless)
        __atomic_store_n(&t->io_irq, true, __ATOMIC_RELAXED);
    if (!vlapic_accept(&t->lapic, vector, level))
        return GUEST_MSI_DROPPED;
    if (t->cpu == this_cpu()->index)
        return GUEST_MSI_LOCAL;
    if (!sidecore_defer_kick(t))
        vcpu_kick(t);
    return GUEST_MSI_KICKED;
}

enum guest_msi_result guest_apic_msi(struct guest *g, uint64_t address, uint32_t data)
{
    struct apic_dest_cpu cpus[GUEST_MAX_VCPUS];
    uint64_t targets[GUEST_MAX_VCPUS / 64];
    struct apic_msi m;
    bool posted = false, local = false, kicked = false;

    if (!apic_msi_decode(address, data, &m))
        return GUEST_MSI_DROPPED;
    bool nmi = m.delivery_mode == VLAPIC_DM_NMI;
    if (!nmi && (m.dest.vector < 16 ||
                 (m.delivery_mode != VLAPIC_DM_FIXED && m.delivery_mode != VLAPIC_DM_LOWEST)))
        return GUEST_MSI_DROPPED;
    describe_apics(g, cpus);
    if (apic_dest_resolve(cpus, g->nvcpus, &m.dest, targets)) {
        for (uint32_t i = 0; i < g->nvcpus; i++) {
            if (!(targets[i / 64] & (1ull << (i % 64))))
                continue;
            if (nmi) {
                /* The vector is ignored; an NMI is never posted. */
                vcpu_send_nmi(&g->vcpus[i]);
                kicked = true;
                continue;
            }
            switch (msi_deliver_one(&g->vcpus[i], m.dest.vector, m.level)) {
            case GUEST_MSI_POSTED: posted = true; break;
            case GUEST_MSI_LOCAL: local = true; break;
            case GUEST_MSI_KICKED: kicked = true; break;
            case GUEST_MSI_DROPPED: break;
            }
        }
    }
    /* The costliest way any target was reached. */
    if (kicked)
        return GUEST_MSI_KICKED;
    if (local)
        return GUEST_MSI_LOCAL;
    return posted ? GUEST_MSI_POSTED : GUEST_MSI_DROPPED;
}
