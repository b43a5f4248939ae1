/* SPDX-License-Identifier: MIT */
/*
 * The guest's PCI bus (vmm/guest_pci.c): device numbers and BARs placed
 * for any number of functions, MMIO dispatched by where each BAR is now,
 * ECAM, and whether the bus exists at all.
 *
 * test-sources: vmm/guest_pci.c vmm/dev/pci_host.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/guest_pci.h"

struct fake_dev {
    bool decoding;
    uint64_t base;
    uint64_t last_off, last_value;
    unsigned reads, writes;
};

static bool fake_address(void *ctx, uint64_t *gpa)
{
    struct fake_dev *d = ctx;

    *gpa = d->base;
    return d->decoding;
}

static uint64_t fake_read(void *ctx, uint64_t off, unsigned size)
{
    struct fake_dev *d = ctx;

    d->reads++;
    d->last_off = off;
    return 0x1000 + off;
}

static void fake_write(void *ctx, uint64_t off, unsigned size, uint64_t value)
{
    struct fake_dev *d = ctx;

    d->writes++;
    d->last_off = off;
    d->last_value = value;
}

static const struct guest_pci_bar_ops fake_ops = {fake_address, fake_read, fake_write};

static void test_empty_bus(void **state)
{
    struct guest_pci bus;

    guest_pci_init(&bus);
    assert_false(guest_pci_present(&bus));
    /* No device: ECAM is not claimed (no MCFG describes it either). */
    assert_false(guest_pci_mmio_claims(&bus, GUEST_PCI_ECAM_GPA));
    assert_int_equal(guest_pci_mmio_read(&bus, GUEST_PCI_MMIO_BASE, 4), ~0ull);
    /* The host bridge still answers on ports 0xCF8/0xCFC. */
    pci_host_io_write(&bus.host, 0xcf8, 4, 0x80000000u);
    assert_int_equal(pci_host_io_read(&bus.host, 0xcfc, 2), 0x8086);
}

static void test_placement(void **state)
{
    struct guest_pci bus;
    uint8_t dev;
    uint64_t bar, prev = 0;

    guest_pci_init(&bus);
    for (unsigned i = 0; i < GUEST_PCI_MAX_DEVICES; i++) {
        assert_true(guest_pci_place(&bus, 0x8000, &dev, &bar));
        assert_int_equal(dev, i + 1);
        assert_int_equal(bar % 0x8000, 0);
        assert_true(bar >= GUEST_PCI_MMIO_BASE &&
                    bar + 0x8000 <= GUEST_PCI_MMIO_BASE + 0x20000000ull);
        assert_true(i == 0 || bar >= prev + 0x8000); /* no overlap */
        prev = bar;
    }
    assert_false(guest_pci_place(&bus, 0x8000, &dev, &bar)); /* the bus is full */

    /* Natural alignment of a bigger BAR after a small one; not a power of two: no. */
    guest_pci_init(&bus);
    assert_true(guest_pci_place(&bus, 0x1000, &dev, &bar));
    assert_true(guest_pci_place(&bus, 0x100000, &dev, &bar));
    assert_int_equal(bar % 0x100000, 0);
    assert_false(guest_pci_place(&bus, 0x3000, &dev, &bar));
    assert_false(guest_pci_place(&bus, 0, &dev, &bar));
    /* The window is full. */
    assert_false(guest_pci_place(&bus, 0x40000000, &dev, &bar));
}

static void test_dispatch_follows_the_bar(void **state)
{
    struct guest_pci bus;
    struct fake_dev a = {.decoding = true}, b = {.decoding = true};
    uint8_t da, db;

    guest_pci_init(&bus);
    assert_true(guest_pci_place(&bus, 0x8000, &da, &a.base));
    assert_true(guest_pci_place(&bus, 0x8000, &db, &b.base));
    assert_false(guest_pci_add_device(&bus, 7, &fake_ops, &a, 0x8000)); /* not placed */
    assert_true(guest_pci_add_device(&bus, da, &fake_ops, &a, 0x8000));
    assert_true(guest_pci_add_device(&bus, db, &fake_ops, &b, 0x8000));
    assert_true(guest_pci_present(&bus));
    assert_true(guest_pci_mmio_claims(&bus, GUEST_PCI_ECAM_GPA + 0x8000));

    assert_int_equal(guest_pci_mmio_read(&bus, a.base + 0x14, 1), 0x1014);
    assert_int_equal(a.reads, 1);
    guest_pci_mmio_write(&bus, b.base + 0x3004, 2, 1);
    assert_int_equal(b.writes, 1);
    assert_int_equal(b.last_off, 0x3004);

    /* The guest moves a's BAR: the old place answers all ones (the window
     * is still the bus's: a master abort), the new one a. */
    uint64_t old = a.base;
    a.base = 0xd0000000;
    assert_true(guest_pci_mmio_claims(&bus, old + 0x3000));
    assert_int_equal(guest_pci_mmio_read(&bus, old, 4), ~0ull);
    guest_pci_mmio_write(&bus, old + 0x3000, 2, 7);
    assert_int_equal(a.writes, 0);
    /* Outside the window, ECAM and every BAR: not the bus's. */
    assert_false(guest_pci_mmio_claims(&bus, 0xf0000000ull));
    guest_pci_mmio_write(&bus, 0xd0003000, 2, 5);
    assert_int_equal(a.writes, 1);
    assert_int_equal(a.last_value, 5);
    /* Decoding off: nothing decodes there (all ones, writes dropped). */
    a.decoding = false;
    assert_int_equal(guest_pci_mmio_read(&bus, 0xd0003000, 4), ~0ull);
    guest_pci_mmio_write(&bus, 0xd0003000, 2, 6);
    assert_int_equal(a.writes, 1);
}

static void test_reset_keeps_devices(void **state)
{
    struct guest_pci bus;
    struct fake_dev a = {.decoding = true};
    uint8_t da;

    guest_pci_init(&bus);
    assert_true(guest_pci_place(&bus, 0x8000, &da, &a.base));
    assert_true(guest_pci_add_device(&bus, da, &fake_ops, &a, 0x8000));
    guest_pci_reset(&bus);
    assert_true(guest_pci_present(&bus));
    assert_int_equal(guest_pci_mmio_read(&bus, a.base, 4), 0x1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_bus),
        cmocka_unit_test(test_placement),
        cmocka_unit_test(test_dispatch_follows_the_bar),
        cmocka_unit_test(test_reset_keeps_devices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
