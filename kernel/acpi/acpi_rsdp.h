/* SPDX-License-Identifier: MIT */
/*
 * The Root System Description Pointer: reading and checking one, and finding
 * one in the legacy BIOS areas when the boot path did not pass its address.
 * Internal to the ACPI parser.
 */
#ifndef SIDECORE_ACPI_ACPI_RSDP_H
#define SIDECORE_ACPI_ACPI_RSDP_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/acpi/acpi.h"

#define ACPI_RSDP_V1_SIZE 20
#define ACPI_RSDP_V2_SIZE 36

struct acpi_rsdp {
    char oem_id[7];
    uint8_t revision;
    uint32_t rsdt_phys;
    uint64_t xsdt_phys; /* 0 unless revision >= 2 and the extended part is valid */
};

/*
 * Reads and checks the RSDP at phys. Returns false with *why set when it is
 * unusable. On success *why is NULL, or a warning when the ACPI 2.0 part was
 * bad and only the RSDT can be used.
 */
bool acpi_rsdp_read(uint64_t phys, acpi_map_fn map, void *ctx, struct acpi_rsdp *out,
                    const char **why);

#endif
