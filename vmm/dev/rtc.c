/* SPDX-License-Identifier: MIT */
/*
 * The RTC/CMOS model behind vmm/dev/rtc.h and the Gregorian calendar
 * arithmetic it needs. Dates are computed from day counts through the
 * 400-year cycle (146097 days) so any year works without loops, and with
 * floor division so dates before 1970 come out right too.
 */
#include "vmm/dev/rtc.h"

#define NS_PER_S       1000000000ull
#define UIP_WINDOW_NS  244000ull /* UIP rises this long before each update */
#define DAYS_PER_ERA   146097    /* 400 Gregorian years */
#define DAYS_0000_0301 719468    /* from 0000-03-01 to 1970-01-01 */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b) != 0 && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

/* Years are counted from March so the leap day is the last day of a year;
 * the month lengths from March on then follow (153 * m + 2) / 5. */
int64_t rtc_days_from_date(int32_t year, unsigned month, unsigned day)
{
    int64_t y = year;
    int64_t m = month;

    if (m <= 2) {
        y -= 1;
        m += 9;
    } else {
        m -= 3;
    }
    int64_t day_of_year = (153 * m + 2) / 5 + (int64_t)day - 1;
    int64_t days = 365 * y + floor_div(y, 4) - floor_div(y, 100) + floor_div(y, 400) + day_of_year;
    return days - DAYS_0000_0301;
}

static void date_from_days(int64_t days, struct rtc_date *out)
{
    int64_t z = days + DAYS_0000_0301;
    int64_t era = floor_div(z, DAYS_PER_ERA);
    int64_t rem = z - era * DAYS_PER_ERA; /* 0 .. 146096 */

    /* Centuries of 36524 days; the fourth is one longer (year 400k is leap). */
    int64_t century = rem / 36524;
    if (century > 3)
        century = 3;
    rem -= century * 36524;
    /* Four-year blocks of 1461 days, leap day last. */
    int64_t block = rem / 1461;
    rem -= block * 1461;
    int64_t year_in_block = rem / 365;
    if (year_in_block > 3)
        year_in_block = 3;
    rem -= year_in_block * 365;

    int64_t year = era * 400 + century * 100 + block * 4 + year_in_block;
    int64_t m = (5 * rem + 2) / 153; /* 0 = March */
    out->day = (uint8_t)(rem - (153 * m + 2) / 5 + 1);
    out->month = (uint8_t)(m < 10 ? m + 3 : m - 9);
    if (out->month <= 2)
        year++;
    out->year = (int32_t)year;
    /* 1970-01-01 was a Thursday (5 with Sunday = 1). */
    out->weekday = (uint8_t)(floor_mod(days + 4, 7) + 1);
}

void rtc_date_from_seconds(int64_t seconds, struct rtc_date *out)
{
    int64_t days = floor_div(seconds, 86400);
    int64_t s = seconds - days * 86400;

    date_from_days(days, out);
    out->hour = (uint8_t)(s / 3600);
    out->minute = (uint8_t)(s / 60 % 60);
    out->second = (uint8_t)(s % 60);
}

int64_t rtc_seconds_from_date(const struct rtc_date *d)
{
    return rtc_days_from_date(d->year, d->month, d->day) * 86400 + (int64_t)d->hour * 3600 +
           (int64_t)d->minute * 60 + d->second;
}

static uint64_t elapsed_ns(const struct rtc *r, uint64_t now_ns)
{
    return now_ns > r->init_ns ? now_ns - r->init_ns : 0;
}

int64_t rtc_guest_time(const struct rtc *r, uint64_t now_ns)
{
    return r->base_s + (int64_t)(elapsed_ns(r, now_ns) / NS_PER_S) + r->offset_s;
}

