/* SPDX-License-Identifier: MIT */
/*
 * Adaptive interrupt coalescing for a polled network queue: vIC's
 * mechanism (vmm/sidecore/coalesce.h) driven by packets per second, with
 * the decision rule of Linux's net_dim (lower the interrupt rate only
 * while throughput does not fall). Pure code, host-tested
 * (tests/unit/test_net_coalesce.c); times are nanoseconds from any
 * monotonic clock.
 *
 * A queue has no commands in flight to tell how soon the next packet
 * comes, so instead of a table the ratio is searched: level L sends one
 * interrupt per 2^L packets (L = 0: every one). Once an epoch (the disk's
 * coalesce_epoch_ms) the epoch's packet and byte rates are computed:
 *  - under min_rate packets per second (a ping, a request/response
 *    exchange, a trickle) the level is 0: a synchronous exchange never
 *    waits for a packet that will not come;
 *  - above it, the level steps down one at a time (more packets per
 *    interrupt); each step is judged against the epoch before it and kept
 *    only if throughput did not fall (bytes per second decide when they
 *    moved by more than 1/16, else packets per second; equal throughput
 *    with fewer interrupts counts as a gain). A step that lost throughput
 *    is undone, and the next try waits twice as many epochs as the last
 *    (8, 16, ... 128); a kept step resets the wait. A level whose held
 *    interrupts mostly had to be released by the idle or time rule
 *    (nothing followed them: the packets answer each other) counts as
 *    lost. At the lowest level (max_level) or after an undone step the
 *    level is parked; a parked level that loses throughput steps back.
 * Per packet only integer adds and compares happen; the divisions are
 * once an epoch.
 *
 * An interrupt the driver asked for and that is held goes out when 2^L
 * packets have been published since, when it has been held time_cap_ns
 * (coalesce_cap_us), or when the queue went idle: no packet for four mean
 * packet gaps of the last epoch (at least an eighth of the cap, at most
 * the cap). The poller checks on every visit (net_coalesce_due). As with
 * disks, the held interrupt is remembered here because the driver's event
 * index may already lie behind what later publishes cover.
 */
#ifndef SIDECORE_VMM_SIDECORE_NET_COALESCE_H
#define SIDECORE_VMM_SIDECORE_NET_COALESCE_H

#include <stdbool.h>
#include <stdint.h>

#define NET_COALESCE_MIN_RATE   10000u /* packets per second */
#define NET_COALESCE_MAX_LEVEL  4u     /* one interrupt per 16 packets */
#define NET_COALESCE_HOLD_FIRST 8u     /* epochs before another try after an undone step */
#define NET_COALESCE_HOLD_MAX   128u
#define NET_COALESCE_IDLE_GAPS  4u /* mean packet gaps without a packet: idle */

struct net_coalesce_params {
    uint32_t min_rate;    /* level 0 under this many packets per second */
    uint32_t max_level;   /* at most one interrupt per 2^max_level packets (<= 8) */
    uint64_t epoch_ns;    /* how often the level is judged */
    uint64_t time_cap_ns; /* longest an interrupt is held */
};

/* min_rate and max_level from the defaults above, epoch and cap given (the
 * disk's coalesce_epoch_ms and coalesce_cap_us). */
void net_coalesce_params_default(struct net_coalesce_params *p, uint64_t epoch_ns,
                                 uint64_t time_cap_ns);

enum net_coalesce_state {
    NET_COALESCE_QUIET, /* under min_rate: level 0 */
    NET_COALESCE_TRY,   /* just stepped down: the next epoch judges it */
    NET_COALESCE_PARK,  /* holding a level for hold_left epochs */
};

struct net_coalesce {
    uint32_t level;     /* one interrupt per 2^level packets */
    uint32_t countdown; /* packets until the next interrupt (at most 2^level) */
    uint8_t state;      /* enum net_coalesce_state */
    bool held;          /* an interrupt the driver asked for is not sent yet */
    uint32_t hold_left; /* PARK: epochs before the next try */
    uint32_t hold_next; /* the wait after the next undone step */
    uint64_t held_since_ns;
    uint64_t last_packet_ns;
    uint64_t idle_ns; /* no packet for this long: the queue is idle */
    /* The running epoch. */
    uint64_t epoch_start_ns;
    uint64_t epoch_packets, epoch_bytes;
    uint64_t epoch_held, epoch_waited; /* held; of them released by idle or cap */
    /* Throughput of the epoch a try or a parked level is judged against. */
    uint64_t ref_pps, ref_bps;
    /* Counters, read by `stats` (plain loads from another CPU); the
     * interrupts sent are the device's (rx/tx_interrupts), counted where
     * they are signalled. */
    uint64_t held_count; /* interrupts the driver asked for that were held */
    uint64_t released_cap, released_idle, released_starved;
    uint64_t steps_down, steps_back, epochs;
};

/* A fresh queue at time now (level 0, counters zero). */
void net_coalesce_init(struct net_coalesce *c, uint64_t now_ns);

/* The driver is gone (device reset): nothing held, level 0, a new epoch;
 * the counters stay. */
void net_coalesce_reset(struct net_coalesce *c, uint64_t now_ns);

/* packets (of bytes in all) were just published to the driver; wanted: the
 * driver asked for an interrupt (its event index or flags). True when the
 * interrupt must be sent now. */
bool net_coalesce_publish(struct net_coalesce *c, const struct net_coalesce_params *p,
                          unsigned packets, uint64_t bytes, bool wanted, uint64_t now_ns);

/* On every poll of the queue while held or level > 0 (net_coalesce_active):
 * true when a held interrupt must go out now (the cap, idle, or the rate
 * fell under min_rate); also ends an epoch that is over. */
bool net_coalesce_due(struct net_coalesce *c, const struct net_coalesce_params *p, uint64_t now_ns);

/* Whether net_coalesce_due has anything to do: the poller's cheap test. */
static inline bool net_coalesce_active(const struct net_coalesce *c)
{
    return c->held || c->level != 0;
}

/* The driver is out of buffers (a frame for it was dropped): only an
 * interrupt lets it refill, so a held one goes out now. True if one was
 * held. */
bool net_coalesce_starved(struct net_coalesce *c);

/* Interrupts per packet as per-mille (1000, 500, ... 1000 >> level). */
unsigned net_coalesce_ratio_permille(const struct net_coalesce *c);

/* Throughput cur against ref: 1 rose, -1 fell, 0 the same within 1/16
 * (bytes per second decide when they moved, else packets). Exposed for
 * tests. */
int net_coalesce_compare(uint64_t pps, uint64_t bps, uint64_t ref_pps, uint64_t ref_bps);

#endif
