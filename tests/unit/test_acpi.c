/* SPDX-License-Identifier: MIT */
/* test-sources: kernel/acpi/acpi_parse.c kernel/acpi/acpi_rsdp.c kernel/acpi/acpi_madt.c kernel/acpi/acpi_srat.c kernel/acpi/acpi_mcfg.c kernel/acpi/acpi_fadt.c kernel/lib/fmt.c */
/*
 * Host tests of the ACPI parser. Tables are assembled byte by byte in a fake
 * physical memory (tests/unit/acpi_fake.h) with correct checksums, then
 * damaged in the one way each test is about. The fake mapping hands out
 * exact-size heap copies, so ASan catches any read past a mapped range.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/acpi_fake.h"
#include "tests/unit/acpi_firmware_madt.h"

#define FAKE_BASE 0x7fe00000ull
#define FAKE_SIZE (256 * 1024)

/* Big enough for 300+ CPUs; kept off the stack. */
static struct acpi_info info;
static struct tbl tb;

static int setup(void **state)
{
    *state = fake_new(FAKE_BASE, FAKE_SIZE);
    memset(&info, 0xa5, sizeof(info)); /* acpi_parse must overwrite all */
    return 0;
}

static int setup_low(void **state)
{
    *state = fake_new(0, 0x100000);
    return 0;
}

static int teardown(void **state)
{
    fake_free(*state);
    return 0;
}

static bool has_error(const char *needle)
{
    for (uint32_t i = 0; i < info.error_count; i++)
        if (strstr(info.errors[i], needle))
            return true;
    return false;
}

static void print_errors(void)
{
    for (uint32_t i = 0; i < info.error_count; i++)
        printf("    note: %s\n", info.errors[i]);
}

/* A typical two-CPU machine: MADT with IOAPIC, overrides, NMI. */
static uint64_t put_basic_madt(struct fake_mem *f)
{
    madt_begin(&tb, 0xfee00000, 1);
    madt_lapic(&tb, 0, 0, 1);
    madt_lapic(&tb, 1, 2, 1);
    madt_ioapic(&tb, 8, 0xfec00000, 0);
    madt_override(&tb, 0, 2, 0);
    madt_override(&tb, 9, 9, 0x000d);
    madt_lapic_nmi(&tb, 0xff, 1);
    return tbl_place(f, &tb);
}

static uint64_t put_basic_mcfg(struct fake_mem *f)
{
    mcfg_begin(&tb);
    mcfg_entry(&tb, 0xb0000000, 0, 0, 255);
    return tbl_place(f, &tb);
}

static uint64_t put_basic_fadt(struct fake_mem *f)
{
    fadt_build(&tb, 0x32, ACPI_BOOT_ARCH_LEGACY_DEVICES | ACPI_BOOT_ARCH_8042, 1u << 10,
               ACPI_GAS_SPACE_IO, 0xcf9, 0x06);
    return tbl_place(f, &tb);
}

/* Parses with an XSDT listing tables[0..n). */
static bool parse_xsdt(struct fake_mem *f, const uint64_t *tables, unsigned n)
{
    uint64_t xsdt = fake_put_xsdt(f, tables, n);
    uint64_t rsdp = fake_put_rsdp(f, 2, 0, xsdt);
    bool ok = acpi_parse(rsdp, fake_map, f, &info);

    print_errors();
    return ok;
}