void rtc_init(struct rtc *r, int64_t epoch_s, uint64_t now_ns)
{
    *r = (struct rtc){
        .index = RTC_REG_D,
        .reg_a = 0x26, /* 32.768 kHz time base, 1024 Hz rate */
        .reg_b = RTC_B_24H,
        .base_s = epoch_s,
        .init_ns = now_ns,
    };
    r->last_c_second = rtc_guest_time(r, now_ns);
}

bool rtc_nmi_masked(const struct rtc *r)
{
    return r->nmi_masked;
}

static bool is_clock_or_status(uint8_t index)
{
    return index <= RTC_REG_D || index == RTC_CENTURY;
}

bool rtc_cmos_set(struct rtc *r, uint8_t index, uint8_t value)
{
    if (index >= RTC_CMOS_SIZE || is_clock_or_status(index))
        return false;
    r->cmos[index] = value;
    return true;
}

static uint8_t to_bcd(unsigned v)
{
    return (uint8_t)(((v / 10 % 10) << 4) | (v % 10));
}

static unsigned from_bcd(uint8_t v)
{
    return (v >> 4) * 10u + (v & 0x0f);
}

static uint8_t encode(const struct rtc *r, unsigned v)
{
    return (r->reg_b & RTC_B_BINARY) ? (uint8_t)v : to_bcd(v);
}

static unsigned decode(const struct rtc *r, uint8_t v)
{
    return (r->reg_b & RTC_B_BINARY) ? v : from_bcd(v);
}

static uint8_t encode_hour(const struct rtc *r, unsigned hour)
{
    if (r->reg_b & RTC_B_24H)
        return encode(r, hour);
    unsigned h12 = hour % 12 ? hour % 12 : 12;
    return (uint8_t)(encode(r, h12) | (hour >= 12 ? 0x80 : 0));
}

static unsigned decode_hour(const struct rtc *r, uint8_t v)
{
    if (r->reg_b & RTC_B_24H)
        return decode(r, v);
    unsigned h12 = decode(r, v & 0x7f);
    return h12 % 12 + ((v & 0x80) ? 12 : 0);
}

/* The clock as the guest sees it now: the fields it is writing while SET
 * is on, the running time otherwise. */
static void current_date(const struct rtc *r, uint64_t now_ns, struct rtc_date *d)
{
    if (r->reg_b & RTC_B_SET)
        *d = r->staged;
    else
        rtc_date_from_seconds(rtc_guest_time(r, now_ns), d);
}

static uint8_t read_clock(const struct rtc *r, uint8_t index, uint64_t now_ns)
{
    struct rtc_date d;
    int32_t year;

    current_date(r, now_ns, &d);
    year = d.year < 0 ? 0 : d.year;
    switch (index) {
    case RTC_SECONDS: return encode(r, d.second);
    case RTC_MINUTES: return encode(r, d.minute);
    case RTC_HOURS: return encode_hour(r, d.hour);
    case RTC_WEEKDAY: return encode(r, d.weekday);
    case RTC_DAY: return encode(r, d.day);
    case RTC_MONTH: return encode(r, d.month);
    case RTC_YEAR: return encode(r, (unsigned)year % 100);
    case RTC_CENTURY: return encode(r, (unsigned)year / 100 % 100);
    default: return 0xff;
    }
}

/* Moves the clock so it reads d now. */
static void set_clock(struct rtc *r, const struct rtc_date *d, uint64_t now_ns)
{
    int64_t running = r->base_s + (int64_t)(elapsed_ns(r, now_ns) / NS_PER_S);
    r->offset_s = rtc_seconds_from_date(d) - running;
}

/* A write of one clock field. Out-of-range values are not refused: the date
 * is normalized as mktime() would (day 31 of a 30-day month is the 1st of the
 * next), so the clock always holds a real time. */
