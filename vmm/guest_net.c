/* SPDX-License-Identifier: MIT */
/*
 * A guest's network devices behind vmm/guest_net.h: each `net =` line's
 * virtio-net device, attached to its switch as a port and put on the
 * guest's PCI bus through the shared virtio layer.
 */
#include "vmm/guest_net.h"

#include "kernel/config/hv_config.h"
#include "kernel/console/console.h"
#include "kernel/console/log.h"
#include "kernel/cpu/percpu.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pmm.h"
#include "kernel/time/clock.h"
#include "virtio/virtio_net.h"
#include "vmm/guest.h"
#include "vmm/guest_virtio.h"
#include "vmm/net/nic_port.h"
#include "vmm/net/switches.h"
#include "vmm/net/virtio_port.h"

#define PCI_CLASS_NETWORK_ETHERNET 0x020000u

_Static_assert(GUEST_NET_QUEUES_MAX <= VIRTIO_NET_MAX_PAIRS, "net_queues fits the transport");
_Static_assert(GUEST_MAC_LEN == NET_ETH_ALEN, "a MAC is a MAC");

struct guest_net;

/* A queue as the virtio layer's gate sees it: in trap mode its service is
 * a poll of the whole switch. */
struct guest_net_queue {
    struct guest_net *n;
    void *dev_queue; /* virtio_net_queue() */
};

struct guest_net {
    struct guest_virtio vd; /* first: the layer's signal context is the device */
    struct guest *g;
    const struct guest_net_spec *spec;
    struct net_switch_slot *slot;
    struct vmem mem;
    struct net_virtio_port port;
    char name[GUEST_NAME_LEN + 16];      /* "guest web0 net0", for messages */
    char port_name[GUEST_NAME_LEN + 16]; /* "web0/net0": one word in `stats` */
    char mac[18];
    struct guest_net_queue q[VIRTIO_PCI_MAX_QUEUES];
    struct net_coalesce_params coalesce; /* from [hypervisor] coalesce_* */
    struct virtio_net net;               /* about 242 KiB */
};

static void net_signal(void *ctx, unsigned q)
{
    struct guest_net *n = ctx;

    guest_virtio_signal(&n->vd, q);
}

/* The device is broken until the guest resets it (from the switch's owner). */
static void net_broken(void *ctx)
{
    struct guest_net *n = ctx;

    guest_virtio_broken(&n->vd, n->net.error[0] ? n->net.error : "malformed chain");
}

static const char *net_reset_problem(void *dev)
{
    const struct virtio_net *d = dev;

    return d->error;
}

static void *net_queue(void *dev, unsigned q)
{
    struct guest_net *n = (struct guest_net *)((char *)dev - offsetof(struct guest_net, net));

    return q < VIRTIO_PCI_MAX_QUEUES ? &n->q[q] : NULL;
}

/* Trap mode only (in sidecore mode the gate never services a queue and
 * the layer gives no queue to a sidecore: the switch is the sidecore's).
 * Whatever queue was notified, the switch is polled: the frames this
 * guest sent go to other guests' RX queues, which are published (and
 * interrupted) in the same visit. */
static unsigned net_queue_service(void *queue, unsigned budget)
{
    struct guest_net_queue *q = queue;

    return net_switch_slot_trap_poll(q->n->slot);
}

static unsigned guest_socket(const struct guest *g)
{
    struct percpu *p = cpu_by_index(g->cpus[0]);

    return p ? p->topo.socket : 0;
}

