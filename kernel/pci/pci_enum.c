/* SPDX-License-Identifier: MIT */
/*
 * PCI enumeration and header decoding, written against struct
 * pci_config_ops only so it runs unchanged on the host against a fake
 * configuration space. Buses are walked breadth first from each range's first
 * bus through bridge secondary bus numbers (as firmware left them), with a
 * seen-bitmap so a misprogrammed bridge cannot send the walk in circles.
 * Nothing read from a device is trusted: capability pointers are range- and
 * loop-checked, and BAR sizing copes with unimplemented or odd BARs.
 */
#include "kernel/pci/pci_enum.h"

#include <stdbool.h>

#include "kernel/lib/string.h"
#include "kernel/pci/pci_regs.h"

static uint16_t cfg_read16(const struct pci_config_ops *ops, struct pci_address a, uint16_t off)
{
    uint32_t v = ops->read32(ops->ctx, a, off & ~3u);

    return (uint16_t)(v >> ((off & 2u) * 8));
}

static uint8_t cfg_read8(const struct pci_config_ops *ops, struct pci_address a, uint16_t off)
{
    uint32_t v = ops->read32(ops->ctx, a, off & ~3u);

    return (uint8_t)(v >> ((off & 3u) * 8));
}

/* Writes all ones to a BAR dword, returns what sticks, restores the original. */
static uint32_t bar_probe_dword(const struct pci_config_ops *ops, struct pci_address a,
                                uint16_t off, uint32_t orig)
{
    ops->write32(ops->ctx, a, off, 0xffffffffu);
    uint32_t mask = ops->read32(ops->ctx, a, off);
    ops->write32(ops->ctx, a, off, orig);
    return mask;
}

/* The size of a BAR is its lowest writable address bit: the bits below it
 * are hard-wired to zero. Taking the lowest set bit (rather than ~mask + 1)
 * also handles I/O BARs whose upper 16 bits read back as zero. */
static uint64_t lowest_set_bit(uint64_t v)
{
    return v & (~v + 1);
}

/* Sizes BARs [0, nbars); a 64-bit BAR fills its slot and leaves the next one
 * (its upper half) empty. */
static void probe_bars(const struct pci_config_ops *ops, struct pci_address a, struct pci_device *d,
                       unsigned nbars)
{
    for (unsigned i = 0; i < nbars; i++) {
        uint16_t off = (uint16_t)(PCI_BAR0 + 4 * i);
        uint32_t orig = ops->read32(ops->ctx, a, off);
        struct pci_bar *bar = &d->bar[i];

        if (orig & PCI_BAR_IO) {
            uint32_t mask = bar_probe_dword(ops, a, off, orig) & PCI_BAR_IO_MASK;
            if (!mask)
                continue;
            bar->is_io = true;
            bar->base = orig & PCI_BAR_IO_MASK;
            bar->size = lowest_set_bit(mask);
            continue;
        }

        bool is64 = (orig & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64 && i + 1 < nbars;
        uint64_t base = orig & PCI_BAR_MEM_MASK;
        uint64_t mask = bar_probe_dword(ops, a, off, orig) & PCI_BAR_MEM_MASK;

        if (is64) {
            uint32_t orig_hi = ops->read32(ops->ctx, a, (uint16_t)(off + 4));
            uint32_t mask_hi = bar_probe_dword(ops, a, (uint16_t)(off + 4), orig_hi);
            base |= (uint64_t)orig_hi << 32;
            mask |= (uint64_t)mask_hi << 32;
        }
        if (mask) {
            bar->base = base;
            bar->size = lowest_set_bit(mask);
            bar->is_64bit = is64;
            bar->prefetchable = (orig & PCI_BAR_MEM_PREFETCH) != 0;
        }
        if (is64)
            i++; /* the upper half is not a BAR of its own */
    }
}

static void probe_capabilities(const struct pci_config_ops *ops, struct pci_address a,
                               struct pci_device *d)
{
    uint16_t status = cfg_read16(ops, a, PCI_STATUS);
    uint8_t htype = d->header_type & PCI_HEADER_TYPE_MASK;
    uint64_t seen = 0; /* one bit per dword of the 256-byte space */

    if (!(status & PCI_STATUS_CAP_LIST))
        return;
    uint8_t ptr =
        cfg_read8(ops, a, htype == PCI_HEADER_CARDBUS ? PCI_CARDBUS_CAP_PTR : PCI_CAP_PTR);
    ptr &= 0xfc;
    while (ptr) {
        if (ptr < PCI_CAP_MIN || (seen & (1ull << (ptr / 4)))) {
            d->cap_list_bad = true;
            return;
        }
        seen |= 1ull << (ptr / 4);

        uint16_t hdr = cfg_read16(ops, a, ptr);
        uint8_t id = (uint8_t)hdr;

        if (d->cap_count < PCI_MAX_CAPS) {
            d->cap[d->cap_count].id = id;
            d->cap[d->cap_count].offset = ptr;
            d->cap_count++;
        }
        if (id == PCI_CAP_ID_MSI && !d->cap_msi) {
            d->cap_msi = ptr;
        } else if (id == PCI_CAP_ID_PCIE && !d->cap_pcie) {
            d->cap_pcie = ptr;
        } else if (id == PCI_CAP_ID_MSIX && !d->cap_msix) {
            d->cap_msix = ptr;
            d->msix_table_size = (uint16_t)((cfg_read16(ops, a, (uint16_t)(ptr + PCI_MSIX_FLAGS)) &
                                             PCI_MSIX_TABLE_SIZE) +
                                            1);
        }
        ptr = (uint8_t)(hdr >> 8) & 0xfc;
    }
}

void pci_probe_function(const struct pci_config_ops *ops, struct pci_address a,
                        struct pci_device *d)
{
    uint32_t id = ops->read32(ops->ctx, a, PCI_VENDOR_ID);
    uint32_t class_rev = ops->read32(ops->ctx, a, PCI_REVISION);

    memset(d, 0, sizeof(*d));
    d->segment = a.segment;
    d->bus = a.bus;
    d->dev = a.dev;
    d->func = a.func;
    d->vendor_id = (uint16_t)id;
    d->device_id = (uint16_t)(id >> 16);
    d->revision = (uint8_t)class_rev;
    d->prog_if = (uint8_t)(class_rev >> 8);
    d->subclass = (uint8_t)(class_rev >> 16);
    d->class_code = (uint8_t)(class_rev >> 24);
    d->header_type = cfg_read8(ops, a, PCI_HEADER_TYPE);

    uint8_t htype = d->header_type & PCI_HEADER_TYPE_MASK;
    unsigned nbars = htype == PCI_HEADER_NORMAL ? 6 : htype == PCI_HEADER_BRIDGE ? 2 : 0;

    if (htype == PCI_HEADER_BRIDGE) {
        d->secondary_bus = cfg_read8(ops, a, PCI_SECONDARY_BUS);
        d->subordinate_bus = cfg_read8(ops, a, PCI_SUBORDINATE_BUS);
    }
    if (nbars) {
        /* A BAR being sized briefly holds all ones; with decoding on, the
         * device would claim that address range meanwhile. */
        uint16_t cmd = cfg_read16(ops, a, PCI_COMMAND);
        uint16_t quiet = cmd & (uint16_t) ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY);

        if (quiet != cmd)
            ops->write16(ops->ctx, a, PCI_COMMAND, quiet);
        probe_bars(ops, a, d, nbars);
        if (quiet != cmd)
            ops->write16(ops->ctx, a, PCI_COMMAND, cmd);
    }
    probe_capabilities(ops, a, d);
}

