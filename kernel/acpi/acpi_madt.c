/* SPDX-License-Identifier: MIT */
/*
 * The MADT ("APIC"): local APIC address, CPUs (xAPIC and x2APIC entries),
 * IOAPICs and ISA interrupt overrides. Entries are variable length; a length
 * that is too small to move forward or that runs past the table ends the walk,
 * since nothing after it can be located reliably. An entry shorter than its
 * type needs is skipped. The same APIC ID listed twice (firmware that lists a
 * CPU in both a type 0 and a type 9 entry) is kept once, first entry wins.
 */
#include "kernel/acpi/acpi_internal.h"

#define MADT_LAPIC_ADDR  36
#define MADT_FLAGS       40
#define MADT_ENTRIES     44
#define MADT_PCAT_COMPAT (1u << 0)

enum madt_type {
    MADT_LAPIC = 0,
    MADT_IOAPIC = 1,
    MADT_OVERRIDE = 2,
    MADT_LAPIC_ADDR_OVERRIDE = 5,
    MADT_X2APIC = 9,
};

/* Processor local (x2)APIC flags. */
#define MADT_CPU_ENABLED        (1u << 0)
#define MADT_CPU_ONLINE_CAPABLE (1u << 1)

/* The xAPIC broadcast ID and the x2APIC one cannot name a CPU. */
#define XAPIC_ID_BROADCAST  0xffu
#define X2APIC_ID_BROADCAST 0xffffffffu

static void madt_add_cpu(struct acpi_info *info, uint32_t apic_id, uint32_t uid, uint32_t flags,
                         bool x2apic)
{
    struct acpi_cpu *cpu;

    for (uint32_t i = 0; i < info->cpu_count; i++) {
        if (info->cpus[i].apic_id == apic_id) {
            acpi_note(info, "MADT: APIC ID %u listed twice, second ignored", apic_id);
            return;
        }
    }
    if (info->cpu_count >= ACPI_MAX_CPUS) {
        if (info->cpus_dropped++ == 0)
            acpi_note(info, "MADT: more than %d CPUs, the rest ignored", ACPI_MAX_CPUS);
        return;
    }
    cpu = &info->cpus[info->cpu_count++];
    cpu->apic_id = apic_id;
    cpu->acpi_uid = uid;
    cpu->enabled = flags & MADT_CPU_ENABLED;
    /* Online capable only means something for a CPU that is not enabled. */
    cpu->online_capable = !cpu->enabled && (flags & MADT_CPU_ONLINE_CAPABLE);
    cpu->from_x2apic_entry = x2apic;
    cpu->has_domain = false;
    cpu->domain = 0;
}

static void madt_add_ioapic(struct acpi_info *info, const uint8_t *e)
{
    struct acpi_ioapic *io;

    if (info->ioapic_count >= ACPI_MAX_IOAPICS) {
        acpi_note(info, "MADT: more than %d IOAPICs, ID %u ignored", ACPI_MAX_IOAPICS,
                  acpi_rd8(e, 2));
        return;
    }
    io = &info->ioapics[info->ioapic_count++];
    io->id = acpi_rd8(e, 2);
    io->addr = acpi_rd32(e, 4);
    io->gsi_base = acpi_rd32(e, 8);
}

static void madt_add_override(struct acpi_info *info, const uint8_t *e)
{
    struct acpi_irq_override *o;

    if (info->override_count >= ACPI_MAX_OVERRIDES) {
        acpi_note(info, "MADT: more than %d interrupt overrides, IRQ %u ignored",
                  ACPI_MAX_OVERRIDES, acpi_rd8(e, 3));
        return;
    }
    o = &info->overrides[info->override_count++];
    o->bus = acpi_rd8(e, 2);
    o->irq = acpi_rd8(e, 3);
    o->gsi = acpi_rd32(e, 4);
    o->flags = acpi_rd16(e, 8);
}

/* Smallest length each entry type we read must have. */
static uint8_t madt_min_length(uint8_t type)
{
    switch (type) {
    case MADT_LAPIC: return 8;
    case MADT_IOAPIC: return 12;
    case MADT_OVERRIDE: return 10;
    case MADT_LAPIC_ADDR_OVERRIDE: return 12;
    case MADT_X2APIC: return 16;
    default: return 2;
    }
}

static void madt_parse_entry(struct acpi_info *info, const uint8_t *e, uint32_t off)
{
    uint8_t type = acpi_rd8(e, 0);
    uint8_t len = acpi_rd8(e, 1);

    if (len < madt_min_length(type)) {
        acpi_note(info, "MADT: type %u entry at offset %u too short (%u)", type, off, len);
        return;
    }
    switch (type) {
    case MADT_LAPIC:
        if (acpi_rd8(e, 3) != XAPIC_ID_BROADCAST)
            madt_add_cpu(info, acpi_rd8(e, 3), acpi_rd8(e, 2), acpi_rd32(e, 4), false);
        break;
    case MADT_X2APIC:
        if (acpi_rd32(e, 4) != X2APIC_ID_BROADCAST)
            madt_add_cpu(info, acpi_rd32(e, 4), acpi_rd32(e, 12), acpi_rd32(e, 8), true);
        break;
    case MADT_IOAPIC: madt_add_ioapic(info, e); break;
    case MADT_OVERRIDE: madt_add_override(info, e); break;
    case MADT_LAPIC_ADDR_OVERRIDE: info->lapic_addr = acpi_rd64(e, 4); break;
    default: break; /* NMI sources and the rest are not needed */
    }
}

void acpi_parse_madt(const uint8_t *t, uint32_t len, struct acpi_info *info)
{
    uint32_t off;

    if (len < MADT_ENTRIES) {
        acpi_note(info, "MADT: length %u too short", len);
        return;
    }
    info->have_madt = true;
    info->lapic_addr = acpi_rd32(t, MADT_LAPIC_ADDR);
    info->pcat_compat = acpi_rd32(t, MADT_FLAGS) & MADT_PCAT_COMPAT;

    for (off = MADT_ENTRIES; off + 2 <= len;) {
        uint8_t elen = acpi_rd8(t, off + 1);

        if (elen < 2 || elen > len - off) {
            acpi_note(info, "MADT: entry at offset %u has bad length %u, rest ignored", off, elen);
            return;
        }
        madt_parse_entry(info, t + off, off);
        off += elen;
    }
    if (off != len)
        acpi_note(info, "MADT: %u stray bytes at the end", len - off);
}
