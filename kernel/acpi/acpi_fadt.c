/* SPDX-License-Identifier: MIT */
/*
 * The FADT ("FACP"): only what the hypervisor uses now, the reset register
 * (to reboot the machine) and the IA-PC boot architecture flags (is there an
 * 8042, a VGA, a CMOS RTC). The FADT grew over ACPI versions, so each field
 * is read only when the table is long enough to hold it; an ACPI 1.0 FADT
 * simply has no reset register.
 */
#include "kernel/acpi/acpi_internal.h"

#define FADT_CENTURY     108
#define FADT_BOOT_ARCH   109
#define FADT_FLAGS       112
#define FADT_RESET_REG   116
#define FADT_RESET_VALUE 128

#define FADT_FLAG_RESET_REG_SUP (1u << 10)

void acpi_parse_fadt(const uint8_t *t, uint32_t len, struct acpi_info *info)
{
    struct acpi_fadt_info *f = &info->fadt;

    f->present = true;
    if (len > FADT_CENTURY)
        f->century = acpi_rd8(t, FADT_CENTURY);
    /* Revision 1 FADTs have a reserved byte here; the flags only mean
     * something from revision 2 (ACPI 2.0) on. */
    if (len >= FADT_BOOT_ARCH + 2 && acpi_rd8(t, ACPI_HDR_REVISION) >= 2)
        f->boot_arch = acpi_rd16(t, FADT_BOOT_ARCH);
    if (len >= FADT_FLAGS + 4)
        f->reset_supported = acpi_rd32(t, FADT_FLAGS) & FADT_FLAG_RESET_REG_SUP;
    if (len >= FADT_RESET_VALUE + 1) {
        f->has_reset_reg = true;
        f->reset_reg.space_id = acpi_rd8(t, FADT_RESET_REG);
        f->reset_reg.bit_width = acpi_rd8(t, FADT_RESET_REG + 1);
        f->reset_reg.bit_offset = acpi_rd8(t, FADT_RESET_REG + 2);
        f->reset_reg.access_size = acpi_rd8(t, FADT_RESET_REG + 3);
        f->reset_reg.address = acpi_rd64(t, FADT_RESET_REG + 4);
        f->reset_value = acpi_rd8(t, FADT_RESET_VALUE);
    } else {
        f->reset_supported = false;
    }
}
