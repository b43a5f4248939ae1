/* SPDX-License-Identifier: MIT */
/*
 * HLT and the guest timer. The core is the guest's alone, so a halted vCPU
 * simply waits on its own CPU (halting the host CPU, woken by the
 * hypervisor's timer or a kick) until it has an interrupt to take.
 *
 * With halt = guest the backend does not intercept HLT: the core halts in
 * guest mode and an interrupt the CPU delivers to the guest itself (posted,
 * or pending in the virtual APIC) wakes it with no exit. Everything else
 * that used to end the wait here still reaches the vCPU as an exit that
 * wakes the halted guest: the guest timer (the backend's timer, armed for
 * vcpu_entry_deadline), kicks (stop requests, IPIs and NMIs between vCPUs,
 * INIT/SIPI, interrupts the hypervisor injects), each an external-interrupt
 * exit after which the backend re-enters the guest still halted unless it
 * has an event to deliver.
 */
#include "kernel/time/timer.h"
#include "kernel/time/tsc.h"
#include "kernel/x86/cpu.h"
#include "vmm/exit.h"
#include "vmm/guest.h"

#define RFLAGS_IF (1ull << 9)
/* How often a halted vCPU reaps completions its trap-mode queues are owed. */
#define TRAP_IO_POLL_US 20

static void check_timer(struct vcpu *v)
{
    vcpu_timers_update(v, rdtsc());
}

void vcpu_wait_for_event(struct vcpu *v)
{
    for (;;) {
        check_timer(v);
        bool io_owed = vcpu_poll_devices(v);
        if (vcpu_has_pending(v) || v->nmi_pending || v->stop_requested)
            return;
        uint64_t deadline = vcpu_next_timer(v);
        if (io_owed) {
            /* Trap mode: a backend (NVMe) completes later and raises no
             * interrupt here, so come back soon to reap it. */
            uint64_t soon = rdtsc() + tsc_hz() / (1000000 / TRAP_IO_POLL_US);
            if (!deadline || soon < deadline)
                deadline = soon;
        }
        if (deadline) {
            uint64_t now = rdtsc();
            uint64_t ticks = deadline > now ? deadline - now : 0;
            if (ticks > tsc_hz())
                ticks = tsc_hz(); /* wake at least once a second; the loop re-arms */
            timer_oneshot(ticks * 1000000ull / (tsc_hz() / 1000), NULL);
        }
        /* A kick IPI or the timer ends the halt; sti;hlt cannot miss either. */
        asm volatile("sti; hlt; cli" ::: "memory");
    }
}

bool exit_hlt(struct vcpu *v, const struct vcpu_exit *e)
{
    const struct vcpu_ops *ops = vcpu_backend();

    ops->skip_instruction(v, e);
    check_timer(v);
    /* An I/O interrupt delivered before the halt was for an earlier wait
     * (the guest has taken it or is about to): only one that arrives while
     * halted, or one still pending now, makes this halt part of a request. */
    bool io_before = __atomic_exchange_n(&v->io_irq, false, __ATOMIC_RELAXED);
    if (vcpu_has_pending(v) || v->nmi_pending) {
        if (io_before)
            v->stats.exits_io++;
        return true;
    }
    /* An NMI ends a halt whatever IF says. */
    bool can_wake = (ops->read_sreg(v, VCPU_SREG_RFLAGS) & RFLAGS_IF) || vcpu_next_timer(v);
    v->state = VCPU_HALTED;
    if (!can_wake) {
        /* HLT with interrupts off and nothing armed: the vCPU is done until
         * the operator stops or restarts the guest. */
        while (!v->stop_requested && !v->nmi_pending)
            asm volatile("sti; hlt; cli" ::: "memory");
    } else {
        vcpu_wait_for_event(v);
        if (__atomic_exchange_n(&v->io_irq, false, __ATOMIC_RELAXED))
            v->stats.exits_io++; /* woken by a device's interrupt */
    }
    v->state = VCPU_RUNNING;
    return !v->stop_requested;
}

uint64_t vcpu_entry_deadline(struct vcpu *v)
{
    uint64_t deadline = vcpu_next_timer(v);

    if (v->io_owed) {
        uint64_t soon = rdtsc() + tsc_hz() / (1000000 / TRAP_IO_POLL_US);
        if (!deadline || soon < deadline)
            deadline = soon;
    }
    return deadline;
}

bool exit_timer(struct vcpu *v, const struct vcpu_exit *e)
{
    check_timer(v);
    return true;
}
