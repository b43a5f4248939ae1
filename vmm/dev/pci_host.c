/* SPDX-License-Identifier: MIT */
/*
 * The PCI host behind vmm/dev/pci_host.h: both access mechanisms reduce to
 * one dispatch (bus, device, function, register, size) over the function
 * table, so port and ECAM accesses cannot disagree.
 */
#include "vmm/dev/pci_host.h"

#include <stddef.h>

#define CF8_ENABLE 0x80000000u
#define CF8_MASK   0x80fffffcu /* enable, bus, device, function, dword register */

/* Header offsets. */
#define CFG_VENDOR    0x00
#define CFG_DEVICE    0x02
#define CFG_COMMAND   0x04
#define CFG_STATUS    0x06
#define CFG_REVISION  0x08
#define CFG_CLASS     0x09 /* prog-if, subclass, class */
#define CFG_CACHELINE 0x0c
#define CFG_LATENCY   0x0d
#define CFG_HEADER    0x0e
#define CFG_INT_LINE  0x3c

static uint32_t size_mask(unsigned size)
{
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

uint32_t pci_cfg_regs_read(const struct pci_cfg_regs *r, unsigned offset, unsigned size)
{
    uint32_t v = 0;

    for (unsigned i = 0; i < size && i < 4; i++) {
        if (offset + i < sizeof(r->bytes))
            v |= (uint32_t)r->bytes[offset + i] << (8 * i);
    }
    return v;
}

void pci_cfg_regs_write(struct pci_cfg_regs *r, unsigned offset, unsigned size, uint32_t value)
{
    for (unsigned i = 0; i < size && i < 4; i++) {
        unsigned at = offset + i;
        if (at >= sizeof(r->bytes))
            break;
        uint8_t b = (uint8_t)(value >> (8 * i));
        uint8_t keep = (uint8_t)(r->bytes[at] & ~r->wmask[at]);
        r->bytes[at] = (uint8_t)(keep | (b & r->wmask[at]));
        r->bytes[at] &= (uint8_t) ~(b & r->w1cmask[at]);
    }
}

void pci_cfg_regs_set(struct pci_cfg_regs *r, unsigned offset, unsigned size, uint32_t value)
{
    for (unsigned i = 0; i < size && i < 4 && offset + i < sizeof(r->bytes); i++)
        r->bytes[offset + i] = (uint8_t)(value >> (8 * i));
}

static uint32_t bridge_read(void *ctx, unsigned offset, unsigned size)
{
    return pci_cfg_regs_read(ctx, offset, size);
}

static void bridge_write(void *ctx, unsigned offset, unsigned size, uint32_t value)
{
    pci_cfg_regs_write(ctx, offset, size, value);
}

static void bridge_init(struct pci_cfg_regs *r)
{
    *r = (struct pci_cfg_regs){0};
    pci_cfg_regs_set(r, CFG_VENDOR, 2, PCI_HOST_BRIDGE_VENDOR);
    pci_cfg_regs_set(r, CFG_DEVICE, 2, PCI_HOST_BRIDGE_DEVICE);
    pci_cfg_regs_set(r, CFG_COMMAND, 2, 0x0006); /* memory space, bus master */
    pci_cfg_regs_set(r, CFG_CLASS, 3, 0x060000); /* bridge, host, prog-if 0 */
    pci_cfg_regs_set(r, CFG_HEADER, 1, 0x00);
    /* Writable: command (I/O, memory, bus master, parity, SERR), cache
     * line size, latency timer, interrupt line; status error bits are
     * write-one-to-clear. Everything else, BARs included, is read-only 0. */
    r->wmask[CFG_COMMAND] = 0x47;
    r->wmask[CFG_COMMAND + 1] = 0x01;
    r->w1cmask[CFG_STATUS + 1] = 0xf9;
    r->wmask[CFG_CACHELINE] = 0xff;
    r->wmask[CFG_LATENCY] = 0xff;
    r->wmask[CFG_INT_LINE] = 0xff;
}

void pci_host_init(struct pci_host *h)
{
    *h = (struct pci_host){0};
    bridge_init(&h->bridge);
    h->fns[0] =
        (struct pci_function){.read = bridge_read, .write = bridge_write, .ctx = &h->bridge};
    h->count = 1;
}

static struct pci_function *find(struct pci_host *h, unsigned bus, unsigned dev, unsigned fn)
{
    for (unsigned i = 0; i < h->count; i++) {
        struct pci_function *f = &h->fns[i];
        if (f->bus == bus && f->dev == dev && f->fn == fn)
            return f;
    }
    return NULL;
}

bool pci_host_add_function(struct pci_host *h, const struct pci_function *f)
{
    if (!f || !f->read || !f->write || f->dev > 31 || f->fn > 7)
        return false;
    if (h->count >= PCI_HOST_MAX_FUNCTIONS || find(h, f->bus, f->dev, f->fn))
        return false;
    h->fns[h->count++] = *f;
    return true;
}

/* The one place accesses reach functions: size 1/2/4 within a dword. */
static uint32_t cfg_read(struct pci_host *h, unsigned bus, unsigned dev, unsigned fn,
                         unsigned offset, unsigned size)
{
    struct pci_function *f = find(h, bus, dev, fn);

    if (!f)
        return size_mask(size);
    return f->read(f->ctx, offset, size) & size_mask(size);
}

static void cfg_write(struct pci_host *h, unsigned bus, unsigned dev, unsigned fn, unsigned offset,
                      unsigned size, uint32_t value)
{
    struct pci_function *f = find(h, bus, dev, fn);

    if (f)
        f->write(f->ctx, offset, size, value & size_mask(size));
}

static bool valid_size(unsigned size)
{
    return size == 1 || size == 2 || size == 4;
}

/* Decodes a data-port access; false when it reaches no configuration space. */
static bool data_target(const struct pci_host *h, uint16_t port, unsigned size, unsigned *offset)
{
    unsigned byte = port - PCI_HOST_PORT_DATA;

    if (!valid_size(size) || byte + size > 4 || !(h->address & CF8_ENABLE))
        return false;
    *offset = (h->address & 0xfc) | byte;
    return true;
}

#define CF8_BUS(a) (((a) >> 16) & 0xff)
#define CF8_DEV(a) (((a) >> 11) & 0x1f)
#define CF8_FN(a)  (((a) >> 8) & 0x07)

uint32_t pci_host_io_read(struct pci_host *h, uint16_t port, unsigned size)
{
    unsigned offset;

    if (port == PCI_HOST_PORT_ADDRESS && size == 4)
        return h->address;
    if (port < PCI_HOST_PORT_DATA || port > PCI_HOST_PORT_DATA + 3 ||
        !data_target(h, port, size, &offset))
        return size_mask(valid_size(size) ? size : 4);
    return cfg_read(h, CF8_BUS(h->address), CF8_DEV(h->address), CF8_FN(h->address), offset, size);
}

void pci_host_io_write(struct pci_host *h, uint16_t port, unsigned size, uint32_t value)
{
    unsigned offset;

    if (port == PCI_HOST_PORT_ADDRESS && size == 4) {
        h->address = value & CF8_MASK;
        return;
    }
    if (port < PCI_HOST_PORT_DATA || port > PCI_HOST_PORT_DATA + 3 ||
        !data_target(h, port, size, &offset))
        return;
    cfg_write(h, CF8_BUS(h->address), CF8_DEV(h->address), CF8_FN(h->address), offset, size, value);
}

/* Decodes an ECAM access of size 1/2/4; false when it reaches nothing. */
static bool ecam_target(uint64_t offset, unsigned size, unsigned *bus, unsigned *dev, unsigned *fn,
                        unsigned *reg)
{
    if (!valid_size(size) || offset % size || offset >= 256ull * PCI_ECAM_BUS_SIZE)
        return false;
    *bus = (unsigned)(offset >> 20) & 0xff;
    *dev = (unsigned)(offset >> 15) & 0x1f;
    *fn = (unsigned)(offset >> 12) & 0x07;
    *reg = (unsigned)offset & 0xfff;
    return true;
}

static uint32_t ecam_read32(struct pci_host *h, uint64_t offset, unsigned size)
{
    unsigned bus, dev, fn, reg;

    if (!ecam_target(offset, size, &bus, &dev, &fn, &reg))
        return 0xffffffffu;
    return cfg_read(h, bus, dev, fn, reg, size);
}

static void ecam_write32(struct pci_host *h, uint64_t offset, unsigned size, uint32_t value)
{
    unsigned bus, dev, fn, reg;

    if (ecam_target(offset, size, &bus, &dev, &fn, &reg))
        cfg_write(h, bus, dev, fn, reg, size, value);
}

uint64_t pci_host_ecam_read(struct pci_host *h, uint64_t offset, unsigned size)
{
    if (size == 8) {
        if (offset % 8 || offset >= 256ull * PCI_ECAM_BUS_SIZE)
            return ~0ull;
        return ecam_read32(h, offset, 4) | (uint64_t)ecam_read32(h, offset + 4, 4) << 32;
    }
    if (!valid_size(size))
        return ~0ull;
    return ecam_read32(h, offset, size) & size_mask(size);
}

void pci_host_ecam_write(struct pci_host *h, uint64_t offset, unsigned size, uint64_t value)
{
    if (size == 8) {
        if (offset % 8 || offset >= 256ull * PCI_ECAM_BUS_SIZE)
            return;
        ecam_write32(h, offset, 4, (uint32_t)value);
        ecam_write32(h, offset + 4, 4, (uint32_t)(value >> 32));
        return;
    }
    ecam_write32(h, offset, size, (uint32_t)value);
}
