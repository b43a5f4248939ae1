/* SPDX-License-Identifier: MIT */
/*
 * The SRAT: which proximity domain (NUMA node) each CPU and memory range
 * belongs to. CPU affinity is attached to the CPU entries the MADT produced
 * (matched by APIC ID), so this runs after the MADT parser. Entries whose
 * enabled flag is clear are to be ignored by the OS for CPUs; for memory they
 * are kept with enabled = false so a caller can see the whole picture.
 */
#include "kernel/acpi/acpi_internal.h"

#define SRAT_ENTRIES 48 /* header, table revision (4), reserved (8) */

enum srat_type {
    SRAT_CPU = 0,
    SRAT_MEMORY = 1,
    SRAT_X2APIC_CPU = 2,
};

#define SRAT_CPU_ENABLED (1u << 0)
#define SRAT_MEM_ENABLED (1u << 0)
#define SRAT_MEM_HOTPLUG (1u << 1)

static void srat_set_cpu_domain(struct acpi_info *info, uint32_t apic_id, uint32_t domain)
{
    for (uint32_t i = 0; i < info->cpu_count; i++) {
        if (info->cpus[i].apic_id == apic_id) {
            info->cpus[i].has_domain = true;
            info->cpus[i].domain = domain;
            return;
        }
    }
    /* Firmware often lists affinity for every possible CPU, more than the
     * MADT enables or than we keep: not an error. */
}

static void srat_add_memory(struct acpi_info *info, const uint8_t *e)
{
    struct acpi_mem_affinity *m;
    uint32_t flags = acpi_rd32(e, 28);

    if (info->mem_count >= ACPI_MAX_MEM) {
        acpi_note(info, "SRAT: more than %d memory ranges, the rest ignored", ACPI_MAX_MEM);
        return;
    }
    m = &info->mem[info->mem_count++];
    m->domain = acpi_rd32(e, 2);
    m->base = acpi_rd64(e, 8);
    m->length = acpi_rd64(e, 16);
    m->enabled = flags & SRAT_MEM_ENABLED;
    m->hotplug = flags & SRAT_MEM_HOTPLUG;
}

static uint8_t srat_min_length(uint8_t type)
{
    switch (type) {
    case SRAT_CPU: return 16;
    case SRAT_MEMORY: return 40;
    case SRAT_X2APIC_CPU: return 24;
    default: return 2;
    }
}

static void srat_parse_entry(struct acpi_info *info, const uint8_t *e, uint32_t off)
{
    uint8_t type = acpi_rd8(e, 0);
    uint8_t len = acpi_rd8(e, 1);

    if (len < srat_min_length(type)) {
        acpi_note(info, "SRAT: type %u entry at offset %u too short (%u)", type, off, len);
        return;
    }
    switch (type) {
    case SRAT_CPU:
        if (acpi_rd32(e, 4) & SRAT_CPU_ENABLED) {
            /* Domain bits [7:0] at 2, [31:8] at 9..11. */
            uint32_t domain = acpi_rd8(e, 2) | ((uint32_t)acpi_rd8(e, 9) << 8) |
                              ((uint32_t)acpi_rd8(e, 10) << 16) | ((uint32_t)acpi_rd8(e, 11) << 24);

            srat_set_cpu_domain(info, acpi_rd8(e, 3), domain);
        }
        break;
    case SRAT_X2APIC_CPU:
        if (acpi_rd32(e, 12) & SRAT_CPU_ENABLED)
            srat_set_cpu_domain(info, acpi_rd32(e, 8), acpi_rd32(e, 4));
        break;
    case SRAT_MEMORY: srat_add_memory(info, e); break;
    default: break;
    }
}

void acpi_parse_srat(const uint8_t *t, uint32_t len, struct acpi_info *info)
{
    uint32_t off;

    if (len < SRAT_ENTRIES) {
        acpi_note(info, "SRAT: length %u too short", len);
        return;
    }
    info->have_srat = true;
    for (off = SRAT_ENTRIES; off + 2 <= len;) {
        uint8_t elen = acpi_rd8(t, off + 1);

        if (elen < 2 || elen > len - off) {
            acpi_note(info, "SRAT: entry at offset %u has bad length %u, rest ignored", off, elen);
            return;
        }
        srat_parse_entry(info, t + off, off);
        off += elen;
    }
}
