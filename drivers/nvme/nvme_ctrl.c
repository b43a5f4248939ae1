/* SPDX-License-Identifier: MIT */
/*
 * Controller life cycle: discovery on PCI, reset and enable as NVMe 1.4
 * section 7.6.1 orders it (with the CAP.TO deadline and fatal status
 * watched), Identify of the controller and its namespaces, the number of I/O
 * queues, recovery after a timeout, taking a controller offline, and the
 * orderly shutdown of section 7.6.2.
 */
#include "drivers/nvme/nvme_dev.h"

#include "drivers/nvme/nvme_prp.h"
#include "drivers/nvme/nvme_regs.h"
#include "kernel/console/log.h"
#include "kernel/lib/string.h"
#include "kernel/mm/paging.h"
#include "kernel/mm/pmm.h"
#include "kernel/pci/pci.h"
#include "kernel/pci/pci_regs.h"
#include "kernel/time/clock.h"
#include "kernel/x86/cpu.h"

#define PCI_COMMAND_INTX_DISABLE (1u << 10)

static struct nvme_ctrl ctrls[NVME_MAX_CTRLS];
static unsigned ctrl_count;

unsigned nvme_ctrl_count(void)
{
    return ctrl_count;
}

struct nvme_ctrl *nvme_ctrl_get(unsigned index)
{
    return index < ctrl_count ? &ctrls[index] : NULL;
}

enum nvme_ctrl_state nvme_ctrl_state(const struct nvme_ctrl *c)
{
    return c->state;
}

const char *nvme_ctrl_state_name(enum nvme_ctrl_state s)
{
    switch (s) {
    case NVME_CTRL_ONLINE: return "online";
    case NVME_CTRL_RESETTING: return "resetting";
    case NVME_CTRL_OFFLINE: return "offline";
    case NVME_CTRL_SHUT_DOWN: return "shut-down";
    default: return "absent";
    }
}

struct nvme_ns *nvme_ns_get(struct nvme_ctrl *c, uint32_t nsid)
{
    for (unsigned i = 0; i < c->ns_count; i++)
        if (c->ns[i].nsid == nsid && c->ns[i].usable)
            return &c->ns[i];
    return NULL;
}

uint64_t nvme_ns_blocks(const struct nvme_ns *ns)
{
    return ns->info.nsze;
}

unsigned nvme_ns_lba_shift(const struct nvme_ns *ns)
{
    return ns->info.lba_shift;
}

uint64_t nvme_ctrl_max_transfer(const struct nvme_ctrl *c)
{
    return c->max_transfer;
}

bool nvme_ctrl_has_dsm(const struct nvme_ctrl *c)
{
    return c->info.oncs & NVME_ONCS_DSM;
}

bool nvme_ctrl_has_write_zeroes(const struct nvme_ctrl *c)
{
    return c->info.oncs & NVME_ONCS_WRITE_ZEROES;
}

bool nvme_ctrl_has_write_cache(const struct nvme_ctrl *c)
{
    return c->info.vwc;
}

void nvme_inject_lost_command(struct nvme_ctrl *c)
{
    c->inject_lost = true;
}

/* Waits until CSTS.RDY == want; false on timeout or fatal status. */
static bool wait_ready(struct nvme_ctrl *c, bool want, const char **why)
{
    uint64_t deadline = clock_uptime_ns() + (uint64_t)c->ready_timeout_ms * 1000000ull;

    for (;;) {
        uint32_t csts = nvme_read32(c, NVME_REG_CSTS);

        if (nvme_csts_fatal(csts)) {
            *why = csts == 0xffffffffu ? "controller not responding (CSTS reads all ones)"
                                       : "controller fatal status (CSTS.CFS)";
            return false;
        }
        if (nvme_csts_ready(csts) == want)
            return true;
        if (clock_uptime_ns() > deadline) {
            *why = want ? "timed out waiting for CSTS.RDY=1" : "timed out waiting for CSTS.RDY=0";
            return false;
        }
        cpu_relax();
    }
}

