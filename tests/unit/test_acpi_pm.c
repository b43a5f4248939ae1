/* SPDX-License-Identifier: MIT */
/* Unit tests for the guest's ACPI PM register block: the fixed-event enable
 * bits ACPICA sets and reads back at every Linux boot (GBL_EN, RTC_EN), the
 * write-1-to-clear status register, PM1 control (SCI_EN, SLP_TYP, SLP_EN's
 * sleep request) and the 32-bit PM timer, at every access size and offset.
 * test-sources: vmm/dev/acpi_pm.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/dev/acpi_pm.h"

static struct acpi_pm fresh(void)
{
    struct acpi_pm pm;

    acpi_pm_reset(&pm);
    return pm;
}

static void test_reset_state(void **state)
{
    struct acpi_pm pm = fresh();

    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_STS, 2, 0), 0);
    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_EN, 2, 0), 0);
    /* SCI_EN: in ACPI mode from reset (no SMI command port). */
    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_CNT, 2, 0), ACPI_PM1_SCI_EN);
    assert_int_equal(acpi_pm_read(&pm, 6, 2, 0), 0); /* reserved gap */
}

/* ACPICA's acpi_enable_event(): read-modify-write the enable bit, read it
 * back, and call the hardware missing when it did not stick. */
static int enable_sticks(struct acpi_pm *pm, uint16_t bit)
{
    uint16_t en = (uint16_t)acpi_pm_read(pm, ACPI_PM_EN, 2, 0);
    assert_int_equal(acpi_pm_write(pm, ACPI_PM_EN, 2, en | bit), -1);
    return (acpi_pm_read(pm, ACPI_PM_EN, 2, 0) & bit) != 0;
}

static void test_global_lock_and_rtc_enables_stick(void **state)
{
    struct acpi_pm pm = fresh();

    assert_true(enable_sticks(&pm, ACPI_PM1_GBL));
    assert_true(enable_sticks(&pm, ACPI_PM1_RTC));
    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_EN, 2, 0), ACPI_PM1_GBL | ACPI_PM1_RTC);
    /* Disabling clears only that bit. */
    assert_int_equal(acpi_pm_write(&pm, ACPI_PM_EN, 2, ACPI_PM1_GBL), -1);
    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_EN, 2, 0), ACPI_PM1_GBL);
    /* Byte access to the high byte (RTC_EN is bit 10 = bit 2 of byte 1). */
    assert_int_equal(acpi_pm_write(&pm, ACPI_PM_EN + 1, 1, 0x04), -1);
    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_EN + 1, 1, 0), 0x04);
    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_EN, 1, 0), ACPI_PM1_GBL);
}

static void test_absent_events_do_not_stick(void **state)
{
    struct acpi_pm pm = fresh();

    /* The FADT says there are no fixed buttons; the timer carry event is
     * not modelled. An OS must see that, not a bit that never fires. */
    assert_false(enable_sticks(&pm, ACPI_PM1_TMR));
    assert_false(enable_sticks(&pm, ACPI_PM1_PWRBTN));
    assert_false(enable_sticks(&pm, ACPI_PM1_SLPBTN));
    assert_int_equal(acpi_pm_write(&pm, ACPI_PM_EN, 2, 0xffff), -1);
    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_EN, 2, 0), ACPI_PM1_EN_IMPLEMENTED);
}

static void test_status_is_write_one_to_clear(void **state)
{
    struct acpi_pm pm = fresh();

    pm.sts = ACPI_PM1_GBL | ACPI_PM1_RTC | ACPI_PM1_WAK_STS;     /* as hardware would set */
    assert_int_equal(acpi_pm_write(&pm, ACPI_PM_STS, 2, 0), -1); /* zeros: no effect */
    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_STS, 2, 0),
                     ACPI_PM1_GBL | ACPI_PM1_RTC | ACPI_PM1_WAK_STS);
    assert_int_equal(acpi_pm_write(&pm, ACPI_PM_STS, 2, ACPI_PM1_RTC), -1);
    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_STS, 2, 0), ACPI_PM1_GBL | ACPI_PM1_WAK_STS);
    assert_int_equal(acpi_pm_write(&pm, ACPI_PM_STS + 1, 1, 0x80), -1); /* WAK_STS by byte */
    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_STS, 2, 0), ACPI_PM1_GBL);
    /* A dword write to the event block clears status and sets enables at
     * once; the enable half is not write-1-to-clear. */
    assert_int_equal(acpi_pm_write(&pm, ACPI_PM_STS, 4, (uint32_t)ACPI_PM1_RTC << 16 | 0xffff), -1);
    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_STS, 4, 0), (uint32_t)ACPI_PM1_RTC << 16);
}

