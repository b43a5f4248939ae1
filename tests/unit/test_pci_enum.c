/* SPDX-License-Identifier: MIT */
/*
 * Host tests of PCI enumeration against a fake configuration space: an
 * array of 4 KiB config spaces per segment/bus/device/function, where BARs
 * behave like hardware (only their size bits are writable, type bits are read
 * only) and the fake checks that decoding is off whenever a BAR holds the
 * all-ones sizing pattern, and that nothing but BARs and the command
 * register is ever written.
 */
/* test-sources: kernel/pci/pci_enum.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/pci/pci_enum.h"
#include "kernel/pci/pci_regs.h"

#define FAKE_SEGMENTS 2

struct fake_fn {
    uint8_t cfg[PCI_CONFIG_SIZE_ECAM];
    uint32_t bar_writable[6]; /* bits of each BAR dword that take writes */
};

static struct fake_fn *space[FAKE_SEGMENTS][256][32][8];
static int decode_on_while_sizing; /* a BAR held all ones with decoding on */
static int stray_writes;           /* writes outside BARs/command, or to absent functions */
static int reads;

static struct fake_fn **slot(struct pci_address a)
{
    assert_true(a.segment < FAKE_SEGMENTS);
    assert_true(a.dev < 32 && a.func < 8);
    return &space[a.segment][a.bus][a.dev][a.func];
}

static uint32_t get32(const struct fake_fn *f, uint16_t off)
{
    uint32_t v;

    memcpy(&v, &f->cfg[off], 4);
    return v;
}

static void put32(struct fake_fn *f, uint16_t off, uint32_t v)
{
    memcpy(&f->cfg[off], &v, 4);
}

static void put16(struct fake_fn *f, uint16_t off, uint16_t v)
{
    memcpy(&f->cfg[off], &v, 2);
}

static unsigned bar_count(const struct fake_fn *f)
{
    uint8_t t = f->cfg[PCI_HEADER_TYPE] & PCI_HEADER_TYPE_MASK;

    return t == 0 ? 6 : t == 1 ? 2 : 0;
}

static uint32_t fake_read32(void *ctx, struct pci_address a, uint16_t off)
{
    struct fake_fn *f = *slot(a);

    assert_int_equal(off & 3, 0);
    assert_true(off < PCI_CONFIG_SIZE_ECAM);
    reads++;
    return f ? get32(f, off) : 0xffffffffu;
}

static void check_sizing_safe(struct fake_fn *f)
{
    uint16_t cmd;

    memcpy(&cmd, &f->cfg[PCI_COMMAND], 2);
    for (unsigned i = 0; i < bar_count(f); i++) {
        uint32_t v = get32(f, (uint16_t)(PCI_BAR0 + 4 * i));
        /* A BAR showing its size mask is "all ones" as far as decoding goes. */
        if (f->bar_writable[i] && (v & f->bar_writable[i]) == f->bar_writable[i] &&
            (cmd & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY)))
            decode_on_while_sizing++;
    }
}

static void fake_write32(void *ctx, struct pci_address a, uint16_t off, uint32_t v)
{
    struct fake_fn *f = *slot(a);

    assert_int_equal(off & 3, 0);
    if (!f) {
        stray_writes++;
        return;
    }
    if (off >= PCI_BAR0 && off < PCI_BAR0 + 4 * bar_count(f)) {
        unsigned i = (off - PCI_BAR0) / 4;
        uint32_t keep = get32(f, off) & ~f->bar_writable[i];
        put32(f, off, (v & f->bar_writable[i]) | keep);
        check_sizing_safe(f);
        return;
    }
    stray_writes++;
}

static void fake_write16(void *ctx, struct pci_address a, uint16_t off, uint16_t v)
{
    struct fake_fn *f = *slot(a);

    assert_int_equal(off & 1, 0);
    if (!f || off != PCI_COMMAND) {
        stray_writes++;
        return;
    }
    put16(f, off, v);
    check_sizing_safe(f);
}

