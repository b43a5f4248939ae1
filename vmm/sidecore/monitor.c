/* SPDX-License-Identifier: MIT */
/*
 * The I/O-core monitor on the console CPU (vmm/sidecore/monitor.h). It is
 * the only writer of the sidecores' parked flags and of move requests, so
 * it needs no lock either; a sidecore only ever reads them between
 * visits. An epoch in which a move is still pending makes no decision: it
 * waits until the queues are where the last one put them.
 */
#include "vmm/sidecore/monitor.h"

#include "kernel/config/hv_config_iocm.h"
#include "kernel/console/log.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"
#include "kernel/time/clock.h"
#include "kernel/time/tsc.h"
#include "vmm/sidecore/sidecore.h"

_Static_assert(SIDECORE_MAX <= IOCM_MAX_CORES, "the monitor sees every sidecore");
_Static_assert(SIDECORE_MAX_QUEUES <= IOCM_MAX_QUEUES, "the monitor sees every queue");

static struct {
    bool started;
    bool policy_auto;
    uint64_t period_ns, next_ns, last_ns;
    struct iocm iocm;
    uint64_t last_busy[SIDECORE_MAX], last_idle[SIDECORE_MAX];
    uint64_t last_brounds[SIDECORE_MAX], last_irounds[SIDECORE_MAX];
    unsigned round_pct[SIDECORE_MAX];
    uint64_t last_work[SIDECORE_MAX_QUEUES];
    unsigned busy_pct[SIDECORE_MAX];
    uint64_t rate[SIDECORE_MAX_QUEUES];
    struct iocm_sample sample; /* the latest epoch */
    struct iocm_decision decision;
} mon;

void sidecore_monitor_test_reset(void)
{
    memset(&mon, 0, sizeof(mon));
}

static void start(void)
{
    mon.started = true;
    mon.policy_auto = hv_config_sidecore_policy_auto();
    mon.period_ns = hv_config_sidecore_epoch_ns();
    iocm_init(&mon.iocm, hv_config_iocm());
    mon.last_ns = clock_uptime_ns();
    mon.next_ns = mon.last_ns + mon.period_ns;
    for (unsigned k = 0; k < sidecore_count(); k++) {
        mon.last_busy[k] = sidecore_at(k)->busy_tsc;
        mon.last_idle[k] = sidecore_at(k)->idle_tsc;
    }
    for (unsigned i = 0; i < sidecore_queue_count(); i++)
        mon.last_work[i] = sidecore_queue_at(i)->stats.work;
    log_async(LOG_INFO, "sidecore monitor: epoch %lu ms, policy %s, %u sidecore(s), %u queue(s)",
              (unsigned long)(mon.period_ns / 1000000), mon.policy_auto ? "auto" : "manual",
              sidecore_count(), sidecore_queue_count());
}

/* The counters' differences since the last epoch, into mon.sample. */
static void measure(uint64_t elapsed_ns)
{
    struct iocm_sample *s = &mon.sample;

    s->ncores = sidecore_count();
    s->nqueues = sidecore_queue_count();
    s->work = 0;
    for (unsigned k = 0; k < s->ncores; k++) {
        struct sidecore *sc = sidecore_at(k);
        uint64_t busy = sc->busy_tsc, idle = sc->idle_tsc;
        struct iocm_core_sample *c = &s->core[k];
        c->socket = sc->socket;
        c->active = !sc->parked;
        c->busy = busy - mon.last_busy[k];
        c->idle = idle - mon.last_idle[k];
        mon.last_busy[k] = busy;
        mon.last_idle[k] = idle;
        uint64_t total = c->busy + c->idle;
        mon.busy_pct[k] = total ? (unsigned)(c->busy * 100 / total) : 0;
        uint64_t br = sc->busy_rounds - mon.last_brounds[k],
                 ir = sc->idle_rounds - mon.last_irounds[k];
        mon.last_brounds[k] = sc->busy_rounds;
        mon.last_irounds[k] = sc->idle_rounds;
        mon.round_pct[k] = br + ir ? (unsigned)(br * 100 / (br + ir)) : 0;
    }
    for (unsigned i = 0; i < s->nqueues; i++) {
        struct sidecore_queue *q = sidecore_queue_at(i);
        uint64_t work = q->stats.work;
        struct iocm_queue_sample *qs = &s->queue[i];
        qs->socket = q->socket;
        qs->core = handoff_owner(&q->h);
        qs->load = work - mon.last_work[i];
        mon.last_work[i] = work;
        s->work += qs->load;
        mon.rate[i] = elapsed_ns ? qs->load * 1000000000ull / elapsed_ns : 0;
    }
}

