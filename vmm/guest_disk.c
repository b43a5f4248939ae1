/* SPDX-License-Identifier: MIT */
#include "vmm/guest_disk.h"

#include "drivers/block/ramdisk.h"
#include "drivers/nvme/nvme_blk.h"
#include "kernel/boot_info.h"
#include "kernel/config/hv_config.h"
#include "kernel/console/console.h"
#include "kernel/console/log.h"
#include "kernel/cpu/percpu.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/str.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pmm.h"
#include "kernel/time/clock.h"
#include "kernel/x86/cpu.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_pci.h"
#include "vmm/ept.h"
#include "vmm/guest.h"
#include "vmm/guest_apic.h"
#include "vmm/sidecore/sidecore.h"
#include "vmm/vmm.h"

#define PCI_CLASS_STORAGE_SCSI 0x010000u

struct guest_disk;

struct guest_disk_queue {
    struct guest_disk *disk;
    unsigned index;
    struct spinlock lock; /* trap mode: notifying vCPUs take turns */
    struct sidecore_queue *sq;
    char label[40];
};

struct guest_disk {
    struct guest *g;
    struct vmem mem;
    bool polled;
    unsigned nqueues;
    struct blk_device *backend;
    struct ramdisk ram;
    char backend_name[GUEST_PATH_LEN + 8];
    struct virtio_pci pci;
    struct virtio_blk blk;
    struct guest_disk_queue q[VIRTIO_BLK_MAX_QUEUES];
    uint64_t notify_hpa; /* the page behind the notification region (sidecore mode) */
    /* Interrupt delivery, for `stats`. */
    uint64_t msi, msi_posted, msi_kicked;
    uint64_t notify_exits;
    bool broken_reported;
};

bool guest_has_pci(const struct guest *g)
{
    return g->disk != NULL;
}

static const char *irq_mode(const struct guest_disk *d)
{
    const struct vcpu_ops *ops = vcpu_backend();

    if (!d->polled)
        return "trap";
    /* Posted interrupts need the CPU's APIC virtualization as well. */
    return ops && ops->post_interrupt && vcpu_backend_caps()->posted_intr &&
                   vcpu_backend_caps()->virt_intr_delivery && hv_config_apicv_allowed()
               ? "posted"
               : "ipi";
}

/* ---- callbacks from the device and the transport ---- */

static void disk_msi(void *ctx, uint64_t address, uint32_t data)
{
    struct guest_disk *d = ctx;

    __atomic_fetch_add(&d->msi, 1, __ATOMIC_RELAXED);
    switch (guest_apic_msi(d->g, address, data)) {
    case GUEST_MSI_POSTED: __atomic_fetch_add(&d->msi_posted, 1, __ATOMIC_RELAXED); break;
    case GUEST_MSI_KICKED: __atomic_fetch_add(&d->msi_kicked, 1, __ATOMIC_RELAXED); break;
    default: break;
    }
}

static void disk_signal(void *ctx, unsigned q)
{
    struct guest_disk *d = ctx;

    virtio_pci_signal_queue(&d->pci, q);
}

static void disk_broken(void *ctx)
{
    struct guest_disk *d = ctx;

    console_printf("sidecore: guest %s: disk broken: %s; the device needs a reset by the guest, "
                   "everything else keeps running\n",
                   d->g->cfg.name, d->blk.error[0] ? d->blk.error : "malformed request");
    virtio_pci_set_needs_reset(&d->pci);
}

static unsigned queue_service(void *ctx, unsigned budget)
{
    struct guest_disk_queue *q = ctx;

    return virtio_blk_service(&q->disk->blk, q->index, budget);
}

/* ---- creation ---- */

