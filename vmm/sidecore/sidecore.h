/* SPDX-License-Identifier: MIT */
/*
 * I/O sidecores (the ELVIS design): dedicated cores that never run a guest
 * and poll every virtqueue assigned to them, so guests do I/O without
 * exits. One per socket by default ([hypervisor] sidecores = auto), or as
 * many as the configuration says; they are only reserved when a guest has
 * a device in io = sidecore mode.
 *
 * A queue is a service function over a context (a virtio-blk queue, later
 * a virtio-net one): the loop visits each queue once a round, with a
 * budget of new requests the scheduler gives it (vmm/sidecore/sched.h:
 * at most 32, fewer for a queue of large requests, so that each queue
 * takes about the same bytes a round; queues that used their budget or
 * were held back are visited first), so one busy queue cannot starve the
 * others. The queues sit in one table; each has an owner, the one
 * sidecore that visits it, which the I/O-core monitor changes without a
 * lock by the handoff protocol (vmm/sidecore/handoff.h), so each loop
 * skips the queues it does not own. A sidecore that owns none and is
 * parked halts until it is given work.
 * Interrupts a visit raises for a vCPU without posted interrupts are
 * gathered and sent as one kick per vCPU at the end of the round, so a
 * batch of completions costs the guest one exit; and a vCPU is kicked at
 * most once per [hypervisor] kick_gap_us (vIC's IPI threshold, 100 us): a
 * kick asked for sooner stays pending and goes out once the gap has
 * passed (vmm/sidecore/coalesce.h). The loop takes no lock and
 * allocates nothing; its counters are plain words other CPUs read.
 */
#ifndef SIDECORE_VMM_SIDECORE_SIDECORE_H
#define SIDECORE_VMM_SIDECORE_SIDECORE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/sidecore/coalesce.h"
#include "vmm/sidecore/handoff.h"
#include "vmm/sidecore/sched.h"

struct vcpu;

#define SIDECORE_MAX        64
#define SIDECORE_MAX_QUEUES 64
#define SIDECORE_MAX_KICKS  64

/* Does up to budget units of work; returns how many it did. */
typedef unsigned (*sidecore_service_fn)(void *ctx, unsigned budget);

struct sidecore_queue_stats {
    uint64_t busy_polls, idle_polls;
    uint64_t work;                       /* units the service reported */
    uint64_t pickups;                    /* visits that found work after an idle one */
    uint64_t wait_tsc_sum, wait_tsc_max; /* time since the previous visit, at pickup */
};

struct sidecore;

struct sidecore_queue {
    sidecore_service_fn service;
    void *ctx;
    /* The sidecore serving it (its index), moved between sidecores without
     * a lock by the handoff protocol (vmm/sidecore/handoff.h). */
    struct queue_handoff h;
    uint32_t socket; /* of the guest (or switch) that owns it */
    unsigned index;  /* in the queue table and every sidecore's sched */
    /* Optional counters the device increments where it takes a request
     * and its data bytes (NULL: scheduled by requests alone). */
    const uint64_t *requests_taken, *bytes_taken;
    char label[40]; /* "web0 disk q1" */
    uint64_t last_visit_tsc;
    bool was_idle;
    struct sidecore_queue_stats stats;
};

struct sidecore {
    uint32_t index; /* 0-based */
    uint32_t cpu;   /* physical CPU index */
    uint32_t socket;
    volatile bool running;
    /* Set by the monitor (vmm/sidecore/monitor.h): once its queues have been
     * handed over and its kicks sent, the core halts until an IPI after
     * parked is cleared. */
    volatile bool parked;
    volatile bool halted; /* in the parked halt now */
    unsigned nqueues;     /* queues it served in its latest round */
    struct sched sched;   /* budgets and visiting order, by queue-table index */
    /* vCPUs this sidecore has kicked, each with its kick limit; the
     * pending ones are kicked at the end of a round once their gap has
     * passed. Entries are never removed (vCPUs are static). */
    unsigned nkick;
    struct sidecore_kick {
        struct vcpu *v;
        struct kick_limit lim;
    } kick[SIDECORE_MAX_KICKS];
    unsigned kicks_pending;
    /* Counters. */
    uint64_t rounds, busy_rounds, idle_rounds;
    uint64_t kicks_sent;
    uint64_t kicks_merged; /* asked for while one was pending: no extra IPI */
    uint64_t naps;         /* sidecore_idle = nap: halts while idle */
    uint64_t busy_tsc, idle_tsc;
    uint64_t parked_tsc; /* halted while parked */
    uint64_t parks;      /* times it halted parked */
};

/* Boot CPU, before guests take cores: reserves the sidecores' CPUs.
 * count 0 = one per socket, but no more than wanted (the guests that need
 * a sidecore: a socket without such a guest needs none); these are active
 * at start. Then more cores, up to max in all ([hypervisor]
 * sidecores_max; 0: none more), spread over the sockets, start parked.
 * Returns how many were reserved; cpu_taken marks the CPUs (indexed by CPU
 * index) so guests do not get them. */
unsigned sidecore_reserve(unsigned count, unsigned max, unsigned wanted, bool *cpu_taken,
                          unsigned max_cpus);
unsigned sidecore_count(void);
struct sidecore *sidecore_at(unsigned index);

/* The table of every queue served by a sidecore (guest disks, switches). */
unsigned sidecore_queue_count(void);
struct sidecore_queue *sidecore_queue_at(unsigned index);

/* Monitor CPU: a parked sidecore is made active (woken by an IPI when it
 * halts); an active one is told to park once its queues have moved away
 * (the caller moves them). */
void sidecore_unpark(struct sidecore *s);
void sidecore_park(struct sidecore *s);

/* Assigns a queue to an active sidecore, preferring the given socket and
 * the one with the fewest queues; before sidecore_start_all() only. NULL
 * when there is no sidecore or the queue table is full. */
struct sidecore_queue *sidecore_add_queue(uint32_t socket, sidecore_service_fn fn, void *ctx,
                                          const char *label);

/* Before sidecore_start_all(): the device's counters of requests and
 * data bytes taken, which the scheduler reads around each visit. */
void sidecore_queue_set_counters(struct sidecore_queue *q, const uint64_t *requests,
                                 const uint64_t *bytes);
/* The scheduler's view of q (budget hits, byte skips), for `stats`. */
const struct sched_queue *sidecore_queue_sched(const struct sidecore_queue *q);

/* Starts every reserved sidecore's poll loop on its CPU. */
void sidecore_start_all(void);

/* On a sidecore CPU: queue a kick for v, sent at the end of the round, or
 * later if v was kicked less than kick_gap_us ago. False when the caller
 * does not run on a sidecore, or its table of vCPUs is full (kick at
 * once). */
bool sidecore_defer_kick(struct vcpu *v);

/* polling, parking (parked, still handing queues over), parked (halted),
 * or not-started. */
const char *sidecore_state_name(const struct sidecore *s);

/* The `stats` lines for sidecores and their queues. */
void sidecore_print_stats(void);
/* Mean and maximum wait before pickup of a queue, in nanoseconds. */
uint64_t sidecore_wait_mean_ns(const struct sidecore_queue_stats *st);
uint64_t sidecore_wait_max_ns(const struct sidecore_queue_stats *st);
/* The sum of those waits, so a reader of two `stats` can take the mean
 * between them (with the difference of pickups). */
uint64_t sidecore_wait_sum_ns(const struct sidecore_queue_stats *st);

#endif
