/* SPDX-License-Identifier: MIT */
/* Unit tests for the guest's PCI host: mechanism #1 ports, ECAM, the host
 * bridge's header and the function table.
 * test-sources: vmm/dev/pci_host.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/dev/pci_host.h"

static uint32_t cf8(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
    return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

static uint32_t cfg_in(struct pci_host *h, unsigned bus, unsigned dev, unsigned fn, unsigned reg,
                       unsigned size)
{
    pci_host_io_write(h, 0xcf8, 4, cf8(bus, dev, fn, reg));
    return pci_host_io_read(h, (uint16_t)(0xcfc + (reg & 3)), size);
}

static void cfg_out(struct pci_host *h, unsigned bus, unsigned dev, unsigned fn, unsigned reg,
                    unsigned size, uint32_t value)
{
    pci_host_io_write(h, 0xcf8, 4, cf8(bus, dev, fn, reg));
    pci_host_io_write(h, (uint16_t)(0xcfc + (reg & 3)), size, value);
}

static void test_address_register(void **state)
{
    struct pci_host h;

    pci_host_init(&h);
    /* Linux's pci_check_type1(): a byte to 0xCFB, then the dword latch. */
    pci_host_io_write(&h, 0xcfb, 1, 0x01);
    uint32_t saved = pci_host_io_read(&h, 0xcf8, 4);
    pci_host_io_write(&h, 0xcf8, 4, 0x80000000u);
    assert_int_equal(pci_host_io_read(&h, 0xcf8, 4), 0x80000000u);
    pci_host_io_write(&h, 0xcf8, 4, saved);
    assert_int_equal(pci_host_io_read(&h, 0xcf8, 4), saved);
    pci_host_io_write(&h, 0xcf8, 4, 0xffffffffu);
    assert_int_equal(pci_host_io_read(&h, 0xcf8, 4), 0x80fffffcu); /* reserved bits read 0 */
    assert_int_equal(pci_host_io_read(&h, 0xcf8, 2), 0xffff);      /* not the latch */
    assert_int_equal(pci_host_io_read(&h, 0xcfa, 1), 0xff);
    pci_host_io_write(&h, 0xcf8, 2, 0x0000);
    assert_int_equal(pci_host_io_read(&h, 0xcf8, 4), 0x80fffffcu);
}

static void test_host_bridge_header(void **state)
{
    struct pci_host h;

    pci_host_init(&h);
    assert_int_equal(cfg_in(&h, 0, 0, 0, 0x00, 4), 0x29c08086u);
    assert_int_equal(cfg_in(&h, 0, 0, 0, 0x00, 2), 0x8086);
    assert_int_equal(cfg_in(&h, 0, 0, 0, 0x02, 2), 0x29c0);
    assert_int_equal(cfg_in(&h, 0, 0, 0, 0x03, 1), 0x29);
    assert_int_equal(cfg_in(&h, 0, 0, 0, 0x08, 4), 0x06000000u); /* class 06.00.00, rev 0 */
    assert_int_equal(cfg_in(&h, 0, 0, 0, 0x0a, 2), 0x0600);      /* Linux's sanity check */
    assert_int_equal(cfg_in(&h, 0, 0, 0, 0x0e, 1), 0x00);        /* header type 0 */
    assert_int_equal(cfg_in(&h, 0, 0, 0, 0x04, 2), 0x0006);
    assert_int_equal(cfg_in(&h, 0, 0, 0, 0x34, 1), 0x00); /* no capabilities */
}

static void test_read_only_and_writable(void **state)
{
    struct pci_host h;

    pci_host_init(&h);
    cfg_out(&h, 0, 0, 0, 0x00, 4, 0x12345678);
    assert_int_equal(cfg_in(&h, 0, 0, 0, 0x00, 4), 0x29c08086u);
    cfg_out(&h, 0, 0, 0, 0x10, 4, 0xffffffffu); /* BAR sizing: no BAR */
    assert_int_equal(cfg_in(&h, 0, 0, 0, 0x10, 4), 0);
    cfg_out(&h, 0, 0, 0, 0x04, 2, 0xffff);
    assert_int_equal(cfg_in(&h, 0, 0, 0, 0x04, 2), 0x0147);
    cfg_out(&h, 0, 0, 0, 0x04, 2, 0x0000);
    assert_int_equal(cfg_in(&h, 0, 0, 0, 0x04, 4), 0x00000000u);
    cfg_out(&h, 0, 0, 0, 0x3c, 1, 0x0b);
    assert_int_equal(cfg_in(&h, 0, 0, 0, 0x3c, 4), 0x0000000bu);
    cfg_out(&h, 0, 0, 0, 0x0d, 1, 0x40); /* latency timer, byte lane 1 */
    assert_int_equal(cfg_in(&h, 0, 0, 0, 0x0c, 4), 0x00004000u);
    /* A dword write at 0x0c touches the header type byte too: kept. */
    cfg_out(&h, 0, 0, 0, 0x0c, 4, 0xffffffffu);
    assert_int_equal(cfg_in(&h, 0, 0, 0, 0x0c, 4), 0x0000ffffu);
}