static const struct pci_config_ops fake_ops = {
    .read32 = fake_read32,
    .write32 = fake_write32,
    .write16 = fake_write16,
    .ctx = NULL,
};

static struct fake_fn *fake_add_seg(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t func,
                                    uint16_t vendor, uint16_t device, uint32_t class_rev,
                                    uint8_t header_type)
{
    struct pci_address a = {seg, bus, dev, func};
    struct fake_fn *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    assert_null(*slot(a));
    *slot(a) = f;
    put16(f, PCI_VENDOR_ID, vendor);
    put16(f, PCI_DEVICE_ID, device);
    put32(f, PCI_REVISION, class_rev);
    f->cfg[PCI_HEADER_TYPE] = header_type;
    /* Firmware left decoding and bus mastering on. */
    put16(f, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    return f;
}

static struct fake_fn *fake_add(uint8_t bus, uint8_t dev, uint8_t func, uint16_t vendor,
                                uint16_t device, uint32_t class_rev, uint8_t header_type)
{
    return fake_add_seg(0, bus, dev, func, vendor, device, class_rev, header_type);
}

static void fake_bar32(struct fake_fn *f, unsigned i, uint32_t base, uint32_t size, bool pref)
{
    put32(f, (uint16_t)(PCI_BAR0 + 4 * i), base | (pref ? PCI_BAR_MEM_PREFETCH : 0));
    f->bar_writable[i] = ~(size - 1) & PCI_BAR_MEM_MASK;
}

static void fake_bar64(struct fake_fn *f, unsigned i, uint64_t base, uint64_t size, bool pref)
{
    uint64_t writable = ~(size - 1);

    put32(f, (uint16_t)(PCI_BAR0 + 4 * i),
          (uint32_t)base | PCI_BAR_MEM_TYPE_64 | (pref ? PCI_BAR_MEM_PREFETCH : 0));
    put32(f, (uint16_t)(PCI_BAR0 + 4 * (i + 1)), (uint32_t)(base >> 32));
    f->bar_writable[i] = (uint32_t)writable & PCI_BAR_MEM_MASK;
    f->bar_writable[i + 1] = (uint32_t)(writable >> 32);
}

/* I/O BARs decode 16 bits: the upper half reads back as zero. */
static void fake_bario(struct fake_fn *f, unsigned i, uint16_t port, uint16_t size)
{
    put32(f, (uint16_t)(PCI_BAR0 + 4 * i), port | PCI_BAR_IO);
    f->bar_writable[i] = ~(uint32_t)(size - 1) & 0xfffcu;
}

static void fake_cap_ptr(struct fake_fn *f, uint8_t first)
{
    uint16_t status = PCI_STATUS_CAP_LIST;

    put16(f, PCI_STATUS, status);
    f->cfg[PCI_CAP_PTR] = first;
}

static void fake_cap(struct fake_fn *f, uint8_t off, uint8_t id, uint8_t next)
{
    f->cfg[off] = id;
    f->cfg[off + 1] = next;
}

static void fake_bridge_buses(struct fake_fn *f, uint8_t primary, uint8_t secondary,
                              uint8_t subordinate)
{
    f->cfg[PCI_PRIMARY_BUS] = primary;
    f->cfg[PCI_SECONDARY_BUS] = secondary;
    f->cfg[PCI_SUBORDINATE_BUS] = subordinate;
}

static int setup(void **state)
{
    memset(space, 0, sizeof(space));
    decode_on_while_sizing = 0;
    stray_writes = 0;
    reads = 0;
    return 0;
}

static int teardown(void **state)
{
    for (unsigned s = 0; s < FAKE_SEGMENTS; s++)
        for (unsigned b = 0; b < 256; b++)
            for (unsigned d = 0; d < 32; d++)
                for (unsigned fn = 0; fn < 8; fn++)
                    free(space[s][b][d][fn]);
    return 0;
}

static const struct pci_bus_range all_of_segment0 = {0, 0, 255};

static struct pci_device found[64];

static struct pci_enum_result enumerate(void)
{
    memset(found, 0xa5, sizeof(found));
    return pci_enumerate(&fake_ops, &all_of_segment0, 1, found, 64);
}

static void assert_bdf(const struct pci_device *d, uint8_t bus, uint8_t dev, uint8_t func)
{
    assert_int_equal(d->bus, bus);
    assert_int_equal(d->dev, dev);
    assert_int_equal(d->func, func);
}

static void test_empty_bus(void **state)
{
    struct pci_enum_result r = enumerate();

    assert_int_equal(r.count, 0);
    assert_int_equal(r.dropped, 0);
    assert_int_equal(stray_writes, 0);
}

static void test_absent_devices_skipped(void **state)
{
    /* Host bridge, a gap of absent slots (vendor 0xffff), one device at 31,
     * and a slot reading vendor 0x0000, which is no device either. */
    fake_add(0, 0, 0, 0x8086, 0x29c0, 0x06000002, 0);
    fake_add(0, 31, 0, 0x8086, 0x2918, 0x06010002, 0);
    fake_add(0, 9, 0, 0x0000, 0x0000, 0, 0);

    struct pci_enum_result r = enumerate();

    assert_int_equal(r.count, 2);
    assert_bdf(&found[0], 0, 0, 0);
    assert_int_equal(found[0].vendor_id, 0x8086);
    assert_int_equal(found[0].device_id, 0x29c0);
    assert_int_equal(found[0].class_code, 0x06);
    assert_int_equal(found[0].subclass, 0x00);
    assert_int_equal(found[0].revision, 0x02);
    assert_bdf(&found[1], 0, 31, 0);
    assert_int_equal(found[1].subclass, 0x01);
    assert_int_equal(stray_writes, 0);
}

static void test_multifunction(void **state)
{
    /* Multi-function device 0:1f with functions 0, 2 and 3 (1 absent). */
    fake_add(0, 0x1f, 0, 0x8086, 0x2918, 0x06010002, PCI_HEADER_MULTIFUNC);
    fake_add(0, 0x1f, 2, 0x8086, 0x2922, 0x01060102, 0);
    fake_add(0, 0x1f, 3, 0x8086, 0x2930, 0x0c050002, 0);
    /* Single-function device 0:05 that (like some old hardware) answers on
     * every function number: only function 0 is real. */
    fake_add(0, 5, 0, 0x1af4, 0x1000, 0x02000000, 0);
    fake_add(0, 5, 1, 0x1af4, 0x1000, 0x02000000, 0);
    fake_add(0, 5, 7, 0x1af4, 0x1000, 0x02000000, 0);
    /* Functions other than 0 do not count if function 0 is absent. */
    fake_add(0, 6, 1, 0x1234, 0x5678, 0x02000000, PCI_HEADER_MULTIFUNC);

    struct pci_enum_result r = enumerate();

    assert_int_equal(r.count, 4);
    assert_bdf(&found[0], 0, 5, 0);
    assert_bdf(&found[1], 0, 0x1f, 0);
    assert_bdf(&found[2], 0, 0x1f, 2);
    assert_int_equal(found[2].device_id, 0x2922);
    assert_int_equal(found[2].class_code, 0x01);
    assert_int_equal(found[2].subclass, 0x06);
    assert_int_equal(found[2].prog_if, 0x01);
    assert_bdf(&found[3], 0, 0x1f, 3);
    assert_int_equal(found[1].header_type, PCI_HEADER_MULTIFUNC);
}

static void test_bridge_with_device_behind(void **state)
{
    /* 0:00.0 host bridge; 0:1c.0 bridge to bus 3 (subordinate 4); 3:00.0
     * bridge to bus 4; 4:00.0 NVMe; 3:02.0 NIC. Bus 7 has a device but
     * nothing leads to it. */
    fake_add(0, 0, 0, 0x8086, 0x29c0, 0x06000000, 0);
    struct fake_fn *br = fake_add(0, 0x1c, 0, 0x8086, 0x2940, 0x06040000, PCI_HEADER_BRIDGE);
    fake_bridge_buses(br, 0, 3, 4);
    fake_bar32(br, 0, 0xfe000000, 0x1000, false);
    struct fake_fn *br2 = fake_add(3, 0, 0, 0x10b5, 0x8747, 0x06040000, PCI_HEADER_BRIDGE);
    fake_bridge_buses(br2, 3, 4, 4);
    fake_add(4, 0, 0, 0x1b36, 0x0010, 0x01080200, 0);
    fake_add(3, 2, 0, 0x8086, 0x10d3, 0x02000000, 0);
    fake_add(7, 0, 0, 0xdead, 0xbeef, 0x02000000, 0);

    struct pci_enum_result r = enumerate();

    assert_int_equal(r.count, 5);
    assert_int_equal(r.bad_bridges, 0);
    /* Sorted by bus/dev/func, whatever order the walk found them in. */
    assert_bdf(&found[0], 0, 0, 0);
    assert_bdf(&found[1], 0, 0x1c, 0);
    assert_int_equal(found[1].secondary_bus, 3);
    assert_int_equal(found[1].subordinate_bus, 4);
    /* Bridges have two BARs; this one has one 4 KiB window. */
    assert_int_equal(found[1].bar[0].size, 0x1000);
    assert_bdf(&found[2], 3, 0, 0);
    assert_bdf(&found[3], 3, 2, 0);
    assert_bdf(&found[4], 4, 0, 0);
    assert_int_equal(found[4].vendor_id, 0x1b36);
    assert_int_equal(found[4].prog_if, 0x02);
    assert_int_equal(stray_writes, 0);
}

static void test_sorted_by_bus_number(void **state)
{
    /* The walk reaches bus 5 (behind 0:01) before bus 3 (behind 0:02); the
     * table still comes out in bus order. */
    struct fake_fn *b;

    b = fake_add(0, 1, 0, 0x1b36, 0x000c, 0x06040000, PCI_HEADER_BRIDGE);
    fake_bridge_buses(b, 0, 5, 5);
    b = fake_add(0, 2, 0, 0x1b36, 0x000c, 0x06040000, PCI_HEADER_BRIDGE);
    fake_bridge_buses(b, 0, 3, 3);
    fake_add(5, 0, 0, 0x1af4, 0x1041, 0x02000000, 0);
    fake_add(3, 0, 0, 0x1b36, 0x0010, 0x01080200, 0);

    struct pci_enum_result r = enumerate();

    assert_int_equal(r.count, 4);
    assert_bdf(&found[0], 0, 1, 0);
    assert_bdf(&found[1], 0, 2, 0);
    assert_bdf(&found[2], 3, 0, 0);
    assert_int_equal(found[2].device_id, 0x0010);
    assert_bdf(&found[3], 5, 0, 0);
    assert_int_equal(found[3].device_id, 0x1041);
}

static void test_bridge_loops_and_bad_secondary(void **state)
{
    /* Bridge on bus 0 to bus 1; bus 1 has a bridge back to bus 0, one to bus
     * 1 itself, one to bus 2 and another one also claiming bus 2. */
    struct fake_fn *b;

    b = fake_add(0, 1, 0, 0x1b36, 0x000c, 0x06040000, PCI_HEADER_BRIDGE);
    fake_bridge_buses(b, 0, 1, 2);
    b = fake_add(1, 0, 0, 0x1b36, 0x000c, 0x06040000, PCI_HEADER_BRIDGE);
    fake_bridge_buses(b, 1, 0, 0);
    b = fake_add(1, 1, 0, 0x1b36, 0x000c, 0x06040000, PCI_HEADER_BRIDGE);
    fake_bridge_buses(b, 1, 1, 1);
    b = fake_add(1, 2, 0, 0x1b36, 0x000c, 0x06040000, PCI_HEADER_BRIDGE);
    fake_bridge_buses(b, 1, 2, 2);
    b = fake_add(1, 3, 0, 0x1b36, 0x000c, 0x06040000, PCI_HEADER_BRIDGE);
    fake_bridge_buses(b, 1, 2, 2);
    fake_add(2, 0, 0, 0x1af4, 0x1041, 0x02000000, 0);

    struct pci_enum_result r = enumerate();

    /* 5 bridges + the device on bus 2, each once. */
    assert_int_equal(r.count, 6);
    assert_int_equal(r.bad_bridges, 3);
    assert_bdf(&found[5], 2, 0, 0);
}

static void test_range_limits(void **state)
{
    /* Segment 1, ECAM buses 0x10-0x20: the walk starts at 0x10 and does not
     * follow a bridge to bus 0x30 outside the window. */
    struct pci_bus_range range = {1, 0x10, 0x20};
    struct fake_fn *b;

    fake_add_seg(1, 0x10, 0, 0, 0x8086, 0x29c0, 0x06000000, 0);
    b = fake_add_seg(1, 0x10, 1, 0, 0x1b36, 0x000c, 0x06040000, PCI_HEADER_BRIDGE);
    fake_bridge_buses(b, 0x10, 0x30, 0x30);
    fake_add_seg(1, 0x30, 0, 0, 0x1af4, 0x1041, 0x02000000, 0);
    fake_add_seg(1, 0x00, 0, 0, 0x1af4, 0x1041, 0x02000000, 0);

    struct pci_enum_result r = pci_enumerate(&fake_ops, &range, 1, found, 64);

    assert_int_equal(r.count, 2);
    assert_int_equal(r.bad_bridges, 1);
    assert_int_equal(found[0].segment, 1);
    assert_bdf(&found[0], 0x10, 0, 0);
    assert_bdf(&found[1], 0x10, 1, 0);
}

static void test_table_full(void **state)
{
    struct pci_device small[3];

    for (uint8_t d = 0; d < 5; d++)
        fake_add(0, d, 0, 0x1af4, 0x1000, 0x02000000, 0);

    struct pci_enum_result r = pci_enumerate(&fake_ops, &all_of_segment0, 1, small, 3);

    assert_int_equal(r.count, 3);
    assert_int_equal(r.dropped, 2);
}

static void test_bar_sizes(void **state)
{
    struct fake_fn *f = fake_add(0, 3, 0, 0x8086, 0x10d3, 0x02000000, 0);
    uint8_t before[PCI_CONFIG_SIZE_LEGACY];

    fake_bar32(f, 0, 0xfebc0000, 0x20000, false);                /* 128 KiB */
    fake_bar64(f, 1, 0x0000000800000000ull, 0x1000000ull, true); /* 16 MiB, 64-bit, pref */
    fake_bario(f, 3, 0xc040, 0x20);                              /* 32 bytes I/O */
    /* BAR 4 unimplemented (reads 0, takes no writes). */
    /* BAR 5 claims to be 64-bit, but there is no slot for its upper half. */
    put32(f, PCI_BAR0 + 4 * 5, 0xfe000000 | PCI_BAR_MEM_TYPE_64);
    f->bar_writable[5] = ~(0x4000u - 1) & PCI_BAR_MEM_MASK;
    memcpy(before, f->cfg, sizeof(before));

    struct pci_enum_result r = enumerate();

    assert_int_equal(r.count, 1);
    const struct pci_device *d = &found[0];

    assert_int_equal(d->bar[0].base, 0xfebc0000);
    assert_int_equal(d->bar[0].size, 0x20000);
    assert_false(d->bar[0].is_io);
    assert_false(d->bar[0].is_64bit);
    assert_false(d->bar[0].prefetchable);

    assert_int_equal(d->bar[1].base, 0x0000000800000000ull);
    assert_int_equal(d->bar[1].size, 0x1000000);
    assert_true(d->bar[1].is_64bit);
    assert_true(d->bar[1].prefetchable);
    assert_int_equal(d->bar[2].size, 0); /* upper half of BAR 1 */
    assert_int_equal(d->bar[2].base, 0);

    assert_true(d->bar[3].is_io);
    assert_int_equal(d->bar[3].base, 0xc040);
    assert_int_equal(d->bar[3].size, 0x20);

    assert_int_equal(d->bar[4].size, 0);

    /* A 64-bit BAR with no slot for its upper half is read as 32-bit. */
    assert_int_equal(d->bar[5].base, 0xfe000000);
    assert_int_equal(d->bar[5].size, 0x4000);
    assert_false(d->bar[5].is_64bit);

    /* Decoding was off whenever a BAR held its sizing pattern, and every
     * register is back as it was. */
    assert_int_equal(decode_on_while_sizing, 0);
    assert_int_equal(stray_writes, 0);
    assert_memory_equal(before, f->cfg, sizeof(before));
}

static void test_bar_64bit_above_4g_size(void **state)
{
    /* An 8 GiB BAR: no writable bits in the low dword at all. */
    struct fake_fn *f = fake_add(0, 2, 0, 0x10de, 0x2331, 0x03020000, 0);

    fake_bar64(f, 0, 0x0000004000000000ull, 8ull << 30, true);

    enumerate();
    assert_int_equal(found[0].bar[0].base, 0x0000004000000000ull);
    assert_int_equal(found[0].bar[0].size, 8ull << 30);
    assert_true(found[0].bar[0].is_64bit);
    assert_int_equal(decode_on_while_sizing, 0);
}

static void test_command_untouched_when_decoding_off(void **state)
{
    struct fake_fn *f = fake_add(0, 2, 0, 0x1234, 0x1111, 0x03000000, 0);

    fake_bar32(f, 0, 0xfd000000, 16u << 20, true);
    put16(f, PCI_COMMAND, 0);

    enumerate();
    assert_int_equal(found[0].bar[0].size, 16u << 20);
    assert_true(found[0].bar[0].prefetchable);
    assert_int_equal(stray_writes, 0);
    assert_int_equal(f->cfg[PCI_COMMAND], 0);
}

static void test_capabilities_msix(void **state)
{
    struct fake_fn *f = fake_add(0, 4, 0, 0x1b36, 0x0010, 0x01080200, 0);

    fake_cap_ptr(f, 0x40);
    fake_cap(f, 0x40, 0x01, 0x50);            /* power management */
    fake_cap(f, 0x50, PCI_CAP_ID_MSI, 0x60);  /* MSI */
    fake_cap(f, 0x60, PCI_CAP_ID_MSIX, 0x83); /* MSI-X; low pointer bits are reserved */
    put16(f, 0x62, 0x8000 | 0x001f);          /* enabled, 32 vectors */
    fake_cap(f, 0x80, PCI_CAP_ID_PCIE, 0x00);

    enumerate();
    const struct pci_device *d = &found[0];

    assert_int_equal(d->cap_msi, 0x50);
    assert_int_equal(d->cap_msix, 0x60);
    assert_int_equal(d->msix_table_size, 32);
    assert_int_equal(d->cap_pcie, 0x80);
    assert_int_equal(d->cap_count, 4);
    assert_int_equal(d->cap[0].id, 0x01);
    assert_int_equal(d->cap[3].id, PCI_CAP_ID_PCIE);
    assert_int_equal(d->cap[3].offset, 0x80);
    assert_false(d->cap_list_bad);
}

static void test_msix_table_size_limits(void **state)
{
    struct fake_fn *a = fake_add(0, 1, 0, 0x1af4, 0x1041, 0x02000000, 0);
    struct fake_fn *b = fake_add(0, 2, 0, 0x1af4, 0x1041, 0x02000000, 0);

    fake_cap_ptr(a, 0x40);
    fake_cap(a, 0x40, PCI_CAP_ID_MSIX, 0);
    put16(a, 0x42, 0x0000); /* 1 vector */
    fake_cap_ptr(b, 0x40);
    fake_cap(b, 0x40, PCI_CAP_ID_MSIX, 0);
    put16(b, 0x42, 0xc7ff); /* 2048 vectors, function mask + enable set */

    enumerate();
    assert_int_equal(found[0].msix_table_size, 1);
    assert_int_equal(found[1].msix_table_size, 2048);
}

static void test_capability_loop_terminates(void **state)
{
    struct fake_fn *a = fake_add(0, 1, 0, 0x1af4, 0x1041, 0x02000000, 0);
    struct fake_fn *b = fake_add(0, 2, 0, 0x1af4, 0x1041, 0x02000000, 0);
    struct fake_fn *c = fake_add(0, 3, 0, 0x1af4, 0x1041, 0x02000000, 0);
    struct fake_fn *d = fake_add(0, 4, 0, 0x1af4, 0x1041, 0x02000000, 0);

    /* a: 0x40 -> 0x50 -> 0x40 ... */
    fake_cap_ptr(a, 0x40);
    fake_cap(a, 0x40, PCI_CAP_ID_MSI, 0x50);
    fake_cap(a, 0x50, PCI_CAP_ID_PCIE, 0x40);
    /* b: points at itself. */
    fake_cap_ptr(b, 0x44);
    fake_cap(b, 0x44, 0x09, 0x44);
    /* c: points into the header. */
    fake_cap_ptr(c, 0x40);
    fake_cap(c, 0x40, PCI_CAP_ID_MSI, 0x10);
    /* d: the status bit says no list: the pointer is not followed. */
    d->cfg[PCI_CAP_PTR] = 0x40;
    fake_cap(d, 0x40, PCI_CAP_ID_MSI, 0);

    int reads_before = reads;
    struct pci_enum_result r = enumerate();

    assert_true(reads - reads_before < 1000);
    assert_int_equal(r.count, 4);
    assert_true(found[0].cap_list_bad);
    assert_int_equal(found[0].cap_count, 2);
    assert_int_equal(found[0].cap_msi, 0x40);
    assert_int_equal(found[0].cap_pcie, 0x50);
    assert_true(found[1].cap_list_bad);
    assert_int_equal(found[1].cap_count, 1);
    assert_true(found[2].cap_list_bad);
    assert_int_equal(found[2].cap_msi, 0x40);
    assert_false(found[3].cap_list_bad);
    assert_int_equal(found[3].cap_count, 0);
    assert_int_equal(found[3].cap_msi, 0);
}

static void test_long_capability_chain_kept_bounded(void **state)
{
    /* 48 capabilities, every dword from 0x40 to 0xfc: all valid, more than
     * the device record keeps. */
    struct fake_fn *f = fake_add(0, 1, 0, 0x1af4, 0x1041, 0x02000000, 0);

    fake_cap_ptr(f, 0x40);
    for (unsigned off = 0x40; off < 0x100; off += 4)
        fake_cap(f, (uint8_t)off, off == 0xfc ? PCI_CAP_ID_MSIX : 0x09,
                 off == 0xfc ? 0 : (uint8_t)(off + 4));
    f->cfg[0xfe] = 0x03; /* MSI-X control low byte: 4 vectors */

    enumerate();
    assert_false(found[0].cap_list_bad);
    assert_int_equal(found[0].cap_count, PCI_MAX_CAPS);
    assert_int_equal(found[0].cap_msix, 0xfc);
    assert_int_equal(found[0].msix_table_size, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty_bus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absent_devices_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multifunction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bridge_with_device_behind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sorted_by_bus_number, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bridge_loops_and_bad_secondary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_64bit_above_4g_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_untouched_when_decoding_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capabilities_msix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_msix_table_size_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capability_loop_terminates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_capability_chain_kept_bounded, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
