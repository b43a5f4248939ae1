/* SPDX-License-Identifier: MIT */
/*
 * The shared virtio layer behind vmm/guest_virtio.h: a virtio device's
 * place on the guest's PCI bus, its notify gate, who services its queues,
 * and its interrupts.
 */
#include "vmm/guest_virtio.h"

#include "kernel/console/console.h"
#include "kernel/console/console_async.h"
#include "kernel/console/log.h"
#include "kernel/cpu/percpu.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pmm.h"
#include "kernel/time/clock.h"
#include "vmm/ept.h"
#include "vmm/guest.h"
#include "vmm/guest_apic.h"

/* ---- interrupts ---- */

static void deliver_msi(void *ctx, uint64_t address, uint32_t data)
{
    struct guest_virtio *vd = ctx;

    __atomic_fetch_add(&vd->msi, 1, __ATOMIC_RELAXED);
    switch (guest_apic_msi(vd->g, address, data)) {
    case GUEST_MSI_POSTED: __atomic_fetch_add(&vd->msi_posted, 1, __ATOMIC_RELAXED); break;
    case GUEST_MSI_KICKED: __atomic_fetch_add(&vd->msi_kicked, 1, __ATOMIC_RELAXED); break;
    case GUEST_MSI_LOCAL: __atomic_fetch_add(&vd->msi_local, 1, __ATOMIC_RELAXED); break;
    case GUEST_MSI_DROPPED: __atomic_fetch_add(&vd->msi_dropped, 1, __ATOMIC_RELAXED); break;
    }
}

void guest_virtio_signal(void *ctx, unsigned q)
{
    struct guest_virtio *vd = ctx;

    virtio_pci_signal_queue(&vd->pci, q);
}

void guest_virtio_broken(struct guest_virtio *vd, const char *why)
{
    /* From the queue's servicer (a sidecore), so nothing is printed here.
     * The line used to be queued on the console ring, which drops what does
     * not fit: with other guests' output filling it, a breakage could set
     * NEEDS_RESET and say nothing. The report is latched instead and the
     * console prints it (next_broken_line); posted before the status is
     * set, so it comes out before anything the guest says about it. */
    latched_report_post(&vd->broken, why);
    virtio_pci_set_needs_reset(&vd->pci);
    console_async_kick();
}

/* The console's report source (console_set_report_source), under the
 * console lock: the next device with breakages not yet reported, as one
 * line. At most CONSOLE_RATELIMIT_BURST lines a second per device, so a
 * guest breaking and resetting its device in a loop cannot flood the
 * console; what waits is counted into the device's next line. */
static size_t next_broken_line(char *line, size_t cap)
{
    char why[LATCHED_REPORT_WHY_MAX];
    uint64_t events, suppressed;

    for (unsigned i = 0; i < guest_count(); i++) {
        struct guest *g = guest_at(i);
        for (unsigned k = 0; g && k < g->nvirtio; k++) {
            struct guest_virtio *vd = g->virtio[k];
            if (!latched_report_pending(&vd->broken) ||
                !ratelimit_allow(&vd->broken_rl, clock_uptime_ns() + 1, &suppressed) ||
                !latched_report_take(&vd->broken, why, sizeof(why), &events))
                continue;
            int n = fmt_snprintf(line, cap,
                                 "sidecore: guest %s: %s %u broken: %s; the device needs a reset "
                                 "by the guest, everything else keeps running",
                                 g->cfg.name, vd->d.kind, vd->index, why[0] ? why : "no reason");
            if (events > 1 && n > 0 && (size_t)n < cap)
                n += fmt_snprintf(line + n, cap - (size_t)n, " (%lu breakages since the last line)",
                                  (unsigned long)events);
            if (n < 0)
                return 0;
            if ((size_t)n >= cap - 1)
                n = (int)cap - 2;
            line[n++] = '\n';
            line[n] = '\0';
            return (size_t)n;
        }
    }
    return 0;
}

