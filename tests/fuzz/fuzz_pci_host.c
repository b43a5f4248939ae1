/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the guest's PCI host (vmm/dev/pci_host.c): the input
 * is a script of guest accesses to ports 0xCF8-0xCFF (and their
 * neighbours) and to the ECAM window, of every size (0 to 8) and alignment,
 * against the host bridge, a function with a register file (read-only,
 * writable and write-one-to-clear bytes) and two recording functions, one on
 * another bus. Besides the sanitizers' checks it aborts when a promise of
 * pci_host.h breaks: a handler called with a size other than 1, 2 or 4, an
 * access crossing an aligned dword, an offset past 255 through the ports or
 * past 4095 at all; an access routed to a function the address does not
 * name (the expected route is decoded here independently); an empty slot or
 * a refused access not reading all ones; read-only bytes that changed.
 * fuzz-sources: vmm/dev/pci_host.c
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "vmm/dev/pci_host.h"

/* A function that records what reached it and answers a pattern that
 * depends on the offset, so a misrouted or mis-shifted read shows. */
struct recorder {
    uint8_t bus, dev, fn;
    bool hit;
    unsigned offset, size;
    bool wrote;
    uint32_t value;
};

static bool via_ports; /* the access in progress came through 0xCFC */

static void handler_checks(unsigned offset, unsigned size)
{
    check(size == 1 || size == 2 || size == 4, "handler size is 1, 2 or 4");
    check(offset < PCI_CFG_SPACE_SIZE, "handler offset below 4096");
    check((offset & ~3u) + 4 >= offset + size, "handler access inside one dword");
    check(!via_ports || offset < 256, "port access past offset 255");
}

static uint32_t pattern(unsigned offset)
{
    return (uint32_t)(offset * 0x9e3779b1u) ^ 0x5a5a5a5au;
}

static uint32_t recorder_read(void *ctx, unsigned offset, unsigned size)
{
    struct recorder *r = ctx;

    handler_checks(offset, size);
    *r = (struct recorder){r->bus, r->dev, r->fn, true, offset, size, false, 0};
    return pattern(offset); /* upper bytes must be masked off by the host */
}

static void recorder_write(void *ctx, unsigned offset, unsigned size, uint32_t value)
{
    struct recorder *r = ctx;

    handler_checks(offset, size);
    check(size == 4 || value >> (8 * size) == 0, "write value wider than its size");
    *r = (struct recorder){r->bus, r->dev, r->fn, true, offset, size, true, value};
}

/* A device with a register file, as virtio-pci builds its header. */
static struct pci_cfg_regs regs;

static uint32_t regs_read(void *ctx, unsigned offset, unsigned size)
{
    handler_checks(offset, size);
    return pci_cfg_regs_read(ctx, offset, size);
}

static void regs_write(void *ctx, unsigned offset, unsigned size, uint32_t value)
{
    handler_checks(offset, size);
    pci_cfg_regs_write(ctx, offset, size, value);
}

static struct pci_host host;
static struct recorder rec[2];

static const struct {
    uint8_t bus, dev, fn;
} places[2] = {{0, 2, 5}, {1, 31, 7}};

