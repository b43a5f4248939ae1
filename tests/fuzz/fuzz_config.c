/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the guest configuration parser: arbitrary bytes as
 * sidecore.cfg, parsed against a few machine sizes. Besides the sanitizers'
 * checks it aborts when an accepted guest breaks a promise of
 * vmm/guest_config.h (complete, valid, fitting the machine, NVMe disks
 * that share no blocks) or when a message is empty or names a line the
 * text does not have.
 * fuzz-sources: vmm/guest_config.c vmm/disk_spec.c kernel/config/ini.c kernel/lib/str.c kernel/lib/fmt.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/guest_config.h"

struct boot_file {
    const char *name;
    uint64_t size;
};

static const struct boot_file boot_files[] = {
    {"guests/test.elf", 81920}, {"guests/initrd.gz", 4096}, {"k", 1},
    {"empty.elf", 0},           {"disk.img", 1 << 20},      {"odd.img", 1000},
};
#define BOOT_FILE_COUNT (sizeof(boot_files) / sizeof(boot_files[0]))

static const struct boot_file *find_file(const char *name)
{
    for (size_t i = 0; i < BOOT_FILE_COUNT; i++) {
        if (strcmp(boot_files[i].name, name) == 0)
            return &boot_files[i];
    }
    return NULL;
}

static bool file_exists(void *ctx, const char *name, uint64_t *size)
{
    const struct boot_file *f = find_file(name);
    if (f)
        *size = f->size;
    return f != NULL;
}

struct error_check {
    unsigned lines; /* lines in the text */
    unsigned count;
};

static void on_error(void *ctx, unsigned line, const char *message)
{
    struct error_check *c = ctx;

    if (!message || !message[0] || strnlen(message, 1024) >= 1024)
        abort();
    if (line > c->lines)
        abort();
    c->count++;
}

static bool terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

