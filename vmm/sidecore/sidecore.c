/* SPDX-License-Identifier: MIT */
#include "vmm/sidecore/sidecore.h"

#include "kernel/config/hv_config.h"
#include "kernel/console/console.h"
#include "kernel/console/log.h"
#include "kernel/cpu/cpu_call.h"
#include "kernel/cpu/percpu.h"
#include "kernel/lib/fmt.h"
#include "kernel/time/timer.h"
#include "kernel/time/tsc.h"
#include "kernel/x86/cpu.h"
#include "kernel/x86/idt.h"
#include "kernel/x86/lapic.h"
#include "vmm/vcpu.h"

_Static_assert(SIDECORE_MAX_QUEUES <= SCHED_MAX_QUEUES, "the scheduler sees every queue");

static struct sidecore sidecores[SIDECORE_MAX];
static unsigned nsidecores;
static struct sidecore *by_cpu[MAX_CPUS];
static struct sidecore_queue queues[SIDECORE_MAX_QUEUES];
static unsigned nqueues; /* raised only before the loops start */

unsigned sidecore_queue_count(void)
{
    return __atomic_load_n(&nqueues, __ATOMIC_ACQUIRE);
}

struct sidecore_queue *sidecore_queue_at(unsigned index)
{
    return index < sidecore_queue_count() ? &queues[index] : NULL;
}

unsigned sidecore_count(void)
{
    return nsidecores;
}

struct sidecore *sidecore_at(unsigned index)
{
    return index < nsidecores ? &sidecores[index] : NULL;
}

static bool usable(uint32_t i, const bool *cpu_taken)
{
    struct percpu *p = cpu_by_index(i);

    return i != 0 && p && p->state == CPU_ONLINE && !cpu_taken[i];
}

static void take(uint32_t cpu, bool *cpu_taken)
{
    struct sidecore *s = &sidecores[nsidecores];

    s->index = nsidecores++;
    s->cpu = cpu;
    s->socket = cpu_by_index(cpu)->topo.socket;
    cpu_taken[cpu] = true;
    by_cpu[cpu] = s;
}

/* The last usable CPU of the socket: guests are given cores from the low
 * end, so the sidecore stays out of their way. */
static bool take_on_socket(uint32_t socket, bool *cpu_taken, unsigned max_cpus)
{
    for (uint32_t i = max_cpus; i-- > 1;) {
        if (usable(i, cpu_taken) && cpu_by_index(i)->topo.socket == socket) {
            take(i, cpu_taken);
            return true;
        }
    }
    return false;
}

/* The socket with a spare core and the fewest sidecores; false if none. */
static bool take_spare(bool *cpu_taken, unsigned max_cpus)
{
    uint32_t best = 0, best_count = ~0u;

    for (uint32_t i = 1; i < max_cpus; i++) {
        if (!usable(i, cpu_taken))
            continue;
        uint32_t so = cpu_by_index(i)->topo.socket, n = 0;
        for (unsigned k = 0; k < nsidecores; k++)
            n += sidecores[k].socket == so;
        if (n < best_count) {
            best = so;
            best_count = n;
        }
    }
    return best_count != ~0u && take_on_socket(best, cpu_taken, max_cpus);
}