static bool moves_pending(void)
{
    for (unsigned i = 0; i < sidecore_queue_count(); i++)
        if (handoff_pending(&sidecore_queue_at(i)->h))
            return true;
    return false;
}

/* Asks every queue whose place in assign differs from its owner to move;
 * who says which change it belongs to. */
static unsigned apply_moves(const uint32_t *assign, const char *who)
{
    unsigned moved = 0;

    for (unsigned i = 0; i < sidecore_queue_count(); i++) {
        struct sidecore_queue *q = sidecore_queue_at(i);
        uint32_t from = handoff_owner(&q->h), to = assign[i];
        if (to == from || to >= sidecore_count() || !handoff_request(&q->h, to))
            continue;
        moved++;
        log_async(LOG_INFO, "%s: queue %s: sidecore %u -> %u (spread by load, %lu/s)", who,
                  q->label, from, to, (unsigned long)mon.rate[i]);
    }
    return moved;
}

static void apply(const struct iocm_decision *d)
{
    struct sidecore *s = sidecore_at(d->core);

    if (!s)
        return;
    if (d->action == IOCM_ADD) {
        sidecore_unpark(s);
        log_async(LOG_INFO, "sidecore monitor: sidecore %u (CPU %u, socket %u) active%s: %s",
                  s->index, s->cpu, s->socket, d->undo ? " again" : "", d->reason);
    } else {
        log_async(LOG_INFO, "sidecore monitor: sidecore %u (CPU %u, socket %u) parked%s: %s",
                  s->index, s->cpu, s->socket, d->undo ? " again" : "", d->reason);
    }
    if (d->spread)
        apply_moves(d->assign, "sidecore monitor");
    if (d->action == IOCM_REMOVE)
        sidecore_park(s); /* it halts once its queues have moved away */
}

void sidecore_monitor_poll(void)
{
    if (!sidecore_count())
        return;
    uint64_t now = clock_uptime_ns();
    if (!mon.started) {
        start();
        return;
    }
    /* The idle loop wakes about every 100 ms: an epoch a quarter early is
     * due rather than a whole wake-up late (busy shares are ratios, so
     * the exact length does not matter). */
    if (now + mon.period_ns / 4 < mon.next_ns)
        return;
    uint64_t elapsed = now - mon.last_ns;
    mon.last_ns = now;
    mon.next_ns = now + mon.period_ns;
    measure(elapsed);
    if (!mon.policy_auto || moves_pending())
        return;
    iocm_epoch(&mon.iocm, &mon.sample, &mon.decision);
    if (mon.decision.action != IOCM_KEEP)
        apply(&mon.decision);
}

bool sidecore_monitor_auto(void)
{
    return mon.started ? mon.policy_auto : hv_config_sidecore_policy_auto();
}

void sidecore_monitor_set_auto(bool on)
{
    if (!mon.started && sidecore_count())
        start();
    if (on && !mon.policy_auto) /* decisions from fresh counts */
        iocm_init(&mon.iocm, hv_config_iocm());
    mon.policy_auto = on;
    log_async(LOG_INFO, "sidecore monitor: policy %s (shell)", on ? "auto" : "manual");
}

unsigned sidecore_monitor_round_pct(unsigned core)
{
    return core < SIDECORE_MAX ? mon.round_pct[core] : 0;
}

unsigned sidecore_monitor_busy_pct(unsigned core)
{
    return core < SIDECORE_MAX ? mon.busy_pct[core] : 0;
}

uint64_t sidecore_monitor_queue_rate(unsigned queue)
{
    return queue < SIDECORE_MAX_QUEUES ? mon.rate[queue] : 0;
}

const struct iocm *sidecore_monitor_state(void)
{
    return &mon.iocm;
}

uint64_t sidecore_monitor_epoch_ms(void)
{
    return (mon.started ? mon.period_ns : hv_config_sidecore_epoch_ns()) / 1000000;
}

/* The latest sample with the current owners and parked flags (the shell
 * may act between epochs). */
