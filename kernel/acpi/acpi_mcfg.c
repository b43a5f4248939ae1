/* SPDX-License-Identifier: MIT */
/*
 * The MCFG: where each PCI segment's memory-mapped configuration space (ECAM)
 * is. The body is an array of 16-byte allocations after 8 reserved bytes; a
 * partial trailing entry or a bus range that runs backwards is reported and
 * left out rather than guessed at.
 */
#include "kernel/acpi/acpi_internal.h"

#define MCFG_ENTRIES    44
#define MCFG_ENTRY_SIZE 16

void acpi_parse_mcfg(const uint8_t *t, uint32_t len, struct acpi_info *info)
{
    uint32_t off;

    if (len < MCFG_ENTRIES) {
        acpi_note(info, "MCFG: length %u too short", len);
        return;
    }
    if ((len - MCFG_ENTRIES) % MCFG_ENTRY_SIZE != 0)
        acpi_note(info, "MCFG: length %u is not a whole number of entries", len);

    for (off = MCFG_ENTRIES; off + MCFG_ENTRY_SIZE <= len; off += MCFG_ENTRY_SIZE) {
        struct acpi_mcfg *m;
        uint64_t base = acpi_rd64(t, off);
        uint16_t segment = acpi_rd16(t, off + 8);
        uint8_t start = acpi_rd8(t, off + 10), end = acpi_rd8(t, off + 11);

        if (end < start || base == 0) {
            acpi_note(info, "MCFG: segment %u entry (base %llx, buses %u-%u) ignored", segment,
                      (unsigned long long)base, start, end);
            continue;
        }
        if (info->mcfg_count >= ACPI_MAX_MCFG) {
            acpi_note(info, "MCFG: more than %d entries, the rest ignored", ACPI_MAX_MCFG);
            return;
        }
        m = &info->mcfg[info->mcfg_count++];
        m->base = base;
        m->segment = segment;
        m->bus_start = start;
        m->bus_end = end;
    }
}
