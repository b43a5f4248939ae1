/* SPDX-License-Identifier: MIT */
/*
 * The L2 learning switch (switch.h says what it promises): the MAC table
 * (a set-associative table in the struct, static entries for ports' own
 * MACs, aging by the time the owner passes in), the forwarding decision
 * for one frame, and the poll loop that visits every port with a budget
 * and flushes the ports it delivered to.
 */
#include "vmm/net/switch.h"

#include "kernel/lib/string.h"

void net_switch_init(struct net_switch *sw, const char *name, unsigned budget)
{
    memset(sw, 0, sizeof(*sw));
    sw->name = name;
    sw->budget = budget ? budget : NET_SWITCH_PORT_BUDGET;
    sw->uplink = -1;
    for (unsigned s = 0; s < NET_SWITCH_MAC_SETS; s++)
        for (unsigned w = 0; w < NET_SWITCH_MAC_WAYS; w++)
            sw->table[s][w].port = NET_SWITCH_NO_PORT;
}

/* --- the MAC table ------------------------------------------------------- */

static struct net_mac_entry *mac_set(const struct net_switch *sw, const uint8_t *mac)
{
    uint32_t h = 2166136261u;

    for (unsigned i = 0; i < NET_ETH_ALEN; i++)
        h = (h ^ mac[i]) * 16777619u;
    return (struct net_mac_entry *)sw->table[(h ^ (h >> 16)) & (NET_SWITCH_MAC_SETS - 1)];
}

static bool entry_live(const struct net_switch *sw, const struct net_mac_entry *e)
{
    return e->port != NET_SWITCH_NO_PORT &&
           (e->is_static || sw->now_ns - e->seen_ns <= NET_SWITCH_AGE_NS);
}

static struct net_mac_entry *mac_find(const struct net_switch *sw, const uint8_t *mac)
{
    struct net_mac_entry *set = mac_set(sw, mac);

    for (unsigned w = 0; w < NET_SWITCH_MAC_WAYS; w++)
        if (entry_live(sw, &set[w]) && net_mac_equal(set[w].mac, mac))
            return &set[w];
    return NULL;
}

/* A free or aged entry of mac's set, else its least recently seen learned
 * one; NULL if every entry is static. */
static struct net_mac_entry *mac_victim(struct net_switch *sw, const uint8_t *mac, bool *evict)
{
    struct net_mac_entry *set = mac_set(sw, mac), *oldest = NULL;

    *evict = false;
    for (unsigned w = 0; w < NET_SWITCH_MAC_WAYS; w++) {
        if (!entry_live(sw, &set[w]))
            return &set[w];
        if (!set[w].is_static && (!oldest || set[w].seen_ns < oldest->seen_ns))
            oldest = &set[w];
    }
    *evict = oldest != NULL;
    return oldest;
}

int net_switch_lookup(const struct net_switch *sw, const uint8_t *mac)
{
    const struct net_mac_entry *e = mac_find(sw, mac);

    return e ? e->port : -1;
}

/* Learns src on port in. False if src is another port's own MAC. */
static bool learn(struct net_switch *sw, unsigned in, const uint8_t *src)
{
    struct net_mac_entry *e = mac_find(sw, src);
    bool evict;

    if (e && e->is_static)
        return e->port == in;
    if (!e) {
        e = mac_victim(sw, src, &evict);
        if (!e)
            return true; /* a set of statics only: forwarding floods, fine */
        if (evict)
            sw->table_evictions++;
        memcpy(e->mac, src, NET_ETH_ALEN);
        e->is_static = false;
    }
    e->port = (uint8_t)in; /* a station that moved follows */
    e->seen_ns = sw->now_ns;
    return true;
}