/* ---- the notify gate ---- */

/* Every notification that reaches the hypervisor comes here, whichever way
 * the guest wrote it (the BAR's notify region wherever the BAR is, or the
 * PCI_CFG window through ECAM or 0xCFC): the transport's notify_write is
 * the only caller. It runs on the notifying vCPU with the guest's device
 * lock held, so it never services a queue itself (guest_virtio_after_exit
 * does, in trap mode). */
/* The exit being handled on this CPU is a notification: stats.exits_io of
 * the vCPU that owns the CPU (each vCPU has its core to itself). */
static void mark_notify_exit(struct guest *g)
{
    uint32_t cpu = this_cpu()->index;

    for (uint32_t i = 0; g->vcpus && i < g->nvcpus; i++) {
        if (g->vcpus[i].cpu == cpu) {
            __atomic_store_n(&g->vcpus[i].io_notified, true, __ATOMIC_RELAXED);
            return;
        }
    }
}

static void notify_gate(void *ctx, unsigned qi)
{
    struct guest_virtio *vd = ctx;

    mark_notify_exit(vd->g);
    if (qi < vd->d.num_queues && virtio_gate_notify(&vd->q[qi].gate))
        __atomic_store_n(&vd->any_notified, 1, __ATOMIC_RELEASE);
}

void guest_virtio_after_exit(struct vcpu *v)
{
    struct guest *g = v->guest;

    for (unsigned i = 0; i < g->nvirtio; i++) {
        struct guest_virtio *vd = g->virtio[i];
        if (!__atomic_exchange_n(&vd->any_notified, 0, __ATOMIC_ACQ_REL))
            continue;
        for (unsigned k = 0; k < vd->d.num_queues; k++)
            virtio_gate_service(&vd->q[k].gate, true, true);
    }
}

bool guest_virtio_poll(struct vcpu *v)
{
    struct guest *g = v->guest;
    bool owed = false;

    for (unsigned i = 0; i < g->nvirtio; i++) {
        struct guest_virtio *vd = g->virtio[i];
        if (vd->polled || !vd->d.inflight)
            continue;
        for (unsigned k = 0; k < vd->d.num_queues; k++) {
            struct guest_virtio_queue *q = &vd->q[k];
            if (!vd->d.inflight(q->ctx))
                continue;
            virtio_gate_service(&q->gate, false, false);
            owed |= vd->d.inflight(q->ctx);
        }
    }
    return owed;
}

/* ---- the BAR ---- */

static bool bar_address(void *ctx, uint64_t *gpa)
{
    struct guest_virtio *vd = ctx;

    return virtio_pci_bar_address(&vd->pci, gpa);
}

static uint64_t bar_read(void *ctx, uint64_t offset, unsigned size)
{
    struct guest_virtio *vd = ctx;

    return virtio_pci_bar_read(&vd->pci, offset, size);
}

static void bar_write(void *ctx, uint64_t offset, unsigned size, uint64_t value)
{
    struct guest_virtio *vd = ctx;

    virtio_pci_bar_write(&vd->pci, offset, size, value);
}

static const struct guest_pci_bar_ops virtio_bar_ops = {
    .address = bar_address,
    .read = bar_read,
    .write = bar_write,
};

/* ---- the notify page follows the BAR ---- */

/* Sidecore mode: the notify page is plain memory where the guest's BAR
 * puts the notify region, and nowhere else. When the guest moves the BAR
 * or turns memory decoding off, the page leaves the old place (which then
 * reads all ones, as an empty stretch of the PCI window does) and, if the
 * new place is inside the window, appears there; elsewhere notifies trap
 * and reach the gate. The vCPUs flush their cached translations before
 * their next entry; until then a stale one only reaches the same page,
 * which is never freed. A configuration write, under the device lock. */