static void setup(void)
{
    pci_host_init(&host);
    regs = (struct pci_cfg_regs){0};
    pci_cfg_regs_set(&regs, 0, 4, 0x56781234); /* vendor, device */
    pci_cfg_regs_set(&regs, 0x0e, 1, 0x80);    /* multi-function */
    pci_cfg_regs_set(&regs, 0x06, 2, 0xf910);  /* status: error bits set */
    regs.wmask[0x04] = 0x07;                   /* command */
    regs.w1cmask[0x07] = 0xf9;                 /* status errors: write 1 to clear */
    memset(&regs.wmask[0x10], 0xff, 4);        /* a BAR */
    regs.wmask[0x10] = 0xf0;
    struct pci_function f = {0, 1, 0, regs_read, regs_write, &regs};
    check(pci_host_add_function(&host, &f), "add 00:01.0");
    check(!pci_host_add_function(&host, &f), "a taken address is refused");
    for (unsigned i = 0; i < 2; i++) {
        rec[i] = (struct recorder){places[i].bus, places[i].dev, places[i].fn};
        f = (struct pci_function){rec[i].bus,    rec[i].dev,     rec[i].fn,
                                  recorder_read, recorder_write, &rec[i]};
        check(pci_host_add_function(&host, &f), "add a recorder");
    }
    struct pci_function bad = {0, 32, 0, recorder_read, recorder_write, &rec[0]};
    check(!pci_host_add_function(&host, &bad), "device 32 is refused");
    bad = (struct pci_function){0, 3, 8, recorder_read, recorder_write, &rec[0]};
    check(!pci_host_add_function(&host, &bad), "function 8 is refused");
    bad = (struct pci_function){0, 3, 0, NULL, recorder_write, &rec[0]};
    check(!pci_host_add_function(&host, &bad), "a missing handler is refused");
}

