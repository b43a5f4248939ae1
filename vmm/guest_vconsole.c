/* SPDX-License-Identifier: MIT */
/*
 * A guest's virtio console behind vmm/guest_vconsole.h: the device, its
 * place on the shared virtio layer (both queues given to a sidecore), its
 * output into the guest's console buffer, and its `stats` line.
 */
#include "vmm/guest_vconsole.h"

#include "kernel/console/console.h"
#include "kernel/console/console_async.h"
#include "kernel/console/log.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pmm.h"
#include "virtio/virtio_console.h"
#include "vmm/guest.h"
#include "vmm/guest_virtio.h"

#define PCI_CLASS_COMMUNICATION_OTHER 0x078000u
#define VCONS_OUT_RING                16384u /* a power of two */

struct guest_vconsole {
    struct guest_virtio vd; /* first: the layer's signal context is the device */
    struct guest *g;
    struct vmem mem;
    char name[GUEST_NAME_LEN + 16]; /* "guest web0 console", for messages */
    struct virtio_console dev;
    /* Output on its way to the console CPU: the sidecore fills, vmm_poll drains. */
    uint32_t out_head, out_tail;
    uint64_t out_dropped; /* bytes that found the ring full (sidecore) */
    char out_ring[VCONS_OUT_RING];
};

/* The bytes the guest wrote, already copied out of its memory (sidecore). */
static void vcons_out(void *ctx, const char *p, uint32_t n)
{
    struct guest_vconsole *c = ctx;
    uint32_t head = c->out_head;
    uint32_t room = VCONS_OUT_RING - (head - __atomic_load_n(&c->out_tail, __ATOMIC_ACQUIRE));
    uint32_t take = n < room ? n : room;

    for (uint32_t i = 0; i < take; i++)
        c->out_ring[(head + i) % VCONS_OUT_RING] = p[i];
    c->out_dropped += n - take;
    __atomic_store_n(&c->out_head, head + take, __ATOMIC_RELEASE);
    if (take)
        console_async_kick(); /* at most one wake-up IPI until the console CPU runs */
}

void guest_vconsole_drain(struct guest *g)
{
    struct guest_vconsole *c = g->vconsole;

    if (!c)
        return;
    uint32_t tail = c->out_tail;
    uint32_t head = __atomic_load_n(&c->out_head, __ATOMIC_ACQUIRE);

    while (tail != head) {
        uint32_t at = tail % VCONS_OUT_RING;
        uint32_t n = head - tail < VCONS_OUT_RING - at ? head - tail : VCONS_OUT_RING - at;

        guest_console_write(g, &c->out_ring[at], n);
        tail += n;
    }
    __atomic_store_n(&c->out_tail, tail, __ATOMIC_RELEASE);
}

static void vcons_signal(void *ctx, unsigned q)
{
    struct guest_vconsole *c = ctx;

    guest_virtio_signal(&c->vd, q);
}

static void vcons_broken(void *ctx)
{
    struct guest_vconsole *c = ctx;

    guest_virtio_broken(&c->vd, c->dev.error[0] ? c->dev.error : "malformed chain");
}

static const char *vcons_reset_problem(void *dev)
{
    const struct virtio_console *d = dev;

    return d->error;
}

bool guest_vconsole_create(struct guest *g, char *why, size_t why_size)
{
    if (!g->cfg.virtio_console)
        return true;
    if (g->cfg.io != GUEST_IO_SIDECORE) {
        fmt_snprintf(why, why_size, "virtio_console = on needs io = sidecore");
        return false;
    }
    size_t pages = (sizeof(struct guest_vconsole) + PAGE_SIZE - 1) / PAGE_SIZE;
    struct guest_vconsole *c = (struct guest_vconsole *)(uintptr_t)pmm_alloc_pages(pages);

    if (!c) {
        fmt_snprintf(why, why_size, "out of memory for its virtio console");
        return false;
    }
    memset(c, 0, sizeof(*c));
    c->g = g;
    c->mem = (struct vmem){.base = (uint8_t *)(uintptr_t)g->mem_hpa, .size = g->mem_size};
    fmt_snprintf(c->name, sizeof(c->name), "guest %s console", g->cfg.name);
    struct virtio_console_params p = {
        .name = c->name,
        .mem = &c->mem,
        .polled = true,
        .signal = vcons_signal,
        .broken = vcons_broken,
        .ctx = c,
        .out = vcons_out,
        .out_ctx = c,
    };
    if (!virtio_console_init(&c->dev, &p, why, why_size))
        return false;
    struct guest_virtio_device dev = {
        .kind = "console",
        .device_type = VIRTIO_ID_CONSOLE,
        .class_code = PCI_CLASS_COMMUNICATION_OTHER,
        .features = c->dev.features,
        .num_queues = VIRTIO_CONSOLE_QUEUES,
        .queue_size = VIRTIO_CONSOLE_QUEUE_SIZE,
        .config_size = VIRTIO_CONSOLE_CONFIG_SIZE,
        .queues = c->dev.vqs,
        .ops = &virtio_console_pci_ops,
        .dev = &c->dev,
        .queue = virtio_console_queue,
        .service = virtio_console_queue_service,
        .inflight = NULL, /* nothing is ever owed later */
        .reset_problem = vcons_reset_problem,
    };
    if (!guest_virtio_create(&c->vd, g, &dev, why, why_size))
        return false;
    g->vconsole = c;
    log_info("guest %s: virtio console at 00:%02x.0, io=sidecore", g->cfg.name, c->vd.pci_dev);
    return true;
}

bool guest_vconsole_input(struct guest *g, uint8_t c)
{
    struct guest_vconsole *vc = g->vconsole;

    if (!vc || !virtio_console_rx_ready(&vc->dev))
        return false;
    virtio_console_input(&vc->dev, c);
    return true;
}

void guest_vconsole_print_stats(struct guest *g)
{
    const struct guest_vconsole *c = g->vconsole;

    if (!c)
        return;
    const struct guest_virtio *vd = &c->vd;
    const struct virtio_console_stats *s = &c->dev.stats;
    console_printf(
        "vconsole guest=%s io=sidecore state=%s tx_bytes=%lu tx_chains=%lu "
        "tx_truncated=%lu out_dropped=%lu rx_bytes=%lu rx_chains=%lu in_dropped=%lu "
        "interrupts=%lu kicks=%lu msi=%lu msi_posted=%lu msi_kicked=%lu\n",
        g->cfg.name, c->dev.needs_reset ? "needs-reset" : "ok", (unsigned long)s->tx_bytes,
        (unsigned long)s->tx_chains, (unsigned long)s->tx_truncated, (unsigned long)c->out_dropped,
        (unsigned long)s->rx_bytes, (unsigned long)s->rx_chains, (unsigned long)s->in_dropped,
        (unsigned long)s->interrupts, (unsigned long)guest_virtio_notify_exits(vd),
        (unsigned long)vd->msi, (unsigned long)vd->msi_posted, (unsigned long)vd->msi_kicked);
}
