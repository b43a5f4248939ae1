/* SPDX-License-Identifier: MIT */
#include "vmm/vmm.h"

#include "kernel/boot_info.h"
#include "drivers/net/nic.h"
#include "kernel/config/hv_config.h"
#include "kernel/config/hv_config_iocm.h"
#include "kernel/console/log.h"
#include "kernel/cpu/percpu.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pmm.h"
#include "vmm/guest.h"
#include "vmm/guest_config.h"
#include "vmm/net/switches.h"
#include "vmm/sidecore/sidecore.h"
#include "vmm/vcpu.h"

/* Memory the hypervisor keeps for itself (tables, per-CPU data, drivers). */
#define HV_MEMORY_RESERVE (32ull << 20)

static struct guest_config_set config_set;
static bool cpu_taken[MAX_CPUS];

const struct handoff_file *vmm_boot_file(const char *name)
{
    const struct handoff *h = boot_info();

    for (uint32_t i = 0; i < h->file_count; i++) {
        if (strcmp(h->files[i].name, name) == 0)
            return &h->files[i];
    }
    return NULL;
}

static bool file_exists(void *ctx, const char *name, uint64_t *size)
{
    const struct handoff_file *f = vmm_boot_file(name);

    if (f && size)
        *size = f->size;
    return f != NULL;
}

static void config_error(void *ctx, unsigned line, const char *message)
{
    if (line)
        log_error("%s:%u: %s", CONFIG_FILE_NAME, line, message);
    else
        log_error("%s: %s", CONFIG_FILE_NAME, message);
}

/* CPUs a guest may have: online, not the boot CPU (it runs the console). */
static uint32_t free_cpu_count(void)
{
    uint32_t n = 0;

    for (uint32_t i = 1; i < cpu_count(); i++) {
        struct percpu *p = cpu_by_index(i);
        n += p && p->state == CPU_ONLINE && !cpu_taken[i];
    }
    return n;
}

static bool take_cpus(uint32_t count, uint32_t *out)
{
    uint32_t got = 0;

    for (uint32_t i = 1; i < cpu_count() && got < count; i++) {
        struct percpu *p = cpu_by_index(i);
        if (p && p->state == CPU_ONLINE && !cpu_taken[i]) {
            cpu_taken[i] = true;
            out[got++] = i;
        }
    }
    return got == count;
}

/* Guests whose disk, network device or virtio console an I/O sidecore serves. */
static unsigned sidecore_guests(const struct guest_config_set *set)
{
    unsigned n = 0;

    for (unsigned i = 0; i < set->count; i++)
        n += (set->guests[i].ndisks || set->guests[i].nnets || set->guests[i].virtio_console) &&
             set->guests[i].io == GUEST_IO_SIDECORE;
    return n;
}

void vmm_init(const struct handoff *h)
{
    char why[200];
    bool can_run = vcpu_backend_init(why, sizeof(why));

    if (can_run)
        log_info("%s ready; guests get dedicated cores", vcpu_backend()->name);
    else
        log_error("guests cannot run: %s; the console and drivers keep running", why);

    /* The configuration is checked even when no guest can run, so every
     * problem in it is reported. */
    const struct handoff_file *cfg = vmm_boot_file(CONFIG_FILE_NAME);
    if (!cfg) {
        log_info("no %s: no guests", CONFIG_FILE_NAME);
        return;
    }
    uint64_t free_mem = pmm_free_bytes();
    struct guest_config_limits limits = {
        .cpus_available = free_cpu_count(),
        .memory_available = free_mem > HV_MEMORY_RESERVE ? free_mem - HV_MEMORY_RESERVE : 0,
        .file_exists = file_exists,
        .no_sidecores = hv_config_sidecores_none(),
        .nics = nic_count(),
    };
    const char *text = (const char *)(uintptr_t)cfg->base;
    /* I/O sidecores are only kept when a guest's disk is served by one; a
     * first, silent pass finds out, and the cores they take are then not
     * offered to guests. */
    guest_config_parse(text, cfg->size, &limits, &config_set, NULL, NULL);
    unsigned wanted = sidecore_guests(&config_set);
    if (can_run && wanted &&
        sidecore_reserve(hv_config_sidecores(), hv_config_sidecores_max(), wanted, cpu_taken,
                         MAX_CPUS))
        limits.cpus_available = free_cpu_count();
    guest_config_parse(text, cfg->size, &limits, &config_set, config_error, NULL);
    if (config_set.errors)
        log_warn("%s: %u problem(s) reported above; the guests they concern were left out",
                 CONFIG_FILE_NAME, config_set.errors);
    if (!can_run)
        return;
    net_switches_create(&config_set);
    for (unsigned i = 0; i < config_set.count; i++) {
        const struct guest_config *gc = &config_set.guests[i];
        uint32_t cpus[GUEST_MAX_VCPUS];
        if (!take_cpus(gc->cpus, cpus)) {
            log_error("guest %s: not enough free cores", gc->name);
            continue;
        }
        guest_create(gc, cpus);
    }
    /* Every guest is loaded before any starts, so they run side by side from
     * the first instruction. */
    sidecore_start_all();
    for (unsigned i = 0; i < guest_count(); i++)
        guest_start(guest_at(i));
}