static void test_happy_path_xsdt(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[3];

    t[0] = put_basic_fadt(f);
    t[1] = put_basic_madt(f);
    t[2] = put_basic_mcfg(f);
    assert_true(parse_xsdt(f, t, 3));

    assert_int_equal(info.error_count, 0);
    assert_int_equal(info.errors_dropped, 0);
    assert_string_equal(info.oem_id, "SCOEM ");
    assert_int_equal(info.revision, 2);
    assert_true(info.root_is_xsdt);
    assert_int_equal(info.table_count, 3);
    assert_memory_equal(info.tables[0].signature, "FACP", 5);
    assert_memory_equal(info.tables[1].signature, "APIC", 5);
    assert_int_equal(info.tables[1].phys, t[1]);
    assert_true(info.tables[1].valid);

    assert_true(info.have_madt);
    assert_int_equal(info.lapic_addr, 0xfee00000);
    assert_true(info.pcat_compat);
    assert_int_equal(info.cpu_count, 2);
    assert_int_equal(info.cpus[0].apic_id, 0);
    assert_int_equal(info.cpus[1].apic_id, 2);
    assert_int_equal(info.cpus[1].acpi_uid, 1);
    assert_true(info.cpus[1].enabled);
    assert_false(info.cpus[1].from_x2apic_entry);
    assert_false(info.cpus[1].has_domain);
    assert_int_equal(acpi_enabled_cpu_count(&info), 2);
    assert_non_null(acpi_find_cpu(&info, 2));
    assert_null(acpi_find_cpu(&info, 1));

    assert_int_equal(info.ioapic_count, 1);
    assert_int_equal(info.ioapics[0].id, 8);
    assert_int_equal(info.ioapics[0].addr, 0xfec00000);
    assert_int_equal(info.ioapics[0].gsi_base, 0);
    assert_int_equal(info.override_count, 2);
    assert_int_equal(info.overrides[0].irq, 0);
    assert_int_equal(info.overrides[0].gsi, 2);
    assert_int_equal(info.overrides[1].irq, 9);
    assert_int_equal(info.overrides[1].flags, 0x000d);

    assert_int_equal(info.mcfg_count, 1);
    assert_int_equal(info.mcfg[0].base, 0xb0000000);
    assert_int_equal(info.mcfg[0].bus_end, 255);

    assert_false(info.have_srat);
    assert_true(info.fadt.present);
    assert_true(info.fadt.reset_supported);
    assert_true(info.fadt.has_reset_reg);
    assert_int_equal(info.fadt.reset_reg.space_id, ACPI_GAS_SPACE_IO);
    assert_int_equal(info.fadt.reset_reg.address, 0xcf9);
    assert_int_equal(info.fadt.reset_value, 6);
    assert_int_equal(info.fadt.boot_arch, 3);
    assert_int_equal(info.fadt.century, 0x32);
}

static void test_rsdt_when_revision_0(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[2] = {put_basic_madt(f), put_basic_mcfg(f)};
    uint64_t rsdt = fake_put_rsdt(f, t, 2);
    uint64_t rsdp = fake_put_rsdp(f, 0, (uint32_t)rsdt, 0);

    /* Bytes after a revision 0 RSDP are not part of it: make them look like
     * a 2.0 extension with an XSDT address; the parser must not use it. */
    memcpy(fake_ptr(f, rsdp) + 24, &t[0], 8);
    assert_true(acpi_parse(rsdp, fake_map, f, &info));
    print_errors();
    assert_false(info.root_is_xsdt);
    assert_int_equal(info.root_phys, rsdt);
    assert_int_equal(info.revision, 0);
    assert_int_equal(info.table_count, 2);
    assert_int_equal(info.cpu_count, 2);
    assert_int_equal(info.mcfg_count, 1);
    assert_int_equal(info.error_count, 0);
}

static void test_rsdt_when_xsdt_address_zero(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[1] = {put_basic_madt(f)};
    uint64_t rsdt = fake_put_rsdt(f, t, 1);
    uint64_t rsdp = fake_put_rsdp(f, 2, (uint32_t)rsdt, 0);

    assert_true(acpi_parse(rsdp, fake_map, f, &info));
    assert_false(info.root_is_xsdt);
    assert_int_equal(info.cpu_count, 2);
}

static void test_rsdt_when_xsdt_bad(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[1] = {put_basic_madt(f)};
    uint64_t rsdt = fake_put_rsdt(f, t, 1);
    uint64_t xsdt = fake_put_xsdt(f, t, 1);
    uint64_t rsdp = fake_put_rsdp(f, 2, (uint32_t)rsdt, xsdt);

    fake_ptr(f, xsdt)[40] ^= 0x10; /* corrupt an entry: checksum fails */
    assert_true(acpi_parse(rsdp, fake_map, f, &info));
    print_errors();
    assert_false(info.root_is_xsdt);
    assert_true(has_error("XSDT"));
    assert_true(has_error("bad checksum"));
    assert_int_equal(info.cpu_count, 2);
}

