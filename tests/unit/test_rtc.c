/* SPDX-License-Identifier: MIT */
/* Unit tests for the guest's RTC/CMOS model and its calendar arithmetic.
 * The known dates were checked against Python's calendar.timegm.
 * test-sources: vmm/dev/rtc.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/dev/rtc.h"

#define S 1000000000ull /* one second in ns */

struct known {
    int32_t y;
    uint8_t mo, d, h, mi, s, wd;
    int64_t t;
};

static const struct known known_dates[] = {
    {1970, 1, 1, 0, 0, 0, 5, 0},
    {2000, 2, 29, 12, 34, 56, 3, 951827696},
    {2024, 2, 29, 23, 59, 59, 5, 1709251199},
    {2100, 2, 28, 0, 0, 0, 1, 4107456000},
    {2100, 3, 1, 0, 0, 0, 2, 4107542400}, /* 2100 is not a leap year */
    {1969, 12, 31, 23, 59, 59, 4, -1},
    {1600, 2, 29, 0, 0, 0, 3, -11670998400}, /* 1600 is */
    {1900, 3, 1, 0, 0, 0, 5, -2203891200},   /* 1900 is not */
    {2038, 1, 19, 3, 14, 8, 3, 2147483648},
    {2000, 12, 31, 0, 0, 0, 1, 978220800},
    {9999, 12, 31, 23, 59, 59, 6, 253402300799},
    {1, 1, 1, 0, 0, 0, 2, -62135596800},
};

static void test_known_dates(void **state)
{
    for (size_t i = 0; i < sizeof(known_dates) / sizeof(known_dates[0]); i++) {
        const struct known *k = &known_dates[i];
        struct rtc_date d;

        rtc_date_from_seconds(k->t, &d);
        assert_int_equal(d.year, k->y);
        assert_int_equal(d.month, k->mo);
        assert_int_equal(d.day, k->d);
        assert_int_equal(d.hour, k->h);
        assert_int_equal(d.minute, k->mi);
        assert_int_equal(d.second, k->s);
        assert_int_equal(d.weekday, k->wd);
        assert_true(rtc_seconds_from_date(&d) == k->t);
    }
}

/* Every day from 1899 to 2401 follows the one before: the month and year
 * roll over at the right lengths, including the leap-year rules. */
