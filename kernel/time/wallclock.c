/* SPDX-License-Identifier: MIT */
#include "kernel/time/wallclock.h"

#include <stdbool.h>

#include "kernel/console/log.h"
#include "kernel/time/clock.h"
#include "kernel/x86/cpu.h"
#include "vmm/dev/rtc.h"

static int64_t boot_epoch;
static uint64_t boot_ns;

static uint8_t cmos_read(uint8_t index)
{
    outb(0x70, index);
    return inb(0x71);
}

static unsigned from_bcd(uint8_t v, bool bcd)
{
    return bcd ? (unsigned)((v >> 4) * 10 + (v & 0xf)) : v;
}

void wallclock_init(void)
{
    /* Wait out an update in progress (bounded: there may be no RTC). */
    for (int i = 0; i < 100000 && (cmos_read(0x0a) & 0x80); i++)
        cpu_relax();
    uint8_t b = cmos_read(0x0b);
    bool bcd = !(b & 0x04), h12 = !(b & 0x02);
    uint8_t hour = cmos_read(0x04);
    struct rtc_date d = {
        .second = from_bcd(cmos_read(0x00), bcd),
        .minute = from_bcd(cmos_read(0x02), bcd),
        .hour = from_bcd(hour & 0x7f, bcd),
        .day = from_bcd(cmos_read(0x07), bcd),
        .month = from_bcd(cmos_read(0x08), bcd),
        .year = (int32_t)(from_bcd(cmos_read(0x32), bcd) * 100 + from_bcd(cmos_read(0x09), bcd)),
    };
    if (h12 && (hour & 0x80))
        d.hour = (d.hour % 12) + 12;
    else if (h12 && d.hour == 12)
        d.hour = 0;
    if (d.year < 2000 || d.year > 2200 || d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31 ||
        d.hour > 23 || d.minute > 59 || d.second > 59) {
        log_warn("RTC: no valid time of day (%d-%02u-%02u %02u:%02u:%02u); guests start at 1970",
                 d.year, d.month, d.day, d.hour, d.minute, d.second);
        return;
    }
    boot_epoch = rtc_seconds_from_date(&d);
    boot_ns = clock_uptime_ns();
    log_info("RTC: %d-%02u-%02u %02u:%02u:%02u UTC", d.year, d.month, d.day, d.hour, d.minute,
             d.second);
}

int64_t wallclock_now(void)
{
    if (!boot_epoch)
        return 0;
    return boot_epoch + (int64_t)((clock_uptime_ns() - boot_ns) / 1000000000ull);
}
