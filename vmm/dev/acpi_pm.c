/* SPDX-License-Identifier: MIT */
/*
 * The ACPI PM register block, byte by byte: every access is split into its
 * bytes so that word, dword and unaligned accesses (ACPICA reads PM1 status
 * and enable as words, some OSes read the event block as one dword) follow
 * the same rules as byte accesses.
 */
#include "vmm/dev/acpi_pm.h"

#include <stdbool.h>

void acpi_pm_reset(struct acpi_pm *pm)
{
    pm->sts = 0;
    pm->en = 0;
    pm->cnt = ACPI_PM1_SCI_EN;
}

static uint8_t byte_of(uint32_t v, unsigned i)
{
    return (uint8_t)(v >> (8 * i));
}

static uint8_t read_byte(const struct acpi_pm *pm, unsigned off, uint32_t timer)
{
    switch (off) {
    case ACPI_PM_STS:
    case ACPI_PM_STS + 1: return byte_of(pm->sts, off - ACPI_PM_STS);
    case ACPI_PM_EN:
    case ACPI_PM_EN + 1: return byte_of(pm->en, off - ACPI_PM_EN);
    case ACPI_PM_CNT:
    case ACPI_PM_CNT + 1: return byte_of(pm->cnt, off - ACPI_PM_CNT);
    case ACPI_PM_TMR:
    case ACPI_PM_TMR + 1:
    case ACPI_PM_TMR + 2:
    case ACPI_PM_TMR + 3: return byte_of(timer, off - ACPI_PM_TMR);
    case 6:
    case 7: return 0; /* between the control block and the timer: reserved */
    default: return 0xff;
    }
}

/* Replaces byte i of a 16-bit register. */
static uint16_t with_byte(uint16_t reg, unsigned i, uint8_t b)
{
    return (uint16_t)((reg & ~(0xffu << (8 * i))) | ((unsigned)b << (8 * i)));
}

/* Returns true when this byte set SLP_EN. */
static bool write_byte(struct acpi_pm *pm, unsigned off, uint8_t b)
{
    switch (off) {
    case ACPI_PM_STS:
    case ACPI_PM_STS + 1:
        /* Write 1 to clear; 0 leaves the bit alone. */
        pm->sts &= (uint16_t) ~((unsigned)b << (8 * (off - ACPI_PM_STS)));
        return false;
    case ACPI_PM_EN:
    case ACPI_PM_EN + 1:
        pm->en = with_byte(pm->en, off - ACPI_PM_EN, b) & ACPI_PM1_EN_IMPLEMENTED;
        return false;
    case ACPI_PM_CNT:
    case ACPI_PM_CNT + 1: {
        uint16_t v = with_byte(pm->cnt, off - ACPI_PM_CNT, b);
        /* SCI_EN stays set (no SMI handler to give ACPI mode back to);
         * GBL_RLS (no firmware waits for the lock) and SLP_EN are
         * write-only and read as 0. */
        pm->cnt = (uint16_t)((v & (ACPI_PM1_BM_RLS | ACPI_PM1_SLP_TYP_MSK)) | ACPI_PM1_SCI_EN);
        return off == ACPI_PM_CNT + 1 && (v & ACPI_PM1_SLP_EN);
    }
    default: return false; /* reserved bytes and the read-only timer */
    }
}

uint32_t acpi_pm_read(const struct acpi_pm *pm, unsigned offset, unsigned size, uint32_t timer)
{
    uint32_t v = 0;

    for (unsigned i = 0; i < size && i < 4; i++) {
        unsigned off = offset + i;
        v |= (uint32_t)read_byte(pm, off < ACPI_PM_BYTES ? off : ACPI_PM_BYTES, timer) << (8 * i);
    }
    return v;
}

int acpi_pm_write(struct acpi_pm *pm, unsigned offset, unsigned size, uint32_t value)
{
    bool sleep = false;

    for (unsigned i = 0; i < size && i < 4; i++) {
        unsigned off = offset + i;
        if (off < ACPI_PM_BYTES && write_byte(pm, off, byte_of(value, i)))
            sleep = true;
    }
    return sleep ? (int)((pm->cnt & ACPI_PM1_SLP_TYP_MSK) >> ACPI_PM1_SLP_TYP_SH) : -1;
}

uint32_t acpi_pm_timer(uint64_t tsc, uint64_t hz)
{
    /* tsc % hz * 3579545 < hz * 2^22: no overflow below a 4 THz TSC. */
    return (uint32_t)(tsc / hz * ACPI_PM_TIMER_HZ + tsc % hz * ACPI_PM_TIMER_HZ / hz);
}
