/* SPDX-License-Identifier: MIT */
/*
 * The guest's ACPI PM register block (the FADT's PM1a_EVT_BLK, PM1a_CNT_BLK
 * and PM_TMR_BLK, 12 ports from IO_PM_BASE), as the fixed hardware of a PC
 * chipset behaves: PM1 status bits are write-1-to-clear, the PM1 enable
 * register keeps the fixed events the platform has (GBL_EN: the global lock
 * in the FACS; RTC_EN: RTC wake), PM1 control reads SCI_EN set (no SMI port:
 * ACPI mode from reset) and keeps SLP_TYP, and the PM timer is the 32-bit
 * counter the FADT's TMR_VAL_EXT promises. ACPICA enables an event by
 * setting its enable bit and reading it back: a bit that does not stick is
 * reported as missing hardware (Linux's "Could not enable GlobalLock event"
 * and "No response from Global Lock hardware" at boot). No event ever sets a
 * status bit here (no buttons, no firmware to hand back the global lock, RTC
 * wake and timer carry not modelled), so the SCI never fires from this block.
 * Pure code: any access size at any offset works byte by byte; host-tested.
 */
#ifndef SIDECORE_VMM_DEV_ACPI_PM_H
#define SIDECORE_VMM_DEV_ACPI_PM_H

#include <stdint.h>

/* Offsets in the block (the FADT points at base + these). */
#define ACPI_PM_STS   0 /* PM1a status, 16 bits */
#define ACPI_PM_EN    2 /* PM1a enable, 16 bits */
#define ACPI_PM_CNT   4 /* PM1a control, 16 bits */
#define ACPI_PM_TMR   8 /* PM timer, 32 bits, read-only */
#define ACPI_PM_BYTES 12

/* PM1 status / enable bits (ACPI 6.x, 4.8.3.1). */
#define ACPI_PM1_TMR     (1u << 0)
#define ACPI_PM1_GBL     (1u << 5)
#define ACPI_PM1_PWRBTN  (1u << 8)
#define ACPI_PM1_SLPBTN  (1u << 9)
#define ACPI_PM1_RTC     (1u << 10)
#define ACPI_PM1_WAK_STS (1u << 15)
/* Enable bits that stick: the fixed events this platform has. */
#define ACPI_PM1_EN_IMPLEMENTED (ACPI_PM1_GBL | ACPI_PM1_RTC)

/* PM1 control bits (4.8.3.2). */
#define ACPI_PM1_SCI_EN      (1u << 0)
#define ACPI_PM1_BM_RLS      (1u << 1)
#define ACPI_PM1_GBL_RLS     (1u << 2) /* write-only */
#define ACPI_PM1_SLP_TYP_SH  10
#define ACPI_PM1_SLP_TYP_MSK (7u << ACPI_PM1_SLP_TYP_SH)
#define ACPI_PM1_SLP_EN      (1u << 13) /* write-only */

#define ACPI_PM_TIMER_HZ 3579545u

struct acpi_pm {
    uint16_t sts;
    uint16_t en;
    uint16_t cnt; /* SCI_EN, BM_RLS and SLP_TYP as last written */
};

/* Power-on state: nothing pending, every event disabled, SCI_EN set. */
void acpi_pm_reset(struct acpi_pm *pm);

/* A read of size bytes (1, 2 or 4) at offset in the block, little-endian;
 * bytes past the block read as 0xff. timer is the PM timer's value now
 * (acpi_pm_timer()). */
uint32_t acpi_pm_read(const struct acpi_pm *pm, unsigned offset, unsigned size, uint32_t timer);

/* A write of size bytes at offset. Returns the SLP_TYP the guest asked to
 * enter when the write set SLP_EN, otherwise -1. */
int acpi_pm_write(struct acpi_pm *pm, unsigned offset, unsigned size, uint32_t value);

/* The PM timer at TSC count tsc with the TSC at hz (> 0): 3.579545 MHz,
 * 32 bits, wrapping. Exact for any tsc (no overflow of the product). */
uint32_t acpi_pm_timer(uint64_t tsc, uint64_t hz);

#endif