static void test_bad_rsdp_checksum(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[1] = {put_basic_madt(f)};
    uint64_t xsdt = fake_put_xsdt(f, t, 1);
    uint64_t rsdp = fake_put_rsdp(f, 2, 0, xsdt);

    fake_ptr(f, rsdp)[8] ^= 1;
    assert_false(acpi_parse(rsdp, fake_map, f, &info));
    assert_true(info.error_count >= 1);
    assert_non_null(strstr(info.errors[info.error_count - 1], "RSDP"));
    assert_non_null(strstr(info.errors[info.error_count - 1], "checksum"));
    assert_int_equal(info.cpu_count, 0);
    assert_int_equal(info.table_count, 0);
}

static void test_bad_rsdp_signature_and_unmapped(void **state)
{
    struct fake_mem *f = *state;
    uint64_t rsdp = fake_put_rsdp(f, 0, 0x1000, 0);

    fake_ptr(f, rsdp)[0] = 'X';
    assert_false(acpi_parse(rsdp, fake_map, f, &info));
    assert_true(has_error("signature"));

    assert_false(acpi_parse(0x1000, fake_map, f, &info));
    assert_true(has_error("not mapped"));
    /* The last 10 bytes of the fake: a 20-byte read must be refused. */
    assert_false(acpi_parse(FAKE_BASE + FAKE_SIZE - 10, fake_map, f, &info));
}

static void test_bad_extended_checksum_uses_rsdt(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[1] = {put_basic_madt(f)};
    uint64_t rsdt = fake_put_rsdt(f, t, 1);
    uint64_t rsdp = fake_put_rsdp(f, 2, (uint32_t)rsdt, 0xdead0000);

    fake_ptr(f, rsdp)[33] = 0x55; /* reserved byte: extended sum breaks */
    assert_true(acpi_parse(rsdp, fake_map, f, &info));
    assert_true(has_error("extended checksum"));
    assert_false(info.root_is_xsdt);
    assert_int_equal(info.cpu_count, 2);
}

static void test_no_usable_root(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[1] = {put_basic_madt(f)};
    uint64_t xsdt = fake_put_xsdt(f, t, 1);
    uint64_t rsdp = fake_put_rsdp(f, 2, 0, xsdt);

    /* Wrong signature, checksum fixed up so only the signature is wrong. */
    memcpy(fake_ptr(f, xsdt), "RSDT", 4);
    fake_ptr(f, xsdt)[9] = 0;
    fake_ptr(f, xsdt)[9] = (uint8_t)(0x100 - fake_sum(fake_ptr(f, xsdt), 44));
    assert_false(acpi_parse(rsdp, fake_map, f, &info));
    assert_true(has_error("signature is 'RSDT'"));
    assert_true(has_error("no usable root"));
}

static void test_bad_madt_checksum_skipped(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[3];

    t[0] = put_basic_madt(f);
    fake_ptr(f, t[0])[50] ^= 0x01;
    t[1] = put_basic_mcfg(f);
    t[2] = put_basic_fadt(f);
    assert_true(parse_xsdt(f, t, 3));

    assert_false(info.have_madt);
    assert_int_equal(info.cpu_count, 0);
    assert_false(info.tables[0].valid);
    assert_true(has_error("APIC"));
    assert_true(has_error("bad checksum"));
    assert_int_equal(info.error_count, 1);
    assert_int_equal(info.mcfg_count, 1);
    assert_true(info.fadt.present);
}