static void test_status_write_one_to_clear(void **state)
{
    struct pci_cfg_regs r = {0};

    pci_cfg_regs_set(&r, 0x06, 2, 0xf900);
    r.w1cmask[0x07] = 0xf9;
    pci_cfg_regs_write(&r, 0x06, 2, 0x8000);
    assert_int_equal(pci_cfg_regs_read(&r, 0x06, 2), 0x7900);
    pci_cfg_regs_write(&r, 0x06, 2, 0x0000);
    assert_int_equal(pci_cfg_regs_read(&r, 0x06, 2), 0x7900);
    assert_int_equal(pci_cfg_regs_read(&r, 0x100, 4), 0); /* no extended space */
    pci_cfg_regs_write(&r, 0xfe, 4, 0xffffffffu);         /* past the end: dropped */
}

static void test_absent_functions_and_bad_accesses(void **state)
{
    struct pci_host h;

    pci_host_init(&h);
    assert_int_equal(cfg_in(&h, 0, 1, 0, 0x00, 4), 0xffffffffu);
    assert_int_equal(cfg_in(&h, 0, 0, 1, 0x00, 2), 0xffff);
    assert_int_equal(cfg_in(&h, 1, 0, 0, 0x0e, 1), 0xff);
    cfg_out(&h, 0, 31, 7, 0x04, 2, 0x0007); /* dropped */
    /* Enable bit clear: the data port reaches nothing. */
    pci_host_io_write(&h, 0xcf8, 4, 0x00000000u);
    assert_int_equal(pci_host_io_read(&h, 0xcfc, 4), 0xffffffffu);
    pci_host_io_write(&h, 0xcf8, 4, cf8(0, 0, 0, 0x04));
    /* Crossing the dword (2 bytes at 0xCFF, 4 at 0xCFE) reaches nothing. */
    assert_int_equal(pci_host_io_read(&h, 0xcff, 2), 0xffff);
    assert_int_equal(pci_host_io_read(&h, 0xcfe, 4), 0xffffffffu);
    pci_host_io_write(&h, 0xcfe, 4, 0);
    assert_int_equal(pci_host_io_read(&h, 0xcfc, 2), 0x0006);
    assert_int_equal(pci_host_io_read(&h, 0xcfd, 3), 0xffffffffu); /* odd size */
    assert_int_equal(pci_host_io_read(&h, 0xcfe, 1), 0x00);        /* status low byte */
    assert_int_equal(pci_host_io_read(&h, 0xd00, 1), 0xff);        /* not ours */
}

struct fake_dev {
    unsigned reads, writes, last_offset, last_size;
    uint32_t last_value;
};

static uint32_t fake_read(void *ctx, unsigned offset, unsigned size)
{
    struct fake_dev *d = ctx;
    d->reads++;
    d->last_offset = offset;
    d->last_size = size;
    return 0xa5a5a500u | offset; /* more bits than size: the host masks */
}

static void fake_write(void *ctx, unsigned offset, unsigned size, uint32_t value)
{
    struct fake_dev *d = ctx;
    d->writes++;
    d->last_offset = offset;
    d->last_size = size;
    d->last_value = value;
}

