/* SPDX-License-Identifier: MIT */
/*
 * The guest's MCFG: one ECAM allocation for PCI segment 0. Its base is,
 * as the PCI Firmware Specification defines it, where bus 0 would be even
 * when the range starts at a later bus.
 */
#include "vmm/acpi/acpi_writer.h"

#define MCFG_REVISION 1
#define MCFG_LENGTH   (ACPI_HEADER_SIZE + 8 + 16)

uint64_t guest_mcfg_write(struct acpi_writer *w, const struct guest_acpi_pci *pci)
{
    uint64_t gpa;
    uint8_t *t = acpi_writer_alloc(w, MCFG_LENGTH, 16, &gpa);
    if (!t)
        return 0;
    acpi_writer_header(t, "MCFG", MCFG_LENGTH, MCFG_REVISION);
    uint8_t *e = t + ACPI_HEADER_SIZE + 8; /* after 8 reserved bytes */
    acpi_store64(e, pci->ecam_gpa);
    acpi_store16(e + 8, 0); /* segment */
    e[10] = pci->bus_first;
    e[11] = pci->bus_last;
    acpi_writer_finish(t);
    return gpa;
}