static void format_mac(char *buf, size_t size, const uint8_t *m)
{
    fmt_snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static bool net_create(struct guest *g, unsigned index, char *why, size_t why_size)
{
    const struct guest_net_spec *spec = &g->cfg.nets[index];
    size_t pages = (sizeof(struct guest_net) + PAGE_SIZE - 1) / PAGE_SIZE;
    struct guest_net *n = (struct guest_net *)(uintptr_t)pmm_alloc_pages(pages);
    unsigned pairs = guest_net_queues(&g->cfg);
    const char *err = NULL;

    if (!n) {
        fmt_snprintf(why, why_size, "out of memory for its network device");
        return false;
    }
    memset(n, 0, sizeof(*n));
    n->g = g;
    n->spec = spec;
    n->slot = net_switches_find(spec->sw);
    n->mem = (struct vmem){.base = (uint8_t *)(uintptr_t)g->mem_hpa, .size = g->mem_size};
    fmt_snprintf(n->name, sizeof(n->name), "guest %s net%u", g->cfg.name, index);
    fmt_snprintf(n->port_name, sizeof(n->port_name), "%s/net%u", g->cfg.name, index);
    format_mac(n->mac, sizeof(n->mac), spec->mac);
    if (!n->slot) {
        fmt_snprintf(why, why_size, "net = %s: the switch could not be set up", spec->sw);
        return false;
    }
    bool polled = g->cfg.io == GUEST_IO_SIDECORE;
    if (polled == n->slot->trap) {
        fmt_snprintf(why, why_size, "net = %s: the switch is served the other way", spec->sw);
        return false;
    }
    struct virtio_net_params p = {
        .pairs = pairs,
        .name = n->name,
        .mem = &n->mem,
        .polled = polled,
        .signal = net_signal,
        .broken = net_broken,
        .ctx = n,
        .tx = net_virtio_port_tx,
        .tx_ctx = &n->port,
    };
    /* Behind an uplink the wire's MTU holds: the NIC takes no frame over
     * NET_NIC_MAX_FRAME (no jumbo frames, no TSO), so the guest is told
     * (VIRTIO_NET_F_MTU) rather than left to find its big frames dropped. */
    if (n->slot->uplink)
        p.mtu = NET_NIC_MAX_FRAME - NET_ETH_HLEN;
    memcpy(p.mac, spec->mac, NET_ETH_ALEN);
    if (polled && !g->cfg.coalescing_off) { /* trap mode never coalesces */
        const struct coalesce_params *cp = hv_config_coalesce();

        net_coalesce_params_default(&n->coalesce, cp->epoch_ns, cp->time_cap_ns);
        n->coalesce.min_rate = cp->net_min_rate;
        p.coalesce = &n->coalesce;
        p.now_ns = clock_uptime_ns;
    }
    if (!virtio_net_init(&n->net, &p, why, why_size))
        return false;
    for (unsigned i = 0; i < n->net.num_queues; i++)
        n->q[i] = (struct guest_net_queue){.n = n, .dev_queue = virtio_net_queue(&n->net, i)};
    if (!net_virtio_port_attach(&n->port, &n->slot->sw, &n->net, n->port_name, &err)) {
        fmt_snprintf(why, why_size, "net = %s: cannot join the switch: %s", spec->sw, err);
        return false;
    }
    if (polled && !net_switch_slot_to_sidecore(n->slot, guest_socket(g))) {
        fmt_snprintf(why, why_size,
                     "io = sidecore, but no I/O sidecore can take switch %s ([hypervisor] "
                     "sidecores, or use io = trap)",
                     spec->sw);
        return false;
    }
    struct guest_virtio_device dev = {
        .kind = "net",
        .device_type = VIRTIO_ID_NET,
        .class_code = PCI_CLASS_NETWORK_ETHERNET,
        .features = n->net.features,
        .num_queues = n->net.num_queues,
        .queue_size = VIRTIO_NET_QUEUE_SIZE,
        .config_size = VIRTIO_NET_CONFIG_SIZE,
        .queues = n->net.vqs,
        .ops = &virtio_net_pci_ops,
        .dev = &n->net,
        .queue = net_queue,
        .service = net_queue_service,
        .inflight = NULL, /* nothing is ever owed later */
        .reset_problem = net_reset_problem,
        .self_polled = true,
    };
    if (!guest_virtio_create(&n->vd, g, &dev, why, why_size))
        return false;
    g->nets[g->nnets++] = n;
    log_info("guest %s: net %u on switch %s, mac %s, virtio-net at 00:%02x.0, %u queue pair(s), "
             "io=%s",
             g->cfg.name, index, spec->sw, n->mac, n->vd.pci_dev, pairs,
             polled ? "sidecore" : "trap");
    return true;
}

bool guest_nets_create(struct guest *g, char *why, size_t why_size)
{
    for (unsigned i = 0; i < g->cfg.nnets; i++) {
        if (!net_create(g, i, why, why_size))
            return false;
    }
    return true;
}

/* ---- statistics ---- */

static uint64_t gate_exits(const struct guest_virtio *vd, unsigned q)
{
    return q < vd->d.num_queues ? __atomic_load_n(&vd->q[q].gate.io_exits, __ATOMIC_RELAXED) : 0;
}

static void print_net_stats(struct guest *g, struct guest_net *n)
{
    const struct guest_virtio *vd = &n->vd;
    const struct virtio_net *d = &n->net;

    console_printf("net guest=%s net=%u switch=%s mac=%s io=%s pairs=%u active_pairs=%u "
                   "interrupts=%s state=%s msi=%lu msi_posted=%lu msi_kicked=%lu msi_local=%lu "
                   "msi_dropped=%lu notify_exits=%lu ctrl_commands=%lu ctrl_errors=%lu\n",
                   g->cfg.name, vd->index, n->spec->sw, n->mac, vd->polled ? "sidecore" : "trap",
                   d->p.pairs, d->active_pairs, guest_virtio_irq_mode(vd),
                   d->needs_reset ? "needs-reset" : "ok", (unsigned long)vd->msi,
                   (unsigned long)vd->msi_posted, (unsigned long)vd->msi_kicked,
                   (unsigned long)vd->msi_local, (unsigned long)vd->msi_dropped,
                   (unsigned long)guest_virtio_notify_exits(vd), (unsigned long)d->ctrl_commands,
                   (unsigned long)d->ctrl_errors);
    for (unsigned i = 0; i < d->p.pairs; i++) {
        const struct virtio_net_pair_stats *s = &d->pair[i].stats;
        const struct net_coalesce *rc = &d->pair[i].rx.co, *tc = &d->pair[i].tx.co;
        uint64_t kicks = gate_exits(vd, virtio_net_rxq(i)) + gate_exits(vd, virtio_net_txq(i));
        uint64_t tx_chains = s->tx_packets + s->tx_drops;
        bool co = d->p.coalesce && d->p.polled;
        /* The coalescing fields (vmm/sidecore/net_coalesce.h) are 1000 and 0
         * when coalescing is off or the guest is in trap mode. */
        console_printf(
            "netq guest=%s net=%u queue=%u rx_packets=%lu tx_packets=%lu rx_bytes=%lu "
            "tx_bytes=%lu drops=%lu rx_drops=%lu tx_drops=%lu rx_filtered=%lu kicks=%lu "
            "interrupts=%lu rx_interrupts=%lu tx_interrupts=%lu rx_coalesce_r=%u "
            "tx_coalesce_r=%u rx_interrupts_per_packet=%lu tx_interrupts_per_packet=%lu "
            "coalesce_held=%lu coalesce_released_cap=%lu coalesce_released_idle=%lu "
            "coalesce_released_starved=%lu coalesce_steps_down=%lu coalesce_steps_back=%lu\n",
            g->cfg.name, vd->index, i, (unsigned long)s->rx_packets, (unsigned long)s->tx_packets,
            (unsigned long)s->rx_bytes, (unsigned long)s->tx_bytes,
            (unsigned long)(s->rx_drops + s->tx_drops), (unsigned long)s->rx_drops,
            (unsigned long)s->tx_drops, (unsigned long)s->rx_filtered, (unsigned long)kicks,
            (unsigned long)(s->rx_interrupts + s->tx_interrupts), (unsigned long)s->rx_interrupts,
            (unsigned long)s->tx_interrupts, co ? net_coalesce_ratio_permille(rc) : 1000u,
            co ? net_coalesce_ratio_permille(tc) : 1000u,
            (unsigned long)(s->rx_packets ? s->rx_interrupts * 1000 / s->rx_packets : 0),
            (unsigned long)(tx_chains ? s->tx_interrupts * 1000 / tx_chains : 0),
            (unsigned long)(rc->held_count + tc->held_count),
            (unsigned long)(rc->released_cap + tc->released_cap),
            (unsigned long)(rc->released_idle + tc->released_idle),
            (unsigned long)(rc->released_starved + tc->released_starved),
            (unsigned long)(rc->steps_down + tc->steps_down),
            (unsigned long)(rc->steps_back + tc->steps_back));
    }
}

void guest_nets_print_stats(struct guest *g)
{
    for (unsigned i = 0; i < g->nnets; i++)
        print_net_stats(g, g->nets[i]);
}
