/* SPDX-License-Identifier: MIT */
/* Unit tests for the port I/O policy table, its bitmaps and helpers.
 * test-sources: vmm/io_policy.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/io_policy.h"

static uint8_t a[4096], b[4096];

static void test_every_port_exits_by_default(void **state)
{
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    io_bitmaps_build(a, b);
    for (unsigned i = 0; i < 4096; i++) {
        assert_int_equal(a[i], 0xff);
        assert_int_equal(b[i], 0xff);
    }
    for (uint32_t p = 0; p <= 0xffff; p++)
        assert_true(io_bitmaps_exit(a, b, (uint16_t)p, 1));
    /* a guest owns no port: the table has no PASS entry */
    unsigned n;
    const struct io_policy_entry *t = io_policy_table(&n);
    for (unsigned i = 0; i < n; i++) {
        assert_int_not_equal(t[i].action, IO_PASS);
        assert_true(t[i].first <= t[i].last);
        if (i)
            assert_true(t[i - 1].last < t[i].first); /* sorted, no overlap */
        assert_true(strlen(t[i].why) > 10);
    }
}

static void test_pass_entries_clear_bits(void **state)
{
    static const struct io_policy_entry t[] = {
        {0x7ffe, 0x8001, "edge", IO_PASS, false, "crosses from bitmap A to B"},
        {0x0, 0x0, "first", IO_PASS, false, "the first port"},
        {0xfffe, 0xffff, "last", IO_PASS, false, "the last ports"},
        {0x3f8, 0x3ff, "com1", IO_SERIAL, false, "not passed"},
    };
    io_bitmaps_build_from(t, 4, a, b);
    assert_int_equal(a[0], 0xfe);
    assert_int_equal(a[4095], 0x3f);
    assert_int_equal(b[0], 0xfc);
    assert_int_equal(b[4095], 0x3f);
    assert_int_equal(a[0x3f8 / 8], 0xff);
    assert_false(io_bitmaps_exit(a, b, 0x7ffe, 4)); /* spans A and B, all passed */
    assert_true(io_bitmaps_exit(a, b, 0x7ffd, 2));  /* 0x7ffd exits */
    assert_true(io_bitmaps_exit(a, b, 0x8001, 2));  /* 0x8002 exits */
    assert_false(io_bitmaps_exit(a, b, 0xfffe, 2));
    assert_true(io_bitmaps_exit(a, b, 0xffff, 2)); /* wraps past 0xffff: always exits */
    assert_false(io_bitmaps_exit(a, b, 0, 1));
    assert_true(io_bitmaps_exit(a, b, 0, 2));
}

static void test_lookup(void **state)
{
    for (uint16_t p = 0x3f8; p <= 0x3ff; p++)
        assert_int_equal(io_policy_lookup(p)->action, IO_SERIAL);
    assert_int_equal(io_policy_lookup(0x3f7)->action, IO_IGNORE);
    assert_string_equal(io_policy_lookup(0x3f7)->name, "unknown");
    assert_true(io_policy_lookup(0x3f7)->log_first);
    assert_int_equal(io_policy_lookup(0x400)->action, IO_IGNORE);
    assert_int_equal(io_policy_lookup(0x80)->action, IO_IGNORE);
    assert_false(io_policy_lookup(0x80)->log_first);
    assert_string_equal(io_policy_lookup(0x80)->name, "POST");
    assert_int_equal(io_policy_lookup(0xcf9)->action, IO_RESET);
    assert_int_equal(io_policy_lookup(0x64)->action, IO_I8042);
    assert_int_equal(io_policy_lookup(0x60)->action, IO_I8042);
    assert_int_equal(io_policy_lookup(0x70)->action, IO_RTC);
    assert_int_equal(io_policy_lookup(0x71)->action, IO_RTC);
    assert_int_equal(io_policy_lookup(0xcf8)->action, IO_PCI);
    assert_int_equal(io_policy_lookup(0xcfc)->action, IO_PCI);
    assert_int_equal(io_policy_lookup(0xcff)->action, IO_PCI);
    assert_int_equal(io_policy_lookup(0x21)->action, IO_IGNORE);
    assert_false(io_policy_lookup(0x21)->log_first);
    assert_int_equal(io_policy_lookup(IO_PM1A_CNT)->action, IO_PM);
    assert_int_equal(io_policy_lookup(IO_PM_TMR + 3)->action, IO_PM);
    assert_int_equal(io_policy_lookup(IO_PM_LAST + 1)->action, IO_IGNORE);
    assert_int_equal(io_policy_lookup(0xffff)->action, IO_IGNORE);
}