/* CC.EN = 0 and wait for RDY = 0; never flips EN while RDY disagrees. */
static bool ctrl_disable(struct nvme_ctrl *c, const char **why)
{
    uint32_t cc = nvme_read32(c, NVME_REG_CC);

    if (cc & NVME_CC_EN) {
        /* EN set but RDY still 0: let it finish enabling first (1.4 3.1.6). */
        if (!nvme_csts_ready(nvme_read32(c, NVME_REG_CSTS)) && !wait_ready(c, true, why))
            return false;
        nvme_write32(c, NVME_REG_CC, cc & ~NVME_CC_EN);
    }
    return wait_ready(c, false, why);
}

static bool ctrl_enable(struct nvme_ctrl *c, const char **why)
{
    nvme_admin_reset_rings(c);
    nvme_write32(c, NVME_REG_AQA, nvme_aqa_value(NVME_ADMIN_DEPTH, NVME_ADMIN_DEPTH));
    nvme_write64(c, NVME_REG_ASQ, (uint64_t)(uintptr_t)c->asq);
    nvme_write64(c, NVME_REG_ACQ, (uint64_t)(uintptr_t)c->acq);
    uint32_t cc = nvme_cc_value(c->page_shift);
    nvme_write32(c, NVME_REG_CC, cc);
    nvme_write32(c, NVME_REG_CC, cc | NVME_CC_EN);
    if (!wait_ready(c, true, why))
        return false;
    /* Polled only: mask the pin interrupt (valid while MSI-X is off). */
    nvme_write32(c, NVME_REG_INTMS, 0xffffffffu);
    return true;
}

/* Disable, enable and negotiate queues: the part shared by boot and reset. */
static bool ctrl_bring_up(struct nvme_ctrl *c, const char **why)
{
    unsigned granted;

    if (!ctrl_disable(c, why) || !ctrl_enable(c, why))
        return false;
    if (nvme_admin_set_queue_count(c, NVME_MAX_IO_QUEUES, &granted) != BLK_OK) {
        *why = "Set Features (number of queues) failed";
        return false;
    }
    if (granted > NVME_MAX_IO_QUEUES)
        granted = NVME_MAX_IO_QUEUES;
    /* Each queue's doorbells must lie inside BAR0. */
    while (granted > 0 && nvme_bar_bytes_needed((uint16_t)granted, c->dstrd) > c->bar_size)
        granted--;
    c->io_queues = granted;
    return true;
}

void nvme_ctrl_take_offline(struct nvme_ctrl *c, const char *why)
{
    const char *ignored;

    if (c->state == NVME_CTRL_OFFLINE)
        return;
    c->state = NVME_CTRL_OFFLINE;
    __atomic_add_fetch(&c->generation, 1, __ATOMIC_SEQ_CST);
    log_async(LOG_ERROR, "nvme%u: %s; controller taken offline (the rest of the system carries on)",
              c->index, why);
    /* Stop it and cut its DMA so failed-back buffers are not written later. */
    uint32_t cc = nvme_read32(c, NVME_REG_CC);
    if (cc != 0xffffffffu && (cc & NVME_CC_EN)) {
        nvme_write32(c, NVME_REG_CC, cc & ~NVME_CC_EN);
        wait_ready(c, false, &ignored);
    }
    uint16_t cmd = pci_read16(c->pci, PCI_COMMAND);
    pci_write16(c->pci, PCI_COMMAND, cmd & ~PCI_COMMAND_MASTER);
}

bool nvme_ctrl_check_fatal(struct nvme_ctrl *c)
{
    uint32_t csts = nvme_read32(c, NVME_REG_CSTS);

    if (!nvme_csts_fatal(csts))
        return false;
    nvme_ctrl_take_offline(c, csts == 0xffffffffu ? "controller not responding (CSTS all ones)"
                                                  : "controller fatal status (CSTS.CFS)");
    return true;
}

