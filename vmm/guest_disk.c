/* SPDX-License-Identifier: MIT */
/*
 * A guest's disks behind vmm/guest_disk.h: opening each backend and
 * giving it a virtio-blk device on the shared virtio layer.
 */
#include "vmm/guest_disk.h"

#include "drivers/block/nullblk.h"
#include "drivers/block/ramdisk.h"
#include "drivers/nvme/nvme_blk.h"
#include "kernel/boot_info.h"
#include "kernel/config/hv_config.h"
#include "kernel/console/console.h"
#include "kernel/console/log.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/str.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pmm.h"
#include "kernel/time/clock.h"
#include "virtio/virtio_blk.h"
#include "vmm/guest.h"
#include "vmm/guest_virtio.h"
#include "vmm/vmm.h"

#define PCI_CLASS_STORAGE_SCSI 0x010000u

struct guest_disk {
    struct guest_virtio vd; /* the device's place on the bus, its queues' service */
    struct guest *g;
    const struct disk_spec *spec;
    struct vmem mem;
    struct blk_device *backend;
    union {
        struct ramdisk ram;
        struct nullblk null;
    };
    char backend_name[GUEST_PATH_LEN + 8];
    struct virtio_blk blk;
};

/* The device is broken until the guest resets it (from the queue's
 * servicing CPU). */
static void disk_broken(void *ctx)
{
    struct guest_disk *d = ctx;

    guest_virtio_broken(&d->vd, d->blk.error[0] ? d->blk.error : "malformed request");
}

static const char *disk_reset_problem(void *dev)
{
    const struct virtio_blk *blk = dev;

    return blk->error;
}

