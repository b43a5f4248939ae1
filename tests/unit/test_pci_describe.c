/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the PCI text formats: class names, the rows of the shell's
 * `pci` table, the `pci -v` detail lines and the boot log line. The formats
 * are what an operator (and the system tests) read, so they are pinned here
 * exactly.
 */
/* test-sources: kernel/pci/pci_describe.c kernel/lib/fmt.c kernel/lib/str.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/pci/pci_describe.h"

static struct pci_device make(uint8_t bus, uint8_t dev, uint8_t func, uint16_t vendor,
                              uint16_t device, uint8_t cls, uint8_t sub, uint8_t prog)
{
    struct pci_device d;

    memset(&d, 0, sizeof(d));
    d.bus = bus;
    d.dev = dev;
    d.func = func;
    d.vendor_id = vendor;
    d.device_id = device;
    d.class_code = cls;
    d.subclass = sub;
    d.prog_if = prog;
    return d;
}

static void test_class_names(void **state)
{
    assert_string_equal(pci_class_name(0x06, 0x00, 0x00), "host bridge");
    assert_string_equal(pci_class_name(0x06, 0x01, 0x00), "ISA bridge");
    assert_string_equal(pci_class_name(0x06, 0x04, 0x00), "PCI bridge");
    assert_string_equal(pci_class_name(0x01, 0x06, 0x01), "SATA");
    assert_string_equal(pci_class_name(0x01, 0x08, 0x02), "NVMe");
    assert_string_equal(pci_class_name(0x01, 0x08, 0x01), "NVM");
    assert_string_equal(pci_class_name(0x02, 0x00, 0x00), "Ethernet");
    assert_string_equal(pci_class_name(0x03, 0x00, 0x00), "VGA");
    assert_string_equal(pci_class_name(0x03, 0x00, 0x01), "display");
    assert_string_equal(pci_class_name(0x0c, 0x03, 0x30), "USB xHCI");
    assert_string_equal(pci_class_name(0x0c, 0x05, 0x00), "SMBus");
    /* Unknown subclass: the class's own name; unknown class: "unknown". */
    assert_string_equal(pci_class_name(0x02, 0x42, 0x00), "network");
    assert_string_equal(pci_class_name(0x13, 0x00, 0x00), "instrument");
    assert_string_equal(pci_class_name(0x14, 0x00, 0x00), "unknown");
    assert_string_equal(pci_class_name(0xff, 0xff, 0xff), "unknown");
}

static void test_cap_names(void **state)
{
    assert_string_equal(pci_cap_name(0x05), "MSI");
    assert_string_equal(pci_cap_name(0x11), "MSI-X");
    assert_string_equal(pci_cap_name(0x10), "PCIe");
    assert_string_equal(pci_cap_name(0x01), "PM");
    assert_string_equal(pci_cap_name(0x77), "cap");
}

static void test_row_without_bars(void **state)
{
    struct pci_device d = make(0, 0, 0, 0x8086, 0x29c0, 0x06, 0x00, 0x00);
    char row[256];

    pci_format_row(row, sizeof(row), &d);
    assert_string_equal(row, "0000:00:00.0  8086:29c0  06.00.00  host bridge   -");
}

static void test_row_with_bars(void **state)
{
    struct pci_device d = make(0, 1, 0, 0x1234, 0x1111, 0x03, 0x00, 0x00);
    char row[256];

    d.segment = 1;
    d.bar[0] = (struct pci_bar){0xfd000000, 16u << 20, false, false, true};
    d.bar[2] = (struct pci_bar){0xfebf0000, 4096, false, false, false};
    d.bar[4] = (struct pci_bar){0xc000, 32, true, false, false}; /* I/O: not in the row */
    pci_format_row(row, sizeof(row), &d);
    assert_string_equal(row, "0001:00:01.0  1234:1111  03.00.00  VGA           "
                             "bar0 fd000000 16M pref, bar2 febf0000 4K");

    /* The columns line up with the header. */
    const char *h = pci_table_header();
    assert_int_equal(strstr(h, "ID") - h, strstr(row, "1234") - row);
    assert_int_equal(strstr(h, "CLASS") - h, strstr(row, "03.00") - row);
    assert_int_equal(strstr(h, "TYPE") - h, strstr(row, "VGA") - row);
    assert_int_equal(strstr(h, "MEMORY BARS") - h, strstr(row, "bar0") - row);
}