void nvme_ctrl_recover(struct nvme_ctrl *c, uint32_t seen, const char *why)
{
    const char *err = NULL;

    spin_lock(&c->admin_lock);
    if (c->generation != seen || c->state != NVME_CTRL_ONLINE) {
        spin_unlock(&c->admin_lock); /* someone else reset it already */
        return;
    }
    c->state = NVME_CTRL_RESETTING;
    __atomic_add_fetch(&c->generation, 1, __ATOMIC_SEQ_CST);
    c->resets++;
    log_async(LOG_WARN, "nvme%u: %s; resetting the controller (reset %u)", c->index, why,
              c->resets);
    if (nvme_ctrl_check_fatal(c)) {
        spin_unlock(&c->admin_lock);
        return;
    }
    if (ctrl_bring_up(c, &err)) {
        c->state = NVME_CTRL_ONLINE;
        log_async(LOG_INFO, "nvme%u: reset done; I/O queues are re-created by their owners",
                  c->index);
    } else {
        nvme_ctrl_take_offline(c, err);
    }
    spin_unlock(&c->admin_lock);
}

static void identify_namespaces(struct nvme_ctrl *c)
{
    uint32_t nsids[NVME_MAX_NS];
    unsigned n = 0;

    /* The active list exists from NVMe 1.1; before that, try 1..NN. */
    if (c->vs >= 0x00010100 && nvme_admin_identify(c, NVME_IDENTIFY_NS_LIST, 0) == BLK_OK) {
        n = nvme_identify_parse_ns_list(c->identify_buf, c->info.nn, nsids, NVME_MAX_NS);
    } else {
        for (uint32_t id = 1; id <= c->info.nn && n < NVME_MAX_NS; id++)
            nsids[n++] = id;
    }
    c->ns_count = 0;
    for (unsigned i = 0; i < n; i++) {
        struct nvme_ns *ns = &c->ns[c->ns_count];

        memset(ns, 0, sizeof(*ns));
        ns->nsid = nsids[i];
        ns->ctrl = c;
        if (nvme_admin_identify(c, NVME_IDENTIFY_NS, nsids[i]) != BLK_OK)
            continue;
        ns->error = nvme_identify_parse_ns(c->identify_buf, &ns->info);
        if (ns->error == NVME_ID_INACTIVE)
            continue;
        ns->usable = ns->error == NVME_ID_OK;
        if (!ns->usable)
            log_warn("nvme%u: namespace %u unusable: %s", c->index, ns->nsid,
                     nvme_identify_error_name(ns->error));
        c->ns_count++;
    }
    if (c->info.nn > NVME_MAX_NS && n == NVME_MAX_NS)
        log_warn("nvme%u: only the first %u namespaces are used", c->index, NVME_MAX_NS);
}

static bool ctrl_alloc(struct nvme_ctrl *c)
{
    c->asq = (struct nvme_sqe *)(uintptr_t)pmm_alloc_pages(1);
    c->acq = (struct nvme_cqe *)(uintptr_t)pmm_alloc_pages(1);
    c->identify_buf = (uint8_t *)(uintptr_t)pmm_alloc_pages(1);
    return c->asq && c->acq && c->identify_buf;
}

/* Everything from the PCI function to an online controller. */
static bool ctrl_init(struct nvme_ctrl *c, const char **why)
{
    const struct pci_bar *bar = &c->pci->bar[0];

    if (bar->is_io || bar->base == 0 || bar->size < 0x1000 + 8) {
        *why = "BAR0 is not a usable memory BAR";
        return false;
    }
    c->bar_size = bar->size;
    c->regs = paging_map_mmio(bar->base, bar->size);
    pci_enable_mmio_and_dma(c->pci);
    uint16_t cmd = pci_read16(c->pci, PCI_COMMAND);
    pci_write16(c->pci, PCI_COMMAND, cmd | PCI_COMMAND_INTX_DISABLE);

    c->cap = nvme_read64(c, NVME_REG_CAP);
    c->vs = nvme_read32(c, NVME_REG_VS);
    if (c->cap == 0xffffffffffffffffull) {
        *why = "registers read all ones";
        return false;
    }
    if (!nvme_cap_nvm_command_set(c->cap)) {
        *why = "no NVM command set in CAP.CSS";
        return false;
    }
    if (nvme_cap_mps_min_shift(c->cap) > 12) {
        *why = "minimum page size above 4 KiB (unsupported)";
        return false;
    }
    c->page_shift = 12;
    c->dstrd = nvme_cap_dstrd(c->cap);
    c->max_entries = nvme_cap_max_entries(c->cap);
    c->ready_timeout_ms = nvme_cap_timeout_ms(c->cap);
    if (c->ready_timeout_ms == 0)
        c->ready_timeout_ms = 500;
    if (c->max_entries < 2) {
        *why = "CAP.MQES allows no usable queue";
        return false;
    }
    if (!ctrl_alloc(c)) {
        *why = "out of memory for the admin queue";
        return false;
    }
    if (!ctrl_bring_up(c, why))
        return false;
    if (nvme_admin_identify(c, NVME_IDENTIFY_CTRL, 0) != BLK_OK) {
        *why = "Identify Controller failed";
        return false;
    }
    int err = nvme_identify_parse_ctrl(c->identify_buf, &c->info);
    if (err) {
        *why = nvme_identify_error_name(err);
        return false;
    }
    c->max_transfer = nvme_mdts_bytes(c->info.mdts, nvme_cap_mps_min_shift(c->cap));
    if (c->max_transfer > NVME_DRIVER_MAX_TRANSFER)
        c->max_transfer = NVME_DRIVER_MAX_TRANSFER;
    c->prp_per_cmd = nvme_prp_list_pages_for(c->max_transfer, 1u << c->page_shift);
    if (c->io_queues == 0) {
        *why = "no I/O queue granted";
        return false;
    }
    identify_namespaces(c);
    return true;
}

