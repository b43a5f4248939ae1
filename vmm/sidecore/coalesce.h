/* SPDX-License-Identifier: MIT */
/*
 * Adaptive interrupt coalescing for a polled queue (vIC, Ahmad et al.,
 * USENIX ATC 2011), and the limit on kick IPIs per vCPU. Pure code,
 * host-tested (tests/unit/test_coalesce.c); times are nanoseconds from any
 * monotonic clock.
 *
 * Per queue, a delivery ratio R = 1 / 2^shift (interrupts sent per
 * completion) is recomputed once an epoch from the epoch's mean commands
 * in flight (CIF, sampled at each completion: the requests in flight as it
 * completes, itself included) and its completion rate:
 *   R = 1   when the mean CIF is at most cif_threshold (4), or the rate is
 *           under min_rate (2,000 per second): a synchronous reader, or a
 *           trickle, must never wait for a later completion;
 *   R = 1/2 from a mean CIF of 8, 1/4 from 16, 1/8 from 32 (vIC's table:
 *           with that many requests in flight, a later completion comes
 *           soon and the guest gains more from fewer interrupts than it
 *           loses in latency).
 * Between 5 and 7 R stays 1: vIC leaves a gap above the threshold too.
 * Per completion only integer counting happens (a countdown of completions
 * to the next interrupt, sums for the epoch): no division, no floating
 * point; the division is once per epoch.
 *
 * An interrupt the driver asked for and that is held is never held past
 * the point where no later completion can carry it: when CIF falls to the
 * threshold (there may be no later completion soon), or when it has been
 * held time_cap_ns (200 us), it goes out; the poller checks the cap on
 * every visit (coalesce_due). Because the driver's event index may already
 * lie behind what is published, a held interrupt is remembered here and
 * sent whatever later publishes say.
 */
#ifndef SIDECORE_VMM_SIDECORE_COALESCE_H
#define SIDECORE_VMM_SIDECORE_COALESCE_H

#include <stdbool.h>
#include <stdint.h>

#define COALESCE_CIF_THRESHOLD 4u
#define COALESCE_MIN_RATE      2000u                  /* completions per second */
#define COALESCE_EPOCH_NS      (200ull * 1000 * 1000) /* 200 ms */
#define COALESCE_TIME_CAP_NS   (200ull * 1000)        /* 200 us */
#define COALESCE_KICK_GAP_NS   (100ull * 1000)        /* 100 us */
#define COALESCE_MAX_SHIFT     3u                     /* R >= 1/8 */

struct coalesce_params {
    uint32_t cif_threshold; /* R = 1 at or below this mean CIF; held interrupts go
                               out when CIF falls to it */
    uint32_t min_rate;      /* R = 1 below this many completions per second */
    uint64_t epoch_ns;      /* how often R is recomputed */
    uint64_t time_cap_ns;   /* longest an interrupt is held */
    uint32_t net_min_rate;  /* network queues (net_coalesce.h): every interrupt under
                               this many packets per second */
};

/* The defaults above. */
void coalesce_params_default(struct coalesce_params *p);

struct coalesce_queue {
    /* The current ratio: R = 1 / 2^shift. */
    uint32_t shift;
    /* Completions until the next interrupt is due (at most 2^shift). */
    uint32_t countdown;
    /* An interrupt the driver asked for has not been sent yet. */
    bool held;
    uint64_t held_since_ns;
    /* The running epoch. */
    uint64_t epoch_start_ns;
    uint64_t epoch_completions;
    uint64_t epoch_cif_sum;
    /* Counters, read by `stats`. */
    uint64_t completions; /* seen by coalesce_complete */
    uint64_t interrupts;  /* sent: returned true by coalesce_complete or coalesce_due */
    uint64_t held_count;  /* interrupts the driver wanted that were held */
    uint64_t released_cif, released_cap; /* held ones sent because CIF fell / the cap */
    uint64_t epochs;
};

/* A fresh queue at time now (R = 1). */
void coalesce_init(struct coalesce_queue *c, uint64_t now_ns);

/* n completions were just published to the driver; cif requests are still
 * in flight after them; wanted: the driver asked for an interrupt (its
 * event index or flags). True when the interrupt must be sent now. */
bool coalesce_complete(struct coalesce_queue *c, const struct coalesce_params *p, unsigned n,
                       unsigned cif, bool wanted, uint64_t now_ns);

/* On every poll of the queue: true when a held interrupt must go out now
 * (CIF fell to the threshold, or the time cap passed). */
bool coalesce_due(struct coalesce_queue *c, const struct coalesce_params *p, unsigned cif,
                  uint64_t now_ns);

/* The ratio as per-mille (1000, 500, 250, 125), for `stats`. */
unsigned coalesce_ratio_permille(const struct coalesce_queue *c);

/* The ratio an epoch with this mean CIF and rate gets (as shift); exposed
 * for tests. */
uint32_t coalesce_shift_for(const struct coalesce_params *p, uint64_t mean_cif,
                            uint64_t completions, uint64_t elapsed_ns);

/*
 * vIC's IPI threshold: a vCPU that cannot take posted interrupts is kicked
 * (an IPI that makes it exit) at most once per gap. A kick asked for
 * sooner is remembered and sent once the gap has passed, never lost.
 */
struct kick_limit {
    uint64_t last_ns; /* when the last kick was sent */
    bool sent_once;
    bool pending; /* asked for, not sent yet */
};

/* A kick is wanted. */
void kick_limit_request(struct kick_limit *k);
/* True when a pending kick may be sent now (it is then counted as sent). */
bool kick_limit_due(struct kick_limit *k, uint64_t gap_ns, uint64_t now_ns);

#endif