static uint64_t ones(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* Where an access should land: -1 nowhere, 0/1 a recorder, 2 another
 * function (bridge or register file). */
static int route(unsigned bus, unsigned dev, unsigned fn)
{
    for (int i = 0; i < 2; i++) {
        if (places[i].bus == bus && places[i].dev == dev && places[i].fn == fn)
            return i;
    }
    if (bus == 0 && fn == 0 && (dev == 0 || dev == 1))
        return 2;
    return -1;
}

static void clear_records(void)
{
    rec[0].hit = rec[1].hit = false;
}

/* After an access expected at (target, offset, size): exactly that recorder
 * saw it, with that offset and size. */
static void check_records(int target, unsigned offset, unsigned size, bool write, uint64_t value)
{
    for (int i = 0; i < 2; i++) {
        if (i != target) {
            check(!rec[i].hit, "an access reached a function it did not name");
            continue;
        }
        check(rec[i].hit, "an access did not reach the function it named");
        check(rec[i].offset == offset && rec[i].size == size, "wrong offset or size at handler");
        check(rec[i].wrote == write, "read/write mixed up");
        if (write)
            check(rec[i].value == (uint32_t)(value & ones(size)), "written value changed");
    }
}

static uint32_t latch; /* the 0xCF8 value, as decoded here */

static void port_access(struct input *in)
{
    uint8_t op = (uint8_t)take(in, 1);
    bool write = op & 1;
    unsigned size = (op >> 1) & 7;                   /* 0..7: invalid sizes too */
    uint16_t port = 0xcf6 + ((op >> 4) & 0x0f) % 11; /* 0xCF6..0xD00 */
    uint32_t value = (uint32_t)take(in, 4);

    clear_records();
    via_ports = true;
    bool valid = size == 1 || size == 2 || size == 4;
    bool data = port >= 0xcfc && port <= 0xcff && valid && (port - 0xcfc) + size <= 4 &&
                (latch & 0x80000000u);
    unsigned bus = (latch >> 16) & 0xff, dev = (latch >> 11) & 0x1f, fn = (latch >> 8) & 7;
    unsigned offset = (latch & 0xfc) | (port - 0xcfc);
    int target = data ? route(bus, dev, fn) : -1;
    if (write) {
        pci_host_io_write(&host, port, size, value);
        if (port == 0xcf8 && size == 4)
            latch = value & 0x80fffffcu;
        else
            check_records(target, offset, size, true, value);
    } else {
        uint32_t v = pci_host_io_read(&host, port, size);
        if (port == 0xcf8 && size == 4) {
            check(v == latch, "0xCF8 reads back its latch");
        } else if (target < 0) {
            check(v == (uint32_t)ones(valid ? size : 4), "nothing there reads all ones");
            check_records(-1, 0, 0, false, 0);
        } else {
            check(v <= ones(size), "read wider than its size");
            check_records(target, offset, size, false, 0);
            if (target < 2)
                check(v == (pattern(offset) & ones(size)), "read value changed on the way");
        }
    }
    via_ports = false;
}

static void ecam_access(struct input *in)
{
    uint8_t op = (uint8_t)take(in, 1);
    bool write = op & 1;
    unsigned size = (op >> 1) & 15; /* 0..15 */
    uint64_t offset;
    switch ((op >> 5) & 3) {
    case 0: /* near a recorder or the register file */
        offset = (uint64_t)places[(op >> 7) & 1].bus << 20 |
                 (uint64_t)places[(op >> 7) & 1].dev << 15 |
                 (uint64_t)places[(op >> 7) & 1].fn << 12 | (take(in, 2) & 0xfff);
        break;
    case 1: offset = (1u << 15) | (take(in, 2) & 0xfff); break; /* 00:01.0 */
    case 2: offset = take(in, 4) & 0x0fffffff; break;           /* anywhere in 256 buses */
    default: offset = take(in, 8); break;                       /* anywhere at all */
    }
    uint64_t value = take(in, 8);

    clear_records();
    bool whole = offset < 256ull * PCI_ECAM_BUS_SIZE;
    bool single = (size == 1 || size == 2 || size == 4) && offset % size == 0 && whole;
    bool pair = size == 8 && offset % 8 == 0 && whole;
    unsigned bus = (unsigned)(offset >> 20) & 0xff, dev = (unsigned)(offset >> 15) & 0x1f;
    unsigned fn = (unsigned)(offset >> 12) & 7, reg = (unsigned)offset & 0xfff;
    int target = single || pair ? route(bus, dev, fn) : -1;
    if (write) {
        pci_host_ecam_write(&host, offset, size, value);
        if (single)
            check_records(target, reg, size, true, value);
        else if (pair)
            check_records(target, reg + 4, 4, true, value >> 32); /* high dword last */
        else
            check_records(-1, 0, 0, false, 0);
        return;
    }
    uint64_t v = pci_host_ecam_read(&host, offset, size);
    if (target < 0) {
        uint64_t want = single ? ones(size) : pair ? ~0ull : (size == 8 ? ~0ull : ~0ull);
        if (!single && !pair && (size == 1 || size == 2 || size == 4))
            want = ones(size); /* misaligned or past bus 255: all ones of its size */
        check(v == want, "nothing there reads all ones");
        check_records(-1, 0, 0, false, 0);
        return;
    }
    check(v <= ones(size), "read wider than its size");
    if (target < 2) {
        if (single)
            check(v == (pattern(reg) & ones(size)), "read value changed on the way");
        else
            check(v == ((uint64_t)pattern(reg + 4) << 32 | pattern(reg)), "8-byte read halves");
    }
}

static void check_read_only(void)
{
    via_ports = false;
    check(pci_host_ecam_read(&host, 0, 4) ==
              (PCI_HOST_BRIDGE_DEVICE << 16 | PCI_HOST_BRIDGE_VENDOR),
          "host bridge IDs are read-only");
    check(pci_host_ecam_read(&host, 0x08, 4) == 0x06000000u, "host bridge class is read-only");
    check(pci_host_ecam_read(&host, 0x10, 4) == 0, "host bridge has no BAR");
    check(pci_cfg_regs_read(&regs, 0, 4) == 0x56781234 && regs.bytes[0x0e] == 0x80,
          "read-only bytes of 00:01.0 changed");
    check((regs.bytes[0x04] & ~0x07) == 0 && (regs.bytes[0x10] & 0x0f) == 0,
          "bits outside the write mask changed");
    check((regs.bytes[0x06] & 0xff) == 0x10 && (regs.bytes[0x07] & 0x06) == 0,
          "status: only write-one-to-clear bits may change");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};

    setup();
    latch = 0;
    while (in.n) {
        if (take(&in, 1) & 1)
            port_access(&in);
        else
            ecam_access(&in);
        check_read_only();
    }
    return 0;
}
