/* SPDX-License-Identifier: MIT */
/*
 * PCI configuration space access on the hardware: memory-mapped ECAM
 * windows (from ACPI MCFG, 4 KiB per function, 1 MiB per bus) when firmware
 * described them, else configuration mechanism #1 through ports CF8/CFC
 * (segment 0, the first 256 bytes only). CF8/CFC takes two port accesses per
 * register, so it is serialized with a lock; ECAM accesses are single
 * instructions and need none.
 */
#include "kernel/pci/pci_config_hw.h"

#include <stddef.h>

#include "kernel/console/log.h"
#include "kernel/lib/spinlock.h"
#include "kernel/mm/paging.h"
#include "kernel/pci/pci_regs.h"
#include "kernel/x86/cpu.h"

#define CF8_ADDRESS 0xcf8
#define CFC_DATA    0xcfc
#define CF8_ENABLE  0x80000000u

struct ecam_window {
    struct pci_ecam_region r;
    bool mapped;
};

static struct ecam_window ecam[PCI_MAX_ECAM_REGIONS];
static unsigned ecam_count;
static bool ecam_given; /* pci_use_ecam() was called, even with nothing usable */
static struct spinlock cf8_lock = SPINLOCK_INIT;

static bool regions_overlap(const struct pci_ecam_region *a, const struct pci_ecam_region *b)
{
    return a->segment == b->segment && a->bus_start <= b->bus_end && b->bus_start <= a->bus_end;
}

void pci_use_ecam(const struct pci_ecam_region *regions, unsigned n)
{
    ecam_given = true;
    ecam_count = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct pci_ecam_region *r = &regions[i];
        bool clash = false;

        if (!r->base || (r->base & 0xfffff) || r->bus_end < r->bus_start ||
            r->base >= (1ull << 52)) {
            log_warn("PCI: ignoring MCFG entry %u (base %lx segment %u buses %02x-%02x): invalid",
                     i, (unsigned long)r->base, r->segment, r->bus_start, r->bus_end);
            continue;
        }
        for (unsigned j = 0; j < ecam_count; j++)
            clash |= regions_overlap(&ecam[j].r, r);
        if (clash) {
            log_warn("PCI: ignoring MCFG entry %u: segment %u buses %02x-%02x overlap another", i,
                     r->segment, r->bus_start, r->bus_end);
            continue;
        }
        if (ecam_count == PCI_MAX_ECAM_REGIONS) {
            log_warn("PCI: more than %u MCFG entries; ignoring the rest", PCI_MAX_ECAM_REGIONS);
            break;
        }
        ecam[ecam_count].r = *r;
        ecam[ecam_count].mapped = false;
        ecam_count++;
    }
}

void pci_config_hw_map(void)
{
    for (unsigned i = 0; i < ecam_count; i++) {
        struct ecam_window *w = &ecam[i];
        uint64_t start = w->r.base + ((uint64_t)w->r.bus_start << 20);
        uint64_t size = (uint64_t)(w->r.bus_end - w->r.bus_start + 1) << 20;

        w->mapped = paging_map_mmio(start, size) != NULL;
        if (!w->mapped)
            log_error("PCI: cannot map ECAM %lx-%lx (segment %u); its buses stay hidden",
                      (unsigned long)start, (unsigned long)(start + size - 1), w->r.segment);
    }
}

bool pci_config_hw_ecam_given(void)
{
    return ecam_given;
}

bool pci_config_hw_uses_ecam(void)
{
    for (unsigned i = 0; i < ecam_count; i++)
        if (ecam[i].mapped)
            return true;
    return false;
}

unsigned pci_config_hw_ranges(struct pci_bus_range *out, unsigned max)
{
    unsigned n = 0;

    for (unsigned i = 0; i < ecam_count && n < max; i++) {
        if (!ecam[i].mapped)
            continue;
        out[n].segment = ecam[i].r.segment;
        out[n].bus_start = ecam[i].r.bus_start;
        out[n].bus_end = ecam[i].r.bus_end;
        n++;
    }
    if (n == 0 && max > 0) {
        out[0].segment = 0;
        out[0].bus_start = 0;
        out[0].bus_end = 255;
        n = 1;
    }
    return n;
}