static bool load_ram_backend(struct guest_disk *d, char *why, size_t why_size)
{
    const char *path = d->spec->path;
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

/* The null benchmarking device, timed by the uptime clock, which reads
 * the TSC of the CPU that polls it (the sidecore's own clock). */
static bool open_null_backend(struct guest_disk *d, char *why, size_t why_size)
{
    disk_spec_format(d->spec, d->backend_name, sizeof(d->backend_name));
    if (!nullblk_init(&d->null, d->spec->size, d->spec->latency_ns, clock_uptime_ns,
                      d->backend_name)) {
        fmt_snprintf(why, why_size, "disk = %s: not a null disk this hypervisor can make",
                     d->backend_name);
        return false;
    }
    d->backend = &d->null.dev;
    return true;
}

/* A namespace, or a window of one, of a controller the NVMe driver found.
 * Whether it exists and holds the window is only known here, at run time. */
static bool open_nvme_backend(struct guest_disk *d, char *why, size_t why_size)
{
    const struct disk_spec *spec = d->spec;
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

static bool disk_create(struct guest *g, const struct disk_spec *spec, char *why, size_t why_size)
{
    size_t pages = (sizeof(struct guest_disk) + PAGE_SIZE - 1) / PAGE_SIZE;
    struct guest_disk *d = (struct guest_disk *)(uintptr_t)pmm_alloc_pages(pages);
    unsigned nqueues = guest_disk_queues(&g->cfg);

    if (!d) {
        fmt_snprintf(why, why_size, "out of memory for its disk");
        return false;
    }
    memset(d, 0, sizeof(*d));
    d->g = g;
    d->spec = spec;
    d->mem = (struct vmem){.base = (uint8_t *)(uintptr_t)g->mem_hpa, .size = g->mem_size};
    if (nqueues > VIRTIO_BLK_MAX_QUEUES)
        nqueues = VIRTIO_BLK_MAX_QUEUES;
    bool opened = spec->kind == DISK_RAM    ? load_ram_backend(d, why, why_size)
                  : spec->kind == DISK_NULL ? open_null_backend(d, why, why_size)
                                            : open_nvme_backend(d, why, why_size);
    if (!opened)
        return false;
    struct virtio_blk_params bp = {
        .backend = d->backend,
        .num_queues = nqueues,
        .name = g->cfg.name,
        .serial = g->cfg.name,
        .mem = &d->mem,
        .polled = g->cfg.io == GUEST_IO_SIDECORE,
        .signal = guest_virtio_signal,
        .broken = disk_broken,
        .ctx = d,
        .signal_ctx = &d->vd,
        .now_ns = clock_uptime_ns,
        .coalesce =
            g->cfg.io == GUEST_IO_SIDECORE && !g->cfg.coalescing_off ? hv_config_coalesce() : NULL,
    };
    if (!virtio_blk_init(&d->blk, &bp, why, why_size))
        return false;
    struct guest_virtio_device dev = {
        .kind = "disk",
        .device_type = VIRTIO_ID_BLOCK,
        .class_code = PCI_CLASS_STORAGE_SCSI,
        .features = d->blk.features,
        .num_queues = nqueues,
        .queue_size = VIRTIO_BLK_QUEUE_SIZE,
        .config_size = VIRTIO_BLK_CONFIG_SIZE,
        .queues = d->blk.vqs,
        .ops = &virtio_blk_pci_ops,
        .dev = &d->blk,
        .queue = virtio_blk_queue,
        .service = virtio_blk_queue_service,
        .inflight = virtio_blk_queue_inflight,
        .reset_problem = disk_reset_problem,
    };
    if (!guest_virtio_create(&d->vd, g, &dev, why, why_size))
        return false;
    for (unsigned i = 0; i < nqueues; i++)
        if (d->vd.q[i].sq)
            sidecore_queue_set_counters(d->vd.q[i].sq, &d->blk.q[i].stats.taken,
                                        &d->blk.q[i].stats.bytes_taken);
    g->disks[g->ndisks++] = d;
    char size[16];
    str_format_size(size, sizeof(size), d->backend->sectors * BLK_SECTOR_SIZE);
    log_info("guest %s: disk %u %s (%s), virtio-blk at 00:%02x.0, %u queue(s), io=%s", g->cfg.name,
             d->vd.index, d->backend_name, size, d->vd.pci_dev, nqueues,
             d->vd.polled ? "sidecore" : "trap");
    return true;
}

bool guest_disks_create(struct guest *g, char *why, size_t why_size)
{
    for (unsigned i = 0; i < g->cfg.ndisks; i++) {
        if (!disk_create(g, &g->cfg.disks[i], why, why_size))
            return false;
    }
    return true;
}

/* ---- statistics ---- */

static void print_disk_stats(struct guest *g, struct guest_disk *d)
{
    const struct guest_virtio *vd = &d->vd;

    console_printf(
        "disk guest=%s disk=%u backend=%s queues=%u io=%s interrupts=%s "
        "coalescing=%s state=%s "
        "msi=%lu msi_posted=%lu msi_kicked=%lu msi_local=%lu msi_dropped=%lu "
        "notify_exits=%lu\n",
        g->cfg.name, vd->index, d->backend_name, vd->d.num_queues, vd->polled ? "sidecore" : "trap",
        guest_virtio_irq_mode(vd), d->blk.p.coalesce ? "adaptive" : "off",
        d->blk.needs_reset ? "needs-reset" : "ok", (unsigned long)vd->msi,
        (unsigned long)vd->msi_posted, (unsigned long)vd->msi_kicked, (unsigned long)vd->msi_local,
        (unsigned long)vd->msi_dropped, (unsigned long)guest_virtio_notify_exits(vd));
    for (unsigned i = 0; i < vd->d.num_queues; i++) {
        const struct virtio_blk_queue_stats *s = &d->blk.q[i].stats;
        const struct guest_virtio_queue *q = &vd->q[i];
        const struct sidecore_queue *sq = q->sq;
        const struct coalesce_queue *co = &d->blk.q[i].co;
        char line[1024];
        size_t n = (size_t)fmt_snprintf(
            line, sizeof(line),
            "queue guest=%s disk=%u disk_queue=%u requests=%lu reads=%lu writes=%lu "
            "flushes=%lu bytes=%lu errors=%lu io_exits=%lu trap_services=%lu interrupts=%lu "
            "inflight=%lu cif=%lu coalesce_r=%u interrupts_per_completion=%lu coalesce_held=%lu "
            "coalesce_released_cif=%lu coalesce_released_cap=%lu",
            g->cfg.name, vd->index, i, (unsigned long)s->requests, (unsigned long)s->reads,
            (unsigned long)s->writes, (unsigned long)s->flushes, (unsigned long)s->bytes,
            (unsigned long)s->errors, (unsigned long)q->gate.io_exits,
            (unsigned long)q->gate.trap_services, (unsigned long)s->interrupts,
            (unsigned long)s->inflight, (unsigned long)s->inflight,
            d->blk.p.coalesce ? coalesce_ratio_permille(co) : 1000u,
            (unsigned long)(s->requests ? s->interrupts * 1000 / s->requests : 0),
            (unsigned long)co->held_count, (unsigned long)co->released_cif,
            (unsigned long)co->released_cap);
        if (sq && n < sizeof(line)) {
            const struct sched_queue *sch = sidecore_queue_sched(sq);
            fmt_snprintf(line + n, sizeof(line) - n,
                         " busy_polls=%lu idle_polls=%lu wait_mean_ns=%lu wait_max_ns=%lu "
                         "budget_hits=%lu byte_skips=%lu max_skipped_rounds=%lu pickups=%lu "
                         "wait_sum_us=%lu",
                         (unsigned long)sq->stats.busy_polls, (unsigned long)sq->stats.idle_polls,
                         (unsigned long)sidecore_wait_mean_ns(&sq->stats),
                         (unsigned long)sidecore_wait_max_ns(&sq->stats),
                         (unsigned long)sch->budget_hits, (unsigned long)sch->byte_skips,
                         (unsigned long)sch->max_wait, (unsigned long)sq->stats.pickups,
                         (unsigned long)(sidecore_wait_sum_ns(&sq->stats) / 1000));
        }
        console_printf("%s\n", line);
    }
}

void guest_disks_print_stats(struct guest *g)
{
    for (unsigned i = 0; i < g->ndisks; i++)
        print_disk_stats(g, g->disks[i]);
}
