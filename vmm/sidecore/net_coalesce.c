/* SPDX-License-Identifier: MIT */
/*
 * The network queues' adaptive coalescing (vmm/sidecore/net_coalesce.h):
 * the per-packet countdown and held interrupt, and the once-an-epoch
 * net_dim-style search over levels. The per-packet path only adds and
 * compares; the epoch's judgement divides a few times.
 */
#include "vmm/sidecore/net_coalesce.h"

void net_coalesce_params_default(struct net_coalesce_params *p, uint64_t epoch_ns,
                                 uint64_t time_cap_ns)
{
    p->min_rate = NET_COALESCE_MIN_RATE;
    p->max_level = NET_COALESCE_MAX_LEVEL;
    p->epoch_ns = epoch_ns;
    p->time_cap_ns = time_cap_ns;
}

void net_coalesce_init(struct net_coalesce *c, uint64_t now_ns)
{
    *c = (struct net_coalesce){
        .countdown = 1,
        .hold_next = NET_COALESCE_HOLD_FIRST,
        .epoch_start_ns = now_ns,
        .last_packet_ns = now_ns,
    };
}

void net_coalesce_reset(struct net_coalesce *c, uint64_t now_ns)
{
    c->level = 0;
    c->countdown = 1;
    c->state = NET_COALESCE_QUIET;
    c->held = false;
    c->hold_left = 0;
    c->hold_next = NET_COALESCE_HOLD_FIRST;
    c->idle_ns = 0;
    c->last_packet_ns = now_ns;
    c->epoch_start_ns = now_ns;
    c->epoch_packets = c->epoch_bytes = 0;
    c->epoch_held = c->epoch_waited = 0;
    c->ref_pps = c->ref_bps = 0;
}

/* a moved by more than 1/16 of b: +1 up, -1 down, else 0. */
static int moved(uint64_t a, uint64_t b)
{
    uint64_t slack = b >> 4;

    if (a > b && a - b > slack)
        return 1;
    if (a < b && b - a > slack)
        return -1;
    return 0;
}

int net_coalesce_compare(uint64_t pps, uint64_t bps, uint64_t ref_pps, uint64_t ref_bps)
{
    int r = moved(bps, ref_bps);

    return r ? r : moved(pps, ref_pps);
}

static void set_level(struct net_coalesce *c, uint32_t level)
{
    c->level = level;
    if (c->countdown > (1u << level))
        c->countdown = 1u << level;
}

static void step_down(struct net_coalesce *c, uint64_t pps, uint64_t bps)
{
    c->ref_pps = pps;
    c->ref_bps = bps;
    set_level(c, c->level + 1);
    c->state = NET_COALESCE_TRY;
    c->steps_down++;
}

static void park(struct net_coalesce *c, uint32_t epochs)
{
    c->state = NET_COALESCE_PARK;
    c->hold_left = epochs;
}

/* The step just tried lost throughput: back to the level before it, and
 * wait longer before the next try (IOcm's regret, net_dim's tiredness). */
static void step_back(struct net_coalesce *c)
{
    if (c->level)
        set_level(c, c->level - 1);
    c->steps_back++;
    park(c, c->hold_next);
    if (c->hold_next < NET_COALESCE_HOLD_MAX)
        c->hold_next <<= 1;
}

