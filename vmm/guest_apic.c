/* SPDX-License-Identifier: MIT */
#include "vmm/guest_apic.h"

#include "kernel/console/log.h"
#include "kernel/x86/cpu.h"
#include "kernel/cpu/percpu.h"
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

static void ioapic_deliver(void *ctx, const struct vioapic_msg *msg)
{
    struct guest *g = ctx;
    uint64_t targets[GUEST_MAX_VCPUS / 64] = {0};

    vlapic_dest_targets(msg->dest, msg->logical, g->nvcpus, targets);
    deliver_to(g, targets, msg->delivery_mode, msg->vector, msg->level, NULL);
}

void guest_apic_reset(struct guest *g)
{
    /* The IOAPIC's ID follows the local APICs' (0 .. nvcpus-1) in the MADT. */
    vioapic_init(&g->ioapic, (uint8_t)g->nvcpus, ioapic_deliver, g);
    for (uint32_t i = 0; i < g->nvcpus; i++) {
        struct vcpu *v = &g->vcpus[i];
        vlapic_init(&v->lapic, i, APIC_TICK_NUM, APIC_TICK_DEN);
        v->msr.apic_base |= MSR_APIC_BASE_EXTD;
        vlapic_set_mode(&v->lapic, VLAPIC_MODE_X2APIC);
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
        vlapic_ipi_targets(&effect.ipi, v->index, g->nvcpus, targets);
        deliver_to(g, targets, effect.ipi.mode, effect.ipi.vector, effect.ipi.level, v);
    }
    return true;
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

#define MSI_ADDR_BASE    0xfee00000ull
#define MSI_ADDR_DEST(a) (((a) >> 12) & 0xff)
#define MSI_ADDR_LOGICAL (1u << 2)
#define MSI_DATA_VECTOR  0xffu
#define MSI_DATA_MODE(d) (((d) >> 8) & 7)
#define MSI_DATA_LEVEL   (1u << 15)

enum guest_msi_result guest_apic_msi(struct guest *g, uint64_t address, uint32_t data)
{
    uint64_t targets[GUEST_MAX_VCPUS / 64] = {0};
    uint8_t vector = data & MSI_DATA_VECTOR;
    unsigned mode = MSI_DATA_MODE(data);

    if ((address & 0xfff00000ull) != MSI_ADDR_BASE || vector < 16 ||
        (mode != VLAPIC_DM_FIXED && mode != VLAPIC_DM_LOWEST))
        return GUEST_MSI_DROPPED;
    vlapic_dest_targets(MSI_ADDR_DEST(address), address & MSI_ADDR_LOGICAL, g->nvcpus, targets);
    for (uint32_t i = 0; i < g->nvcpus; i++) {
        if (!(targets[i / 64] & (1ull << (i % 64))))
            continue;
        struct vcpu *t = &g->vcpus[i];
        const struct vcpu_ops *ops = vcpu_backend();
        if (!(data & MSI_DATA_LEVEL) && ops->post_interrupt && ops->post_interrupt(t, vector))
            return GUEST_MSI_POSTED;
        if (!vlapic_accept(&t->lapic, vector, (data & MSI_DATA_LEVEL) != 0))
            return GUEST_MSI_DROPPED;
        if (t->cpu == this_cpu()->index)
            return GUEST_MSI_LOCAL;
        if (!sidecore_defer_kick(t))
            vcpu_kick(t);
        return GUEST_MSI_KICKED;
    }
    return GUEST_MSI_DROPPED;
}
