/* SPDX-License-Identifier: MIT */
/*
 * The guest's DSDT. Always: \_S5, the package whose first value is the
 * PM1a SLP_TYP for soft-off, which is what a guest reads before it writes
 * PM1a_CNT to power off. With a PCI bus: \_SB.PCI0, a PCI Express root
 * bridge (PNP0A08, compatible with PNP0A03) for segment 0 whose _CRS
 * gives its bus range, the 0xcf8 configuration ports and the I/O and
 * 32-bit memory windows it forwards; and \_SB.ECAM, a motherboard resource
 * (PNP0C02) reserving the ECAM area, without which Linux does not trust
 * the MCFG entry.
 */
#include "kernel/lib/string.h"
#include "vmm/acpi/acpi_writer.h"
#include "vmm/acpi/aml.h"

#define DSDT_REVISION 2 /* 64-bit integers */
#define AML_MAX       1024
#define CRS_MAX       128

#define PCI_CONFIG_PORT 0xcf8
#define PCI_CONFIG_LEN  8
#define ECAM_BUS_SHIFT  20

/* Name(seg, Buffer() { <the resource template in res> }) */
static void name_resources(struct aml *a, const char *seg, const struct aml *res)
{
    aml_name(a, seg);
    aml_byte(a, AML_BUFFER);
    aml_pkg_begin(a);
    aml_integer(a, res->len);
    aml_bytes(a, res->buf, res->len);
    aml_pkg_end(a);
    if (res->full)
        a->full = true;
}

static void sleep_state_s5(struct aml *a)
{
    aml_name(a, "_S5_");
    aml_byte(a, AML_PACKAGE);
    aml_pkg_begin(a);
    aml_byte(a, 4);                        /* elements */
    aml_integer(a, GUEST_ACPI_S5_SLP_TYP); /* PM1a_CNT.SLP_TYP */
    aml_integer(a, GUEST_ACPI_S5_SLP_TYP); /* PM1b_CNT.SLP_TYP (no PM1b block) */
    aml_integer(a, 0);
    aml_integer(a, 0);
    aml_pkg_end(a);
}

static void device_begin(struct aml *a, const char *seg)
{
    aml_byte(a, AML_EXT);
    aml_byte(a, AML_EXT_DEV);
    aml_pkg_begin(a);
    aml_name_seg(a, seg);
}

static void pci_root_bridge(struct aml *a, const struct guest_acpi_pci *pci)
{
    uint8_t crs_buf[CRS_MAX];
    struct aml crs;
    aml_init(&crs, crs_buf, sizeof(crs_buf));
    aml_res_word_bus(&crs, pci->bus_first, pci->bus_last);
    aml_res_io(&crs, PCI_CONFIG_PORT, PCI_CONFIG_LEN);
    aml_res_word_io(&crs, 0x0000, PCI_CONFIG_PORT - 1);
    aml_res_word_io(&crs, PCI_CONFIG_PORT + PCI_CONFIG_LEN, 0xffff);
    aml_res_dword_mem(&crs, pci->mmio_base, pci->mmio_base + (pci->mmio_size - 1));
    aml_res_end(&crs);

    device_begin(a, "PCI0");
    aml_name(a, "_HID");
    aml_eisaid(a, "PNP0A08");
    aml_name(a, "_CID");
    aml_eisaid(a, "PNP0A03");
    aml_name(a, "_SEG");
    aml_integer(a, 0);
    aml_name(a, "_BBN");
    aml_integer(a, pci->bus_first);
    aml_name(a, "_UID");
    aml_integer(a, 0);
    name_resources(a, "_CRS", &crs);
    aml_pkg_end(a);
}

static void ecam_reservation(struct aml *a, const struct guest_acpi_pci *pci)
{
    uint8_t crs_buf[CRS_MAX];
    struct aml crs;
    aml_init(&crs, crs_buf, sizeof(crs_buf));
    uint64_t start = pci->ecam_gpa + ((uint64_t)pci->bus_first << ECAM_BUS_SHIFT);
    uint64_t size = (uint64_t)(pci->bus_last - pci->bus_first + 1) << ECAM_BUS_SHIFT;
    aml_res_mem32_fixed(&crs, (uint32_t)start, (uint32_t)size);
    aml_res_end(&crs);

    device_begin(a, "ECAM");
    aml_name(a, "_HID");
    aml_eisaid(a, "PNP0C02");
    aml_name(a, "_UID");
    aml_integer(a, 0);
    name_resources(a, "_CRS", &crs);
    aml_pkg_end(a);
}

uint64_t guest_dsdt_write(struct acpi_writer *w, const struct guest_acpi_config *cfg)
{
    uint8_t body[AML_MAX];
    struct aml a;
    aml_init(&a, body, sizeof(body));
    sleep_state_s5(&a);
    if (cfg->has_pci) {
        aml_byte(&a, AML_SCOPE);
        aml_pkg_begin(&a);
        aml_name_seg(&a, "_SB_"); /* at the root: \_SB */
        pci_root_bridge(&a, &cfg->pci);
        ecam_reservation(&a, &cfg->pci);
        aml_pkg_end(&a);
    }
    if (a.full || a.depth != 0) {
        w->full = true;
        return 0;
    }
    uint32_t len = (uint32_t)(ACPI_HEADER_SIZE + a.len);
    uint64_t gpa;
    uint8_t *t = acpi_writer_alloc(w, len, 16, &gpa);
    if (!t)
        return 0;
    acpi_writer_header(t, "DSDT", len, DSDT_REVISION);
    memcpy(t + ACPI_HEADER_SIZE, body, a.len);
    acpi_writer_finish(t);
    return gpa;
}