static bool name_ok(const char *s)
{
    size_t n = strnlen(s, GUEST_NAME_LEN);
    if (n == 0 || n >= GUEST_NAME_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static void check_disk(const struct disk_spec *d)
{
    switch (d->kind) {
    case DISK_NONE: return;
    case DISK_RAM: {
        if (!terminated(d->path, sizeof(d->path)) || !d->path[0])
            abort();
        const struct boot_file *f = find_file(d->path);
        if (!f || f->size == 0 || f->size % DISK_SECTOR)
            abort();
        return;
    }
    case DISK_NVME:
        if (d->ctrl > DISK_NVME_CTRL_MAX || d->nsid < 1 || d->nsid > DISK_NVME_NSID_MAX)
            abort();
        if (d->whole) {
            if (d->start || d->length)
                abort();
            return;
        }
        if (d->length == 0 || d->start % DISK_SECTOR || d->length % DISK_SECTOR ||
            d->start > UINT64_MAX - d->length)
            abort();
        return;
    case DISK_NULL:
        if (d->size == 0 || d->size % DISK_SECTOR || d->latency_ns > DISK_NULL_LATENCY_MAX_NS)
            abort();
        return;
    }
    abort();
}

/* Networking: unique unicast MACs, every switch a guest names listed once
 * and served the guests' way, uplinks naming a NIC that exists. */
static void check_nets(const struct guest_config_set *set, const struct guest_config_limits *limits,
                       unsigned lines)
{
    if (set->nswitches > GUEST_SWITCHES_MAX)
        abort();
    for (unsigned i = 0; i < set->nswitches; i++) {
        const struct guest_switch_config *sw = &set->switches[i];
        if (!terminated(sw->name, sizeof(sw->name)) || !name_ok(sw->name) || sw->line > lines)
            abort();
        if (sw->uplink_nic < -1 ||
            (sw->uplink_nic >= 0 && (unsigned)sw->uplink_nic >= limits->nics))
            abort();
        if (sw->uplink_nic >= 0 && sw->nguests && sw->trap)
            abort();
        for (unsigned j = 0; j < i; j++) {
            if (strcmp(set->switches[j].name, sw->name) == 0 ||
                (sw->uplink_nic >= 0 && set->switches[j].uplink_nic == sw->uplink_nic))
                abort();
        }
    }
    for (unsigned i = 0; i < set->count; i++) {
        const struct guest_config *g = &set->guests[i];
        if (g->nnets > GUEST_NETS_MAX || g->net_queues > GUEST_NET_QUEUES_MAX ||
            guest_net_queues(g) < 1 || guest_net_queues(g) > GUEST_NET_QUEUES_MAX)
            abort();
        if (limits->no_sidecores && g->nnets && g->io == GUEST_IO_SIDECORE)
            abort();
        for (unsigned k = 0; k < g->nnets; k++) {
            const struct guest_net_spec *n = &g->nets[k];
            const struct guest_switch_config *sw = guest_config_switch(set, n->sw);
            if (!terminated(n->sw, sizeof(n->sw)) || !sw || sw->nguests == 0 ||
                sw->trap != (g->io == GUEST_IO_TRAP) || n->line <= g->line || n->line > lines)
                abort();
            static const uint8_t zero[GUEST_MAC_LEN];
            if ((n->mac[0] & 1) || memcmp(n->mac, zero, GUEST_MAC_LEN) == 0)
                abort();
            for (unsigned j = 0; j <= i; j++) {
                const struct guest_config *o = &set->guests[j];
                for (unsigned m = 0; m < (j == i ? k : o->nnets); m++) {
                    if (memcmp(o->nets[m].mac, n->mac, GUEST_MAC_LEN) == 0)
                        abort();
                }
            }
        }
    }
}

static void check(const struct guest_config_set *set, const struct guest_config_limits *limits,
                  unsigned lines)
{
    uint64_t cpus = 0, memory = 0;

    if (set->count > GUEST_MAX)
        abort();
    for (unsigned i = 0; i < set->count; i++) {
        const struct guest_config *g = &set->guests[i];
        if (!terminated(g->name, sizeof(g->name)) || !terminated(g->kernel, sizeof(g->kernel)) ||
            !terminated(g->initrd, sizeof(g->initrd)) ||
            !terminated(g->cmdline, sizeof(g->cmdline)))
            abort();
        if (!name_ok(g->name) || g->line < 1 || g->line > lines)
            abort();
        if (g->cpus < 1 || g->cpus > GUEST_MAX_VCPUS)
            abort();
        if (g->memory < GUEST_MEMORY_MIN || g->memory % GUEST_MEMORY_ALIGN)
            abort();
        const struct boot_file *k = find_file(g->kernel);
        if (!g->kernel[0] || !k || k->size == 0)
            abort();
        if (g->initrd[0] && !find_file(g->initrd))
            abort();
        if ((g->on_poweroff != GUEST_STOP && g->on_poweroff != GUEST_RESTART) ||
            (g->on_reboot != GUEST_STOP && g->on_reboot != GUEST_RESTART))
            abort();
        if (g->io != GUEST_IO_SIDECORE && g->io != GUEST_IO_TRAP)
            abort();
        if (g->disk_queues > GUEST_DISK_QUEUES_MAX || guest_disk_queues(g) < 1 ||
            guest_disk_queues(g) > GUEST_DISK_QUEUES_MAX)
            abort();
        if (g->ndisks > GUEST_DISKS_MAX)
            abort();
        for (unsigned k = 0; k < g->ndisks; k++) {
            check_disk(&g->disks[k]);
            if (g->disks[k].kind == DISK_NONE)
                abort();
            for (unsigned m = 0; m < k; m++) {
                if (disk_spec_overlaps(&g->disks[m], &g->disks[k]))
                    abort();
            }
            for (unsigned j = 0; j < i; j++) {
                for (unsigned m = 0; m < set->guests[j].ndisks; m++) {
                    if (disk_spec_overlaps(&set->guests[j].disks[m], &g->disks[k]))
                        abort();
                }
            }
        }
        if (limits->no_sidecores && g->ndisks && g->io == GUEST_IO_SIDECORE)
            abort();
        for (unsigned j = 0; j < i; j++) {
            if (strcmp(set->guests[j].name, g->name) == 0 || set->guests[j].line >= g->line)
                abort(); /* duplicate, or not in file order */
        }
        cpus += g->cpus;
        memory += g->memory;
    }
    if (cpus > limits->cpus_available || memory > limits->memory_available)
        abort();
    if (cpus != set->cpus_used || memory != set->memory_used)
        abort();
    check_nets(set, limits, lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct {
        uint32_t cpus;
        uint64_t memory;
        bool no_sidecores;
        unsigned nics;
    } machines[] = {
        {0, 0, false, 0},
        {2, 64ull << 20, true, 1},
        {63, 1ull << 40, false, 2},
    };
    static struct guest_config_set set;
    unsigned lines = 1;

    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    for (size_t m = 0; m < sizeof(machines) / sizeof(machines[0]); m++) {
        struct guest_config_limits limits = {
            .cpus_available = machines[m].cpus,
            .memory_available = machines[m].memory,
            .file_exists = file_exists,
            .no_sidecores = machines[m].no_sidecores,
            .nics = machines[m].nics,
        };
        struct error_check errors = {.lines = lines};
        guest_config_parse((const char *)data, size, &limits, &set, on_error, &errors);
        if (errors.count != set.errors)
            abort();
        check(&set, &limits, lines);
    }
    return 0;
}