static void test_truncated_madt(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[2];
    uint64_t end = FAKE_BASE + FAKE_SIZE;
    uint64_t madt;

    t[0] = put_basic_mcfg(f);
    /* A MADT in the last 60 bytes of mapped memory claiming 4000 bytes. */
    madt_begin(&tb, 0xfee00000, 0);
    madt_lapic(&tb, 0, 0, 1);
    madt_lapic(&tb, 1, 1, 1);
    tbl_finish(&tb);
    tb.b[4] = 4000 & 0xff;
    tb.b[5] = 4000 >> 8;
    madt = end - tb.len;
    memcpy(fake_ptr(f, madt), tb.b, tb.len);
    t[1] = madt;
    assert_true(parse_xsdt(f, t, 2));

    assert_false(info.have_madt);
    assert_int_equal(info.cpu_count, 0);
    assert_true(has_error("truncated"));
    assert_int_equal(info.mcfg_count, 1);
}

static void test_table_bad_length_and_unmapped(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[4];

    t[0] = 0;          /* null entry */
    t[1] = 0x12340000; /* outside memory */
    madt_begin(&tb, 0xfee00000, 0);
    madt_lapic(&tb, 0, 0, 1);
    tbl_finish(&tb);
    tb.b[4] = 20; /* length below the header size */
    tb.b[5] = 0;
    t[2] = fake_put(f, tb.b, tb.len);
    t[3] = put_basic_mcfg(f);
    assert_true(parse_xsdt(f, t, 4));
    assert_int_equal(info.table_count, 4);
    assert_true(has_error("bad length 20"));
    assert_true(has_error("not mapped"));
    assert_true(has_error("entry 0 is a null address"));
    assert_false(info.have_madt);
    assert_int_equal(info.mcfg_count, 1);
}

static void test_madt_entry_length_zero(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[1];

    madt_begin(&tb, 0xfee00000, 0);
    madt_lapic(&tb, 0, 0, 1);
    tbl_u8(&tb, 0); /* type 0 */
    tbl_u8(&tb, 0); /* length 0: would loop forever */
    tbl_u8(&tb, 1);
    tbl_u8(&tb, 1);
    tbl_u32(&tb, 1);
    madt_lapic(&tb, 2, 2, 1);
    t[0] = tbl_place(f, &tb);
    assert_true(parse_xsdt(f, t, 1));
    assert_true(info.have_madt);
    assert_int_equal(info.cpu_count, 1);
    assert_true(has_error("bad length 0"));
}

static void test_madt_entry_length_one(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[1];

    madt_begin(&tb, 0xfee00000, 0);
    tbl_u8(&tb, 9);
    tbl_u8(&tb, 1);
    t[0] = tbl_place(f, &tb);
    assert_true(parse_xsdt(f, t, 1));
    assert_int_equal(info.cpu_count, 0);
    assert_true(has_error("bad length 1"));
}

static void test_madt_entry_past_end(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[1];

    madt_begin(&tb, 0xfee00000, 0);
    madt_lapic(&tb, 0, 0, 1);
    /* An x2APIC entry that says 16 bytes but the table ends after 8. */
    tbl_u8(&tb, 9);
    tbl_u8(&tb, 16);
    tbl_u16(&tb, 0);
    tbl_u32(&tb, 0x100);
    t[0] = tbl_place(f, &tb);
    assert_true(parse_xsdt(f, t, 1));
    assert_int_equal(info.cpu_count, 1);
    assert_true(has_error("bad length 16"));
}

static void test_madt_odd_tail_and_short_entry(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[1];

    madt_begin(&tb, 0xfee00000, 0);
    /* An IOAPIC entry of 4 bytes: walkable but too short to read. */
    tbl_u8(&tb, 1);
    tbl_u8(&tb, 4);
    tbl_u16(&tb, 0);
    madt_lapic(&tb, 0, 0, 1);
    tbl_u8(&tb, 0x7f); /* a single stray byte */
    t[0] = tbl_place(f, &tb);
    assert_true(parse_xsdt(f, t, 1));
    assert_int_equal(info.ioapic_count, 0);
    assert_int_equal(info.cpu_count, 1);
    assert_true(has_error("too short"));
    assert_true(has_error("stray"));
}