static void test_day_sequence(void **state)
{
    static const uint8_t len[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t first = rtc_days_from_date(1899, 1, 1), last = rtc_days_from_date(2401, 1, 1);
    struct rtc_date prev;

    rtc_date_from_seconds(first * 86400, &prev);
    assert_int_equal(prev.year, 1899);
    for (int64_t day = first + 1; day <= last; day++) {
        struct rtc_date d;
        rtc_date_from_seconds(day * 86400, &d);
        bool leap = (prev.year % 4 == 0 && prev.year % 100 != 0) || prev.year % 400 == 0;
        unsigned mlen = len[prev.month] + (prev.month == 2 && leap);
        if (prev.day < mlen) {
            assert_int_equal(d.day, prev.day + 1);
            assert_int_equal(d.month, prev.month);
            assert_int_equal(d.year, prev.year);
        } else if (prev.month < 12) {
            assert_int_equal(d.day, 1);
            assert_int_equal(d.month, prev.month + 1);
        } else {
            assert_int_equal(d.day, 1);
            assert_int_equal(d.month, 1);
            assert_int_equal(d.year, prev.year + 1);
        }
        assert_int_equal(d.weekday, prev.weekday % 7 + 1);
        assert_true(rtc_days_from_date(d.year, d.month, d.day) == day);
        prev = d;
    }
    assert_int_equal(prev.year, 2401);
}

static uint8_t reg(struct rtc *r, uint8_t index, uint64_t now)
{
    rtc_write(r, RTC_PORT_INDEX, index, now);
    return rtc_read(r, RTC_PORT_DATA, now);
}

static void set_reg(struct rtc *r, uint8_t index, uint8_t value, uint64_t now)
{
    rtc_write(r, RTC_PORT_INDEX, index, now);
    rtc_write(r, RTC_PORT_DATA, value, now);
}

static void test_bcd_24h_reads_and_time_advances(void **state)
{
    struct rtc r;
    uint64_t t0 = 5 * S;

    rtc_init(&r, 951827696, t0); /* 2000-02-29 12:34:56, Tuesday */
    assert_int_equal(reg(&r, RTC_REG_B, t0), 0x02);
    assert_int_equal(reg(&r, RTC_SECONDS, t0), 0x56);
    assert_int_equal(reg(&r, RTC_MINUTES, t0), 0x34);
    assert_int_equal(reg(&r, RTC_HOURS, t0), 0x12);
    assert_int_equal(reg(&r, RTC_WEEKDAY, t0), 0x03);
    assert_int_equal(reg(&r, RTC_DAY, t0), 0x29);
    assert_int_equal(reg(&r, RTC_MONTH, t0), 0x02);
    assert_int_equal(reg(&r, RTC_YEAR, t0), 0x00);
    assert_int_equal(reg(&r, RTC_CENTURY, t0), 0x20);
    assert_int_equal(reg(&r, RTC_REG_D, t0), 0x80);
    /* 11 h 25 min 4.5 s later it is 2000-03-01 00:00:00. */
    uint64_t t1 = t0 + (11 * 3600 + 25 * 60 + 4) * S + S / 2;
    assert_int_equal(reg(&r, RTC_SECONDS, t1), 0x00);
    assert_int_equal(reg(&r, RTC_HOURS, t1), 0x00);
    assert_int_equal(reg(&r, RTC_DAY, t1), 0x01);
    assert_int_equal(reg(&r, RTC_MONTH, t1), 0x03);
    assert_int_equal(reg(&r, RTC_WEEKDAY, t1), 0x04);
}

static void test_binary_and_12h_modes(void **state)
{
    struct rtc r;

    rtc_init(&r, 1709251199, 0);                        /* 2024-02-29 23:59:59 */
    set_reg(&r, RTC_REG_B, RTC_B_BINARY, 0);            /* binary, 12-hour */
    assert_int_equal(reg(&r, RTC_HOURS, 0), 0x80 | 11); /* 11 PM */
    assert_int_equal(reg(&r, RTC_MINUTES, 0), 59);
    assert_int_equal(reg(&r, RTC_YEAR, 0), 24);
    assert_int_equal(reg(&r, RTC_CENTURY, 0), 20);
    assert_int_equal(reg(&r, RTC_HOURS, S), 12); /* midnight is 12 AM */
    assert_int_equal(reg(&r, RTC_MONTH, S), 3);
    assert_int_equal(reg(&r, RTC_HOURS, S + 12 * 3600 * S), 0x80 | 12); /* noon: 12 PM */
    assert_int_equal(reg(&r, RTC_HOURS, S + 13 * 3600 * S), 0x80 | 1);
    set_reg(&r, RTC_REG_B, 0x00, 0); /* BCD, 12-hour */
    assert_int_equal(reg(&r, RTC_HOURS, S + 22 * 3600 * S), 0x80 | 0x10);
    set_reg(&r, RTC_REG_B, RTC_B_BINARY | RTC_B_24H, 0);
    assert_int_equal(reg(&r, RTC_HOURS, S + 22 * 3600 * S), 22);
}

/* Linux's way: SET on, write every field, SET off. */
static void test_guest_sets_time_with_set_bit(void **state)
{
    struct rtc r;

    rtc_init(&r, 0, 100 * S);
    set_reg(&r, RTC_REG_B, RTC_B_SET | RTC_B_24H | RTC_B_UIE, 100 * S);
    assert_int_equal(reg(&r, RTC_REG_B, 100 * S), RTC_B_SET | RTC_B_24H); /* UIE off */
    /* 2038-01-19 03:14:08, fields written in an order that passes through
     * an impossible date (day 19 of the old month is fine, but Jan 31 ->
     * month 2 would not be). */
    set_reg(&r, RTC_DAY, 0x31, 100 * S);
    set_reg(&r, RTC_MONTH, 0x02, 100 * S); /* Feb 31 while staging */
    set_reg(&r, RTC_DAY, 0x19, 100 * S);
    set_reg(&r, RTC_MONTH, 0x01, 100 * S);
    set_reg(&r, RTC_YEAR, 0x38, 100 * S);
    set_reg(&r, RTC_CENTURY, 0x20, 100 * S);
    set_reg(&r, RTC_HOURS, 0x03, 100 * S);
    set_reg(&r, RTC_MINUTES, 0x14, 100 * S);
    set_reg(&r, RTC_SECONDS, 0x08, 100 * S);
    /* Staged fields read back while SET is on, and time does not run. */
    assert_int_equal(reg(&r, RTC_MINUTES, 500 * S), 0x14);
    assert_int_equal(reg(&r, RTC_SECONDS, 500 * S), 0x08);
    set_reg(&r, RTC_REG_B, RTC_B_24H, 500 * S);
    assert_true(rtc_guest_time(&r, 500 * S) == 2147483648);
    assert_true(rtc_guest_time(&r, 503 * S) == 2147483651);
    assert_int_equal(reg(&r, RTC_SECONDS, 503 * S), 0x11);
    assert_int_equal(reg(&r, RTC_WEEKDAY, 503 * S), 0x03);
}

static void test_guest_sets_field_while_running(void **state)
{
    struct rtc r;

    rtc_init(&r, 978220800, 0); /* 2000-12-31 00:00:00 */
    set_reg(&r, RTC_HOURS, 0x23, 0);
    set_reg(&r, RTC_MINUTES, 0x59, 0);
    set_reg(&r, RTC_SECONDS, 0x59, 0);
    assert_int_equal(reg(&r, RTC_YEAR, S), 0x01); /* rolled into 2001 */
    assert_int_equal(reg(&r, RTC_MONTH, S), 0x01);
    assert_int_equal(reg(&r, RTC_DAY, S), 0x01);
    /* A 12-hour write: 7 PM. */
    set_reg(&r, RTC_REG_B, 0x00, S);
    set_reg(&r, RTC_HOURS, 0x80 | 0x07, S);
    set_reg(&r, RTC_REG_B, RTC_B_24H, S);
    assert_int_equal(reg(&r, RTC_HOURS, S), 0x19);
    /* Writes of the weekday are ignored: it follows the date. */
    set_reg(&r, RTC_WEEKDAY, 0x07, S);
    assert_int_equal(reg(&r, RTC_WEEKDAY, S), 0x02); /* 2001-01-01 was a Monday */
}

static void test_status_registers(void **state)
{
    struct rtc r;

    rtc_init(&r, 0, 0);
    assert_int_equal(reg(&r, RTC_REG_A, 0), 0x26);
    assert_int_equal(reg(&r, RTC_REG_A, S - 100000), 0xa6); /* UIP before the update */
    assert_int_equal(reg(&r, RTC_REG_A, S), 0x26);
    set_reg(&r, RTC_REG_A, 0xff, 0);
    assert_int_equal(reg(&r, RTC_REG_A, 0), 0x7f); /* UIP is not writable */
    assert_int_equal(reg(&r, RTC_REG_C, 0), 0x00);
    assert_int_equal(reg(&r, RTC_REG_C, 2 * S), RTC_C_UF);
    assert_int_equal(reg(&r, RTC_REG_C, 2 * S), 0x00); /* read clears */
    set_reg(&r, RTC_REG_C, 0xff, 0);
    set_reg(&r, RTC_REG_D, 0x00, 0);
    assert_int_equal(reg(&r, RTC_REG_D, 0), 0x80);
}

static void test_index_nmi_and_cmos_ram(void **state)
{
    struct rtc r;

    rtc_init(&r, 0, 0);
    rtc_write(&r, RTC_PORT_INDEX, 0x80 | 0x40, 0);
    assert_true(rtc_nmi_masked(&r));
    rtc_write(&r, RTC_PORT_DATA, 0xa5, 0);
    assert_int_equal(rtc_read(&r, RTC_PORT_DATA, 0), 0xa5);
    rtc_write(&r, RTC_PORT_INDEX, 0x40, 0);
    assert_false(rtc_nmi_masked(&r));
    assert_int_equal(rtc_read(&r, RTC_PORT_DATA, 0), 0xa5);
    assert_int_equal(rtc_read(&r, RTC_PORT_INDEX, 0), 0xff);
    assert_true(rtc_cmos_set(&r, 0x34, 0x12));
    assert_int_equal(reg(&r, 0x34, 0), 0x12);
    assert_false(rtc_cmos_set(&r, RTC_CENTURY, 0x19));
    assert_false(rtc_cmos_set(&r, RTC_REG_B, 0));
    assert_false(rtc_cmos_set(&r, 0x80, 0));
    set_reg(&r, 0x01, 0x30, 0); /* alarm seconds: plain storage */
    assert_int_equal(reg(&r, 0x01, 0), 0x30);
    assert_int_equal(reg(&r, RTC_SECONDS, 0), 0x00);
    assert_int_equal(rtc_read(&r, 0x72, 0), 0xff);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_dates),
        cmocka_unit_test(test_day_sequence),
        cmocka_unit_test(test_bcd_24h_reads_and_time_advances),
        cmocka_unit_test(test_binary_and_12h_modes),
        cmocka_unit_test(test_guest_sets_time_with_set_bit),
        cmocka_unit_test(test_guest_sets_field_while_running),
        cmocka_unit_test(test_status_registers),
        cmocka_unit_test(test_index_nmi_and_cmos_ram),
    };
    return cmocka_run_group_tests_name("rtc", tests, NULL, NULL);
}
