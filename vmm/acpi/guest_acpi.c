/* SPDX-License-Identifier: MIT */
/*
 * guest_acpi_build: lays the guest's tables out one after another from
 * base_gpa: RSDP, XSDT, FACS, DSDT, FADT, MADT and MCFG. The RSDP and XSDT
 * come first but point at tables written after them, so their pointers and
 * checksums are filled in last, once every table has its address.
 */
#include "vmm/acpi/guest_acpi.h"

#include "kernel/lib/string.h"
#include "vmm/acpi/acpi_writer.h"

#define RSDP_LENGTH      36
#define RSDP_REVISION    2  /* ACPI 2.0+: XSDT and extended checksum */
#define RSDP_V1_LENGTH   20 /* bytes the first checksum covers */
#define XSDT_REVISION    1
#define XSDT_MAX_ENTRIES 3 /* FADT, MADT, MCFG */

#define GIB4             (1ull << 32)
#define LAPIC_IOAPIC_END 0xfef00000ull

static bool overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
    return a < b + b_size && b < a + a_size;
}

const char *guest_acpi_config_check(const struct guest_acpi_config *cfg)
{
    if (cfg->vcpus == 0 || cfg->vcpus > GUEST_ACPI_MAX_VCPUS)
        return "the number of vCPUs must be between 1 and 254";
    if (!cfg->has_pci)
        return NULL;
    const struct guest_acpi_pci *pci = &cfg->pci;
    uint64_t apic_start = GUEST_ACPI_IOAPIC_GPA, apic_size = LAPIC_IOAPIC_END - apic_start;
    if (pci->bus_first > pci->bus_last)
        return "the PCI bus range is empty (first bus after the last)";
    uint64_t ecam_start = pci->ecam_gpa + ((uint64_t)pci->bus_first << 20);
    uint64_t ecam_size = (uint64_t)(pci->bus_last - pci->bus_first + 1) << 20;
    if (pci->ecam_gpa & ((1u << 20) - 1) || pci->ecam_gpa >= GIB4 || ecam_start + ecam_size > GIB4)
        return "the ECAM area must be 1 MiB aligned and lie below 4 GiB";
    if (pci->mmio_size == 0 || (uint64_t)pci->mmio_base + pci->mmio_size > GIB4)
        return "the PCI memory window must be non-empty and lie below 4 GiB";
    if (overlaps(ecam_start, ecam_size, pci->mmio_base, pci->mmio_size))
        return "the ECAM area overlaps the PCI memory window";
    if (overlaps(ecam_start, ecam_size, apic_start, apic_size) ||
        overlaps(pci->mmio_base, pci->mmio_size, apic_start, apic_size))
        return "a PCI window overlaps the IOAPIC and local APIC pages";
    return NULL;
}

static void rsdp_finish(uint8_t *r, uint64_t xsdt_gpa)
{
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, GUEST_ACPI_OEM_ID, 6);
    r[15] = RSDP_REVISION;
    acpi_store32(r + 16, 0); /* no RSDT: every table is reached through the XSDT */
    acpi_store32(r + 20, RSDP_LENGTH);
    acpi_store64(r + 24, xsdt_gpa);
    r[8] = 0;
    r[8] = acpi_writer_checksum(r, RSDP_V1_LENGTH);
    r[32] = 0;
    r[32] = acpi_writer_checksum(r, RSDP_LENGTH);
}

size_t guest_acpi_build(const struct guest_acpi_config *cfg, uint8_t *buf, size_t size,
                        uint64_t base_gpa, uint64_t *rsdp_gpa)
{
    if (guest_acpi_config_check(cfg) || base_gpa & 0xf || base_gpa >= GIB4)
        return 0;
    if (size > GIB4 - base_gpa) /* the tables must end below 4 GiB */
        size = GIB4 - base_gpa;
    struct acpi_writer w = {buf, size, 0, base_gpa, false};
    unsigned entries = cfg->has_pci ? 3 : 2;
    uint32_t xsdt_len = ACPI_HEADER_SIZE + 8 * entries;
    uint64_t rsdp, xsdt_gpa;
    uint8_t *r = acpi_writer_alloc(&w, RSDP_LENGTH, 16, &rsdp);
    uint8_t *x = acpi_writer_alloc(&w, xsdt_len, 16, &xsdt_gpa);
    uint64_t facs = guest_facs_write(&w);
    uint64_t dsdt = guest_dsdt_write(&w, cfg);
    uint64_t tables[XSDT_MAX_ENTRIES];
    tables[0] = guest_fadt_write(&w, facs, dsdt);
    tables[1] = guest_madt_write(&w, cfg);
    if (cfg->has_pci)
        tables[2] = guest_mcfg_write(&w, &cfg->pci);
    if (w.full)
        return 0;

    acpi_writer_header(x, "XSDT", xsdt_len, XSDT_REVISION);
    for (unsigned i = 0; i < entries; i++)
        acpi_store64(x + ACPI_HEADER_SIZE + 8 * i, tables[i]);
    acpi_writer_finish(x);
    rsdp_finish(r, xsdt_gpa);
    if (rsdp_gpa)
        *rsdp_gpa = rsdp;
    return w.used;
}