int net_switch_add_port(struct net_switch *sw, const char *name, const struct net_port_ops *ops,
                        void *ctx, const uint8_t *mac, bool uplink, const char **why)
{
    struct net_switch_port *p;
    struct net_mac_entry *e = NULL;
    bool evict;
    const char *err = NULL;

    if (sw->nports >= NET_SWITCH_MAX_PORTS)
        err = "too many ports";
    else if (!ops || !ops->poll || !ops->deliver || !ops->flush)
        err = "port operations missing";
    else if (uplink && sw->uplink >= 0)
        err = "a second uplink";
    else if (mac && net_mac_is_multicast(mac))
        err = "multicast MAC address";
    else if (mac && mac_find(sw, mac))
        err = "duplicate MAC address";
    else if (mac && (!(e = mac_victim(sw, mac, &evict)) || evict))
        err = "MAC table set full";
    if (err) {
        if (why)
            *why = err;
        return -1;
    }
    p = &sw->port[sw->nports];
    *p = (struct net_switch_port){.name = name, .ops = ops, .ctx = ctx, .uplink = uplink};
    if (e) {
        memcpy(e->mac, mac, NET_ETH_ALEN);
        e->port = (uint8_t)sw->nports;
        e->is_static = true;
        e->seen_ns = 0;
    }
    if (uplink)
        sw->uplink = (int)sw->nports;
    return (int)sw->nports++;
}

/* --- forwarding ---------------------------------------------------------- */

static void deliver(struct net_switch *sw, unsigned out, const struct net_frame *f)
{
    struct net_switch_port *p = &sw->port[out];

    switch (p->ops->deliver(p->ctx, f)) {
    case NET_DELIVERED:
        p->stats.tx++;
        p->stats.tx_bytes += f->len;
        sw->dirty |= 1ull << out;
        break;
    case NET_FILTERED: p->stats.filtered++; break;
    default: p->stats.drops++; break;
    }
}

static void flood(struct net_switch *sw, unsigned in, const struct net_frame *f)
{
    sw->port[in].stats.flooded++;
    for (unsigned i = 0; i < sw->nports; i++)
        if (i != in)
            deliver(sw, i, f);
}

void net_switch_input(struct net_switch *sw, unsigned in, const struct net_frame *f)
{
    struct net_switch_port *p;
    const struct net_mac_entry *e;

    if (in >= sw->nports)
        return;
    p = &sw->port[in];
    p->stats.rx++;
    p->stats.rx_bytes += f->len;
    if (f->len < NET_ETH_HLEN || net_mac_is_multicast(f->src) || !learn(sw, in, f->src)) {
        p->stats.drops++;
        return;
    }
    if (net_mac_is_multicast(f->dst)) {
        flood(sw, in, f);
        return;
    }
    e = mac_find(sw, f->dst);
    if (!e) {
        flood(sw, in, f); /* the uplink, and local guests in promiscuous mode */
        return;
    }
    if (e->port != in)
        deliver(sw, e->port, f);
    else
        p->stats.drops++; /* for its own port: counted, so frames in = out + drops */
}

static unsigned visit(struct net_switch *sw, unsigned budget)
{
    unsigned n = 0, np = sw->nports;

    for (unsigned k = 0; k < np; k++) {
        unsigned i = (sw->next_port + k) % np;

        n += sw->port[i].ops->poll(sw->port[i].ctx, budget);
        /* Flush after each sender's visit: receivers see its frames with
         * one publish (one interrupt) per visit, and no later than that. */
        for (uint64_t m = sw->dirty; m; m &= m - 1) {
            unsigned out = (unsigned)__builtin_ctzll(m);

            sw->port[out].ops->flush(sw->port[out].ctx);
        }
        sw->dirty = 0;
    }
    sw->next_port = np ? (sw->next_port + 1) % np : 0;
    return n;
}

unsigned net_switch_poll(struct net_switch *sw, uint64_t now_ns)
{
    sw->now_ns = now_ns;
    return visit(sw, sw->budget);
}

void net_switch_set_clock(struct net_switch *sw, uint64_t (*now_ns)(void))
{
    sw->clock = now_ns;
}

unsigned net_switch_service(void *ctx, unsigned budget)
{
    struct net_switch *sw = ctx;

    if (sw->clock)
        sw->now_ns = sw->clock();
    return visit(sw, budget ? budget : sw->budget);
}
