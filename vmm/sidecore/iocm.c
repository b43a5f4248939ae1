/* SPDX-License-Identifier: MIT */
/*
 * The I/O-core monitor's decision logic (vmm/sidecore/iocm.h). It runs
 * once an epoch on the monitor's CPU, never on a sidecore, so it may loop
 * over every queue and divide; it keeps no pointer into the sample.
 */
#include "vmm/sidecore/iocm.h"

#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"

void iocm_params_default(struct iocm_params *p)
{
    p->busy_high_pm = 950;
    p->fit_low_pm = 600;
    p->add_epochs = 3;
    p->remove_epochs = 5;
    p->eval_epochs = 2;
    p->tolerance_pm = 50;
    p->backoff_min = 8;
    p->backoff_max = 1024;
}

void iocm_init(struct iocm *m, const struct iocm_params *p)
{
    memset(m, 0, sizeof(*m));
    m->p = *p;
    for (unsigned s = 0; s < IOCM_MAX_SOCKETS; s++)
        for (unsigned a = 0; a < 3; a++)
            m->sock[s].penalty[a] = p->backoff_min;
}

static unsigned busy_pm(const struct iocm_core_sample *c)
{
    uint64_t total = c->busy + c->idle;

    return total ? (unsigned)(c->busy * 1000 / total) : 0;
}

static bool counts_active(const struct iocm_sample *s, uint32_t k, uint32_t add, uint32_t remove)
{
    return k != remove && (k == add || s->core[k].active);
}

bool iocm_spread(const struct iocm_sample *s, uint32_t add_core, uint32_t remove_core,
                 uint32_t *assign)
{
    uint64_t core_load[IOCM_MAX_CORES] = {0};
    unsigned core_queues[IOCM_MAX_CORES] = {0};
    bool placed[IOCM_MAX_QUEUES] = {false};
    unsigned ncores = s->ncores < IOCM_MAX_CORES ? s->ncores : IOCM_MAX_CORES;
    unsigned nqueues = s->nqueues < IOCM_MAX_QUEUES ? s->nqueues : IOCM_MAX_QUEUES;
    bool any = false;

    for (uint32_t k = 0; k < ncores; k++)
        any |= counts_active(s, k, add_core, remove_core);
    if (!any)
        return false;
    for (unsigned n = 0; n < nqueues; n++) {
        /* The heaviest queue not placed yet. */
        unsigned qi = IOCM_NONE;
        for (unsigned i = 0; i < nqueues; i++)
            if (!placed[i] && (qi == IOCM_NONE || s->queue[i].load > s->queue[qi].load))
                qi = i;
        const struct iocm_queue_sample *q = &s->queue[qi];
        bool local = false;
        for (uint32_t k = 0; k < ncores; k++)
            local |= counts_active(s, k, add_core, remove_core) && s->core[k].socket == q->socket;
        /* The least loaded core it may go to; ties go to fewer queues,
         * then to where it is now (no needless move). */
        uint32_t best = IOCM_NONE;
        for (uint32_t k = 0; k < ncores; k++) {
            if (!counts_active(s, k, add_core, remove_core) ||
                (local && s->core[k].socket != q->socket))
                continue;
            bool better = best == IOCM_NONE || core_load[k] < core_load[best] ||
                          (core_load[k] == core_load[best] &&
                           (core_queues[k] < core_queues[best] ||
                            (core_queues[k] == core_queues[best] && k == q->core)));
            if (better)
                best = k;
        }
        assign[qi] = best;
        placed[qi] = true;
        core_load[best] += q->load;
        core_queues[best]++;
    }
    return true;
}

static uint64_t active_busy(const struct iocm_sample *s)
{
    uint64_t busy = 0;

    for (unsigned k = 0; k < s->ncores && k < IOCM_MAX_CORES; k++)
        if (s->core[k].active)
            busy += s->core[k].busy;
    return busy;
}

/* Work per busy cycle fell by more than the tolerance from before to now. */
static bool efficiency_fell(const struct iocm *m, uint64_t work, uint64_t busy)
{
    if (!m->before_busy || !busy)
        return false; /* nothing to compare */
    unsigned __int128 now = (unsigned __int128)work * m->before_busy * 1000;
    unsigned __int128 before =
        (unsigned __int128)m->before_work * busy * (1000 - m->p.tolerance_pm);
    return now < before;
}