static bool function_present(const struct pci_config_ops *ops, struct pci_address a)
{
    uint16_t vendor = (uint16_t)ops->read32(ops->ctx, a, PCI_VENDOR_ID);

    return vendor != 0xffff && vendor != 0x0000;
}

static uint64_t bdf_key(const struct pci_device *d)
{
    return ((uint64_t)d->segment << 16) | ((uint64_t)d->bus << 8) | ((uint64_t)d->dev << 3) |
           d->func;
}

static void sort_devices(struct pci_device *devs, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {
        struct pci_device cur = devs[i];
        unsigned j = i;

        while (j > 0 && bdf_key(&devs[j - 1]) > bdf_key(&cur)) {
            devs[j] = devs[j - 1];
            j--;
        }
        devs[j] = cur;
    }
}

struct bus_walk {
    uint8_t queue[256];
    unsigned head, tail;
    uint8_t seen[256 / 8];
};

static bool walk_mark(struct bus_walk *w, uint8_t bus)
{
    if (w->seen[bus / 8] & (1u << (bus % 8)))
        return false;
    w->seen[bus / 8] |= (uint8_t)(1u << (bus % 8));
    w->queue[w->tail++] = bus; /* each bus is queued at most once: no overflow */
    return true;
}

static void record(struct pci_enum_result *r, struct pci_device *out, unsigned max,
                   const struct pci_device *d)
{
    if (r->count < max)
        out[r->count++] = *d;
    else
        r->dropped++;
}

static void scan_bus(const struct pci_config_ops *ops, const struct pci_bus_range *range,
                     uint8_t bus, struct bus_walk *w, struct pci_enum_result *r,
                     struct pci_device *out, unsigned max)
{
    for (uint8_t dev = 0; dev < 32; dev++) {
        struct pci_address a = {range->segment, bus, dev, 0};

        if (!function_present(ops, a))
            continue;
        unsigned nfunc = (cfg_read8(ops, a, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFUNC) ? 8 : 1;

        for (uint8_t func = 0; func < nfunc; func++) {
            struct pci_device d;

            a.func = func;
            if (func && !function_present(ops, a))
                continue;
            pci_probe_function(ops, a, &d);
            record(r, out, max, &d);
            if ((d.header_type & PCI_HEADER_TYPE_MASK) != PCI_HEADER_BRIDGE)
                continue;
            uint8_t sec = d.secondary_bus;
            if (sec <= range->bus_start || sec > range->bus_end || !walk_mark(w, sec))
                r->bad_bridges++;
        }
    }
}

struct pci_enum_result pci_enumerate(const struct pci_config_ops *ops,
                                     const struct pci_bus_range *ranges, unsigned nranges,
                                     struct pci_device *out, unsigned max)
{
    struct pci_enum_result r = {0, 0, 0};

    for (unsigned i = 0; i < nranges; i++) {
        const struct pci_bus_range *range = &ranges[i];
        struct bus_walk w;

        if (range->bus_end < range->bus_start)
            continue;
        memset(&w, 0, sizeof(w));
        walk_mark(&w, range->bus_start);
        while (w.head < w.tail)
            scan_bus(ops, range, w.queue[w.head++], &w, &r, out, max);
    }
    sort_devices(out, r.count);
    return r;
}