static void notify_follow_bar(void *ctx)
{
    struct guest_virtio *vd = ctx;
    struct guest *g = vd->g;
    uint64_t base, want = 0;

    if (!vd->polled || !vd->notify_hpa)
        return;
    if (virtio_pci_bar_address(&vd->pci, &base) && base >= GUEST_PCI_MMIO_BASE &&
        base + VIRTIO_PCI_BAR_SIZE <= (uint64_t)GUEST_PCI_MMIO_BASE + GUEST_PCI_MMIO_SIZE)
        want = base + VIRTIO_PCI_NOTIFY_OFFSET;
    if (want == vd->notify_gpa)
        return;
    if (vd->notify_gpa && ept_unmap(g->slat, vd->notify_gpa, PAGE_SIZE) != EPT_OK)
        return; /* still mapped where it was: notifies there cost nothing */
    vd->notify_gpa = 0;
    if (want &&
        ept_map(g->slat, want, vd->notify_hpa, PAGE_SIZE, EPT_R | EPT_W, EPT_MT_WB) == EPT_OK)
        vd->notify_gpa = want;
    vd->notify_moves++;
    for (uint32_t i = 0; i < g->nvcpus; i++) {
        __atomic_store_n(&g->vcpus[i].slat_flush, true, __ATOMIC_RELEASE);
        vcpu_kick(&g->vcpus[i]);
    }
}

/* ---- creation and reset ---- */

/* The function's configuration space, rebuilt at every reset. */
static bool transport_build(struct guest_virtio *vd)
{
    struct virtio_pci_params p = {
        .device_type = vd->d.device_type,
        .class_code = vd->d.class_code,
        .features = vd->d.features,
        .num_queues = vd->d.num_queues,
        .queue_size = vd->d.queue_size,
        .config_size = vd->d.config_size,
        .bar_gpa = vd->bar_gpa,
        .pci_dev = vd->pci_dev,
        .queues = vd->d.queues,
        .ops = vd->d.ops,
        .dev_ctx = vd->d.dev,
        .notify = notify_gate,
        .notify_ctx = vd,
        .bar_changed = notify_follow_bar,
        .msi = deliver_msi,
        .msi_ctx = vd,
    };
    virtio_pci_init(&vd->pci, &p);
    notify_follow_bar(vd); /* decoding is off after a reset */
    return virtio_pci_attach(&vd->pci, &vd->g->pci.host);
}

/* Sidecore mode: the notification page becomes plain memory where the
 * guest puts the BAR (notify_follow_bar), so its notify writes land there
 * without an exit (nobody reads them: the sidecore polls the rings). The
 * page's tables are made now, where firmware puts the BAR, so the common
 * case needs no allocation later. */
static bool alloc_notify_page(struct guest_virtio *vd, char *why, size_t why_size)
{
    vd->notify_hpa = pmm_alloc_pages(1);
    if (!vd->notify_hpa) {
        fmt_snprintf(why, why_size, "out of memory for a notification page");
        return false;
    }
    memset((void *)(uintptr_t)vd->notify_hpa, 0, PAGE_SIZE);
    uint64_t at = vd->bar_gpa + VIRTIO_PCI_NOTIFY_OFFSET;
    enum ept_status st =
        ept_map(vd->g->slat, at, vd->notify_hpa, PAGE_SIZE, EPT_R | EPT_W, EPT_MT_WB);
    if (st != EPT_OK) {
        fmt_snprintf(why, why_size, "cannot map its notification page: %s", ept_status_name(st));
        return false;
    }
    vd->notify_gpa = at; /* until the transport says decoding is off */
    return true;
}

static unsigned guest_socket(const struct guest *g)
{
    struct percpu *p = cpu_by_index(g->cpus[0]);

    return p ? p->topo.socket : 0;
}

static bool attach_sidecores(struct guest_virtio *vd, char *why, size_t why_size)
{
    for (unsigned i = 0; i < vd->d.num_queues; i++) {
        struct guest_virtio_queue *q = &vd->q[i];
        q->sq = sidecore_add_queue(guest_socket(vd->g), vd->d.service, q->ctx, q->label);
        if (!q->sq) {
            fmt_snprintf(why, why_size,
                         "io = sidecore, but no I/O sidecore can take its queue %u "
                         "([hypervisor] sidecores, or use io = trap)",
                         i);
            return false;
        }
    }
    return true;
}

