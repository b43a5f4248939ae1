/* SPDX-License-Identifier: MIT */
/* Routes each exit to its handler; the simple ones live here. */
#include "vmm/exit.h"

#include "kernel/x86/idt.h"
#include "vmm/guest.h"
#include "vmm/guest_apic.h"
#include "vmm/guest_devices.h"
#include "vmm/guest_mmio.h"
#include "vmm/guest_virtio.h"

static bool exit_ext_intr(struct vcpu *v, const struct vcpu_exit *e)
{
    /* Acknowledged on exit: run the hypervisor's handler for it now. A kick
     * may have brought operator input for the console. */
    if (!e->intr.taken)
        irq_dispatch_vector(e->intr.vector);
    vcpu_poll_devices(v);
    return true;
}

/* A hardware INIT or SIPI reached the guest's core (the guest cannot send
 * one itself: its IPIs go through its virtual APIC). Treat it as the same
 * request: wait for the next start-up. */
static bool exit_init(struct vcpu *v, const struct vcpu_exit *e)
{
    v->init_pending = true;
    return true;
}

static bool exit_sipi(struct vcpu *v, const struct vcpu_exit *e)
{
    return true;
}

/* Whether the exit just handled was caused by I/O (HLT counts its own, in
 * exit_hlt.c, because only the wake-up says). */
static bool exit_was_io(struct vcpu *v, const struct vcpu_exit *e)
{
    switch (e->kind) {
    case VCPU_EXIT_IO:
    case VCPU_EXIT_MEM_VIOLATION:
        return __atomic_exchange_n(&v->io_notified, false, __ATOMIC_RELAXED);
    case VCPU_EXIT_EXT_INTR:
        /* The kick that follows a device interrupt accepted into the
         * vCPU's APIC model (the fallback to posting); other kicks (stats,
         * console input, the guest's own IPIs) and host interrupts are not
         * I/O. SVM has already run the handler and cannot say which vector
         * it was: the delivery flag decides alone. */
        if (!e->intr.taken && e->intr.vector != VEC_IPI_KICK)
            return false;
        return __atomic_exchange_n(&v->io_irq, false, __ATOMIC_RELAXED);
    default: return false;
    }
}

static bool exit_handle(struct vcpu *v, const struct vcpu_exit *e)
{
    switch (e->kind) {
    case VCPU_EXIT_NONE: return true;
    case VCPU_EXIT_CPUID: return exit_cpuid(v, e);
    case VCPU_EXIT_MSR_READ:
    case VCPU_EXIT_MSR_WRITE: return exit_msr(v, e);
    case VCPU_EXIT_IO: {
        /* A port write to 0xCFC may have notified through a virtio
         * device's PCI_CFG window: the gate only marks the queue, and the
         * service happens here, outside the guest's device lock. */
        bool ok = exit_io(v, e);
        guest_virtio_after_exit(v);
        return ok;
    }
    case VCPU_EXIT_HLT: return exit_hlt(v, e);
    case VCPU_EXIT_XSETBV: return exit_xsetbv(v, e);
    case VCPU_EXIT_HYPERCALL: return exit_hypercall(v, e);
    case VCPU_EXIT_EXT_INTR: return exit_ext_intr(v, e);
    case VCPU_EXIT_TIMER: return exit_timer(v, e);
    case VCPU_EXIT_APIC_EOI: guest_apic_eoi(v, e->eoi.vector); return true;
    case VCPU_EXIT_INIT: return exit_init(v, e);
    case VCPU_EXIT_SIPI: return exit_sipi(v, e);
    case VCPU_EXIT_MEM_VIOLATION:
        if (guest_apic_mmio_claims(v, e->mem.gpa) || guest_mmio_claims(v->guest, e->mem.gpa)) {
            bool ok = exit_mmio(v, e);
            guest_virtio_after_exit(v); /* as for port I/O above */
            return ok;
        }
        return exit_fatal(v, e);
    case VCPU_EXIT_MEM_MISCONFIG:
    case VCPU_EXIT_TRIPLE_FAULT:
    case VCPU_EXIT_ENTRY_FAILED:
    case VCPU_EXIT_UNSUPPORTED:
    case VCPU_EXIT_KINDS: return exit_fatal(v, e);
    }
    return exit_fatal(v, e);
}

bool exit_dispatch(struct vcpu *v, const struct vcpu_exit *e)
{
    bool ok = exit_handle(v, e);

    if (exit_was_io(v, e))
        v->stats.exits_io++;
    /* A guest that halts in guest mode never comes to exit_hlt to reap
     * what a trap-mode backend (NVMe) completes later: note that it is
     * owed, so the next entry arms the timer to come back for it. */
    if (v->guest->cfg.halt_in_guest && v->guest->cfg.io == GUEST_IO_TRAP)
        v->io_owed = vcpu_poll_devices(v);
    return ok;
}

bool vcpu_poll_devices(struct vcpu *v)
{
    struct guest *g = v->guest;
    bool owed = guest_virtio_poll(v);

    if (v->index == 0 && g->in_tail != __atomic_load_n(&g->in_head, __ATOMIC_ACQUIRE))
        guest_devices_poll_input(g);
    return owed;
}