void nvme_init(void)
{
    for (unsigned n = 0;; n++) {
        struct pci_device *d = pci_find_class(0x01, 0x08, 0x02, n);
        const char *why = NULL;

        if (!d)
            break;
        if (ctrl_count == NVME_MAX_CTRLS) {
            log_warn("nvme: more than %u controllers; %02x:%02x.%u and later ignored",
                     NVME_MAX_CTRLS, d->bus, d->dev, d->func);
            break;
        }
        struct nvme_ctrl *c = &ctrls[ctrl_count];

        memset(c, 0, sizeof(*c));
        c->index = ctrl_count++;
        c->pci = d;
        c->admin_lock = (struct spinlock)SPINLOCK_INIT;
        c->state = NVME_CTRL_RESETTING; /* until it is up */
        if (!ctrl_init(c, &why)) {
            nvme_ctrl_take_offline(c, why);
            continue;
        }
        c->state = NVME_CTRL_ONLINE;
        log_info("nvme%u: %04x:%02x:%02x.%u %s (serial %s, firmware %s), NVMe %u.%u, "
                 "%u I/O queues, %u namespaces, max transfer %llu KiB",
                 c->index, d->segment, d->bus, d->dev, d->func, c->info.model, c->info.serial,
                 c->info.firmware, c->vs >> 16, (c->vs >> 8) & 0xff, c->io_queues, c->ns_count,
                 (unsigned long long)(c->max_transfer >> 10));
    }
    if (ctrl_count == 0)
        log_info("nvme: no controllers");
}

void nvme_shutdown_all(void)
{
    for (unsigned i = 0; i < ctrl_count; i++) {
        struct nvme_ctrl *c = &ctrls[i];

        if (c->state != NVME_CTRL_ONLINE)
            continue;
        uint32_t cc = nvme_read32(c, NVME_REG_CC);

        nvme_write32(c, NVME_REG_CC, (cc & ~NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL);
        uint64_t deadline = clock_uptime_ns() + NVME_SHUTDOWN_TIMEOUT_MS * 1000000ull;
        bool done = false;

        while (clock_uptime_ns() < deadline) {
            uint32_t csts = nvme_read32(c, NVME_REG_CSTS);
            if (nvme_csts_shutdown_done(csts) || nvme_csts_fatal(csts)) {
                done = nvme_csts_shutdown_done(csts);
                break;
            }
            cpu_relax();
        }
        c->state = NVME_CTRL_SHUT_DOWN;
        __atomic_add_fetch(&c->generation, 1, __ATOMIC_SEQ_CST);
        if (done)
            log_info("nvme%u: shut down", c->index);
        else
            log_warn("nvme%u: shutdown did not complete in %u ms", c->index,
                     NVME_SHUTDOWN_TIMEOUT_MS);
    }
}
