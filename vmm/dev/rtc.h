/* SPDX-License-Identifier: MIT */
/*
 * The guest's MC146818-style RTC and CMOS RAM at ports 0x70 (index, bit 7
 * masks NMI) and 0x71 (data). The clock is not a register image ticking on
 * its own: the guest's time is computed on each read as a wall-clock base
 * (seconds since the epoch, given at init) plus the time elapsed since init
 * (from the caller's now_ns) plus an offset the guest sets by writing the
 * clock. Reads present it in the mode register B selects (BCD or binary,
 * 24- or 12-hour); while register B's SET bit is on, the clock fields hold
 * what the guest writes and the new time takes effect when SET is cleared.
 * Registers: A (UIP during the last 244 us of each second, rate/divider bits
 * stored), B, C (UF when a second passed since the last read of C; read
 * clears), D (VRT). Not modelled: alarm and periodic interrupts, the IRQ 8
 * line and the AF/PF flags (Linux then runs without RTC alarms), stopping
 * the clock through the divider bits, and the day-of-week register as an
 * independent value (it is derived from the date; writes are ignored).
 * Pure code, host-tested.
 */
#ifndef SIDECORE_VMM_DEV_RTC_H
#define SIDECORE_VMM_DEV_RTC_H

#include <stdbool.h>
#include <stdint.h>

#define RTC_PORT_INDEX 0x70
#define RTC_PORT_DATA  0x71

/* Register indexes. */
#define RTC_SECONDS   0x00
#define RTC_MINUTES   0x02
#define RTC_HOURS     0x04
#define RTC_WEEKDAY   0x06 /* 1 = Sunday */
#define RTC_DAY       0x07
#define RTC_MONTH     0x08
#define RTC_YEAR      0x09
#define RTC_REG_A     0x0a
#define RTC_REG_B     0x0b
#define RTC_REG_C     0x0c
#define RTC_REG_D     0x0d
#define RTC_CENTURY   0x32
#define RTC_CMOS_SIZE 128

#define RTC_A_UIP    0x80
#define RTC_B_SET    0x80
#define RTC_B_UIE    0x10
#define RTC_B_BINARY 0x04
#define RTC_B_24H    0x02
#define RTC_C_UF     0x10
#define RTC_D_VRT    0x80

/* A calendar time (Gregorian, UTC as the guest sees it). */
struct rtc_date {
    int32_t year; /* full year, e.g. 2024 */
    uint8_t month, day, hour, minute, second;
    uint8_t weekday; /* 1 = Sunday .. 7 = Saturday */
};

struct rtc {
    uint8_t index;
    bool nmi_masked;
    uint8_t reg_a, reg_b;
    uint8_t cmos[RTC_CMOS_SIZE]; /* RAM bytes (0x0e-0x7f except the century) */
    int64_t base_s;              /* wall-clock seconds at init_ns */
    uint64_t init_ns;
    int64_t offset_s;       /* what the guest's writes moved the clock by */
    int64_t last_c_second;  /* guest time at the last read of register C */
    struct rtc_date staged; /* the clock fields while SET is on */
};

/* epoch_s: wall-clock time at now_ns (any monotonic nanosecond count). */
void rtc_init(struct rtc *r, int64_t epoch_s, uint64_t now_ns);

/* Port access (RTC_PORT_INDEX or RTC_PORT_DATA; others read 0xff and are
 * ignored). Reading the index port gives 0xff, as on most chipsets. */
uint8_t rtc_read(struct rtc *r, uint16_t port, uint64_t now_ns);
void rtc_write(struct rtc *r, uint16_t port, uint8_t value, uint64_t now_ns);

/* Whether the guest masked NMI through bit 7 of port 0x70. */
bool rtc_nmi_masked(const struct rtc *r);
/* Stores a CMOS RAM byte for firmware-style data (memory size and so on);
 * false for the clock and status registers (0x00-0x0d, 0x32). */
bool rtc_cmos_set(struct rtc *r, uint8_t index, uint8_t value);

/* The guest's current time in seconds since the epoch. */
int64_t rtc_guest_time(const struct rtc *r, uint64_t now_ns);

/* Calendar arithmetic (proleptic Gregorian; exposed for tests and for
 * whoever else needs dates). Days are counted from 1970-01-01. */
int64_t rtc_days_from_date(int32_t year, unsigned month, unsigned day);
void rtc_date_from_seconds(int64_t seconds, struct rtc_date *out);
int64_t rtc_seconds_from_date(const struct rtc_date *d);

#endif
