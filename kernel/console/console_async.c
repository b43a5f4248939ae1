/* SPDX-License-Identifier: MIT */
/*
 * The queue between every CPU's console output and the console CPU
 * (console_async.h): the ring, the rule for who queues, and the wake-up. The
 * wake-up is one IPI per batch: the first producer after the console CPU
 * rearmed sends it, the rest see it already sent. The producer publishes its
 * message before it looks at the flag, and the console CPU rearms before it
 * reads the ring, so a message is either seen by the current pass or wakes
 * the next one.
 */
#include "kernel/console/console_async.h"

#include <stdint.h>

#include "kernel/console/msg_ring.h"
#include "kernel/cpu/percpu.h"
#include "kernel/x86/idt.h"
#include "kernel/x86/lapic.h"

/* About 5 s of output at 115200 baud: room for a burst, and a hostile guest
 * filling it costs the others only dropped lines, counted. */
#define CONSOLE_RING_SIZE (64 * 1024)

static _Alignas(8) uint8_t ring_buf[CONSOLE_RING_SIZE];
static struct msg_ring ring = {.buf = ring_buf, .size = CONSOLE_RING_SIZE};
static struct percpu *volatile console_cpu;
static bool wake_sent;
static bool kicked; /* console_async_kick() since the last rearm */
static volatile bool sync_cpu[MAX_CPUS];

void console_async_start(void)
{
    __atomic_store_n(&console_cpu, this_cpu(), __ATOMIC_RELEASE);
}

bool console_async_wanted(void)
{
    struct percpu *owner = __atomic_load_n(&console_cpu, __ATOMIC_ACQUIRE);

    if (!owner)
        return false; /* the boot log: synchronous */
    struct percpu *me = this_cpu();
    return me != owner && !sync_cpu[me->index];
}

/* One IPI per batch: the first caller after the console CPU rearmed. */
static void wake_console(void)
{
    struct percpu *owner = __atomic_load_n(&console_cpu, __ATOMIC_ACQUIRE);
    if (owner && owner != this_cpu() && !__atomic_exchange_n(&wake_sent, true, __ATOMIC_ACQ_REL))
        lapic_send_ipi(owner->apic_id, VEC_IPI_KICK);
}

void console_async_put(const char *s, size_t n)
{
    uint64_t flags;

    /* Interrupts off from reservation to publication: an interrupt handler
     * that faulted (and so stopped this CPU) in between would leave a record
     * that is never published, and the console CPU would wait on it for
     * ever. The copy reads only the caller's buffer, which callers pass
     * already formatted on their stack. */
    asm volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
    do {
        size_t chunk = n < MSG_RING_MSG_MAX ? n : MSG_RING_MSG_MAX;
        msg_ring_put(&ring, s, chunk);
        s += chunk;
        n -= chunk;
    } while (n);
    if (flags & (1u << 9))
        asm volatile("sti" ::: "memory");
    wake_console();
}

void console_async_kick(void)
{
    /* Before the wake-up, as a message is published before it: the console
     * CPU clears the flag (rearm) before it looks for reports. */
    __atomic_store_n(&kicked, true, __ATOMIC_SEQ_CST);
    wake_console();
}

int console_async_take(char *out, size_t cap)
{
    return msg_ring_get(&ring, out, cap);
}

unsigned long console_async_take_dropped(void)
{
    return (unsigned long)msg_ring_take_dropped(&ring);
}

bool console_async_ready(void)
{
    return msg_ring_ready(&ring) || __atomic_load_n(&kicked, __ATOMIC_ACQUIRE);
}

void console_async_rearm(void)
{
    __atomic_store_n(&kicked, false, __ATOMIC_SEQ_CST);
    __atomic_store_n(&wake_sent, false, __ATOMIC_SEQ_CST);
}

void console_sync_this_cpu(void)
{
    if (!__atomic_load_n(&console_cpu, __ATOMIC_ACQUIRE))
        return; /* nothing is queued yet (and the per-CPU area may not be) */
    struct percpu *me = this_cpu();
    if (me && me->index < MAX_CPUS)
        sync_cpu[me->index] = true;
}
