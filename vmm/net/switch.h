/* SPDX-License-Identifier: MIT */
/*
 * An L2 learning switch joining guests' virtio-net devices and at most one
 * uplink (a NIC queue pair). Each port is a sender (its poll hands the
 * switch the frames it has, through net_switch_input()) and a receiver
 * (deliver copies a frame into its own buffers: the one copy). The switch
 * never holds a frame and owns no frame buffers: a frame lives in the
 * sender's buffers for the duration of net_switch_input(), and every
 * receiver's buffers come from its own pools (guest RX rings, the NIC's
 * buffers allocated when the NIC started).
 *
 * Forwarding: a frame with a multicast or broadcast destination is flooded
 * to every port but the one it came from; unicast to a MAC in the table
 * goes to that port only (or nowhere, if that is where it came from);
 * unicast to an unknown MAC goes to the uplink and floods locally. A
 * guest's own MAC is a static entry from net_switch_add_port() on: it
 * never ages and learning cannot move it, so frames for a guest reach only
 * that guest, and a port sending with another port's MAC as its source is
 * dropped (counted) instead of stealing its traffic. Sources are learned
 * from every frame (a multicast source is invalid and dropped).
 *
 * The MAC table: NET_SWITCH_MAC_SETS sets of NET_SWITCH_MAC_WAYS entries
 * (a MAC hashes to one set), in the struct, nothing allocated. A learned
 * entry ages out NET_SWITCH_AGE_NS after its MAC was last seen as a source;
 * a new MAC takes a free or aged entry of its set, else replaces the set's
 * least recently seen learned entry (counted in table_evictions).
 *
 * Who runs it: one sidecore owns a switch and every port of it (the
 * guests' virtio-net queues attached to it and the uplink's NIC queue
 * pair): net_switch_poll(), net_switch_input() and every port operation
 * run on that CPU only, so the fast path takes no lock and shares nothing
 * with other sidecores. Without a sidecore (io = trap throughout) the owner
 * is whichever vCPU holds the switch's one lock while it polls; that lock
 * is never taken on the sidecore path. net_switch_init() and
 * net_switch_add_port() run at configuration time, before the owner polls.
 * The stats are plain counters another CPU may read.
 *
 * Bounded work: one net_switch_poll() visits every port once (round robin
 * start), taking at most budget frames from each, and each frame is
 * offered to at most every other port, so a flooding guest gets its
 * budget's share of a visit and no more.
 */
#ifndef SIDECORE_VMM_NET_SWITCH_H
#define SIDECORE_VMM_NET_SWITCH_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/net/net_frame.h"

#define NET_SWITCH_MAX_PORTS   32
#define NET_SWITCH_MAC_SETS    128 /* a power of two */
#define NET_SWITCH_MAC_WAYS    8
#define NET_SWITCH_AGE_NS      (300ull * 1000000000ull) /* 802.1D's default */
#define NET_SWITCH_PORT_BUDGET 64                       /* frames per port per visit, by default */
#define NET_SWITCH_NO_PORT     0xff

struct net_port_ops {
    /* Takes up to budget frames from the port's sender, each through
     * net_switch_input(); returns how many it took. */
    unsigned (*poll)(void *ctx, unsigned budget);
    /* Copies f into the port's receiver now, or says why not. */
    enum net_deliver (*deliver)(void *ctx, const struct net_frame *f);
    /* Makes what deliver wrote since the last flush visible (publish a
     * ring, interrupt, ring a doorbell): once per visit, not per frame. */
    void (*flush)(void *ctx);
};

/* Per port, from the switch's side: rx what it took from the port, tx what
 * it delivered to it. */
struct net_port_stats {
    uint64_t rx, rx_bytes;
    uint64_t tx, tx_bytes;
    uint64_t drops;    /* for it, refused (no room); from it, refused (spoofed, bad source) */
    uint64_t filtered; /* flooded to it, not wanted (not its MAC) */
    uint64_t flooded;  /* from it, sent to every other port */
};

struct net_switch_port {
    const char *name;
    const struct net_port_ops *ops;
    void *ctx;
    bool uplink;
    struct net_port_stats stats;
};

struct net_mac_entry {
    uint8_t mac[NET_ETH_ALEN];
    uint8_t port;   /* NET_SWITCH_NO_PORT: free */
    bool is_static; /* a port's own MAC */
    uint64_t seen_ns;
};

struct net_switch {
    const char *name;
    unsigned nports;
    unsigned budget;
    int uplink; /* its port, or -1 */
    unsigned next_port;
    uint64_t now_ns;
    uint64_t (*clock)(void); /* for net_switch_service */
    uint64_t dirty;          /* ports delivered to since their last flush */
    uint64_t table_evictions;
    struct net_switch_port port[NET_SWITCH_MAX_PORTS];
    struct net_mac_entry table[NET_SWITCH_MAC_SETS][NET_SWITCH_MAC_WAYS];
};

/* An empty switch; budget 0 means NET_SWITCH_PORT_BUDGET. */
void net_switch_init(struct net_switch *sw, const char *name, unsigned budget);

/* Adds a port. mac (NULL for none, as for an uplink) becomes a static
 * entry. Returns the port number, or -1 with why: no room, a second
 * uplink, a MAC that is multicast or already some port's, a full set. */
int net_switch_add_port(struct net_switch *sw, const char *name, const struct net_port_ops *ops,
                        void *ctx, const uint8_t *mac, bool uplink, const char **why);

/* Owner. A frame from port in (called by that port's poll). */
void net_switch_input(struct net_switch *sw, unsigned in, const struct net_frame *f);

/* Owner. One visit of every port, now_ns being the time (for aging).
 * Returns the frames taken. */
unsigned net_switch_poll(struct net_switch *sw, uint64_t now_ns);

/* The same in the shape of a sidecore service function (sidecore.h):
 * ctx is the switch, budget the frames per port for this visit (0: the
 * switch's own), the time from the clock given to net_switch_set_clock()
 * (without one, entries never age). */
unsigned net_switch_service(void *ctx, unsigned budget);
void net_switch_set_clock(struct net_switch *sw, uint64_t (*now_ns)(void));

/* The port a MAC is known on, or -1 (for tests and `stats`). */
int net_switch_lookup(const struct net_switch *sw, const uint8_t *mac);

#endif