static void test_x2apic_entries(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[1];

    madt_begin(&tb, 0xfee00000, 0);
    madt_x2apic(&tb, 0, 1, 0);
    madt_x2apic(&tb, 0x100, 1, 1000);
    madt_x2apic(&tb, 0x12345, 1, 70000);
    madt_x2apic(&tb, 0xffffffff, 1, 5); /* broadcast: not a CPU */
    madt_lapic(&tb, 9, 0xff, 1);        /* xAPIC broadcast: not a CPU */
    t[0] = tbl_place(f, &tb);
    assert_true(parse_xsdt(f, t, 1));
    assert_int_equal(info.cpu_count, 3);
    assert_int_equal(info.cpus[1].apic_id, 0x100);
    assert_int_equal(info.cpus[1].acpi_uid, 1000);
    assert_true(info.cpus[1].from_x2apic_entry);
    assert_int_equal(info.cpus[2].apic_id, 0x12345);
    assert_int_equal(info.cpus[2].acpi_uid, 70000);
    assert_true(info.cpus[2].enabled);
}

static void test_duplicate_apic_ids(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[1];

    madt_begin(&tb, 0xfee00000, 0);
    madt_lapic(&tb, 0, 0, 1);
    madt_lapic(&tb, 1, 1, 1);
    madt_lapic(&tb, 5, 1, 0);  /* same APIC ID again */
    madt_x2apic(&tb, 1, 1, 7); /* and as an x2APIC entry */
    madt_x2apic(&tb, 2, 1, 2);
    t[0] = tbl_place(f, &tb);
    assert_true(parse_xsdt(f, t, 1));
    assert_int_equal(info.cpu_count, 3);
    assert_int_equal(info.cpus[1].apic_id, 1);
    assert_int_equal(info.cpus[1].acpi_uid, 1); /* first entry wins */
    assert_true(info.cpus[1].enabled);
    assert_false(info.cpus[1].from_x2apic_entry);
    assert_int_equal(info.cpus[2].apic_id, 2);
    assert_true(has_error("APIC ID 1 listed twice"));
}

static void test_disabled_and_online_capable(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[1];

    madt_begin(&tb, 0xfee00000, 0);
    madt_lapic(&tb, 0, 0, 1); /* enabled */
    madt_lapic(&tb, 1, 1, 0); /* disabled */
    madt_lapic(&tb, 2, 2, 2); /* online capable */
    madt_x2apic(&tb, 300, 2, 3);
    madt_x2apic(&tb, 301, 0, 4);
    madt_lapic(&tb, 3, 3, 3); /* enabled; online-capable bit reserved then */
    t[0] = tbl_place(f, &tb);
    assert_true(parse_xsdt(f, t, 1));
    assert_int_equal(info.cpu_count, 6);
    assert_true(info.cpus[0].enabled);
    assert_false(info.cpus[0].online_capable);
    assert_false(info.cpus[1].enabled);
    assert_false(info.cpus[1].online_capable);
    assert_false(info.cpus[2].enabled);
    assert_true(info.cpus[2].online_capable);
    assert_false(info.cpus[3].enabled);
    assert_true(info.cpus[3].online_capable);
    assert_false(info.cpus[4].enabled);
    assert_false(info.cpus[4].online_capable);
    assert_true(info.cpus[5].enabled);
    assert_false(info.cpus[5].online_capable);
    assert_int_equal(acpi_enabled_cpu_count(&info), 2);
}

static void test_more_cpus_than_max(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[2];

    madt_begin(&tb, 0xfee00000, 0);
    for (uint32_t i = 0; i < ACPI_MAX_CPUS + 44; i++)
        madt_x2apic(&tb, i * 2, 1, i);
    madt_ioapic(&tb, 1, 0xfec00000, 0); /* after the CPUs: still parsed */
    t[0] = tbl_place(f, &tb);
    t[1] = put_basic_mcfg(f);
    assert_true(parse_xsdt(f, t, 2));
    assert_int_equal(info.cpu_count, ACPI_MAX_CPUS);
    assert_int_equal(info.cpus_dropped, 44);
    assert_int_equal(info.cpus[ACPI_MAX_CPUS - 1].apic_id, (ACPI_MAX_CPUS - 1) * 2);
    assert_int_equal(info.ioapic_count, 1);
    assert_int_equal(info.error_count, 1); /* one note, not 44 */
    assert_true(has_error("more than 256 CPUs"));
}