static void test_control_and_sleep(void **state)
{
    struct acpi_pm pm = fresh();

    /* SCI_EN cannot be cleared; GBL_RLS reads 0; BM_RLS and SLP_TYP stick. */
    uint16_t v = ACPI_PM1_GBL_RLS | ACPI_PM1_BM_RLS | 3u << ACPI_PM1_SLP_TYP_SH;
    assert_int_equal(acpi_pm_write(&pm, ACPI_PM_CNT, 2, v), -1);
    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_CNT, 2, 0),
                     ACPI_PM1_SCI_EN | ACPI_PM1_BM_RLS | 3u << ACPI_PM1_SLP_TYP_SH);
    /* ACPICA's sleep: SLP_TYP written first, then SLP_EN with it. */
    assert_int_equal(acpi_pm_write(&pm, ACPI_PM_CNT, 2,
                                   ACPI_PM1_SCI_EN | 5u << ACPI_PM1_SLP_TYP_SH | ACPI_PM1_SLP_EN),
                     5);
    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_CNT, 2, 0) & ACPI_PM1_SLP_EN, 0); /* write-only */
    /* A byte write of the high byte alone: SLP_TYP 5 (bits 12:10) | SLP_EN. */
    pm = fresh();
    assert_int_equal(acpi_pm_write(&pm, ACPI_PM_CNT + 1, 1, 5u << 2 | 0x20), 5);
    /* Writing the low byte never requests sleep. */
    assert_int_equal(acpi_pm_write(&pm, ACPI_PM_CNT, 1, 0xff), -1);
    /* SLP_EN with SLP_TYP 0 is a request too: the caller decides what each
     * type means. */
    pm = fresh();
    assert_int_equal(acpi_pm_write(&pm, ACPI_PM_CNT, 2, ACPI_PM1_SLP_EN), 0);
}

static void test_timer_and_out_of_block(void **state)
{
    struct acpi_pm pm = fresh();

    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_TMR, 4, 0xdeadbeef), 0xdeadbeef);
    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_TMR + 1, 2, 0xdeadbeef), 0xadbe);
    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_TMR + 3, 1, 0xdeadbeef), 0xde);
    /* Past the block: ones; writes there and to the timer change nothing. */
    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_TMR + 2, 4, 0x12345678), 0xffff1234);
    assert_int_equal(acpi_pm_write(&pm, ACPI_PM_TMR, 4, 0xffffffff), -1);
    assert_int_equal(acpi_pm_write(&pm, ACPI_PM_BYTES, 4, 0xffffffff), -1);
    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_STS, 4, 0), 0);
    assert_int_equal(acpi_pm_read(&pm, ACPI_PM_CNT, 4, 0), ACPI_PM1_SCI_EN);

    /* The timer: 3579545 ticks a second, 32 bits wide (FADT TMR_VAL_EXT). */
    uint64_t hz = 2000000000ull;
    assert_int_equal(acpi_pm_timer(0, hz), 0);
    assert_int_equal(acpi_pm_timer(hz, hz), ACPI_PM_TIMER_HZ);
    assert_int_equal(acpi_pm_timer(hz / 2, hz), ACPI_PM_TIMER_HZ / 2);
    /* 10 s: past 2^24 ticks, so the value must not be cut to 24 bits. */
    assert_int_equal(acpi_pm_timer(10 * hz, hz), 10u * ACPI_PM_TIMER_HZ);
    /* Wraps at 2^32 and stays exact for a TSC near its end. */
    uint64_t t = 1200 * hz; /* 1200 s = 4295454000 ticks */
    assert_int_equal(acpi_pm_timer(t, hz), (uint32_t)(1200ull * ACPI_PM_TIMER_HZ));
    assert_int_equal(
        acpi_pm_timer(UINT64_MAX, hz),
        (uint32_t)(UINT64_MAX / hz * ACPI_PM_TIMER_HZ + UINT64_MAX % hz * ACPI_PM_TIMER_HZ / hz));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_state),
        cmocka_unit_test(test_global_lock_and_rtc_enables_stick),
        cmocka_unit_test(test_absent_events_do_not_stick),
        cmocka_unit_test(test_status_is_write_one_to_clear),
        cmocka_unit_test(test_control_and_sleep),
        cmocka_unit_test(test_timer_and_out_of_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