static void write_clock(struct rtc *r, uint8_t index, uint8_t value, uint64_t now_ns)
{
    struct rtc_date d;

    current_date(r, now_ns, &d);
    switch (index) {
    case RTC_SECONDS: d.second = (uint8_t)decode(r, value); break;
    case RTC_MINUTES: d.minute = (uint8_t)decode(r, value); break;
    case RTC_HOURS: d.hour = (uint8_t)decode_hour(r, value); break;
    case RTC_DAY: d.day = (uint8_t)decode(r, value); break;
    case RTC_MONTH: d.month = (uint8_t)decode(r, value); break;
    case RTC_YEAR:
        d.year = (d.year < 0 ? 0 : d.year) / 100 * 100 + (int32_t)(decode(r, value) % 100);
        break;
    case RTC_CENTURY:
        d.year = (int32_t)decode(r, value) * 100 + (d.year < 0 ? 0 : d.year) % 100;
        break;
    default: return; /* the weekday follows from the date */
    }
    if (r->reg_b & RTC_B_SET)
        r->staged = d;
    else
        set_clock(r, &d, now_ns);
}

static void write_reg_b(struct rtc *r, uint8_t value, uint64_t now_ns)
{
    bool was_set = r->reg_b & RTC_B_SET;

    if ((value & RTC_B_SET) && !was_set)
        current_date(r, now_ns, &r->staged); /* freeze what the guest will edit */
    if (value & RTC_B_SET)
        value &= (uint8_t)~RTC_B_UIE; /* SET clears UIE (the update cycle is off) */
    if (!(value & RTC_B_SET) && was_set) {
        r->reg_b = value;
        set_clock(r, &r->staged, now_ns);
        return;
    }
    r->reg_b = value;
}

static uint8_t read_reg_c(struct rtc *r, uint64_t now_ns)
{
    int64_t now = rtc_guest_time(r, now_ns);
    uint8_t c = 0;

    if (now != r->last_c_second && !(r->reg_b & RTC_B_SET))
        c |= RTC_C_UF;
    r->last_c_second = now;
    return c;
}

static uint8_t read_data(struct rtc *r, uint64_t now_ns)
{
    uint8_t index = r->index;

    switch (index) {
    case RTC_REG_A: {
        uint8_t a = r->reg_a;
        bool updating = elapsed_ns(r, now_ns) % NS_PER_S >= NS_PER_S - UIP_WINDOW_NS;
        if (updating && !(r->reg_b & RTC_B_SET))
            a |= RTC_A_UIP;
        return a;
    }
    case RTC_REG_B: return r->reg_b;
    case RTC_REG_C: return read_reg_c(r, now_ns);
    case RTC_REG_D: return RTC_D_VRT;
    case 0x01:
    case 0x03:
    case 0x05: return r->cmos[index]; /* alarm fields */
    default:
        if (is_clock_or_status(index))
            return read_clock(r, index, now_ns);
        return r->cmos[index];
    }
}

static void write_data(struct rtc *r, uint8_t value, uint64_t now_ns)
{
    uint8_t index = r->index;

    switch (index) {
    case RTC_REG_A: r->reg_a = value & 0x7f; break; /* UIP is read-only */
    case RTC_REG_B: write_reg_b(r, value, now_ns); break;
    case RTC_REG_C:
    case RTC_REG_D: break; /* read-only */
    case 0x01:
    case 0x03:
    case 0x05: r->cmos[index] = value; break; /* alarm fields: stored, never fire */
    default:
        if (is_clock_or_status(index))
            write_clock(r, index, value, now_ns);
        else
            r->cmos[index] = value;
        break;
    }
}

uint8_t rtc_read(struct rtc *r, uint16_t port, uint64_t now_ns)
{
    if (port == RTC_PORT_DATA)
        return read_data(r, now_ns);
    return 0xff;
}

void rtc_write(struct rtc *r, uint16_t port, uint8_t value, uint64_t now_ns)
{
    if (port == RTC_PORT_INDEX) {
        r->index = value & 0x7f;
        r->nmi_masked = value & 0x80;
    } else if (port == RTC_PORT_DATA) {
        write_data(r, value, now_ns);
    }
}