static struct iocm_sample *current_sample(void)
{
    struct iocm_sample *s = &mon.sample;

    s->ncores = sidecore_count();
    s->nqueues = sidecore_queue_count();
    for (unsigned k = 0; k < s->ncores; k++) {
        s->core[k].socket = sidecore_at(k)->socket;
        s->core[k].active = !sidecore_at(k)->parked;
    }
    for (unsigned i = 0; i < s->nqueues; i++) {
        s->queue[i].socket = sidecore_queue_at(i)->socket;
        s->queue[i].core = handoff_owner(&sidecore_queue_at(i)->h);
    }
    return s;
}

/* The monitor's own counters would judge a change it did not make: the
 * shell's changes start its decisions afresh. */
static void shell_changed(void)
{
    iocm_init(&mon.iocm, hv_config_iocm());
}

bool sidecore_monitor_add(char *why, size_t why_size)
{
    static uint32_t assign[IOCM_MAX_QUEUES];
    struct sidecore *s = NULL;

    if (!mon.started && sidecore_count())
        start();
    if (moves_pending()) {
        fmt_snprintf(why, why_size, "a move is still pending; try again");
        return false;
    }
    for (unsigned k = 0; k < sidecore_count() && !s; k++)
        if (sidecore_at(k)->parked)
            s = sidecore_at(k);
    if (!s) {
        fmt_snprintf(why, why_size, "no parked sidecore (raise [hypervisor] sidecores_max)");
        return false;
    }
    sidecore_unpark(s);
    log_async(LOG_INFO, "sidecore shell: sidecore %u (CPU %u, socket %u) active: sidecore add",
              s->index, s->cpu, s->socket);
    if (iocm_spread(current_sample(), s->index, IOCM_NONE, assign))
        apply_moves(assign, "sidecore shell");
    shell_changed();
    return true;
}

bool sidecore_monitor_remove(unsigned core, char *why, size_t why_size)
{
    static uint32_t assign[IOCM_MAX_QUEUES];
    struct sidecore *s = sidecore_at(core);
    unsigned active = 0;

    if (!mon.started && sidecore_count())
        start();
    if (!s) {
        fmt_snprintf(why, why_size, "no sidecore %u (there are %u)", core, sidecore_count());
        return false;
    }
    if (s->parked) {
        fmt_snprintf(why, why_size, "sidecore %u is parked already", core);
        return false;
    }
    for (unsigned k = 0; k < sidecore_count(); k++)
        active += !sidecore_at(k)->parked;
    if (active < 2) {
        fmt_snprintf(why, why_size, "sidecore %u is the last active one", core);
        return false;
    }
    if (moves_pending()) {
        fmt_snprintf(why, why_size, "a move is still pending; try again");
        return false;
    }
    log_async(LOG_INFO, "sidecore shell: sidecore %u (CPU %u, socket %u) parked: sidecore remove",
              s->index, s->cpu, s->socket);
    if (iocm_spread(current_sample(), IOCM_NONE, core, assign))
        apply_moves(assign, "sidecore shell");
    sidecore_park(s);
    shell_changed();
    return true;
}

bool sidecore_monitor_move(struct sidecore_queue *q, unsigned core, char *why, size_t why_size)
{
    struct sidecore *s = sidecore_at(core);

    if (!mon.started && sidecore_count())
        start();
    if (!s) {
        fmt_snprintf(why, why_size, "no sidecore %u (there are %u)", core, sidecore_count());
        return false;
    }
    if (handoff_pending(&q->h)) {
        fmt_snprintf(why, why_size, "a move of %s is still pending; try again", q->label);
        return false;
    }
    uint32_t from = handoff_owner(&q->h);
    if (from == core) {
        fmt_snprintf(why, why_size, "%s is on sidecore %u already", q->label, core);
        return false;
    }
    if (s->parked) {
        sidecore_unpark(s);
        log_async(LOG_INFO,
                  "sidecore shell: sidecore %u (CPU %u, socket %u) active: a queue moves "
                  "to it",
                  s->index, s->cpu, s->socket);
    }
    if (!handoff_request(&q->h, core)) {
        fmt_snprintf(why, why_size, "%s: the move was refused; try again", q->label);
        return false;
    }
    log_async(LOG_INFO, "sidecore shell: queue %s: sidecore %u -> %u (sidecore move)", q->label,
              from, core);
    shell_changed();
    return true;
}