static void test_added_function_through_ports_and_ecam(void **state)
{
    struct pci_host h;
    struct fake_dev d = {0};
    struct pci_function f = {
        .bus = 0, .dev = 3, .fn = 0, .read = fake_read, .write = fake_write, .ctx = &d};

    pci_host_init(&h);
    assert_true(pci_host_add_function(&h, &f));
    assert_false(pci_host_add_function(&h, &f)); /* address taken */
    assert_int_equal(cfg_in(&h, 0, 3, 0, 0x12, 2), 0xa512);
    assert_int_equal(d.last_offset, 0x12);
    assert_int_equal(d.last_size, 2);
    cfg_out(&h, 0, 3, 0, 0x41, 1, 0x1234); /* only the byte reaches it */
    assert_int_equal(d.last_offset, 0x41);
    assert_int_equal(d.last_value, 0x34);

    uint64_t base = 3u << 15;
    assert_int_equal(pci_host_ecam_read(&h, base + 0x100, 4), 0xa5a5a500u | 0x100);
    assert_int_equal(d.last_offset, 0x100); /* extended space reaches the function */
    pci_host_ecam_write(&h, base + 0xffc, 4, 0xdeadbeefu);
    assert_int_equal(d.last_offset, 0xffc);
    assert_int_equal(d.last_value, 0xdeadbeefu);
    unsigned writes = d.writes;
    pci_host_ecam_write(&h, base + 0x8, 8, 0x1122334455667788ull);
    assert_int_equal(d.writes, writes + 2);
    assert_int_equal(d.last_offset, 0xc);
    assert_int_equal(d.last_value, 0x11223344u);
}

static void test_ecam(void **state)
{
    struct pci_host h;

    pci_host_init(&h);
    assert_int_equal(pci_host_ecam_read(&h, 0x0, 4), 0x29c08086u);
    assert_int_equal(pci_host_ecam_read(&h, 0x2, 2), 0x29c0);
    assert_int_equal(pci_host_ecam_read(&h, 0xb, 1), 0x06);
    assert_true(pci_host_ecam_read(&h, 0x8, 8) == 0x0000000006000000ull);
    assert_true(pci_host_ecam_read(&h, 0x0, 8) == 0x0000000629c08086ull);
    assert_int_equal(pci_host_ecam_read(&h, 0x100, 4), 0); /* bridge: no extended caps */
    assert_int_equal(pci_host_ecam_read(&h, 1u << 15, 4), 0xffffffffu); /* 00:01.0 */
    assert_int_equal(pci_host_ecam_read(&h, 255u << 20, 2), 0xffff);
    assert_true(pci_host_ecam_read(&h, 256u << 20, 4) == 0xffffffffu); /* past bus 255 */
    assert_true(pci_host_ecam_read(&h, 0x1, 2) == 0xffff);             /* unaligned */
    assert_true(pci_host_ecam_read(&h, 0x4, 8) == ~0ull);
    assert_true(pci_host_ecam_read(&h, 0x0, 3) == ~0ull);
    pci_host_ecam_write(&h, 0x4, 2, 0x0000);
    assert_int_equal(pci_host_ecam_read(&h, 0x4, 2), 0x0000);
    assert_int_equal(cfg_in(&h, 0, 0, 0, 0x04, 2), 0x0000); /* one space, two windows */
    pci_host_ecam_write(&h, 0x5, 2, 0xffff);                /* unaligned: dropped */
    assert_int_equal(pci_host_ecam_read(&h, 0x4, 2), 0x0000);
}

static void test_function_table_limits(void **state)
{
    struct pci_host h;
    struct fake_dev d = {0};

    pci_host_init(&h);
    struct pci_function f = {.read = fake_read, .write = fake_write, .ctx = &d};
    assert_false(pci_host_add_function(&h, &f)); /* 00:00.0 is the bridge */
    f.dev = 32;
    assert_false(pci_host_add_function(&h, &f));
    f.dev = 1;
    f.fn = 8;
    assert_false(pci_host_add_function(&h, &f));
    f.fn = 0;
    f.read = NULL;
    assert_false(pci_host_add_function(&h, &f));
    assert_false(pci_host_add_function(&h, NULL));
    f.read = fake_read;
    for (unsigned i = 1; i < PCI_HOST_MAX_FUNCTIONS; i++) {
        f.dev = (uint8_t)i;
        assert_true(pci_host_add_function(&h, &f));
    }
    f.dev = 20;
    assert_false(pci_host_add_function(&h, &f)); /* full */
    assert_int_equal(cfg_in(&h, 0, 20, 0, 0, 4), 0xffffffffu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_address_register),
        cmocka_unit_test(test_host_bridge_header),
        cmocka_unit_test(test_read_only_and_writable),
        cmocka_unit_test(test_status_write_one_to_clear),
        cmocka_unit_test(test_absent_functions_and_bad_accesses),
        cmocka_unit_test(test_added_function_through_ports_and_ecam),
        cmocka_unit_test(test_ecam),
        cmocka_unit_test(test_function_table_limits),
    };
    return cmocka_run_group_tests_name("pci_host", tests, NULL, NULL);
}