unsigned sidecore_reserve(unsigned count, unsigned max, unsigned wanted, bool *cpu_taken,
                          unsigned max_cpus)
{
    if (max_cpus > cpu_count())
        max_cpus = cpu_count();
    if (count == 0) {
        /* One per socket that has a CPU to spare. */
        for (uint32_t i = 0; i < max_cpus && nsidecores < SIDECORE_MAX && nsidecores < wanted;
             i++) {
            struct percpu *p = cpu_by_index(i);
            bool seen = false;
            if (!p || p->state != CPU_ONLINE)
                continue;
            for (unsigned k = 0; k < nsidecores; k++)
                seen |= sidecores[k].socket == p->topo.socket;
            if (!seen && !take_on_socket(p->topo.socket, cpu_taken, max_cpus))
                log_info("sidecore: socket %u has no core to spare for an I/O sidecore",
                         p->topo.socket);
        }
    } else {
        for (uint32_t i = max_cpus; i-- > 1 && nsidecores < count && nsidecores < SIDECORE_MAX;) {
            if (usable(i, cpu_taken))
                take(i, cpu_taken);
        }
        if (nsidecores < count)
            log_warn("sidecore: %u sidecore(s) asked for, only %u core(s) to spare", count,
                     nsidecores);
    }
    unsigned active = nsidecores;
    while (nsidecores < max && nsidecores < SIDECORE_MAX && take_spare(cpu_taken, max_cpus))
        sidecores[nsidecores - 1].parked = true;
    if (max > active && nsidecores < max)
        log_warn("sidecore: sidecores_max = %u, only %u core(s) to spare", max, nsidecores);
    for (unsigned k = 0; k < nsidecores; k++)
        log_info("sidecore %u: CPU %u, socket %u%s", k, sidecores[k].cpu, sidecores[k].socket,
                 sidecores[k].parked ? " (reserved, parked)" : "");
    return nsidecores;
}

struct sidecore_queue *sidecore_add_queue(uint32_t socket, sidecore_service_fn fn, void *ctx,
                                          const char *label)
{
    struct sidecore *best = NULL;

    if (nqueues == SIDECORE_MAX_QUEUES)
        return NULL;
    for (unsigned k = 0; k < nsidecores; k++) {
        struct sidecore *s = &sidecores[k];
        if (s->parked)
            continue;
        bool better =
            !best || (s->socket == socket && best->socket != socket) ||
            ((s->socket == socket) == (best->socket == socket) && s->nqueues < best->nqueues);
        if (better)
            best = s;
    }
    if (!best)
        return NULL;
    struct sidecore_queue *q = &queues[nqueues];
    q->service = fn;
    q->ctx = ctx;
    handoff_init(&q->h, best->index);
    q->socket = socket;
    q->index = nqueues;
    fmt_snprintf(q->label, sizeof(q->label), "%s", label);
    q->was_idle = true;
    best->nqueues++; /* a count for placing the next one; the loop recounts */
    /* The loops read nqueues; it is only raised before they start. */
    __atomic_store_n(&nqueues, nqueues + 1, __ATOMIC_RELEASE);
    return q;
}

void sidecore_queue_set_counters(struct sidecore_queue *q, const uint64_t *requests,
                                 const uint64_t *bytes)
{
    q->requests_taken = requests;
    q->bytes_taken = bytes;
}

const struct sched_queue *sidecore_queue_sched(const struct sidecore_queue *q)
{
    uint32_t owner = handoff_owner(&q->h);

    return &sidecores[owner < nsidecores ? owner : 0].sched.q[q->index];
}

bool sidecore_defer_kick(struct vcpu *v)
{
    struct sidecore *s = by_cpu[this_cpu()->index];
    struct sidecore_kick *k = NULL;

    if (!s)
        return false;
    for (unsigned i = 0; i < s->nkick && !k; i++) {
        if (s->kick[i].v == v)
            k = &s->kick[i];
    }
    if (!k) {
        if (s->nkick == SIDECORE_MAX_KICKS)
            return false;
        k = &s->kick[s->nkick++];
        *k = (struct sidecore_kick){.v = v};
    }
    if (k->lim.pending) {
        s->kicks_merged++;
        return true;
    }
    kick_limit_request(&k->lim);
    s->kicks_pending++;
    return true;
}

/* End of a round: the pending kicks whose gap has passed. */
static void send_kicks(struct sidecore *s, uint64_t gap_tsc)
{
    if (!s->kicks_pending)
        return;
    uint64_t now = rdtsc();
    for (unsigned i = 0; i < s->nkick; i++) {
        struct sidecore_kick *k = &s->kick[i];
        if (!kick_limit_due(&k->lim, gap_tsc, now))
            continue;
        vcpu_kick(k->v);
        s->kicks_sent++;
        s->kicks_pending--;
    }
}