static void decide(struct iocm *m, const struct iocm_sample *s, struct iocm_decision *d,
                   enum iocm_action action, uint32_t core, uint32_t socket, bool undo)
{
    d->action = action;
    d->core = core;
    d->socket = socket;
    d->undo = undo;
    d->spread = iocm_spread(s, action == IOCM_ADD ? core : IOCM_NONE,
                            action == IOCM_REMOVE ? core : IOCM_NONE, d->assign);
    if (action == IOCM_ADD)
        m->adds++;
    else
        m->removes++;
    if (undo)
        return;
    m->evaluating = true;
    m->change = action;
    m->change_core = core;
    m->change_socket = socket;
    m->eval_left = m->p.eval_epochs;
    m->before_work = s->work;
    m->before_busy = active_busy(s);
}

/* The change under evaluation has run eval_epochs: keep or undo it. */
static bool judge(struct iocm *m, const struct iocm_sample *s, struct iocm_decision *d)
{
    struct iocm_socket_state *st = &m->sock[m->change_socket % IOCM_MAX_SOCKETS];
    uint64_t busy = active_busy(s);

    m->evaluating = false;
    if (!efficiency_fell(m, s->work, busy)) {
        st->penalty[m->change] = m->p.backoff_min;
        return false;
    }
    m->undos++;
    st->wait[m->change] = st->penalty[m->change];
    st->penalty[m->change] = st->penalty[m->change] * 2 > m->p.backoff_max
                                 ? m->p.backoff_max
                                 : st->penalty[m->change] * 2;
    enum iocm_action undo = m->change == IOCM_ADD ? IOCM_REMOVE : IOCM_ADD;
    decide(m, s, d, undo, m->change_core, m->change_socket, true);
    fmt_snprintf(d->reason, sizeof(d->reason),
                 "undo: work per busy cycle fell (%lu/%lu before, %lu/%lu after); not again for "
                 "%u epochs",
                 (unsigned long)m->before_work, (unsigned long)m->before_busy,
                 (unsigned long)s->work, (unsigned long)busy, st->wait[m->change]);
    st->hot = st->cold = 0;
    return true;
}

void iocm_epoch(struct iocm *m, const struct iocm_sample *s, struct iocm_decision *d)
{
    unsigned ncores = s->ncores < IOCM_MAX_CORES ? s->ncores : IOCM_MAX_CORES;

    memset(d, 0, sizeof(*d));
    d->action = IOCM_KEEP;
    d->core = d->socket = IOCM_NONE;
    m->epoch++;
    for (unsigned so = 0; so < IOCM_MAX_SOCKETS; so++)
        for (unsigned a = 0; a < 3; a++)
            if (m->sock[so].wait[a])
                m->sock[so].wait[a]--;
    if (m->evaluating) {
        if (--m->eval_left > 0)
            return;
        if (judge(m, s, d))
            return;
    }
    for (uint32_t so = 0; so < IOCM_MAX_SOCKETS; so++) {
        struct iocm_socket_state *st = &m->sock[so];
        unsigned nactive = 0, hot_cores = 0, sum_pm = 0;
        uint32_t parked = IOCM_NONE, idlest = IOCM_NONE;

        for (uint32_t k = 0; k < ncores; k++) {
            const struct iocm_core_sample *c = &s->core[k];
            if (c->socket != so)
                continue;
            if (!c->active) {
                if (parked == IOCM_NONE)
                    parked = k;
                continue;
            }
            unsigned pm = busy_pm(c);
            nactive++;
            sum_pm += pm;
            hot_cores += pm >= m->p.busy_high_pm;
            if (idlest == IOCM_NONE || c->busy < s->core[idlest].busy)
                idlest = k;
        }
        bool hot = nactive && hot_cores == nactive;
        bool cold = nactive >= 2 && sum_pm <= (nactive - 1) * m->p.fit_low_pm;
        st->hot = hot ? st->hot + 1 : 0;
        st->cold = cold ? st->cold + 1 : 0;
        if (d->action != IOCM_KEEP)
            continue; /* one change an epoch; the counters still run */
        if (st->hot >= m->p.add_epochs && parked != IOCM_NONE && !st->wait[IOCM_ADD]) {
            decide(m, s, d, IOCM_ADD, parked, so, false);
            fmt_snprintf(d->reason, sizeof(d->reason),
                         "socket %u: %u active sidecore(s) at least %u.%u%% busy for %u epochs", so,
                         nactive, m->p.busy_high_pm / 10, m->p.busy_high_pm % 10, st->hot);
            st->hot = st->cold = 0;
        } else if (st->cold >= m->p.remove_epochs && !st->wait[IOCM_REMOVE]) {
            decide(m, s, d, IOCM_REMOVE, idlest, so, false);
            fmt_snprintf(d->reason, sizeof(d->reason),
                         "socket %u: %u sidecores together %u.%u%% busy, fits on %u for %u epochs",
                         so, nactive, sum_pm / 10, sum_pm % 10, nactive - 1, st->cold);
            st->hot = st->cold = 0;
        }
    }
}
