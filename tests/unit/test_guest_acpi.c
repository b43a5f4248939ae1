/* SPDX-License-Identifier: MIT */
/* Unit tests for the guest ACPI builder: the tables are built into a fake
 * guest BIOS area and read back twice, byte by byte here (every field the
 * virtual platform depends on, checksums, the DSDT's AML structure) and
 * through Sidecore's own firmware-table parser (kernel/acpi), which finds
 * the RSDP by scanning as a guest would. Also: configurations the builder
 * must refuse, buffers too small by any amount (exact-size heap buffers, so
 * ASan sees any write past the end), and the AML PkgLength encodings.
 * iasl's decoding of the same tables is tools/check-acpi-iasl.sh.
 * test-sources: vmm/acpi/guest_acpi.c vmm/acpi/acpi_writer.c vmm/acpi/guest_fadt.c vmm/acpi/guest_madt.c vmm/acpi/guest_mcfg.c vmm/acpi/guest_dsdt.c vmm/acpi/aml.c vmm/io_policy.c kernel/acpi/acpi_parse.c kernel/acpi/acpi_rsdp.c kernel/acpi/acpi_madt.c kernel/acpi/acpi_srat.c kernel/acpi/acpi_mcfg.c kernel/acpi/acpi_fadt.c kernel/lib/fmt.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/le_bytes.h"

#include "kernel/acpi/acpi.h"
#include "tests/unit/acpi_fake.h"
#include "vmm/acpi/aml.h"
#include "vmm/acpi/guest_acpi.h"
#include "vmm/io_policy.h"

#define BASE   0xe0000u
#define AREA   0x20000u /* 0xe0000-0xfffff, the BIOS area a guest scans */
#define PM1_EN (1u << 13)