/* One visit: let the queue do a batch and keep its counters. The wait a
 * request saw before pickup is bounded by the time since the previous
 * visit found the queue idle; that bound is what is recorded. */
static unsigned visit(struct sidecore_queue *q, uint64_t now, unsigned budget)
{
    unsigned n = q->service(q->ctx, budget);

    if (n == 0) {
        q->stats.idle_polls++;
    } else {
        q->stats.busy_polls++;
        q->stats.work += n;
        if (q->was_idle && q->last_visit_tsc) {
            uint64_t wait = now - q->last_visit_tsc;
            q->stats.pickups++;
            q->stats.wait_tsc_sum += wait;
            if (wait > q->stats.wait_tsc_max)
                q->stats.wait_tsc_max = wait;
        }
    }
    q->was_idle = n == 0;
    q->last_visit_tsc = now;
    return n;
}

/* A visit with the budget the scheduler gives, and what it took reported
 * back: from the device's counters when it has them. */
static unsigned visit_scheduled(struct sidecore *s, unsigned i)
{
    struct sidecore_queue *q = &queues[i];
    unsigned budget = sched_budget(&s->sched, i);
    uint64_t r0 = q->requests_taken ? *q->requests_taken : 0;
    uint64_t b0 = q->bytes_taken ? *q->bytes_taken : 0;
    unsigned n = visit(q, rdtsc(), budget);
    uint64_t taken = q->requests_taken ? *q->requests_taken - r0 : n;
    uint64_t bytes = q->bytes_taken ? *q->bytes_taken - b0 : 0;

    sched_done(&s->sched, i, budget, taken > UINT32_MAX ? UINT32_MAX : (unsigned)taken, bytes);
    return n;
}

/* sidecore_idle = nap: after NAP_AFTER_US without work, halt for NAP_US at a
 * time (the CPU's one-shot timer wakes it), then poll again. */
#define NAP_AFTER_US 1000
#define NAP_US       100

static void nap(struct sidecore *s)
{
    timer_oneshot(NAP_US * 1000ull, NULL);
    asm volatile("sti; hlt; cli" ::: "memory");
    s->naps++;
}

/* Parked with nothing left to do: halt until the monitor clears parked
 * and sends an IPI. parked is read with interrupts off, so an IPI sent
 * after it was cleared stays pending until the sti and ends the hlt. */
static void park_halt(struct sidecore *s)
{
    uint64_t t0 = rdtsc();

    s->parks++;
    s->halted = true;
    asm volatile("cli" ::: "memory");
    while (__atomic_load_n(&s->parked, __ATOMIC_ACQUIRE)) {
        asm volatile("sti; hlt; cli" ::: "memory");
    }
    s->halted = false;
    s->parked_tsc += rdtsc() - t0;
}

void sidecore_park(struct sidecore *s)
{
    __atomic_store_n(&s->parked, true, __ATOMIC_RELEASE);
}

void sidecore_unpark(struct sidecore *s)
{
    struct percpu *p = cpu_by_index(s->cpu);

    __atomic_store_n(&s->parked, false, __ATOMIC_RELEASE);
    if (p)
        lapic_send_ipi(p->apic_id, VEC_IPI_KICK);
}