static void test_row_64bit_bar(void **state)
{
    struct pci_device d = make(2, 0, 0, 0x1b36, 0x0010, 0x01, 0x08, 0x02);
    char row[256];

    d.bar[0] = (struct pci_bar){0x800000000ull, 16384, false, true, false};
    pci_format_row(row, sizeof(row), &d);
    assert_string_equal(row, "0000:02:00.0  1b36:0010  01.08.02  NVMe          "
                             "bar0 800000000 16K 64b");
}

static void test_row_truncates_safely(void **state)
{
    struct pci_device d = make(0, 1, 0, 0x1234, 0x1111, 0x03, 0x00, 0x00);
    char row[20];

    for (int i = 0; i < 6; i++)
        d.bar[i] = (struct pci_bar){0xfd000000, 4096, false, false, true};
    memset(row, 'Q', sizeof(row));
    pci_format_row(row, sizeof(row), &d);
    assert_int_equal(strlen(row), sizeof(row) - 1);
    assert_string_equal(row, "0000:00:01.0  1234:");
}

static void test_details(void **state)
{
    struct pci_device d = make(0, 3, 0, 0x8086, 0x10d3, 0x02, 0x00, 0x00);
    char text[512];

    d.bar[2] = (struct pci_bar){0xc040, 32, true, false, false};
    d.cap_count = 3;
    d.cap[0].id = 0x05;
    d.cap[0].offset = 0xc8;
    d.cap[1].id = 0x10;
    d.cap[1].offset = 0xe0;
    d.cap[2].id = 0x11;
    d.cap[2].offset = 0xa0;
    d.cap_msix = 0xa0;
    d.msix_table_size = 5;
    pci_format_details(text, sizeof(text), &d);
    assert_string_equal(text, "              bar2 io c040 32B\n"
                              "              caps: MSI@c8 PCIe@e0 MSI-X@a0(5 vectors)\n");

    d.msix_table_size = 1;
    pci_format_details(text, sizeof(text), &d);
    assert_non_null(strstr(text, "MSI-X@a0(1 vector)\n"));

    /* A bridge with a broken list and nothing else. */
    d = make(0, 0x1c, 0, 0x8086, 0x2940, 0x06, 0x04, 0x00);
    d.header_type = 0x81;
    d.secondary_bus = 2;
    d.subordinate_bus = 4;
    d.cap_list_bad = true;
    pci_format_details(text, sizeof(text), &d);
    assert_string_equal(text, "              bridge to buses 02-04\n"
                              "              caps: (list broken: loop or bad pointer)\n");

    /* Nothing to add: empty. */
    d = make(0, 0, 0, 0x8086, 0x29c0, 0x06, 0x00, 0x00);
    pci_format_details(text, sizeof(text), &d);
    assert_string_equal(text, "");
}

static void test_log_line(void **state)
{
    struct pci_device d = make(0, 0x1f, 2, 0x8086, 0x2922, 0x01, 0x06, 0x01);
    char line[256];

    d.revision = 2;
    d.bar[4] = (struct pci_bar){0xc060, 32, true, false, false};
    d.bar[5] = (struct pci_bar){0xfebd5000, 4096, false, false, false};
    d.cap_msi = 0x80;
    pci_format_log_line(line, sizeof(line), &d);
    assert_string_equal(line, "PCI 00:1f.2 8086:2922 class 01.06.01 rev 02 SATA bar4 io c060 32B "
                              "bar5 febd5000 4K msi");

    d = make(0, 0, 0, 0x1b36, 0x0010, 0x01, 0x08, 0x02);
    d.segment = 2;
    d.bus = 0x41;
    d.cap_msix = 0x40;
    d.msix_table_size = 65;
    d.cap_pcie = 0x60;
    pci_format_log_line(line, sizeof(line), &d);
    assert_string_equal(line,
                        "PCI 0002:41:00.0 1b36:0010 class 01.08.02 rev 00 NVMe msix(65) pcie");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_names),      cmocka_unit_test(test_cap_names),
        cmocka_unit_test(test_row_without_bars), cmocka_unit_test(test_row_with_bars),
        cmocka_unit_test(test_row_64bit_bar),    cmocka_unit_test(test_row_truncates_safely),
        cmocka_unit_test(test_details),          cmocka_unit_test(test_log_line),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