static void test_mcfg_two_segments(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[1];

    mcfg_begin(&tb);
    mcfg_entry(&tb, 0xe0000000, 0, 0, 0x7f);
    mcfg_entry(&tb, 0x3fff00000000ull, 1, 0x80, 0xff);
    mcfg_entry(&tb, 0xd0000000, 2, 9, 3); /* backwards: dropped */
    t[0] = tbl_place(f, &tb);
    assert_true(parse_xsdt(f, t, 1));
    assert_int_equal(info.mcfg_count, 2);
    assert_int_equal(info.mcfg[0].base, 0xe0000000);
    assert_int_equal(info.mcfg[0].segment, 0);
    assert_int_equal(info.mcfg[0].bus_end, 0x7f);
    assert_int_equal(info.mcfg[1].base, 0x3fff00000000ull);
    assert_int_equal(info.mcfg[1].segment, 1);
    assert_int_equal(info.mcfg[1].bus_start, 0x80);
    assert_int_equal(info.mcfg[1].bus_end, 0xff);
    assert_true(has_error("segment 2"));
}

static void test_mcfg_partial_entry(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[1];

    mcfg_begin(&tb);
    mcfg_entry(&tb, 0xe0000000, 0, 0, 0xff);
    tbl_u64(&tb, 0xf0000000); /* half an entry */
    t[0] = tbl_place(f, &tb);
    assert_true(parse_xsdt(f, t, 1));
    assert_int_equal(info.mcfg_count, 1);
    assert_true(has_error("whole number"));
}

static void test_srat_domains(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[2];

    /* SRAT listed first: affinity must still land on the MADT's CPUs. */
    srat_begin(&tb);
    srat_cpu(&tb, 0, 0, 1);
    srat_cpu(&tb, 1, 0, 1);
    srat_cpu(&tb, 0x20, 0x1234501, 1); /* domain uses the high bytes */
    srat_cpu(&tb, 0x21, 7, 0);         /* disabled: ignored */
    srat_x2apic_cpu(&tb, 0x200, 3, 1);
    srat_cpu(&tb, 0x40, 2, 1); /* no such CPU */
    srat_memory(&tb, 0, 0, 0xa0000, 1);
    srat_memory(&tb, 1, 0x100000000ull, 0x80000000ull, 1);
    srat_memory(&tb, 3, 0x200000000ull, 0x40000000ull, 3);
    srat_memory(&tb, 4, 0x300000000ull, 0x40000000ull, 0);
    t[0] = tbl_place(f, &tb);

    madt_begin(&tb, 0xfee00000, 0);
    madt_lapic(&tb, 0, 0, 1);
    madt_lapic(&tb, 1, 1, 1);
    madt_lapic(&tb, 2, 0x20, 1);
    madt_lapic(&tb, 3, 0x21, 1);
    madt_x2apic(&tb, 0x200, 1, 4);
    t[1] = tbl_place(f, &tb);
    assert_true(parse_xsdt(f, t, 2));

    assert_true(info.have_srat);
    assert_int_equal(info.error_count, 0);
    assert_true(info.cpus[0].has_domain);
    assert_int_equal(info.cpus[0].domain, 0);
    assert_true(info.cpus[1].has_domain);
    assert_int_equal(info.cpus[2].domain, 0x1234501);
    assert_false(info.cpus[3].has_domain);
    assert_true(info.cpus[4].has_domain);
    assert_int_equal(info.cpus[4].domain, 3);

    assert_int_equal(info.mem_count, 4);
    assert_int_equal(info.mem[1].base, 0x100000000ull);
    assert_int_equal(info.mem[1].length, 0x80000000ull);
    assert_int_equal(info.mem[1].domain, 1);
    assert_true(info.mem[1].enabled);
    assert_false(info.mem[1].hotplug);
    assert_true(info.mem[2].hotplug);
    assert_false(info.mem[3].enabled);
}

