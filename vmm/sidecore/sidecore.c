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
#include "vmm/vcpu.h"

_Static_assert(SIDECORE_MAX_QUEUES <= SCHED_MAX_QUEUES, "the scheduler sees every queue");

static struct sidecore sidecores[SIDECORE_MAX];
static unsigned nsidecores;
static struct sidecore *by_cpu[MAX_CPUS];

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

unsigned sidecore_reserve(unsigned count, unsigned wanted, bool *cpu_taken, unsigned max_cpus)
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
    for (unsigned k = 0; k < nsidecores; k++)
        log_info("sidecore %u: CPU %u, socket %u", k, sidecores[k].cpu, sidecores[k].socket);
    return nsidecores;
}

struct sidecore_queue *sidecore_add_queue(uint32_t socket, sidecore_service_fn fn, void *ctx,
                                          const char *label)
{
    struct sidecore *best = NULL;

    for (unsigned k = 0; k < nsidecores; k++) {
        struct sidecore *s = &sidecores[k];
        if (s->nqueues == SIDECORE_MAX_QUEUES)
            continue;
        bool better =
            !best || (s->socket == socket && best->socket != socket) ||
            ((s->socket == socket) == (best->socket == socket) && s->nqueues < best->nqueues);
        if (better)
            best = s;
    }
    if (!best)
        return NULL;
    struct sidecore_queue *q = &best->queues[best->nqueues];
    q->service = fn;
    q->ctx = ctx;
    q->owner = best;
    q->index = best->nqueues;
    fmt_snprintf(q->label, sizeof(q->label), "%s", label);
    q->was_idle = true;
    /* The loop reads nqueues; it is only raised before the loop starts. */
    __atomic_store_n(&best->nqueues, best->nqueues + 1, __ATOMIC_RELEASE);
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
    return &q->owner->sched.q[q->index];
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
    struct sidecore_queue *q = &s->queues[i];
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
    log_info("sidecore %u: polling %u queue(s) on CPU %u%s", s->index, s->nqueues, s->cpu,
             may_nap ? " (napping when idle: sidecore_idle = nap)" : "");
    uint64_t t0 = rdtsc();
    for (;;) {
        unsigned work = 0;
        unsigned n = __atomic_load_n(&s->nqueues, __ATOMIC_ACQUIRE);
        n = sched_order(&s->sched, n, order);
        for (unsigned k = 0; k < n; k++)
            work += visit_scheduled(s, order[k]);
        send_kicks(s, kick_gap);
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

void sidecore_print_stats(void)
{
    for (unsigned k = 0; k < nsidecores; k++) {
        const struct sidecore *s = &sidecores[k];
        uint64_t total = s->busy_tsc + s->idle_tsc;
        console_printf("sidecore=%u cpu=%u socket=%u state=%s queues=%u rounds=%lu "
                       "busy_rounds=%lu idle_rounds=%lu busy_pct=%lu kicks_sent=%lu "
                       "kicks_merged=%lu naps=%lu busy_us=%lu idle_us=%lu\n",
                       s->index, s->cpu, s->socket, s->running ? "polling" : "not-started",
                       s->nqueues, (unsigned long)s->rounds, (unsigned long)s->busy_rounds,
                       (unsigned long)s->idle_rounds,
                       (unsigned long)(total ? s->busy_tsc * 100 / total : 0),
                       (unsigned long)s->kicks_sent, (unsigned long)s->kicks_merged,
                       (unsigned long)s->naps, (unsigned long)(tsc_to_ns(s->busy_tsc) / 1000),
                       (unsigned long)(tsc_to_ns(s->idle_tsc) / 1000));
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