bool guest_virtio_create(struct guest_virtio *vd, struct guest *g,
                         const struct guest_virtio_device *dev, char *why, size_t why_size)
{
    if (g->nvirtio >= GUEST_PCI_MAX_DEVICES || dev->num_queues == 0 ||
        dev->num_queues > VIRTIO_PCI_MAX_QUEUES || !dev->ops || !dev->queue || !dev->service) {
        fmt_snprintf(why, why_size, "too many devices, or a device without its operations");
        return false;
    }
    vd->g = g;
    vd->d = *dev;
    vd->broken_rl =
        (struct ratelimit)RATELIMIT_INIT(CONSOLE_RATELIMIT_BURST, CONSOLE_RATELIMIT_WINDOW_NS);
    vd->index = g->nvirtio;
    vd->polled = g->cfg.io == GUEST_IO_SIDECORE;
    for (unsigned i = 0; i < dev->num_queues; i++) {
        struct guest_virtio_queue *q = &vd->q[i];
        *q = (struct guest_virtio_queue){.vd = vd, .index = i, .ctx = dev->queue(dev->dev, i)};
        virtio_gate_init(&q->gate, dev->service, q->ctx, dev->queue_size, vd->polled);
        fmt_snprintf(q->label, sizeof(q->label), "%s %s%u q%u", g->cfg.name, dev->kind, vd->index,
                     i);
    }
    if (!guest_pci_place(&g->pci, VIRTIO_PCI_BAR_SIZE, &vd->pci_dev, &vd->bar_gpa)) {
        fmt_snprintf(why, why_size, "no room on its PCI bus for a %s", dev->kind);
        return false;
    }
    if (vd->polled && (!alloc_notify_page(vd, why, why_size) ||
                       (!dev->self_polled && !attach_sidecores(vd, why, why_size))))
        return false;
    if (!guest_pci_add_device(&g->pci, vd->pci_dev, &virtio_bar_ops, vd, VIRTIO_PCI_BAR_SIZE) ||
        !transport_build(vd)) {
        fmt_snprintf(why, why_size, "cannot add its %s to its PCI bus", dev->kind);
        return false;
    }
    g->virtio[g->nvirtio++] = vd;
    console_set_report_source(next_broken_line);
    return true;
}

void guest_virtio_reset(struct guest_virtio *vd)
{
    if (vd->d.ops->reset)
        vd->d.ops->reset(vd->d.dev);
    const char *problem = vd->d.reset_problem ? vd->d.reset_problem(vd->d.dev) : NULL;
    if (problem && problem[0])
        log_warn("guest %s: %s %u: %s", vd->g->cfg.name, vd->d.kind, vd->index, problem);
    for (unsigned i = 0; i < vd->d.num_queues; i++)
        __atomic_store_n(&vd->q[i].gate.notified, 0, __ATOMIC_RELAXED);
    if (!transport_build(vd))
        log_error("guest %s: %s %u: no room on its PCI bus after reset", vd->g->cfg.name,
                  vd->d.kind, vd->index);
}

/* ---- statistics ---- */

const char *guest_virtio_irq_mode(const struct guest_virtio *vd)
{
    unsigned posted = 0;

    if (!vd->polled)
        return "local";
    for (unsigned i = 0; i < vd->g->nvcpus; i++)
        posted += vd->g->vcpus[i].posted_intr;
    return posted == vd->g->nvcpus ? "posted" : posted == 0 ? "ipi" : "mixed";
}

uint64_t guest_virtio_notify_exits(const struct guest_virtio *vd)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < vd->d.num_queues; i++)
        n += __atomic_load_n(&vd->q[i].gate.io_exits, __ATOMIC_RELAXED);
    return n;
}
