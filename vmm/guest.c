/* SPDX-License-Identifier: MIT */
/*
 * Guests: creating a partition from its configuration (memory, second-level
 * tables, trap bitmaps, cores), starting and stopping its vCPUs, and its
 * console output.
 */
#include "vmm/guest.h"

#include <stdarg.h>

#include "kernel/console/console.h"
#include "kernel/console/log.h"
#include "kernel/cpu/cpu_call.h"
#include "kernel/cpu/percpu.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/str.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pmm.h"
#include "kernel/time/clock.h"
#include "kernel/time/tsc.h"
#include "kernel/x86/cpu.h"
#include "kernel/x86/idt.h"
#include "kernel/x86/lapic.h"
#include "vmm/ept.h"
#include "vmm/guest_apic.h"
#include "vmm/guest_devices.h"
#include "vmm/guest_disk.h"
#include "vmm/guest_net.h"
#include "vmm/guest_vconsole.h"
#include "vmm/guest_pci.h"
#include "vmm/guest_load.h"
#include "vmm/guest_power.h"
#include "vmm/io_policy.h"
#include "vmm/msr_policy.h"
#include "vmm/vcpu_loop.h"

static struct guest *guests[GUEST_MAX];
static unsigned nguests;
static uint16_t next_tlb_tag = 1;

unsigned guest_count(void)
{
    return nguests;
}

struct guest *guest_at(unsigned index)
{
    return index < nguests ? guests[index] : NULL;
}

struct guest *guest_find(const char *name)
{
    for (unsigned i = 0; i < nguests; i++) {
        if (strcmp(guests[i]->cfg.name, name) == 0)
            return guests[i];
    }
    return NULL;
}

const char *guest_state_name(enum guest_state s)
{
    switch (s) {
    case GUEST_LOADING: return "loading";
    case GUEST_RUNNING: return "running";
    case GUEST_STOPPING: return "stopping";
    case GUEST_STOPPED: return "stopped";
    }
    return "?";
}

void *guest_phys_to_host(struct guest *g, uint64_t gpa, uint64_t len)
{
    if (gpa >= g->mem_size || len > g->mem_size - gpa)
        return NULL;
    return (void *)(uintptr_t)(g->mem_hpa + gpa);
}

/* ---- console output ---- */

/* Linux's panic() prints this; Sidecore sees the panic through it. */
#define LINUX_PANIC_LINE "Kernel panic - not syncing"

static bool flush_line(struct guest *g)
{
    bool panic;

    /* Queued for the console CPU, never printed here: this runs on the
     * guest's own vCPU (COM1, HC_PRINT), which must not wait for the UART. */
    console_async_printf("[%s] %.*s\n", g->cfg.name, (int)g->line_len, g->line);
    g->line[g->line_len < GUEST_LINE_MAX ? g->line_len : GUEST_LINE_MAX - 1] = '\0';
    panic = strstr(g->line, LINUX_PANIC_LINE) != NULL;
    g->line_len = 0;
    return panic;
}

void guest_console_write(struct guest *g, const char *s, uint64_t n)
{
    uint64_t flags = spin_lock_irqsave(&g->out_lock);
    bool panic = false;

    for (uint64_t i = 0; i < n; i++) {
        char c = s[i];
        g->ring[g->ring_written++ % GUEST_CONSOLE_RING] = c;
        if (c == '\n') {
            panic |= flush_line(g);
            continue;
        }
        if (c == '\r')
            continue;
        /* Keep the operator's terminal sane: no control characters. */
        g->line[g->line_len++] = (c >= 0x20 && c < 0x7f) || c == '\t' ? c : '.';
        if (g->line_len == GUEST_LINE_MAX - 1)
            panic |= flush_line(g);
    }
    spin_unlock_irqrestore(&g->out_lock, flags);
    if (panic)
        guest_power_event(g, GUEST_EVENT_PANIC, "the guest printed '%s'", LINUX_PANIC_LINE);
}

void guest_console_input(struct guest *g, uint8_t c)
{
    /* The virtio console takes input while its driver has the receiveq. */
    if (guest_vconsole_input(g, c))
        return;
    if (g->in_head - g->in_tail >= sizeof(g->in_ring)) {
        g->in_dropped++;
        return;
    }
    g->in_ring[g->in_head % sizeof(g->in_ring)] = c;
    __atomic_store_n(&g->in_head, g->in_head + 1, __ATOMIC_RELEASE);
    struct percpu *cpu = g->vcpus ? cpu_by_index(g->vcpus[0].cpu) : NULL;
    if (cpu)
        lapic_send_ipi(cpu->apic_id, VEC_IPI_KICK);
}

/* The dump's copy: the shell (boot CPU) alone uses it. */
static char dump_copy[GUEST_CONSOLE_RING];

