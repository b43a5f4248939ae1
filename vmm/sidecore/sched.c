/* SPDX-License-Identifier: MIT */
/*
 * Deficit round robin over a sidecore's queues (vmm/sidecore/sched.h).
 * Each round credits every queue one quantum (capped at one quantum, so an
 * idle queue banks nothing); a visit spends what its requests carried.
 */
#include "vmm/sidecore/sched.h"

void sched_params_default(struct sched_params *p)
{
    p->req_budget = SCHED_REQ_BUDGET;
    p->byte_quantum = SCHED_BYTE_QUANTUM;
    p->max_skips = SCHED_MAX_SKIPS;
}

void sched_init(struct sched *s, const struct sched_params *p)
{
    *s = (struct sched){.p = *p};
    for (unsigned i = 0; i < SCHED_MAX_QUEUES; i++)
        s->q[i].deficit = p->byte_quantum;
}

unsigned sched_order(struct sched *s, unsigned nqueues, unsigned *order)
{
    unsigned n = 0;

    if (nqueues > SCHED_MAX_QUEUES)
        nqueues = SCHED_MAX_QUEUES;
    s->nqueues = nqueues;
    if (!nqueues)
        return 0;
    s->rotate = (s->rotate + 1) % nqueues;
    for (unsigned k = 0; k < nqueues; k++) {
        unsigned i = (s->rotate + k) % nqueues;
        if (s->q[i].urgent)
            order[n++] = i;
    }
    for (unsigned k = 0; k < nqueues; k++) {
        unsigned i = (s->rotate + k) % nqueues;
        if (!s->q[i].urgent)
            order[n++] = i;
    }
    return n;
}

unsigned sched_budget(struct sched *s, unsigned i)
{
    struct sched_queue *q = &s->q[i];

    /* This round's credit. */
    q->deficit += s->p.byte_quantum;
    if (q->deficit > (int64_t)s->p.byte_quantum)
        q->deficit = s->p.byte_quantum;
    if (q->deficit > 0) {
        /* As many requests as the credit covers at the queue's usual
         * size; one at least, so a large request always fits. */
        uint64_t n = q->mean_size ? (uint64_t)q->deficit / q->mean_size : s->p.req_budget;
        return n < 1 ? 1 : n > s->p.req_budget ? s->p.req_budget : (unsigned)n;
    }
    if (q->skips >= s->p.max_skips) {
        /* The bound: served now, what it still owes forgiven. */
        q->forced++;
        q->deficit = 0;
        return 1;
    }
    q->skips++;
    q->byte_skips++;
    if (q->skips > q->max_wait)
        q->max_wait = q->skips;
    return 0;
}

void sched_done(struct sched *s, unsigned i, unsigned budget, unsigned taken, uint64_t bytes)
{
    struct sched_queue *q = &s->q[i];

    if (budget == 0) {
        q->urgent = true;
        return;
    }
    q->skips = 0;
    /* Bytes beyond any sane round are clamped so the deficit cannot
     * overflow; max_skips bounds the wait anyway. */
    if (bytes > (uint64_t)INT32_MAX)
        bytes = INT32_MAX;
    q->deficit -= (int64_t)bytes;
    if (taken && bytes) {
        /* Moving mean over about 8 visits; once a visit, not per request. */
        uint64_t size = bytes / taken;
        q->mean_size = q->mean_size ? q->mean_size - q->mean_size / 8 + size / 8 : size;
    }
    q->urgent = taken >= budget;
    if (q->urgent)
        q->budget_hits++;
}
