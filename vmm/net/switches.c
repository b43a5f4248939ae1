/* SPDX-License-Identifier: MIT */
/*
 * The running switches behind vmm/net/switches.h: created at boot from the
 * configuration, each with its uplink's buffers allocated once, then handed
 * to a sidecore or polled by vCPUs under a lock.
 */
#include "vmm/net/switches.h"

#include "drivers/net/nic.h"
#include "kernel/console/console.h"
#include "kernel/console/log.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/str.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pmm.h"
#include "kernel/time/clock.h"

/* Uplink buffers: one ring's worth each way (a ring holds one less). */
#define UPLINK_RX_BUFS (NIC_RING_SIZE - 1)
#define UPLINK_TX_BUFS NIC_RING_SIZE
#define UPLINK_QUEUE   0

static struct net_switch_slot *slots[GUEST_SWITCHES_MAX];
static unsigned nslots;

static void *alloc_zeroed(size_t bytes)
{
    size_t pages = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
    void *p = (void *)(uintptr_t)pmm_alloc_pages(pages);

    if (p)
        memset(p, 0, pages * PAGE_SIZE);
    return p;
}

static void add_uplink(struct net_switch_slot *s, unsigned index)
{
    struct nic *n = nic_get(index);
    const char *why = NULL;

    if (!n) {
        log_error("switch %s: uplink nic:%u: no such NIC; the switch runs without it", s->name,
                  index);
        return;
    }
    const char *holder = NULL;
    /* One poller per queue pair: the switch's sidecore from now on (a
     * later `nettest` on this NIC is refused instead of racing it). */
    if (!nic_queue_claim(n, UPLINK_QUEUE, s->label, &holder)) {
        log_error("switch %s: uplink nic:%u: its queue %u is taken (%s); the switch runs without "
                  "it",
                  s->name, index, UPLINK_QUEUE, holder);
        return;
    }
    struct net_nic_port *np = alloc_zeroed(sizeof(*np));
    uint8_t *mem = alloc_zeroed((size_t)(UPLINK_RX_BUFS + UPLINK_TX_BUFS) * NET_NIC_BUF_SIZE);
    fmt_snprintf(s->uplink_name, sizeof(s->uplink_name), "nic%u", index);
    if (!np || !mem) {
        why = "out of memory for its buffers";
    } else if (!net_nic_port_init(np, &net_nic_driver_ops, n, UPLINK_QUEUE, mem, UPLINK_RX_BUFS,
                                  UPLINK_TX_BUFS)) {
        why = "cannot set up its queue pair";
    } else if (!net_nic_port_attach(np, &s->sw, s->uplink_name, &why)) {
        /* why set */
    }
    if (why) {
        log_error("switch %s: uplink nic:%u: %s; the switch runs without it", s->name, index, why);
        return;
    }
    s->nic = (int)index;
    s->uplink = np;
    log_info("switch %s: uplink nic%u (%s), queue %u", s->name, index, nic_chip_name(n),
             UPLINK_QUEUE);
}

void net_switches_create(const struct guest_config_set *set)
{
    for (unsigned i = 0; i < set->nswitches && nslots < GUEST_SWITCHES_MAX; i++) {
        const struct guest_switch_config *c = &set->switches[i];
        if (!c->nguests)
            continue; /* declared, but no guest is on it */
        struct net_switch_slot *s = alloc_zeroed(sizeof(*s));
        if (!s) {
            log_error("switch %s: out of memory; its guests' network devices fail", c->name);
            continue;
        }
        str_copy(s->name, c->name, sizeof(s->name));
        net_switch_init(&s->sw, s->name, 0);
        net_switch_set_clock(&s->sw, clock_uptime_ns);
        s->trap = c->trap;
        s->lock = (struct spinlock)SPINLOCK_INIT;
        s->nic = -1;
        fmt_snprintf(s->label, sizeof(s->label), "switch %s", s->name);
        if (c->uplink_nic >= 0)
            add_uplink(s, (unsigned)c->uplink_nic);
        slots[nslots++] = s;
    }
}

struct net_switch_slot *net_switches_find(const char *name)
{
    for (unsigned i = 0; i < nslots; i++) {
        if (strcmp(slots[i]->name, name) == 0)
            return slots[i];
    }
    return NULL;
}

bool net_switch_slot_to_sidecore(struct net_switch_slot *s, unsigned socket)
{
    if (!s->sq)
        s->sq = sidecore_add_queue(socket, net_switch_service, &s->sw, s->label);
    return s->sq != NULL;
}

unsigned net_switch_slot_trap_poll(struct net_switch_slot *s)
{
    spin_lock(&s->lock);
    s->trap_polls++;
    unsigned n = net_switch_service(&s->sw, 0);
    spin_unlock(&s->lock);
    return n;
}

/* ---- statistics ---- */

static void print_uplink(const struct net_switch_slot *s)
{
    const struct nic *n = nic_get((unsigned)s->nic);
    const struct nic_queue_counters *c = n ? nic_queue_counters(n, UPLINK_QUEUE) : NULL;
    const struct net_nic_port_stats *ps = &s->uplink->stats;

    if (!c)
        return;
    console_printf(
        "nicq nic=%d queue=%u switch=%s rx_packets=%lu rx_bytes=%lu rx_errors=%lu "
        "tx_packets=%lu tx_bytes=%lu tx_ring_full=%lu tail_writes=%lu "
        "port_rx_errors=%lu tx_too_big=%lu tx_no_buffer=%lu tx_submits=%lu "
        "tx_csum_done=%lu\n",
        s->nic, UPLINK_QUEUE, s->name, (unsigned long)c->rx_packets, (unsigned long)c->rx_bytes,
        (unsigned long)c->rx_errors, (unsigned long)c->tx_packets, (unsigned long)c->tx_bytes,
        (unsigned long)c->tx_ring_full, (unsigned long)c->tail_writes, (unsigned long)ps->rx_errors,
        (unsigned long)ps->tx_too_big, (unsigned long)ps->tx_no_buffer,
        (unsigned long)ps->tx_submits, (unsigned long)ps->tx_csum_done);
}

void net_switches_print_stats(void)
{
    for (unsigned i = 0; i < nslots; i++) {
        const struct net_switch_slot *s = slots[i];
        const struct net_switch *sw = &s->sw;
        console_printf("switch name=%s io=%s ports=%u uplink=%s table_evictions=%lu "
                       "trap_polls=%lu busy_polls=%lu idle_polls=%lu\n",
                       s->name, s->trap ? "trap" : "sidecore", sw->nports,
                       s->uplink ? s->uplink_name : "none", (unsigned long)sw->table_evictions,
                       (unsigned long)s->trap_polls,
                       (unsigned long)(s->sq ? s->sq->stats.busy_polls : 0),
                       (unsigned long)(s->sq ? s->sq->stats.idle_polls : 0));
        for (unsigned p = 0; p < sw->nports; p++) {
            const struct net_switch_port *pt = &sw->port[p];
            const struct net_port_stats *st = &pt->stats;
            console_printf(
                "switchport switch=%s port=%u name=%s uplink=%u rx=%lu rx_bytes=%lu "
                "tx=%lu tx_bytes=%lu drops=%lu filtered=%lu flooded=%lu\n",
                s->name, p, pt->name ? pt->name : "?", pt->uplink ? 1u : 0u, (unsigned long)st->rx,
                (unsigned long)st->rx_bytes, (unsigned long)st->tx, (unsigned long)st->tx_bytes,
                (unsigned long)st->drops, (unsigned long)st->filtered, (unsigned long)st->flooded);
        }
        if (s->uplink)
            print_uplink(s);
    }
}