void guest_console_dump(struct guest *g)
{
    /* Copied under the lock and printed after it: the guest's vCPU takes the
     * lock to append and must not wait while the UART sends 16 KiB. */
    uint64_t flags = spin_lock_irqsave(&g->out_lock);
    uint64_t n = g->ring_written < GUEST_CONSOLE_RING ? g->ring_written : GUEST_CONSOLE_RING;
    uint64_t start = g->ring_written - n;

    for (uint64_t i = 0; i < n; i++)
        dump_copy[i] = g->ring[(start + i) % GUEST_CONSOLE_RING];
    spin_unlock_irqrestore(&g->out_lock, flags);
    console_write(dump_copy, n);
    if (n && dump_copy[n - 1] != '\n')
        console_write("\n", 1);
}

/* ---- stopping ---- */

static void kick_vcpus(struct guest *g)
{
    for (uint32_t i = 0; i < g->nvcpus; i++) {
        struct vcpu *v = &g->vcpus[i];
        v->stop_requested = true;
        struct percpu *cpu = cpu_by_index(v->cpu);
        if (cpu && cpu != this_cpu())
            lapic_send_ipi(cpu->apic_id, VEC_IPI_KICK);
    }
}

void guest_stop(struct guest *g, const char *fmt, ...)
{
    va_list ap;
    uint64_t flags = spin_lock_irqsave(&g->lock);
    bool first = g->state == GUEST_RUNNING || g->state == GUEST_LOADING;

    if (first) {
        va_start(ap, fmt);
        fmt_vsnprintf(g->stop_reason, sizeof(g->stop_reason), fmt, ap);
        va_end(ap);
        g->state = GUEST_STOPPING;
    }
    spin_unlock_irqrestore(&g->lock, flags);
    if (first)
        console_printf("sidecore: guest %s stopped: %s\n", g->cfg.name, g->stop_reason);
    kick_vcpus(g);
}

/* Called on a vCPU's own CPU when its loop ends. */
void guest_vcpu_ended(struct guest *g, struct vcpu *v)
{
    uint64_t flags = spin_lock_irqsave(&g->lock);
    bool all = true;

    v->state = VCPU_STOPPED;
    for (uint32_t i = 0; i < g->nvcpus; i++)
        all &= g->vcpus[i].state == VCPU_STOPPED;
    if (all)
        g->state = GUEST_STOPPED;
    spin_unlock_irqrestore(&g->lock, flags);
}

/* ---- creation ---- */

static uint64_t ept_alloc(void *ctx)
{
    return pmm_alloc_pages(1);
}

static void *ept_ptr(void *ctx, uint64_t hpa)
{
    return (void *)(uintptr_t)hpa;
}

static void ept_free(void *ctx, uint64_t hpa)
{
    pmm_free_pages(hpa, 1);
}

static bool build_slat(struct guest *g, char *why, size_t why_size)
{
    static const struct ept_ops ops = {ept_alloc, ept_ptr, ept_free, NULL};
    const struct vcpu_caps *caps = vcpu_backend_caps();
    struct ept *ept = (struct ept *)(uintptr_t)pmm_alloc_pages(1);

    if (!ept) {
        fmt_snprintf(why, why_size, "out of memory for its second-level tables");
        return false;
    }
    unsigned flags = (caps->slat_2m ? EPT_ALLOW_2M : 0) | (caps->slat_1g ? EPT_ALLOW_1G : 0) |
                     (caps->slat_format == VCPU_SLAT_NPT ? EPT_FORMAT_NPT : 0);
    enum ept_status st = ept_init(ept, &ops, flags);
    if (st == EPT_OK)
        st = ept_map(ept, 0, g->mem_hpa, g->mem_size, EPT_RWX, EPT_MT_WB);
    if (st != EPT_OK) {
        fmt_snprintf(why, why_size, "cannot build its second-level tables: %s",
                     ept_status_name(st));
        return false;
    }
    g->slat = ept;
    return true;
}

static bool create_vcpus(struct guest *g, char *why, size_t why_size)
{
    size_t bytes = g->nvcpus * sizeof(struct vcpu);
    uint64_t mem = pmm_alloc_pages((bytes + PAGE_SIZE - 1) / PAGE_SIZE);

    if (!mem) {
        fmt_snprintf(why, why_size, "out of memory for its vCPUs");
        return false;
    }
    g->vcpus = (struct vcpu *)(uintptr_t)mem;
    for (uint32_t i = 0; i < g->nvcpus; i++) {
        struct vcpu *v = &g->vcpus[i];
        v->guest = g;
        v->index = i;
        v->cpu = g->cpus[i];
        v->tlb_tag = next_tlb_tag++;
        v->state = VCPU_IDLE;
        v->sipi_vector = -1;
        msr_vcpu_state_init(&v->msr, i, true);
    }
    return true;
}

