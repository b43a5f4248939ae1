/* SPDX-License-Identifier: MIT */
/*
 * The guest's FADT (revision 6.0, 276 bytes) and FACS. The FADT describes a
 * full (not hardware-reduced) ACPI platform with only what Sidecore
 * emulates: the PM1a event and control blocks and the 32-bit PM timer at
 * the io_policy.h ports, SCI on IRQ 9, no SMI command port (the guest is in
 * ACPI mode from the start), no GPE block, no fixed-feature buttons, reset
 * through port 0xcf9. As on a PC chipset, the PM1 block has the global lock
 * and RTC fixed events (GBL_EN and RTC_EN stick, vmm/dev/acpi_pm.h), so the
 * flags leave FIX_RTC clear and the FACS carries the global lock: an OSPM
 * that finds an enable bit missing logs an error at every boot. Legacy and
 * X_ (GAS) fields carry the same addresses, as OSPMs compare them.
 */
#include "kernel/lib/string.h"
#include "vmm/acpi/acpi_writer.h"
#include "vmm/io_policy.h"

#define FADT_LENGTH   276
#define FADT_REVISION 6
#define FADT_MINOR    0

/* Flags (offset 112). */
#define FADT_WBINVD        (1u << 0)
#define FADT_PROC_C1       (1u << 2)
#define FADT_PWR_BUTTON    (1u << 4) /* set: no fixed-feature power button */
#define FADT_SLP_BUTTON    (1u << 5) /* set: no fixed-feature sleep button */
#define FADT_TMR_VAL_EXT   (1u << 8) /* the PM timer is 32 bits wide */
#define FADT_RESET_REG_SUP (1u << 10)

/* IAPC_BOOT_ARCH (offset 109). */
#define BOOT_ARCH_LEGACY_DEVICES (1u << 0)
#define BOOT_ARCH_8042           (1u << 1)
#define BOOT_ARCH_NO_VGA         (1u << 2)

#define PM1_EVT_LEN 4
#define PM1_CNT_LEN 2
#define PM_TMR_LEN  4

#define FACS_LENGTH  64
#define FACS_VERSION 2

uint64_t guest_facs_write(struct acpi_writer *w)
{
    uint64_t gpa;
    uint8_t *t = acpi_writer_alloc(w, FACS_LENGTH, 64, &gpa);
    if (!t)
        return 0;
    memcpy(t, "FACS", 4);
    acpi_store32(t + 4, FACS_LENGTH);
    t[32] = FACS_VERSION; /* waking vectors, global lock and flags stay 0 */
    return gpa;
}

uint64_t guest_fadt_write(struct acpi_writer *w, uint64_t facs_gpa, uint64_t dsdt_gpa)
{
    uint64_t gpa;
    uint8_t *t = acpi_writer_alloc(w, FADT_LENGTH, 16, &gpa);
    if (!t)
        return 0;
    acpi_writer_header(t, "FACP", FADT_LENGTH, FADT_REVISION);
    acpi_store32(t + 36, (uint32_t)facs_gpa); /* FIRMWARE_CTRL */
    acpi_store32(t + 40, (uint32_t)dsdt_gpa); /* DSDT */
    acpi_store16(t + 46, GUEST_ACPI_SCI_IRQ); /* SCI_INT */
    /* SMI_CMD (48), ACPI_ENABLE, ACPI_DISABLE stay 0: always in ACPI mode. */
    acpi_store32(t + 56, IO_PM1A_EVT);
    acpi_store32(t + 64, IO_PM1A_CNT);
    acpi_store32(t + 76, IO_PM_TMR);
    t[88] = PM1_EVT_LEN;
    t[89] = PM1_CNT_LEN;
    t[91] = PM_TMR_LEN;
    acpi_store16(t + 96, 101);  /* P_LVL2_LAT > 100: C2 not supported */
    acpi_store16(t + 98, 1001); /* P_LVL3_LAT > 1000: C3 not supported */
    acpi_store16(t + 109, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042 | BOOT_ARCH_NO_VGA);
    acpi_store32(t + 112, FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON |
                              FADT_TMR_VAL_EXT | FADT_RESET_REG_SUP);
    acpi_store_gas(t + 116, ACPI_GAS_IO, 8, ACPI_ACCESS_BYTE, GUEST_ACPI_RESET_PORT);
    t[128] = GUEST_ACPI_RESET_VALUE;
    t[131] = FADT_MINOR;
    /* X_FIRMWARE_CTRL (132) stays 0: the FACS is below 4 GiB, and ACPICA
     * installs (and Linux lists) the FACS once per non-zero pointer. */
    acpi_store64(t + 140, dsdt_gpa); /* X_DSDT */
    acpi_store_gas(t + 148, ACPI_GAS_IO, PM1_EVT_LEN * 8, ACPI_ACCESS_WORD, IO_PM1A_EVT);
    acpi_store_gas(t + 172, ACPI_GAS_IO, PM1_CNT_LEN * 8, ACPI_ACCESS_WORD, IO_PM1A_CNT);
    acpi_store_gas(t + 208, ACPI_GAS_IO, PM_TMR_LEN * 8, ACPI_ACCESS_DWORD, IO_PM_TMR);
    memcpy(t + 268, "Sidecore", 8); /* hypervisor vendor identity */
    acpi_writer_finish(t);
    return gpa;
}