static void sidecore_loop(void *arg)
{
    struct sidecore *s = arg;
    bool may_nap = hv_config_sidecore_nap();
    uint64_t nap_after = tsc_from_ns(NAP_AFTER_US * 1000ull);
    uint64_t last_work = rdtsc();
    unsigned order[SIDECORE_MAX_QUEUES];
    struct sched_params sp;

    sched_params_default(&sp);
    sched_init(&s->sched, &sp);
    /* The kick limit counts in TSC ticks, as the loop does. */
    uint64_t kick_gap = tsc_from_ns(hv_config_kick_gap_ns());

    s->running = true;
    if (s->parked)
        log_info("sidecore %u: parked on CPU %u until the monitor gives it queues", s->index,
                 s->cpu);
    else
        log_info("sidecore %u: polling %u queue(s) on CPU %u%s", s->index, s->nqueues, s->cpu,
                 may_nap ? " (napping when idle: sidecore_idle = nap)" : "");
    uint64_t t0 = rdtsc();
    for (;;) {
        unsigned work = 0, owned = 0;
        unsigned n = sidecore_queue_count();
        n = sched_order(&s->sched, n, order);
        for (unsigned k = 0; k < n; k++) {
            struct sidecore_queue *q = &queues[order[k]];
            if (!handoff_begin(&q->h, s->index))
                continue;
            owned++;
            work += visit_scheduled(s, order[k]);
            handoff_end(&q->h, s->index);
        }
        s->nqueues = owned;
        send_kicks(s, kick_gap);
        if (!owned && !s->kicks_pending && __atomic_load_n(&s->parked, __ATOMIC_ACQUIRE)) {
            park_halt(s);
            t0 = rdtsc();
            continue;
        }
        uint64_t t1 = rdtsc();
        s->rounds++;
        if (work) {
            s->busy_rounds++;
            s->busy_tsc += t1 - t0;
            last_work = t1;
        } else {
            s->idle_rounds++;
            s->idle_tsc += t1 - t0;
            if (may_nap && t1 - last_work > nap_after) {
                nap(s);
                uint64_t t2 = rdtsc();
                s->idle_tsc += t2 - t1;
                t1 = t2;
            } else {
                cpu_relax();
            }
        }
        t0 = t1;
    }
}

void sidecore_start_all(void)
{
    for (unsigned k = 0; k < nsidecores; k++) {
        if (!cpu_post_work(sidecores[k].cpu, sidecore_loop, &sidecores[k]))
            log_error("sidecore %u: CPU %u would not take its poll loop", k, sidecores[k].cpu);
    }
}

static uint64_t tsc_to_ns(uint64_t ticks)
{
    uint64_t hz = tsc_hz();

    return hz ? ticks / hz * 1000000000ull + ticks % hz * 1000000000ull / hz : 0;
}

const char *sidecore_state_name(const struct sidecore *s)
{
    if (!s->running)
        return "not-started";
    if (!s->parked)
        return "polling";
    return s->halted ? "parked" : "parking";
}

void sidecore_print_stats(void)
{
    for (unsigned k = 0; k < nsidecores; k++) {
        const struct sidecore *s = &sidecores[k];
        uint64_t total = s->busy_tsc + s->idle_tsc;
        console_printf("sidecore=%u cpu=%u socket=%u state=%s queues=%u rounds=%lu "
                       "busy_rounds=%lu idle_rounds=%lu busy_pct=%lu kicks_sent=%lu "
                       "kicks_merged=%lu naps=%lu busy_us=%lu idle_us=%lu parks=%lu "
                       "parked_us=%lu\n",
                       s->index, s->cpu, s->socket, sidecore_state_name(s), s->nqueues,
                       (unsigned long)s->rounds, (unsigned long)s->busy_rounds,
                       (unsigned long)s->idle_rounds,
                       (unsigned long)(total ? s->busy_tsc * 100 / total : 0),
                       (unsigned long)s->kicks_sent, (unsigned long)s->kicks_merged,
                       (unsigned long)s->naps, (unsigned long)(tsc_to_ns(s->busy_tsc) / 1000),
                       (unsigned long)(tsc_to_ns(s->idle_tsc) / 1000), (unsigned long)s->parks,
                       (unsigned long)(tsc_to_ns(s->parked_tsc) / 1000));
    }
}

/* For the per-queue lines printed by the devices. */
uint64_t sidecore_wait_mean_ns(const struct sidecore_queue_stats *st)
{
    return st->pickups ? tsc_to_ns(st->wait_tsc_sum / st->pickups) : 0;
}

uint64_t sidecore_wait_sum_ns(const struct sidecore_queue_stats *st)
{
    return tsc_to_ns(st->wait_tsc_sum);
}

uint64_t sidecore_wait_max_ns(const struct sidecore_queue_stats *st)
{
    return tsc_to_ns(st->wait_tsc_max);
}