static void test_srat_bad_entry(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[2];

    madt_begin(&tb, 0xfee00000, 0);
    madt_lapic(&tb, 0, 0, 1);
    t[0] = tbl_place(f, &tb);
    srat_begin(&tb);
    srat_cpu(&tb, 0, 5, 1);
    tbl_u8(&tb, 1);  /* memory affinity */
    tbl_u8(&tb, 40); /* running past the end */
    tbl_u32(&tb, 0);
    t[1] = tbl_place(f, &tb);
    assert_true(parse_xsdt(f, t, 2));
    assert_int_equal(info.cpus[0].domain, 5);
    assert_int_equal(info.mem_count, 0);
    assert_true(has_error("SRAT: entry at offset"));
}

static void test_lapic_address_override(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[1];

    madt_begin(&tb, 0xfee00000, 0);
    madt_lapic(&tb, 0, 0, 1);
    madt_lapic_addr_override(&tb, 0x00000001fee00000ull);
    t[0] = tbl_place(f, &tb);
    assert_true(parse_xsdt(f, t, 1));
    assert_int_equal(info.lapic_addr, 0x1fee00000ull);
    assert_false(info.pcat_compat);
}

static void test_duplicate_madt_ignored(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[2];

    t[0] = put_basic_madt(f);
    madt_begin(&tb, 0xfee00000, 0);
    madt_lapic(&tb, 0, 7, 1);
    t[1] = tbl_place(f, &tb);
    assert_true(parse_xsdt(f, t, 2));
    assert_int_equal(info.cpu_count, 2);
    assert_null(acpi_find_cpu(&info, 7));
    assert_true(has_error("second APIC"));
}

static void test_old_fadt_has_no_reset_register(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[1];

    tbl_begin(&tb, "FACP", 1);
    while (tb.len < 116)
        tbl_u8(&tb, 0);
    tb.b[109] = 0xff; /* reserved in a revision 1 FADT */
    tb.b[112] = 0xff; /* flags, all set */
    tb.b[113] = 0xff;
    t[0] = tbl_place(f, &tb);
    assert_true(parse_xsdt(f, t, 1));
    assert_true(info.fadt.present);
    assert_false(info.fadt.has_reset_reg);
    assert_false(info.fadt.reset_supported);
    assert_int_equal(info.fadt.boot_arch, 0);
}

static void test_error_list_overflow(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[12];

    for (int i = 0; i < 12; i++)
        t[i] = 0x1000 + (uint64_t)i * 0x100; /* all unmapped */
    assert_true(parse_xsdt(f, t, 12));
    assert_int_equal(info.error_count, ACPI_MAX_ERRORS);
    assert_int_equal(info.errors_dropped, 4);
    for (uint32_t i = 0; i < info.error_count; i++)
        assert_true(strlen(info.errors[i]) < ACPI_ERROR_LEN);
}

static void test_firmware_madt(void **state)
{
    struct fake_mem *f = *state;
    uint64_t t[1] = {fake_put(f, firecracker_madt, sizeof(firecracker_madt))};

    assert_true(parse_xsdt(f, t, 1));
    assert_int_equal(info.error_count, 0);
    assert_true(info.tables[0].valid);
    assert_int_equal(info.tables[0].revision, 6);
    assert_int_equal(info.lapic_addr, 0xfee00000);
    assert_false(info.pcat_compat);
    assert_int_equal(info.cpu_count, 2);
    assert_int_equal(info.cpus[0].apic_id, 0);
    assert_int_equal(info.cpus[1].apic_id, 1);
    assert_int_equal(info.cpus[1].acpi_uid, 1);
    assert_int_equal(acpi_enabled_cpu_count(&info), 2);
    assert_int_equal(info.ioapic_count, 1);
    assert_int_equal(info.ioapics[0].id, 0);
    assert_int_equal(info.ioapics[0].addr, 0xfec00000);
    assert_int_equal(info.ioapics[0].gsi_base, 0);
    assert_int_equal(info.override_count, 0);
}

