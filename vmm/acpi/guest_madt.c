/* SPDX-License-Identifier: MIT */
/*
 * The guest's MADT: the local APIC address, no dual 8259s (flags 0), one
 * enabled Processor Local APIC entry per vCPU with APIC ID and ACPI
 * processor UID equal to the vCPU index, one IOAPIC with ID = vCPU count
 * and GSI base 0, the SCI's interrupt source override (ISA IRQ 9 -> GSI 9,
 * level, active high; every other ISA IRQ keeps the identity default) and
 * LINT1 as NMI on every processor. APIC IDs stay below 255, where the
 * specification asks for type 0 (local APIC) entries rather than type 9
 * (local x2APIC); a guest that switches to x2APIC mode reads the same IDs.
 */
#include "vmm/acpi/acpi_writer.h"

#define MADT_REVISION 5

#define MADT_LAPIC      0
#define MADT_IOAPIC     1
#define MADT_OVERRIDE   2
#define MADT_LAPIC_NMI  4
#define LAPIC_LEN       8
#define IOAPIC_LEN      12
#define OVERRIDE_LEN    10
#define LAPIC_NMI_LEN   6
#define LAPIC_ENABLED   1u
#define ALL_PROCESSORS  0xff
#define INTI_HIGH_LEVEL 0x000d /* polarity 01 active high, trigger 11 level */
#define INTI_DEFAULT    0x0000 /* conforms to the bus (ISA: edge, active high) */

uint64_t guest_madt_write(struct acpi_writer *w, const struct guest_acpi_config *cfg)
{
    uint32_t len =
        ACPI_HEADER_SIZE + 8 + cfg->vcpus * LAPIC_LEN + IOAPIC_LEN + OVERRIDE_LEN + LAPIC_NMI_LEN;
    uint64_t gpa;
    uint8_t *t = acpi_writer_alloc(w, len, 16, &gpa);
    if (!t)
        return 0;
    acpi_writer_header(t, "APIC", len, MADT_REVISION);
    acpi_store32(t + 36, GUEST_ACPI_LAPIC_GPA);
    acpi_store32(t + 40, 0); /* no PCAT_COMPAT: there are no 8259s */
    uint8_t *e = t + 44;
    for (unsigned i = 0; i < cfg->vcpus; i++, e += LAPIC_LEN) {
        e[0] = MADT_LAPIC;
        e[1] = LAPIC_LEN;
        e[2] = (uint8_t)i; /* ACPI processor UID */
        e[3] = (uint8_t)i; /* APIC ID */
        acpi_store32(e + 4, LAPIC_ENABLED);
    }
    e[0] = MADT_IOAPIC;
    e[1] = IOAPIC_LEN;
    e[2] = (uint8_t)cfg->vcpus;
    acpi_store32(e + 4, GUEST_ACPI_IOAPIC_GPA);
    acpi_store32(e + 8, 0); /* GSI base */
    e += IOAPIC_LEN;
    e[0] = MADT_OVERRIDE;
    e[1] = OVERRIDE_LEN;
    e[2] = 0; /* ISA */
    e[3] = GUEST_ACPI_SCI_IRQ;
    acpi_store32(e + 4, GUEST_ACPI_SCI_IRQ);
    acpi_store16(e + 8, INTI_HIGH_LEVEL);
    e += OVERRIDE_LEN;
    e[0] = MADT_LAPIC_NMI;
    e[1] = LAPIC_NMI_LEN;
    e[2] = ALL_PROCESSORS;
    acpi_store16(e + 3, INTI_DEFAULT);
    e[5] = 1; /* LINT1 */
    acpi_writer_finish(t);
    return gpa;
}