/* The ECAM address of a register, or NULL when no mapped window covers it. */
static volatile void *ecam_register(struct pci_address a, uint16_t offset)
{
    for (unsigned i = 0; i < ecam_count; i++) {
        const struct ecam_window *w = &ecam[i];

        if (w->mapped && w->r.segment == a.segment && a.bus >= w->r.bus_start &&
            a.bus <= w->r.bus_end)
            return (volatile void *)(uintptr_t)(w->r.base + ((uint64_t)a.bus << 20) +
                                                ((uint64_t)a.dev << 15) + ((uint64_t)a.func << 12) +
                                                offset);
    }
    return NULL;
}

/* Segment 0 buses that no ECAM window covers still answer on CF8/CFC. */
static bool cf8_reaches(struct pci_address a, uint16_t offset)
{
    return a.segment == 0 && offset < PCI_CONFIG_SIZE_LEGACY && a.dev < 32 && a.func < 8;
}

static uint32_t cf8_address(struct pci_address a, uint16_t offset)
{
    return CF8_ENABLE | ((uint32_t)a.bus << 16) | ((uint32_t)a.dev << 11) |
           ((uint32_t)a.func << 8) | (offset & 0xfcu);
}

static bool ecam_reaches(struct pci_address a, uint16_t offset)
{
    return offset < PCI_CONFIG_SIZE_ECAM && a.dev < 32 && a.func < 8;
}

static uint32_t hw_read32(void *ctx, struct pci_address a, uint16_t offset)
{
    volatile uint32_t *reg;
    uint32_t v = 0xffffffffu;

    offset &= ~3u;
    if (ecam_reaches(a, offset) && (reg = ecam_register(a, offset)) != NULL)
        return *reg;
    if (cf8_reaches(a, offset)) {
        uint64_t flags = spin_lock_irqsave(&cf8_lock);
        outl(CF8_ADDRESS, cf8_address(a, offset));
        v = inl(CFC_DATA);
        spin_unlock_irqrestore(&cf8_lock, flags);
    }
    return v;
}

static void hw_write32(void *ctx, struct pci_address a, uint16_t offset, uint32_t value)
{
    volatile uint32_t *reg;

    offset &= ~3u;
    if (ecam_reaches(a, offset) && (reg = ecam_register(a, offset)) != NULL) {
        *reg = value;
        return;
    }
    if (cf8_reaches(a, offset)) {
        uint64_t flags = spin_lock_irqsave(&cf8_lock);
        outl(CF8_ADDRESS, cf8_address(a, offset));
        outl(CFC_DATA, value);
        spin_unlock_irqrestore(&cf8_lock, flags);
    }
}

static void hw_write16(void *ctx, struct pci_address a, uint16_t offset, uint16_t value)
{
    volatile uint16_t *reg;

    offset &= ~1u;
    if (ecam_reaches(a, offset) && (reg = ecam_register(a, offset)) != NULL) {
        *reg = value;
        return;
    }
    if (cf8_reaches(a, offset)) {
        uint64_t flags = spin_lock_irqsave(&cf8_lock);
        outl(CF8_ADDRESS, cf8_address(a, offset));
        outw((uint16_t)(CFC_DATA + (offset & 2u)), value);
        spin_unlock_irqrestore(&cf8_lock, flags);
    }
}

const struct pci_config_ops pci_config_hw_ops = {
    .read32 = hw_read32,
    .write32 = hw_write32,
    .write16 = hw_write16,
    .ctx = NULL,
};

static struct pci_address device_address(const struct pci_device *d)
{
    struct pci_address a = {d->segment, d->bus, d->dev, d->func};

    return a;
}

uint32_t pci_read32(const struct pci_device *d, uint16_t offset)
{
    return hw_read32(NULL, device_address(d), offset);
}

uint16_t pci_read16(const struct pci_device *d, uint16_t offset)
{
    return (uint16_t)(pci_read32(d, offset) >> ((offset & 2u) * 8));
}

uint8_t pci_read8(const struct pci_device *d, uint16_t offset)
{
    return (uint8_t)(pci_read32(d, offset) >> ((offset & 3u) * 8));
}

void pci_write32(const struct pci_device *d, uint16_t offset, uint32_t value)
{
    hw_write32(NULL, device_address(d), offset, value);
}

void pci_write16(const struct pci_device *d, uint16_t offset, uint16_t value)
{
    hw_write16(NULL, device_address(d), offset, value);
}