static const uint8_t *find_bytes(const uint8_t *hay, size_t len, const void *needle, size_t n)
{
    for (size_t i = 0; i + n <= len; i++)
        if (!memcmp(hay + i, needle, n))
            return hay + i;
    return NULL;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

static const struct guest_acpi_pci test_pci = {
    .ecam_gpa = 0xe0000000u,
    .bus_first = 0,
    .bus_last = 255,
    .mmio_base = 0xc0000000u,
    .mmio_size = 0x20000000u,
};

struct built {
    struct fake_mem *f;
    size_t used;
    uint64_t rsdp;
};

static struct built build(struct guest_acpi_config cfg)
{
    struct built b = {fake_new(BASE, AREA), 0, 0};
    b.used = guest_acpi_build(&cfg, b.f->mem, AREA, BASE, &b.rsdp);
    assert_true(b.used > 0);
    assert_true(b.used <= GUEST_ACPI_MAX_SIZE);
    assert_int_equal(b.rsdp, BASE);
    return b;
}

/* The table at gpa, checked as any table must be: inside what was built,
 * the signature expected, a length at least its header, a zero byte sum
 * and our OEM fields. */
static const uint8_t *table(const struct built *b, uint64_t gpa, const char *sig, uint8_t rev)
{
    assert_true(gpa >= BASE && gpa + 36 <= BASE + b->used);
    const uint8_t *t = fake_ptr(b->f, gpa);
    if (memcmp(t, sig, 4) != 0)
        fail_msg("expected %s at 0x%llx, found %.4s", sig, (unsigned long long)gpa, t);
    uint32_t len = r32(t + 4);
    assert_true(len >= 36 && gpa + len <= BASE + b->used);
    assert_int_equal(sum(t, len), 0);
    assert_int_equal(t[8], rev);
    assert_memory_equal(t + 10, "SIDECR", 6);
    assert_memory_equal(t + 16, "SIDECORE", 8);
    assert_int_equal(gpa & 0xf, 0);
    return t;
}

/* The XSDT entry with signature sig, or NULL. */
static const uint8_t *xsdt_find(const struct built *b, const uint8_t *xsdt, const char *sig)
{
    for (uint32_t off = 36; off < r32(xsdt + 4); off += 8) {
        const uint8_t *t = fake_ptr(b->f, r64(xsdt + off));
        if (!memcmp(t, sig, 4))
            return t;
    }
    return NULL;
}

static void check_gas(const uint8_t *g, uint8_t width, uint8_t access, uint64_t addr)
{
    assert_int_equal(g[0], 1); /* system I/O */
    assert_int_equal(g[1], width);
    assert_int_equal(g[2], 0);
    assert_int_equal(g[3], access);
    assert_int_equal(r64(g + 4), addr);
}

static void check_fadt(const struct built *b, const uint8_t *fadt)
{
    assert_int_equal(r32(fadt + 4), 276);
    assert_int_equal(fadt[131], 0);      /* FADT 6.0 */
    assert_int_equal(r16(fadt + 46), 9); /* SCI_INT */
    assert_int_equal(r32(fadt + 48), 0); /* SMI_CMD: always in ACPI mode */
    assert_int_equal(r32(fadt + 56), IO_PM1A_EVT);
    assert_int_equal(r32(fadt + 64), IO_PM1A_CNT);
    assert_int_equal(r32(fadt + 76), IO_PM_TMR);
    assert_int_equal(r32(fadt + 60) | r32(fadt + 68) | r32(fadt + 72), 0); /* no b, PM2 */
    assert_int_equal(r32(fadt + 80) | r32(fadt + 84), 0);                  /* no GPE */
    assert_int_equal(fadt[88], 4);
    assert_int_equal(fadt[89], 2);
    assert_int_equal(fadt[91], 4);
    assert_int_equal(IO_PM_LAST, IO_PM_TMR + fadt[91] - 1); /* the ports io_policy serves */
    assert_int_equal(r16(fadt + 109), 0x7);                 /* legacy devices, 8042, no VGA */
    uint32_t flags = r32(fadt + 112);
    assert_int_equal(flags & 0x1, 0x1);   /* WBINVD */
    assert_int_equal(flags & 0x4, 0x4);   /* PROC_C1 */
    assert_int_equal(flags & 0x30, 0x30); /* no fixed power or sleep button */
    /* RTC_STS/RTC_EN are in the PM1 block (FIX_RTC clear), as on a PC: Linux
     * enables the RTC fixed event whatever this flag says. */
    assert_int_equal(flags & 0x40, 0);
    assert_int_equal(flags & 0x100, 0x100); /* TMR_VAL_EXT */
    assert_int_equal(flags & 0x400, 0x400); /* RESET_REG_SUP */
    assert_int_equal(flags & 0x100000, 0);  /* not hardware-reduced */
    check_gas(fadt + 116, 8, 1, 0xcf9);
    assert_int_equal(fadt[128], 0x06);
    check_gas(fadt + 148, 32, 2, IO_PM1A_EVT);
    check_gas(fadt + 172, 16, 2, IO_PM1A_CNT);
    check_gas(fadt + 208, 32, 3, IO_PM_TMR);
    for (unsigned off = 160; off < 172; off++) /* X_PM1b_EVT_BLK */
        assert_int_equal(fadt[off], 0);

    /* FACS (32-bit pointer only) and DSDT (the same in both fields) */
    uint64_t facs = r32(fadt + 36), dsdt = r32(fadt + 40);
    assert_int_equal(r64(fadt + 132), 0); /* X_FIRMWARE_CTRL: one FACS pointer */
    assert_int_equal(r64(fadt + 140), dsdt);
    assert_int_equal(facs & 63, 0);
    const uint8_t *fc = fake_ptr(b->f, facs);
    assert_memory_equal(fc, "FACS", 4);
    assert_int_equal(r32(fc + 4), 64);
    assert_int_equal(fc[32], 2);
    /* The global lock (offset 16) is free and no firmware waits for it; no
     * S4BIOS, no 64-bit waking vector flags. */
    assert_int_equal(r32(fc + 16), 0);
    assert_int_equal(r32(fc + 20), 0);
    table(b, dsdt, "DSDT", 2);
}

/* Reads a PkgLength at p: the length (which counts its own bytes) and the
 * number of bytes it took. */
static uint32_t pkg_length(const uint8_t *p, unsigned *bytes)
{
    unsigned n = (p[0] >> 6) + 1;
    uint32_t v = n == 1 ? p[0] & 0x3f : p[0] & 0xf;
    for (unsigned i = 1; i < n; i++)
        v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
    *bytes = n;
    return v;
}

/* Walks the DSDT's top-level terms (Name(_S5_) and, with PCI, one Scope)
 * and checks each ends exactly where the next begins, the last at the end
 * of the table; returns the SLP_TYP in \_S5. */
static unsigned check_dsdt(const struct built *b, const uint8_t *fadt, bool pci)
{
    const uint8_t *d = fake_ptr(b->f, r32(fadt + 40));
    uint32_t len = r32(d + 4), pos = 36;
    unsigned slp_typ = 999, bytes;
    bool saw_scope = false;
    while (pos < len) {
        if (d[pos] == AML_NAME && !memcmp(d + pos + 1, "_S5_", 4)) {
            const uint8_t *pk = d + pos + 5;
            assert_int_equal(pk[0], AML_PACKAGE);
            uint32_t pl = pkg_length(pk + 1, &bytes);
            assert_int_equal(pk[1 + bytes], 4); /* elements */
            const uint8_t *el = pk + 2 + bytes;
            if (el[0] == AML_BYTE)
                slp_typ = el[1];
            else if (el[0] <= AML_ONE)
                slp_typ = el[0];
            pos += 5 + 1 + pl;
        } else if (d[pos] == AML_SCOPE) {
            uint32_t pl = pkg_length(d + pos + 1, &bytes);
            assert_memory_equal(d + pos + 1 + bytes, "_SB_", 4);
            saw_scope = true;
            pos += 1 + pl;
        } else {
            fail_msg("unexpected AML opcode 0x%02x at DSDT offset %u", d[pos], pos);
        }
    }
    assert_int_equal(pos, len);
    assert_int_equal(saw_scope, pci);
    /* the names a PCI root bridge needs, and nothing PCI without a bus */
    bool has_pci0 = find_bytes(d, len, "PCI0", 4) != NULL;
    bool has_ecam = find_bytes(d, len, "ECAM", 4) != NULL;
    const uint8_t pnp0a08[] = {AML_DWORD, 0x41, 0xd0, 0x0a, 0x08};
    const uint8_t pnp0a03[] = {AML_DWORD, 0x41, 0xd0, 0x0a, 0x03};
    const uint8_t pnp0c02[] = {AML_DWORD, 0x41, 0xd0, 0x0c, 0x02};
    assert_int_equal(has_pci0, pci);
    assert_int_equal(has_ecam, pci);
    assert_int_equal(find_bytes(d, len, pnp0a08, 5) != NULL, pci);
    assert_int_equal(find_bytes(d, len, pnp0a03, 5) != NULL, pci);
    assert_int_equal(find_bytes(d, len, pnp0c02, 5) != NULL, pci);
    return slp_typ;
}

static void check_madt(const uint8_t *madt, unsigned vcpus)
{
    assert_int_equal(r32(madt + 36), 0xfee00000u);
    assert_int_equal(r32(madt + 40), 0); /* no PCAT_COMPAT */
    uint32_t len = r32(madt + 4), pos = 44;
    unsigned lapics = 0, ioapics = 0, overrides = 0, nmis = 0;
    while (pos < len) {
        const uint8_t *e = madt + pos;
        assert_true(e[1] >= 2 && pos + e[1] <= len);
        switch (e[0]) {
        case 0:
            assert_int_equal(e[1], 8);
            assert_int_equal(e[2], lapics);                  /* UID = vCPU index */
            assert_int_equal(e[3], lapics);                  /* APIC ID = vCPU index */
            assert_int_equal(r32(e + 4), 1);                 /* enabled */
            assert_int_equal(ioapics + overrides + nmis, 0); /* CPUs first */
            lapics++;
            break;
        case 1:
            assert_int_equal(e[1], 12);
            assert_int_equal(e[2], vcpus);
            assert_int_equal(r32(e + 4), 0xfec00000u);
            assert_int_equal(r32(e + 8), 0);
            ioapics++;
            break;
        case 2:
            assert_int_equal(e[1], 10);
            assert_int_equal(e[2], 0);
            assert_int_equal(e[3], 9);
            assert_int_equal(r32(e + 4), 9);
            assert_int_equal(r16(e + 8), 0xd); /* active high, level */
            overrides++;
            break;
        case 4:
            assert_int_equal(e[1], 6);
            assert_int_equal(e[2], 0xff);
            assert_int_equal(e[5], 1);
            nmis++;
            break;
        default: fail_msg("unexpected MADT entry type %u", e[0]);
        }
        pos += e[1];
    }
    assert_int_equal(pos, len);
    assert_int_equal(lapics, vcpus);
    assert_int_equal(ioapics, 1);
    assert_int_equal(overrides, 1);
    assert_int_equal(nmis, 1);
}

static void check_platform(unsigned vcpus, bool pci)
{
    struct guest_acpi_config cfg = {.vcpus = vcpus, .has_pci = pci, .pci = test_pci};
    struct built b = build(cfg);

    /* RSDP: both checksums, revision 2, XSDT only */
    const uint8_t *r = fake_ptr(b.f, b.rsdp);
    assert_memory_equal(r, "RSD PTR ", 8);
    assert_int_equal(sum(r, 20), 0);
    assert_int_equal(sum(r, 36), 0);
    assert_int_equal(r[15], 2);
    assert_int_equal(r32(r + 20), 36);
    assert_memory_equal(r + 9, "SIDECR", 6);
    const uint8_t *xsdt = table(&b, r64(r + 24), "XSDT", 1);
    assert_int_equal(r32(xsdt + 4), 36 + 8 * (pci ? 3 : 2));
    for (uint32_t off = 36; off < r32(xsdt + 4); off += 8) {
        const uint8_t *t = fake_ptr(b.f, r64(xsdt + off));
        table(&b, r64(xsdt + off), (const char[5]){t[0], t[1], t[2], t[3], 0}, t[8]);
    }

    const uint8_t *fadt = xsdt_find(&b, xsdt, "FACP");
    const uint8_t *madt = xsdt_find(&b, xsdt, "APIC");
    const uint8_t *mcfg = xsdt_find(&b, xsdt, "MCFG");
    assert_non_null(fadt);
    assert_non_null(madt);
    assert_int_equal(fadt[8], 6);
    assert_int_equal(madt[8], 5);
    check_fadt(&b, fadt);
    check_madt(madt, vcpus);
    unsigned slp_typ = check_dsdt(&b, fadt, pci);
    assert_int_equal(slp_typ, GUEST_ACPI_S5_SLP_TYP);
    /* what the guest writes to PM1a_CNT to power off is what the I/O
     * policy recognises as that sleep state */
    assert_int_equal(io_pm1_sleep_type((uint16_t)(slp_typ << 10 | PM1_EN)), GUEST_ACPI_S5_SLP_TYP);
    if (pci) {
        assert_non_null(mcfg);
        assert_int_equal(r32(mcfg + 4), 60);
        assert_int_equal(r64(mcfg + 44), test_pci.ecam_gpa);
        assert_int_equal(r16(mcfg + 52), 0);
        assert_int_equal(mcfg[54], 0);
        assert_int_equal(mcfg[55], 255);
    } else {
        assert_null(mcfg);
    }

    /* Sidecore's own parser, starting from a BIOS-area scan */
    uint64_t found = acpi_find_rsdp(fake_map, b.f);
    assert_int_equal(found, BASE);
    static struct acpi_info info;
    assert_true(acpi_parse(found, fake_map, b.f, &info));
    if (info.error_count)
        fail_msg("parser: %s", info.errors[0]);
    assert_int_equal(info.revision, 2);
    assert_true(info.root_is_xsdt);
    assert_string_equal(info.oem_id, "SIDECR");
    for (unsigned i = 0; i < info.table_count; i++)
        assert_true(info.tables[i].valid);
    assert_true(info.have_madt);
    assert_int_equal(info.lapic_addr, 0xfee00000u);
    assert_false(info.pcat_compat);
    assert_int_equal(info.cpu_count, vcpus);
    assert_int_equal(acpi_enabled_cpu_count(&info), vcpus);
    for (unsigned i = 0; i < vcpus; i++) {
        const struct acpi_cpu *c = acpi_find_cpu(&info, i);
        assert_non_null(c);
        assert_int_equal(c->acpi_uid, i);
        assert_true(c->enabled);
    }
    assert_int_equal(info.ioapic_count, 1);
    assert_int_equal(info.ioapics[0].id, vcpus);
    assert_int_equal(info.ioapics[0].addr, 0xfec00000u);
    assert_int_equal(info.override_count, 1);
    assert_int_equal(info.overrides[0].irq, 9);
    assert_int_equal(info.overrides[0].gsi, 9);
    assert_int_equal(info.overrides[0].flags, 0xd);
    assert_int_equal(info.mcfg_count, pci ? 1 : 0);
    if (pci) {
        assert_int_equal(info.mcfg[0].base, test_pci.ecam_gpa);
        assert_int_equal(info.mcfg[0].bus_end, 255);
    }
    assert_true(info.fadt.present);
    assert_true(info.fadt.reset_supported);
    assert_int_equal(info.fadt.reset_reg.address, 0xcf9);
    assert_int_equal(info.fadt.reset_reg.space_id, ACPI_GAS_SPACE_IO);
    assert_int_equal(info.fadt.reset_value, 6);
    assert_true(io_reset_requested(0xcf9, 1, info.fadt.reset_value));
    assert_int_equal(info.fadt.boot_arch,
                     ACPI_BOOT_ARCH_LEGACY_DEVICES | ACPI_BOOT_ARCH_8042 | ACPI_BOOT_ARCH_NO_VGA);

    /* nothing written past what was reported used */
    for (size_t i = b.used; i < AREA; i++)
        if (b.f->mem[i])
            fail_msg("byte 0x%zx past the %zu used was written", i, b.used);
    fake_free(b.f);
}

static void test_one_vcpu(void **state)
{
    (void)state;
    check_platform(1, false);
}

static void test_two_vcpus_pci(void **state)
{
    (void)state;
    check_platform(2, true);
}

static void test_64_vcpus(void **state)
{
    (void)state;
    check_platform(64, false);
    check_platform(64, true);
}

static void test_max_vcpus(void **state)
{
    (void)state;
    check_platform(GUEST_ACPI_MAX_VCPUS, true);
}

static void test_pci_resources(void **state)
{
    (void)state;
    struct guest_acpi_pci pci = {.ecam_gpa = 0xb0000000u,
                                 .bus_first = 2,
                                 .bus_last = 9,
                                 .mmio_base = 0xd0000000u,
                                 .mmio_size = 0x1000000u};
    struct built b = build((struct guest_acpi_config){4, true, pci});
    const uint8_t *fadt = NULL, *r = fake_ptr(b.f, b.rsdp);
    const uint8_t *xsdt = fake_ptr(b.f, r64(r + 24));
    fadt = xsdt_find(&b, xsdt, "FACP");
    const uint8_t *d = fake_ptr(b.f, r32(fadt + 40));
    uint32_t len = r32(d + 4);
    /* WordBusNumber 2..9 (length 8) */
    const uint8_t bus[] = {0x88, 13, 0, 2, 0x0c, 0, 0, 0, 2, 0, 9, 0, 0, 0, 8, 0};
    assert_non_null(find_bytes(d, len, bus, sizeof(bus)));
    /* _BBN is the first bus */
    const uint8_t bbn[] = {AML_NAME, '_', 'B', 'B', 'N', AML_BYTE, 2};
    assert_non_null(find_bytes(d, len, bbn, sizeof(bbn)));
    /* DWordMemory 0xd0000000-0xd0ffffff */
    const uint8_t win[] = {0x87, 23,   0,    0,    0x0c, 0x01, 0, 0, 0, 0, 0, 0, 0,
                           0xd0, 0xff, 0xff, 0xff, 0xd0, 0,    0, 0, 0, 0, 0, 0, 0x01};
    assert_non_null(find_bytes(d, len, win, sizeof(win)));
    /* the ECAM reservation covers buses 2..9 only: base + 2 MiB, 8 MiB */
    const uint8_t ecam[] = {0x86, 9, 0, 1, 0, 0, 0x20, 0xb0, 0, 0, 0x80, 0};
    assert_non_null(find_bytes(d, len, ecam, sizeof(ecam)));
    /* the configuration ports */
    const uint8_t cf8[] = {0x47, 1, 0xf8, 0x0c, 0xf8, 0x0c, 1, 8};
    assert_non_null(find_bytes(d, len, cf8, sizeof(cf8)));
    fake_free(b.f);
}

static void test_config_refused(void **state)
{
    (void)state;
    struct guest_acpi_config cfg = {.vcpus = 0};
    uint8_t buf[GUEST_ACPI_MAX_SIZE];
    uint64_t rsdp = 77;
    assert_non_null(guest_acpi_config_check(&cfg));
    assert_int_equal(guest_acpi_build(&cfg, buf, sizeof(buf), BASE, &rsdp), 0);
    assert_int_equal(rsdp, 77);
    cfg.vcpus = 255;
    assert_non_null(strstr(guest_acpi_config_check(&cfg), "between 1 and 254"));
    cfg.vcpus = 2;
    assert_null(guest_acpi_config_check(&cfg));

    cfg.has_pci = true;
    cfg.pci = test_pci;
    assert_null(guest_acpi_config_check(&cfg));
    cfg.pci.bus_first = 5;
    cfg.pci.bus_last = 4;
    assert_non_null(strstr(guest_acpi_config_check(&cfg), "bus range is empty"));
    cfg.pci = test_pci;
    cfg.pci.ecam_gpa += 0x1000;
    assert_non_null(strstr(guest_acpi_config_check(&cfg), "ECAM"));
    cfg.pci.ecam_gpa = 0x100000000ull;
    assert_non_null(strstr(guest_acpi_config_check(&cfg), "ECAM"));
    cfg.pci.ecam_gpa = 0xf0100000u; /* 256 buses run past 4 GiB */
    assert_non_null(strstr(guest_acpi_config_check(&cfg), "below 4 GiB"));
    cfg.pci = test_pci;
    cfg.pci.mmio_size = 0;
    assert_non_null(strstr(guest_acpi_config_check(&cfg), "memory window"));
    cfg.pci.mmio_base = 0xf0000000u;
    cfg.pci.mmio_size = 0x20000000u;
    assert_non_null(strstr(guest_acpi_config_check(&cfg), "memory window"));
    cfg.pci = test_pci;
    cfg.pci.mmio_base = 0xd0000000u;
    cfg.pci.mmio_size = 0x20000000u; /* into the ECAM area */
    assert_non_null(strstr(guest_acpi_config_check(&cfg), "overlaps the PCI memory window"));
    cfg.pci = test_pci;
    cfg.pci.mmio_base = 0xfe000000u;
    cfg.pci.mmio_size = 0x1000000u; /* over the IOAPIC */
    assert_non_null(strstr(guest_acpi_config_check(&cfg), "IOAPIC"));

    /* unusable base addresses */
    cfg.pci = test_pci;
    assert_int_equal(guest_acpi_build(&cfg, buf, sizeof(buf), BASE + 8, NULL), 0);
    assert_int_equal(guest_acpi_build(&cfg, buf, sizeof(buf), 0x100000000ull, NULL), 0);
    /* the tables must end below 4 GiB, however large the buffer */
    assert_int_equal(guest_acpi_build(&cfg, buf, sizeof(buf), 0xffffff00u, NULL), 0);
    size_t used = guest_acpi_build(&cfg, buf, sizeof(buf), 0xfffff000u, NULL);
    assert_true(used > 0 && used <= 0x1000);
}

static void test_too_small(void **state)
{
    (void)state;
    struct guest_acpi_config cfg = {.vcpus = 64, .has_pci = true, .pci = test_pci};
    uint8_t *big = malloc(GUEST_ACPI_MAX_SIZE);
    size_t used = guest_acpi_build(&cfg, big, GUEST_ACPI_MAX_SIZE, BASE, NULL);
    assert_true(used > 0);
    for (size_t size = 0; size < used; size++) {
        uint8_t *buf = malloc(size ? size : 1); /* exact size: ASan sees overruns */
        uint64_t rsdp = 0;
        if (guest_acpi_build(&cfg, buf, size, BASE, &rsdp) != 0)
            fail_msg("a %zu-byte buffer was accepted for %zu bytes of tables", size, used);
        assert_int_equal(rsdp, 0);
        free(buf);
    }
    uint8_t *exact = malloc(used);
    assert_int_equal(guest_acpi_build(&cfg, exact, used, BASE, NULL), used);
    assert_memory_equal(exact, big, used);
    free(exact);
    free(big);
}

static void test_aml_pkg_length(void **state)
{
    (void)state;
    static uint8_t buf[0x200000];
    /* body sizes around each encoding's limit */
    const size_t bodies[] = {0, 62, 63, 4093, 4094, 0xffffc, 0xffffd};
    const unsigned widths[] = {1, 1, 2, 2, 3, 3, 4};
    for (unsigned i = 0; i < 7; i++) {
        struct aml a;
        aml_init(&a, buf, sizeof(buf));
        aml_byte(&a, AML_PACKAGE);
        aml_pkg_begin(&a);
        for (size_t j = 0; j < bodies[i]; j++)
            aml_byte(&a, (uint8_t)(j * 3));
        aml_pkg_end(&a);
        assert_false(a.full);
        unsigned n;
        uint32_t pl = pkg_length(buf + 1, &n);
        assert_int_equal(n, widths[i]);
        assert_int_equal(pl, bodies[i] + n);
        assert_int_equal(a.len, 1 + n + bodies[i]);
        if (bodies[i])
            assert_int_equal(buf[1 + n + bodies[i] - 1], (uint8_t)((bodies[i] - 1) * 3));
        if (n > 1)
            assert_int_equal(buf[1] & 0x30, 0); /* bits 4-5 of a long lead byte are 0 */
    }
    /* integers take their shortest form */
    struct aml a;
    aml_init(&a, buf, sizeof(buf));
    aml_integer(&a, 0);
    aml_integer(&a, 1);
    aml_integer(&a, 0xff);
    aml_integer(&a, 0x100);
    aml_integer(&a, 0x10000);
    aml_integer(&a, 0x100000000ull);
    const uint8_t want[] = {0x00, 0x01, 0x0a, 0xff, 0x0b, 0x00, 0x01, 0x0c, 0x00, 0x00, 0x01,
                            0x00, 0x0e, 0,    0,    0,    0,    1,    0,    0,    0};
    assert_int_equal(a.len, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));
    /* running out of room or nesting too deep marks the result unusable */
    aml_init(&a, buf, 3);
    aml_byte(&a, AML_PACKAGE);
    aml_pkg_begin(&a);
    aml_pkg_end(&a);
    assert_true(a.full);
    aml_init(&a, buf, sizeof(buf));
    for (int i = 0; i <= AML_MAX_DEPTH; i++)
        aml_pkg_begin(&a);
    assert_true(a.full);
    aml_init(&a, buf, sizeof(buf));
    aml_pkg_end(&a);
    assert_true(a.full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_vcpu),      cmocka_unit_test(test_two_vcpus_pci),
        cmocka_unit_test(test_64_vcpus),      cmocka_unit_test(test_max_vcpus),
        cmocka_unit_test(test_pci_resources), cmocka_unit_test(test_config_refused),
        cmocka_unit_test(test_too_small),     cmocka_unit_test(test_aml_pkg_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