static bool load_ram_backend(struct guest_disk *d, char *why, size_t why_size)
{
    const char *path = d->g->cfg.disk.path;
    const struct handoff_file *f = vmm_boot_file(path);

    if (!f) {
        fmt_snprintf(why, why_size, "disk file '%s' is not among the boot files", path);
        return false;
    }
    uint64_t pages = (f->size + PAGE_SIZE - 1) / PAGE_SIZE;
    uint64_t mem = pages ? pmm_alloc_pages(pages) : 0;
    if (!mem) {
        fmt_snprintf(why, why_size, "no memory for a %lu-byte RAM disk", (unsigned long)f->size);
        return false;
    }
    /* A copy, so a restart or a second guest never sees another's writes
     * in the boot file itself. */
    memcpy((void *)(uintptr_t)mem, (const void *)(uintptr_t)f->base, f->size);
    fmt_snprintf(d->backend_name, sizeof(d->backend_name), "ram:%s", path);
    if (!ramdisk_init(&d->ram, (void *)(uintptr_t)mem, f->size, d->backend_name)) {
        fmt_snprintf(why, why_size, "disk file '%s': %lu bytes is not a whole number of sectors",
                     path, (unsigned long)f->size);
        return false;
    }
    d->backend = &d->ram.dev;
    return true;
}

/* A namespace, or a window of one, of a controller the NVMe driver found.
 * Whether it exists and holds the window is only known here, at run time. */
static bool open_nvme_backend(struct guest_disk *d, char *why, size_t why_size)
{
    const struct disk_spec *spec = &d->g->cfg.disk;
    char reason[120];

    disk_spec_format(spec, d->backend_name, sizeof(d->backend_name));
    int st = nvme_blk_open(spec->ctrl, spec->nsid, spec->whole ? 0 : spec->start,
                           spec->whole ? 0 : spec->length, &d->backend, reason, sizeof(reason));
    if (st != BLK_OK) {
        fmt_snprintf(why, why_size, "disk = %s: %s", d->backend_name, reason);
        return false;
    }
    return true;
}

static void transport_build(struct guest_disk *d)
{
    struct virtio_pci_params p = {
        .device_type = VIRTIO_ID_BLOCK,
        .class_code = PCI_CLASS_STORAGE_SCSI,
        .features = d->blk.features,
        .num_queues = d->nqueues,
        .queue_size = VIRTIO_BLK_QUEUE_SIZE,
        .config_size = VIRTIO_BLK_CONFIG_SIZE,
        .bar_gpa = GUEST_DISK_BAR_GPA,
        .pci_dev = GUEST_DISK_PCI_DEV,
        .queues = d->blk.vqs,
        .ops = &virtio_blk_pci_ops,
        .dev_ctx = &d->blk,
        .msi = disk_msi,
        .msi_ctx = d,
    };
    virtio_pci_init(&d->pci, &p);
    if (!virtio_pci_attach(&d->pci, &d->g->pci))
        log_error("guest %s: disk: no room on its PCI bus", d->g->cfg.name);
}

/* Sidecore mode: the notification page becomes plain memory, so the
 * guest's notify writes land there without an exit (nobody reads them:
 * the sidecore polls the rings). */
static bool map_notify_page(struct guest_disk *d, char *why, size_t why_size)
{
    d->notify_hpa = pmm_alloc_pages(1);
    if (!d->notify_hpa) {
        fmt_snprintf(why, why_size, "out of memory for the disk's notification page");
        return false;
    }
    memset((void *)(uintptr_t)d->notify_hpa, 0, PAGE_SIZE);
    enum ept_status st = ept_map(d->g->slat, GUEST_DISK_BAR_GPA + VIRTIO_PCI_NOTIFY_OFFSET,
                                 d->notify_hpa, PAGE_SIZE, EPT_R | EPT_W, EPT_MT_WB);
    if (st != EPT_OK) {
        fmt_snprintf(why, why_size, "cannot map the disk's notification page: %s",
                     ept_status_name(st));
        return false;
    }
    return true;
}

static unsigned guest_socket(const struct guest *g)
{
    struct percpu *p = cpu_by_index(g->cpus[0]);

    return p ? p->topo.socket : 0;
}