bool guest_start(struct guest *g)
{
    if (g->state != GUEST_LOADING)
        return false;
    g->state = GUEST_RUNNING;
    for (uint32_t i = 0; i < g->nvcpus; i++) {
        struct vcpu *v = &g->vcpus[i];
        v->stop_requested = false;
        v->state = VCPU_IDLE;
        v->init_pending = false;
        v->nmi_pending = false;
        v->sipi_vector = -1;
        if (!cpu_post_work(v->cpu, vcpu_loop_run, v)) {
            guest_stop(g, "CPU %u would not take vCPU %u", v->cpu, i);
            v->state = VCPU_STOPPED;
            return false;
        }
    }
    return true;
}

struct guest *guest_create(const struct guest_config *cfg, const uint32_t *cpus)
{
    char why[160];
    uint64_t mem = pmm_alloc_pages(1);

    if (!mem || nguests == GUEST_MAX) {
        log_error("guest %s: out of memory for its descriptor", cfg->name);
        return NULL;
    }
    struct guest *g = (struct guest *)(uintptr_t)mem;
    size_t pages = (sizeof(*g) + PAGE_SIZE - 1) / PAGE_SIZE;
    if (pages > 1) {
        pmm_free_pages(mem, 1);
        g = (struct guest *)(uintptr_t)pmm_alloc_pages(pages);
        if (!g)
            return NULL;
    }
    g->cfg = *cfg;
    g->id = nguests + 1;
    g->state = GUEST_LOADING;
    g->lock = (struct spinlock)SPINLOCK_INIT;
    g->out_lock = (struct spinlock)SPINLOCK_INIT;
    g->dev_lock = (struct spinlock)SPINLOCK_INIT;
    g->nvcpus = cfg->cpus;
    guest_pci_init(&g->pci);
    g->nvirtio = g->ndisks = g->nnets = 0;
    guest_devices_reset(g);
    memcpy(g->cpus, cpus, cfg->cpus * sizeof(uint32_t));
    g->mem_size = cfg->memory;
    g->mem_hpa = pmm_alloc_aligned(cfg->memory, 2ull << 20);
    if (!g->mem_hpa) {
        log_error("guest %s: no contiguous %lu MiB block of memory left", cfg->name,
                  (unsigned long)(cfg->memory >> 20));
        return NULL;
    }
    guests[nguests++] = g;
    if (!build_slat(g, why, sizeof(why)) || !vcpu_backend()->guest_init(g, why, sizeof(why)) ||
        !create_vcpus(g, why, sizeof(why)) || !guest_disks_create(g, why, sizeof(why)) ||
        !guest_nets_create(g, why, sizeof(why)) || !guest_vconsole_create(g, why, sizeof(why)) ||
        !guest_load(g, why, sizeof(why))) {
        g->state = GUEST_STOPPED;
        fmt_snprintf(g->stop_reason, sizeof(g->stop_reason), "%s", why);
        log_error("guest %s: %s", cfg->name, why);
        return g;
    }
    guest_apic_reset(g);
    char size[16];
    str_format_size(size, sizeof(size), g->mem_size);
    log_info("guest %s: %u vCPU(s) on CPU %u%s, %s at host %#lx, entry %#lx", cfg->name, g->nvcpus,
             g->cpus[0], g->nvcpus > 1 ? " and more" : "", size, (unsigned long)g->mem_hpa,
             (unsigned long)g->boot.rip);
    return g;
}

bool guest_restart(struct guest *g)
{
    char why[160];

    if (g->state == GUEST_RUNNING || g->state == GUEST_LOADING)
        guest_stop(g, "restart requested");
    uint64_t deadline = clock_uptime_ns() + 2000000000ull;
    while (g->state != GUEST_STOPPED) {
        if (clock_uptime_ns() > deadline) {
            console_printf("guest restart: %s did not stop within 2 s\n", g->cfg.name);
            return false;
        }
        cpu_relax();
    }
    if (!g->vcpus) {
        console_printf("guest restart: %s was never created: %s\n", g->cfg.name, g->stop_reason);
        return false;
    }
    g->state = GUEST_LOADING;
    g->exited = false;
    g->exit_code = 0;
    g->stop_reason[0] = '\0';
    g->line_len = 0;
    guest_devices_reset(g);
    for (uint32_t i = 0; i < g->nvcpus; i++) {
        struct vcpu *v = &g->vcpus[i];
        memset(v->pending, 0, sizeof(v->pending));
        v->timer_deadline = 0;
        memset(&v->stats, 0, sizeof(v->stats));
        msr_vcpu_state_init(&v->msr, i, true);
    }
    guest_apic_reset(g);
    if (!guest_load(g, why, sizeof(why))) {
        g->state = GUEST_STOPPED;
        fmt_snprintf(g->stop_reason, sizeof(g->stop_reason), "%s", why);
        console_printf("guest restart: %s: %s\n", g->cfg.name, why);
        return false;
    }
    g->restarts++;
    console_printf("sidecore: guest %s restarted\n", g->cfg.name);
    return guest_start(g);
}
