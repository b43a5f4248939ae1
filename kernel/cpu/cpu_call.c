/* SPDX-License-Identifier: MIT */
#include "kernel/cpu/cpu_call.h"

#include <stddef.h>

#include "kernel/cpu/percpu.h"
#include "kernel/time/clock.h"
#include "kernel/x86/cpu.h"
#include "kernel/x86/idt.h"
#include "kernel/x86/lapic.h"

/*
 * A mailbox slot (call_fn, work_fn) is claimed by swapping NULL for
 * CLAIMED, then the argument is written, then the function is published:
 * a second caller racing for the same slot fails the swap and can never
 * overwrite the winner's argument, and the target never runs a function
 * whose argument is not written yet.
 */
static void slot_claimed(void *arg)
{
}
#define CLAIMED slot_claimed

static bool slot_claim(cpu_call_fn volatile *slot)
{
    cpu_call_fn none = NULL;

    return __atomic_compare_exchange_n(slot, &none, CLAIMED, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

static void call_interrupt(struct irq_frame *f)
{
    struct percpu *cpu = this_cpu();
    cpu_call_fn fn = __atomic_load_n(&cpu->call_fn, __ATOMIC_ACQUIRE);
    void *arg = cpu->call_arg;

    lapic_eoi();
    if (!fn || fn == CLAIMED)
        return; /* nothing yet: the caller's IPI follows its publication */
    fn(arg);
    __atomic_store_n(&cpu->call_fn, NULL, __ATOMIC_RELEASE);
    __atomic_fetch_add(&cpu->calls_done, 1, __ATOMIC_RELEASE);
}

static void kick_interrupt(struct irq_frame *f)
{
    lapic_eoi();
}

void cpu_call_init(void)
{
    irq_set_handler(VEC_IPI_CALL, call_interrupt);
    irq_set_handler(VEC_IPI_KICK, kick_interrupt);
}

bool cpu_call(uint32_t index, cpu_call_fn fn, void *arg, bool wait, uint32_t timeout_ms)
{
    struct percpu *cpu = cpu_by_index(index);
    if (!cpu || cpu->state != CPU_ONLINE)
        return false;
    uint64_t done = __atomic_load_n(&cpu->calls_done, __ATOMIC_ACQUIRE);
    if (!slot_claim(&cpu->call_fn))
        return false;
    cpu->call_arg = arg;
    __atomic_store_n(&cpu->call_fn, fn, __ATOMIC_RELEASE);
    lapic_send_ipi(cpu->apic_id, VEC_IPI_CALL);
    if (!wait)
        return true;
    uint64_t end = clock_uptime_ns() + (uint64_t)timeout_ms * 1000000ull;
    while (__atomic_load_n(&cpu->calls_done, __ATOMIC_ACQUIRE) == done) {
        if (clock_uptime_ns() > end)
            return false;
        cpu_relax();
    }
    return true;
}

bool cpu_post_work(uint32_t index, cpu_call_fn fn, void *arg)
{
    struct percpu *cpu = cpu_by_index(index);
    if (!cpu || cpu->state != CPU_ONLINE || !slot_claim(&cpu->work_fn))
        return false;
    cpu->work_arg = arg;
    __atomic_store_n(&cpu->work_fn, fn, __ATOMIC_RELEASE);
    lapic_send_ipi(cpu->apic_id, VEC_IPI_CALL); /* wakes the idle loop */
    return true;
}

void cpu_idle_loop(void)
{
    struct percpu *cpu = this_cpu();

    for (;;) {
        irq_disable();
        cpu_call_fn fn = __atomic_load_n(&cpu->work_fn, __ATOMIC_ACQUIRE);
        if (fn && fn != CLAIMED) {
            fn(cpu->work_arg);
            __atomic_store_n(&cpu->work_fn, NULL, __ATOMIC_RELEASE);
            continue;
        }
        asm volatile("sti; hlt" ::: "memory");
    }
}
