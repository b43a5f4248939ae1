/* SPDX-License-Identifier: MIT */
/*
 * Destination matching for interrupt messages (see apic_dest.h): one rule
 * per APIC mode and destination mode, and the pick of one APIC for
 * lowest-priority delivery.
 */
#include "vmm/dev/apic_dest.h"

#include "vmm/dev/vlapic.h"

#define MSI_ADDR_PREFIX  0xfeeull /* address bits 31:20 (and 0 above bit 31) */
#define MSI_ADDR_DEST(a) (((a) >> 12) & 0xff)
#define MSI_ADDR_RH      (1u << 3)
#define MSI_ADDR_DM      (1u << 2)
#define MSI_DATA_VECTOR  0xffu
#define MSI_DATA_MODE(d) (((d) >> 8) & 7)
#define MSI_DATA_LEVEL   (1u << 15)

#define DFR_MODEL(dfr)  ((dfr) >> 28)
#define DFR_MODEL_FLAT  0xfu
#define DFR_MODEL_CLUST 0x0u

static bool match_x2apic(const struct apic_dest_cpu *cpu, const struct apic_dest *d)
{
    if (d->dest == 0xffffffffu || (d->msg8 && d->dest == 0xff))
        return true;
    if (!d->logical)
        return cpu->id == d->dest;
    return (cpu->ldr >> 16) == (d->dest >> 16) && (cpu->ldr & d->dest & 0xffff) != 0;
}

static bool match_xapic(const struct apic_dest_cpu *cpu, const struct apic_dest *d)
{
    uint8_t dest = (uint8_t)d->dest, logical_id = (uint8_t)(cpu->ldr >> 24);

    if (dest == 0xff)
        return true; /* broadcast, in both destination modes */
    if (!d->logical)
        return (uint8_t)cpu->id == dest;
    switch (DFR_MODEL(cpu->dfr)) {
    case DFR_MODEL_FLAT: return (logical_id & dest) != 0;
    case DFR_MODEL_CLUST: return (logical_id >> 4) == (dest >> 4) && (logical_id & dest & 0xf) != 0;
    default: return false; /* a reserved model matches nothing */
    }
}

bool apic_dest_match(const struct apic_dest_cpu *cpu, const struct apic_dest *d)
{
    switch (cpu->mode) {
    case VLAPIC_MODE_X2APIC: return match_x2apic(cpu, d);
    case VLAPIC_MODE_XAPIC: return match_xapic(cpu, d);
    default: return false;
    }
}

unsigned apic_dest_resolve(const struct apic_dest_cpu *cpus, uint32_t n, const struct apic_dest *d,
                           uint64_t *bitmap)
{
    unsigned count = 0;

    for (uint32_t w = 0; w < (n + 63) / 64; w++)
        bitmap[w] = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (apic_dest_match(&cpus[i], d)) {
            bitmap[i / 64] |= 1ull << (i % 64);
            count++;
        }
    }
    if (!d->one || count <= 1)
        return count;
    /* Keep the (vector mod count)-th match only. */
    unsigned keep = d->vector % count, seen = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t bit = 1ull << (i % 64);
        if (bitmap[i / 64] & bit) {
            if (seen++ != keep)
                bitmap[i / 64] &= ~bit;
        }
    }
    return 1;
}

bool apic_msi_decode(uint64_t address, uint32_t data, struct apic_msi *m)
{
    if ((address >> 20) != MSI_ADDR_PREFIX)
        return false;
    m->delivery_mode = (uint8_t)MSI_DATA_MODE(data);
    m->level = (data & MSI_DATA_LEVEL) != 0;
    m->dest.dest = (uint32_t)MSI_ADDR_DEST(address);
    m->dest.logical = (address & MSI_ADDR_DM) != 0;
    m->dest.msg8 = true;
    m->dest.one = m->delivery_mode == VLAPIC_DM_LOWEST || (address & MSI_ADDR_RH);
    m->dest.vector = (uint8_t)(data & MSI_DATA_VECTOR);
    return true;
}