/* ---- the BIOS-area search, over a fake first megabyte ---- */

static void low_mem_set_ebda(struct fake_mem *f, uint16_t segment)
{
    f->mem[0x40e] = (uint8_t)segment;
    f->mem[0x40f] = (uint8_t)(segment >> 8);
}

/* Copies an RSDP built elsewhere to a fixed address of the low memory. */
static uint64_t low_mem_put_rsdp(struct fake_mem *low, uint64_t at, uint8_t rev)
{
    struct fake_mem *scratch = fake_new(0x1000, 0x1000);
    uint64_t phys = fake_put_rsdp(scratch, rev, 0x7fe0000, rev >= 2 ? 0x7fe1000 : 0);

    memcpy(low->mem + at, fake_ptr(scratch, phys), rev >= 2 ? 36 : 20);
    fake_free(scratch);
    return at;
}

static void test_find_rsdp_in_bios_area(void **state)
{
    struct fake_mem *low = *state;

    low_mem_set_ebda(low, 0x9fc0);
    /* A candidate with a bad checksum first, then the real one. */
    low_mem_put_rsdp(low, 0xf5a00, 2);
    low->mem[0xf5a00 + 8] ^= 1;
    low_mem_put_rsdp(low, 0xf6e30, 2);
    /* Not on a 16-byte boundary: must not be found. */
    low_mem_put_rsdp(low, 0xe1008, 0);
    assert_int_equal(acpi_find_rsdp(fake_map, low), 0xf6e30);
}

static void test_find_rsdp_in_ebda(void **state)
{
    struct fake_mem *low = *state;

    low_mem_set_ebda(low, 0x9fc0);
    low_mem_put_rsdp(low, 0xf0000, 0);
    low_mem_put_rsdp(low, 0x9fc00 + 0x3e0, 0); /* last slot it fits in */
    assert_int_equal(acpi_find_rsdp(fake_map, low), 0x9ffe0);
}

static void test_find_rsdp_none(void **state)
{
    struct fake_mem *low = *state;

    low_mem_set_ebda(low, 0x1234); /* not a plausible EBDA: ignored */
    low_mem_put_rsdp(low, 0x12340, 0);
    memcpy(low->mem + 0xe0000, "RSD PTR ", 8); /* signature, no valid sum */
    assert_int_equal(acpi_find_rsdp(fake_map, low), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn)   cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define LOW(fn) cmocka_unit_test_setup_teardown(fn, setup_low, teardown)
        T(test_happy_path_xsdt),
        T(test_rsdt_when_revision_0),
        T(test_rsdt_when_xsdt_address_zero),
        T(test_rsdt_when_xsdt_bad),
        T(test_bad_rsdp_checksum),
        T(test_bad_rsdp_signature_and_unmapped),
        T(test_bad_extended_checksum_uses_rsdt),
        T(test_no_usable_root),
        T(test_bad_madt_checksum_skipped),
        T(test_truncated_madt),
        T(test_table_bad_length_and_unmapped),
        T(test_madt_entry_length_zero),
        T(test_madt_entry_length_one),
        T(test_madt_entry_past_end),
        T(test_madt_odd_tail_and_short_entry),
        T(test_x2apic_entries),
        T(test_duplicate_apic_ids),
        T(test_disabled_and_online_capable),
        T(test_more_cpus_than_max),
        T(test_mcfg_two_segments),
        T(test_mcfg_partial_entry),
        T(test_srat_domains),
        T(test_srat_bad_entry),
        T(test_lapic_address_override),
        T(test_duplicate_madt_ignored),
        T(test_old_fadt_has_no_reset_register),
        T(test_error_list_overflow),
        T(test_firmware_madt),
        LOW(test_find_rsdp_in_bios_area),
        LOW(test_find_rsdp_in_ebda),
        LOW(test_find_rsdp_none),
#undef T
#undef LOW
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
