/* SPDX-License-Identifier: MIT */
/*
 * Fine-grained scheduling of one sidecore's queues (the ELVIS idea: many
 * queues on one polling core, each given a short turn). Pure code,
 * host-tested (tests/unit/test_sched.c).
 *
 * Each visit gives a queue a budget of new requests and accounts the
 * bytes those requests carry against a byte quantum per round (deficit
 * round robin, 512 KiB): the budget is what is left of the queue's
 * quantum divided by its mean request size (kept per queue, updated once
 * a visit), at least 1 and at most req_budget (32). A queue that took more
 * than its quantum (one 1 MiB request) is visited with a budget of 0 in
 * the following rounds - its completions are still reaped and its
 * interrupts still sent, it only takes no new requests - until its
 * deficit is paid back, so a queue of small requests is not starved by
 * one of large ones, and each gets about a quantum of bytes a round.
 *
 * The decision on bytes: the service function keeps its signature (a
 * request budget in, work done out), and a device that can say how many
 * requests and bytes it took exposes two counters it increments where it
 * takes them (virtio-blk: when a chain becomes a request); the scheduler
 * reads them around each visit. A device without them is scheduled by
 * requests alone, counting its whole return as requests taken.
 *
 * Starvation bound: a queue is held back for bytes at most max_skips
 * (4) rounds in a row; a queue that was held back, or whose last visit
 * used its whole budget (more work may wait), is visited first in the
 * next round, before the queues that had nothing to do, and the others
 * rotate their place, so no queue with pending work waits more than
 * max_skips + 1 rounds for a non-zero budget while others are busy.
 */
#ifndef SIDECORE_VMM_SIDECORE_SCHED_H
#define SIDECORE_VMM_SIDECORE_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#define SCHED_MAX_QUEUES   64
#define SCHED_REQ_BUDGET   32
#define SCHED_BYTE_QUANTUM (512u * 1024)
#define SCHED_MAX_SKIPS    4

struct sched_params {
    unsigned req_budget;   /* new requests per visit */
    uint32_t byte_quantum; /* bytes a queue may take per round, on average */
    unsigned max_skips;    /* rounds in a row a queue may be held back */
};

void sched_params_default(struct sched_params *p);

struct sched_queue {
    int64_t deficit;    /* bytes the queue may still take; negative: owes */
    uint64_t mean_size; /* bytes per request, a moving mean (0: not known) */
    unsigned skips;     /* rounds held back in a row */
    bool urgent;        /* visit first next round: held back, or used its budget */
    /* Counters, read by `stats`. */
    uint64_t budget_hits; /* visits that took their whole request budget */
    uint64_t byte_skips;  /* visits held to a budget of 0 for bytes */
    uint64_t forced;      /* visits given a budget after max_skips */
    uint64_t max_wait;    /* most rounds in a row without a budget */
};

struct sched {
    struct sched_params p;
    unsigned nqueues;
    unsigned rotate; /* where this round's normal order starts */
    struct sched_queue q[SCHED_MAX_QUEUES];
};

void sched_init(struct sched *s, const struct sched_params *p);

/* This round's visiting order for nqueues queues (at most
 * SCHED_MAX_QUEUES): the urgent ones first, then the rest from a place
 * that rotates each round. Returns how many it wrote to order. */
unsigned sched_order(struct sched *s, unsigned nqueues, unsigned *order);

/* The request budget for queue i's visit now (0: reap only). */
unsigned sched_budget(struct sched *s, unsigned i);

/* After queue i's visit with the given budget: taken requests and bytes
 * (from the device's counters, or the visit's return and 0). */
void sched_done(struct sched *s, unsigned i, unsigned budget, unsigned taken, uint64_t bytes);

#endif