static bool attach_sidecores(struct guest_disk *d, char *why, size_t why_size)
{
    for (unsigned i = 0; i < d->nqueues; i++) {
        struct guest_disk_queue *q = &d->q[i];
        fmt_snprintf(q->label, sizeof(q->label), "%s disk q%u", d->g->cfg.name, i);
        q->sq = sidecore_add_queue(guest_socket(d->g), queue_service, q, q->label);
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

bool guest_disk_create(struct guest *g, char *why, size_t why_size)
{
    if (g->cfg.disk.kind == DISK_NONE)
        return true;
    size_t pages = (sizeof(struct guest_disk) + PAGE_SIZE - 1) / PAGE_SIZE;
    struct guest_disk *d = (struct guest_disk *)(uintptr_t)pmm_alloc_pages(pages);
    if (!d) {
        fmt_snprintf(why, why_size, "out of memory for its disk");
        return false;
    }
    memset(d, 0, sizeof(*d));
    d->g = g;
    d->mem = (struct vmem){.base = (uint8_t *)(uintptr_t)g->mem_hpa, .size = g->mem_size};
    d->polled = g->cfg.io == GUEST_IO_SIDECORE;
    d->nqueues = guest_disk_queues(&g->cfg);
    if (d->nqueues > VIRTIO_BLK_MAX_QUEUES)
        d->nqueues = VIRTIO_BLK_MAX_QUEUES;
    for (unsigned i = 0; i < d->nqueues; i++) {
        d->q[i].disk = d;
        d->q[i].index = i;
        d->q[i].lock = (struct spinlock)SPINLOCK_INIT;
    }
    if (g->cfg.disk.kind == DISK_RAM ? !load_ram_backend(d, why, why_size)
                                     : !open_nvme_backend(d, why, why_size))
        return false;
    struct virtio_blk_params bp = {
        .backend = d->backend,
        .num_queues = d->nqueues,
        .name = g->cfg.name,
        .serial = g->cfg.name,
        .mem = &d->mem,
        .polled = d->polled,
        .signal = disk_signal,
        .broken = disk_broken,
        .ctx = d,
        .now_ns = clock_uptime_ns,
    };
    if (!virtio_blk_init(&d->blk, &bp, why, why_size))
        return false;
    if (d->polled && (!map_notify_page(d, why, why_size) || !attach_sidecores(d, why, why_size)))
        return false;
    g->disk = d;
    transport_build(d);
    char size[16];
    str_format_size(size, sizeof(size), d->backend->sectors * BLK_SECTOR_SIZE);
    log_info("guest %s: disk %s (%s), virtio-blk at 00:%02x.0, %u queue(s), io=%s, "
             "interrupts=%s",
             g->cfg.name, d->backend_name, size, GUEST_DISK_PCI_DEV, d->nqueues,
             d->polled ? "sidecore" : "trap", irq_mode(d));
    return true;
}

void guest_disk_reset(struct guest *g)
{
    struct guest_disk *d = g->disk;

    if (!d)
        return;
    virtio_blk_pci_ops.reset(&d->blk);
    transport_build(d);
}

/* ---- memory-mapped accesses ---- */

static bool in_ecam(uint64_t gpa)
{
    return gpa >= GUEST_PCI_ECAM_GPA && gpa - GUEST_PCI_ECAM_GPA < GUEST_PCI_ECAM_SIZE;
}

/* The offset of gpa in the disk's BAR, or false. Reads the BAR as the
 * guest last programmed it (the caller holds dev_lock, or accepts a stale
 * answer for the lock-free notify path). */
static bool in_bar(struct guest_disk *d, uint64_t gpa, uint64_t *offset)
{
    uint64_t base;

    if (!virtio_pci_bar_address(&d->pci, &base) || gpa < base || gpa - base >= VIRTIO_PCI_BAR_SIZE)
        return false;
    *offset = gpa - base;
    return true;
}

bool guest_disk_mmio_claims(struct guest *g, uint64_t gpa)
{
    uint64_t off;

    return g->disk && (in_ecam(gpa) || in_bar(g->disk, gpa, &off));
}

uint64_t guest_disk_mmio_read(struct guest *g, uint64_t gpa, unsigned size)
{
    struct guest_disk *d = g->disk;
    uint64_t off, value = ~0ull;
    uint64_t flags = spin_lock_irqsave(&g->dev_lock);

    if (in_ecam(gpa))
        value = pci_host_ecam_read(&g->pci, gpa - GUEST_PCI_ECAM_GPA, size);
    else if (in_bar(d, gpa, &off))
        value = virtio_pci_bar_read(&d->pci, off, size);
    spin_unlock_irqrestore(&g->dev_lock, flags);
    return value;
}

/* A trapped notification: in trap mode the request is served here, on the
 * notifying vCPU's core, under the queue's own lock (not the device lock,
 * so the guest's other devices stay usable meanwhile). */
static void notify(struct guest_disk *d, uint64_t off, unsigned size, uint64_t value)
{
    unsigned q = (unsigned)((off - VIRTIO_PCI_NOTIFY_OFFSET) / VIRTIO_PCI_NOTIFY_MULT);

    __atomic_fetch_add(&d->notify_exits, 1, __ATOMIC_RELAXED);
    if (q >= d->nqueues || d->polled)
        return; /* a sidecore polls it anyway (a BAR the guest moved) */
    uint64_t flags = spin_lock_irqsave(&d->q[q].lock);
    virtio_pci_bar_write(&d->pci, off, size, value);
    /* A conventional hypervisor's exit handler: the vCPU waits here until
     * the backend has finished what the notification started (a RAM disk
     * already has; an NVMe controller answers within its command timeout,
     * after which the driver fails the request itself). */
    while (__atomic_load_n(&d->blk.q[q].stats.inflight, __ATOMIC_RELAXED) &&
           virtio_blk_queue_live(&d->blk, q))
        if (!virtio_blk_service(&d->blk, q, VIRTIO_BLK_QUEUE_SIZE))
            cpu_relax();
    spin_unlock_irqrestore(&d->q[q].lock, flags);
}

void guest_disk_mmio_write(struct guest *g, uint64_t gpa, unsigned size, uint64_t value)
{
    struct guest_disk *d = g->disk;
    uint64_t off;
    uint64_t flags = spin_lock_irqsave(&g->dev_lock);

    if (in_ecam(gpa)) {
        pci_host_ecam_write(&g->pci, gpa - GUEST_PCI_ECAM_GPA, size, value);
    } else if (in_bar(d, gpa, &off)) {
        if (off >= VIRTIO_PCI_NOTIFY_OFFSET &&
            off < VIRTIO_PCI_NOTIFY_OFFSET + VIRTIO_PCI_NOTIFY_SIZE) {
            spin_unlock_irqrestore(&g->dev_lock, flags);
            notify(d, off, size, value);
            return;
        }
        virtio_pci_bar_write(&d->pci, off, size, value);
    }
    spin_unlock_irqrestore(&g->dev_lock, flags);
}

/* ---- statistics ---- */

void guest_disk_print_stats(struct guest *g)
{
    struct guest_disk *d = g->disk;

    if (!d)
        return;
    console_printf("disk guest=%s backend=%s queues=%u io=%s interrupts=%s state=%s msi=%lu "
                   "msi_posted=%lu msi_kicked=%lu notify_exits=%lu\n",
                   g->cfg.name, d->backend_name, d->nqueues, d->polled ? "sidecore" : "trap",
                   irq_mode(d), d->blk.needs_reset ? "needs-reset" : "ok", (unsigned long)d->msi,
                   (unsigned long)d->msi_posted, (unsigned long)d->msi_kicked,
                   (unsigned long)d->notify_exits);
    for (unsigned i = 0; i < d->nqueues; i++) {
        const struct virtio_blk_queue_stats *s = &d->blk.q[i].stats;
        const struct sidecore_queue *sq = d->q[i].sq;
        char line[512];
        size_t n = (size_t)fmt_snprintf(
            line, sizeof(line),
            "queue guest=%s disk_queue=%u requests=%lu reads=%lu writes=%lu "
            "flushes=%lu bytes=%lu errors=%lu kicks=%lu io_exits=%lu interrupts=%lu "
            "inflight=%lu",
            g->cfg.name, i, (unsigned long)s->requests, (unsigned long)s->reads,
            (unsigned long)s->writes, (unsigned long)s->flushes, (unsigned long)s->bytes,
            (unsigned long)s->errors, (unsigned long)s->kicks,
            (unsigned long)(d->polled ? 0 : s->kicks), (unsigned long)s->interrupts,
            (unsigned long)s->inflight);
        if (sq && n < sizeof(line))
            fmt_snprintf(line + n, sizeof(line) - n,
                         " busy_polls=%lu idle_polls=%lu wait_mean_ns=%lu wait_max_ns=%lu",
                         (unsigned long)sq->stats.busy_polls, (unsigned long)sq->stats.idle_polls,
                         (unsigned long)sidecore_wait_mean_ns(&sq->stats),
                         (unsigned long)sidecore_wait_max_ns(&sq->stats));
        console_printf("%s\n", line);
    }
}
