/* SPDX-License-Identifier: MIT */
/*
 * The ACPI tables a guest is given, built per guest into a buffer that
 * becomes guest memory: RSDP (ACPI 2.0+), XSDT, FADT (revision 6.0) with
 * its FACS and a DSDT in AML, MADT, and, when the guest has a PCI bus, MCFG
 * plus a PCI root bridge and its ECAM reservation in the DSDT. The tables
 * describe Sidecore's virtual platform: one local APIC per vCPU (APIC ID =
 * vCPU index), one IOAPIC, the ACPI PM block at the ports of
 * vmm/io_policy.h, reset through port 0xcf9 and sleep state S5 with
 * SLP_TYP GUEST_ACPI_S5_SLP_TYP. Pure: no hardware, no allocation, built for
 * the host too (the unit tests parse the result back and iasl decodes it).
 */
#ifndef SIDECORE_VMM_ACPI_GUEST_ACPI_H
#define SIDECORE_VMM_ACPI_GUEST_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_ACPI_OEM_ID       "SIDECR"   /* 6 characters */
#define GUEST_ACPI_OEM_TABLE_ID "SIDECORE" /* 8 characters */

#define GUEST_ACPI_LAPIC_GPA  0xfee00000u
#define GUEST_ACPI_IOAPIC_GPA 0xfec00000u
#define GUEST_ACPI_SCI_IRQ    9 /* ISA IRQ 9 = GSI 9, level, active high */

/* PM1a_CNT.SLP_TYP the guest writes (with SLP_EN) to enter S5, soft-off:
 * the DSDT's \_S5 package. Compare io_pm1_sleep_type() with this. */
#define GUEST_ACPI_S5_SLP_TYP 5

/* FADT RESET_REG: writing this byte to this port resets the guest. */
#define GUEST_ACPI_RESET_PORT  0xcf9
#define GUEST_ACPI_RESET_VALUE 0x06

/* APIC IDs are 0..vcpus-1 and the IOAPIC's ID is vcpus, which must stay
 * an 8-bit ID below the 0xff broadcast. */
#define GUEST_ACPI_MAX_VCPUS 254

/* Room guest_acpi_build() needs at most (GUEST_ACPI_MAX_VCPUS, PCI). */
#define GUEST_ACPI_MAX_SIZE 0x1000u

/* A PCI root bridge: segment 0, buses bus_first..bus_last. */
struct guest_acpi_pci {
    uint64_t ecam_gpa; /* MCFG base: where bus 0's config space would be (1 MiB a bus) */
    uint8_t bus_first, bus_last;
    uint32_t mmio_base; /* the bridge's 32-bit memory window for BARs */
    uint32_t mmio_size;
};

struct guest_acpi_config {
    unsigned vcpus; /* 1..GUEST_ACPI_MAX_VCPUS */
    bool has_pci;   /* add MCFG and \_SB.PCI0 */
    struct guest_acpi_pci pci;
};

/* NULL if cfg describes a platform the builder can write, else why not. */
const char *guest_acpi_config_check(const struct guest_acpi_config *cfg);

/*
 * Writes the tables into buf (size bytes), which the guest will see at
 * base_gpa (16-byte aligned, and the tables must end below 4 GiB). The RSDP
 * is always first, at base_gpa itself, so a guest scanning the BIOS area
 * finds it when base_gpa is in 0xe0000-0xfffff; *rsdp_gpa (if not NULL) is
 * set to it. Bytes of buf past the returned length are left untouched.
 * Returns the number of bytes used, or 0 (nothing usable written) if cfg
 * fails guest_acpi_config_check(), base_gpa is unusable or buf is too small.
 */
size_t guest_acpi_build(const struct guest_acpi_config *cfg, uint8_t *buf, size_t size,
                        uint64_t base_gpa, uint64_t *rsdp_gpa);

#endif