/* Ports a PC guest (firmware, a boot loader, Linux) touches at start are
 * absorbed without a log line: each is named, not "unknown", and is either
 * absent (all ones) or, for the ELCR, reads 0. */
static void test_pc_start_ports_are_quiet(void **state)
{
    static const uint16_t quiet[] = {
        0x00,  0x0f,  0x1f,                /* DMA1 */
        0x20,  0x21,  0xa0,  0xa1,         /* 8259s */
        0x40,  0x43,  0x61,                /* PIT, speaker / NMI status */
        0x80,  0x81,  0x87,  0x8f,         /* POST, DMA page registers */
        0x92,                              /* system control port A */
        0xc0,  0xdf,  0xed,                /* DMA2, the delay port */
        0x2e8, 0x2f8, 0x2ff, 0x3e8, 0x3ef, /* COM2-4 */
        0x4d0, 0x4d1,                      /* ELCR */
    };
    for (unsigned i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
        const struct io_policy_entry *e = io_policy_lookup(quiet[i]);
        assert_false(e->log_first);
        assert_string_not_equal(e->name, "unknown");
        assert_true(e->action == IO_IGNORE || e->action == IO_ZERO);
    }
    assert_string_equal(io_policy_lookup(0x80)->name, "POST");
    assert_string_equal(io_policy_lookup(0xed)->name, "delay");
    assert_int_equal(io_policy_lookup(0x4d0)->action, IO_ZERO);
    assert_int_equal(io_policy_lookup(0x4d1)->action, IO_ZERO);
    assert_int_equal(io_policy_lookup(0x61)->action, IO_IGNORE);
    /* Neighbours stay unknown and logged. */
    static const uint16_t unknown[] = {0x4cf, 0x4d2, 0xee,  0x91, 0x93,
                                       0x2f7, 0x3f7, 0x510, 0x2d, 0x50};
    for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        assert_string_equal(io_policy_lookup(unknown[i])->name, "unknown");
        assert_true(io_policy_lookup(unknown[i])->log_first);
    }
}

static void test_reset_and_sleep_requests(void **state)
{
    assert_true(io_reset_requested(0xcf9, 1, 0x06));
    assert_true(io_reset_requested(0xcf9, 1, 0x04));
    assert_false(io_reset_requested(0xcf9, 1, 0x02)); /* select hard reset only */
    assert_true(io_reset_requested(0x64, 1, 0xfe));
    assert_false(io_reset_requested(0x64, 1, 0xff));
    assert_false(io_reset_requested(0x64, 1, 0xd1));
    assert_false(io_reset_requested(0x60, 1, 0xfe));
    assert_false(io_reset_requested(0xcf8, 4, 0x80000000));
    assert_int_equal(io_pm1_sleep_type(0x1c00), -1);               /* SLP_TYP 7 without SLP_EN */
    assert_int_equal(io_pm1_sleep_type((1 << 13) | (5 << 10)), 5); /* S5 as 5 */
    assert_int_equal(io_pm1_sleep_type((1 << 13) | 1), 0);
}

static void test_absent_values_and_seen(void **state)
{
    assert_int_equal(io_absent_value(1), 0xff);
    assert_int_equal(io_absent_value(2), 0xffff);
    assert_int_equal(io_absent_value(4), 0xffffffffu);
    static struct io_seen seen;
    io_seen_reset(&seen);
    assert_true(io_seen_first(&seen, 0x1234));
    assert_false(io_seen_first(&seen, 0x1234));
    assert_true(io_seen_first(&seen, 0x1235));
    assert_true(io_seen_first(&seen, 0));
    assert_true(io_seen_first(&seen, 0xffff));
    assert_false(io_seen_first(&seen, 0xffff));
    unsigned set = 0;
    for (unsigned i = 0; i < sizeof(seen.bits); i++)
        set += __builtin_popcount(seen.bits[i]);
    assert_int_equal(set, 4);
    io_seen_reset(&seen);
    assert_true(io_seen_first(&seen, 0x1234));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_port_exits_by_default),
        cmocka_unit_test(test_pass_entries_clear_bits),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_pc_start_ports_are_quiet),
        cmocka_unit_test(test_reset_and_sleep_requests),
        cmocka_unit_test(test_absent_values_and_seen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