/* The epoch's verdict on the level it ran at. */
static void judge(struct net_coalesce *c, const struct net_coalesce_params *p, uint64_t pps,
                  uint64_t bps)
{
    int cmp = net_coalesce_compare(pps, bps, c->ref_pps, c->ref_bps);
    /* Most held interrupts waited for the idle or time rule: the packets
     * answer each other, and holding only added latency. */
    bool waited = c->epoch_held && c->epoch_waited * 2 > c->epoch_held;
    bool lost = cmp < 0 || waited;

    if (pps < p->min_rate) {
        set_level(c, 0);
        c->state = NET_COALESCE_QUIET;
        c->hold_next = NET_COALESCE_HOLD_FIRST;
        return;
    }
    switch (c->state) {
    case NET_COALESCE_QUIET:
        if (p->max_level)
            step_down(c, pps, bps);
        else
            park(c, NET_COALESCE_HOLD_MAX);
        break;
    case NET_COALESCE_TRY:
        if (lost) {
            step_back(c); /* judged against ref, which stays: it was measured there */
        } else {
            c->hold_next = NET_COALESCE_HOLD_FIRST;
            if (c->level < p->max_level) {
                step_down(c, pps, bps);
            } else {
                c->ref_pps = pps;
                c->ref_bps = bps;
                park(c, NET_COALESCE_HOLD_FIRST);
            }
        }
        break;
    default: /* PARK */
        if (lost && c->level) {
            step_back(c);
            c->ref_pps = pps; /* the load changed under the level: measure anew */
            c->ref_bps = bps;
            break;
        }
        if (cmp > 0 || lost) {
            c->ref_pps = pps; /* more load (or less, at level 0): the new measure */
            c->ref_bps = bps;
        }
        if (c->hold_left && --c->hold_left == 0 && c->level < p->max_level)
            step_down(c, pps, bps);
        break;
    }
}

/* Ends the epoch if it is over: rates, the verdict, the idle gap. */
static void epoch_roll(struct net_coalesce *c, const struct net_coalesce_params *p, uint64_t now)
{
    uint64_t elapsed = now - c->epoch_start_ns;

    if (elapsed < p->epoch_ns)
        return;
    /* Per second from microseconds: no overflow below 1.8e13 packets or
     * bytes in one epoch, and epochs are at least 10 ms (1e4 us). */
    uint64_t us = elapsed / 1000 ? elapsed / 1000 : 1;
    uint64_t pps = c->epoch_packets * 1000000 / us;
    uint64_t bps = c->epoch_bytes * 1000000 / us;
    uint64_t idle = c->epoch_packets ? elapsed / c->epoch_packets * NET_COALESCE_IDLE_GAPS : 0;

    if (idle < p->time_cap_ns >> 3)
        idle = p->time_cap_ns >> 3;
    c->idle_ns = idle < p->time_cap_ns ? idle : p->time_cap_ns;
    judge(c, p, pps, bps);
    c->epoch_start_ns = now;
    c->epoch_packets = c->epoch_bytes = 0;
    c->epoch_held = c->epoch_waited = 0;
    c->epochs++;
}

static bool send(struct net_coalesce *c)
{
    c->held = false;
    c->countdown = 1u << c->level;
    return true;
}

bool net_coalesce_publish(struct net_coalesce *c, const struct net_coalesce_params *p,
                          unsigned packets, uint64_t bytes, bool wanted, uint64_t now_ns)
{
    epoch_roll(c, p, now_ns);
    c->epoch_packets += packets;
    c->epoch_bytes += bytes;
    if (packets)
        c->last_packet_ns = now_ns;
    if (!wanted && !c->held)
        return false; /* nothing owed: the driver polls, or is not waiting yet */
    if (c->level == 0 || c->countdown <= packets)
        return send(c);
    c->countdown -= packets;
    if (!c->held) {
        c->held = true;
        c->held_since_ns = now_ns;
        c->held_count++;
        c->epoch_held++;
    }
    if (now_ns - c->held_since_ns >= p->time_cap_ns) { /* packets kept coming, too few */
        c->released_cap++;
        c->epoch_waited++;
        return send(c);
    }
    return false;
}

bool net_coalesce_due(struct net_coalesce *c, const struct net_coalesce_params *p, uint64_t now_ns)
{
    epoch_roll(c, p, now_ns);
    if (!c->held)
        return false;
    if (now_ns - c->held_since_ns >= p->time_cap_ns) {
        c->released_cap++;
        c->epoch_waited++;
        return send(c);
    }
    /* Idle, or the epoch found the rate under min_rate (level 0). */
    if (c->level == 0 || now_ns - c->last_packet_ns >= c->idle_ns) {
        c->released_idle++;
        c->epoch_waited++;
        return send(c);
    }
    return false;
}

bool net_coalesce_starved(struct net_coalesce *c)
{
    if (!c->held)
        return false;
    c->released_starved++;
    return send(c);
}

unsigned net_coalesce_ratio_permille(const struct net_coalesce *c)
{
    return 1000u >> c->level;
}
