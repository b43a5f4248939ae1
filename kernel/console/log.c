/* SPDX-License-Identifier: MIT */
#include "kernel/console/log.h"

#include <stdarg.h>

#include "kernel/console/console.h"
#include "kernel/console/console_async.h"
#include "kernel/lib/fmt.h"
#include "kernel/time/clock.h"
#include "kernel/x86/cpu.h"

/* Longer lines are cut. */
#define LOG_LINE_MAX 512

static enum log_level log_threshold = LOG_INFO;

static const char *const level_names[] = {
    [LOG_ERROR] = "ERROR: ",
    [LOG_WARN] = "WARN: ",
    [LOG_INFO] = "",
    [LOG_DEBUG] = "debug: ",
};

void log_set_level(enum log_level level)
{
    log_threshold = level;
}

/* One log line: uptime, level, message, newline; its length. */
static size_t log_format(char *line, size_t cap, enum log_level level, const char *fmt, va_list ap)
{
    uint64_t us = clock_uptime_ns() / 1000;
    int n = fmt_snprintf(line, cap, "[%5lu.%06lu] %s", (unsigned long)(us / 1000000),
                         (unsigned long)(us % 1000000), level_names[level]);

    if (n < (int)cap - 1)
        n += fmt_vsnprintf(line + n, cap - (size_t)n, fmt, ap);
    if (n > (int)cap - 2)
        n = (int)cap - 2;
    line[n++] = '\n';
    return (size_t)n;
}

static void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];

    console_write(line, log_format(line, sizeof(line), level, fmt, ap));
}

static void log_vasync(enum log_level level, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];

    console_async_put(line, log_format(line, sizeof(line), level, fmt, ap));
}

void log_async(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    if (level > log_threshold)
        return;
    va_start(ap, fmt);
    log_vasync(level, fmt, ap);
    va_end(ap);
}

void log_async_limited(struct ratelimit *rl, enum log_level level, const char *fmt, ...)
{
    va_list ap;
    uint64_t suppressed;

    if (level > log_threshold)
        return;
    /* +1: the limiter reads a start time of 0 as "no window yet". */
    if (!ratelimit_allow(rl, clock_uptime_ns() + 1, &suppressed))
        return;
    if (suppressed)
        log_async(level, "(suppressed %lu similar messages)", (unsigned long)suppressed);
    va_start(ap, fmt);
    log_vasync(level, fmt, ap);
    va_end(ap);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    if (level > log_threshold)
        return;
    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}

void panic(const char *fmt, ...)
{
    va_list ap;

    irq_disable();
    console_sync_this_cpu();
    console_flush();
    va_start(ap, fmt);
    console_printf("\nPANIC: ");
    console_vprintf(fmt, ap);
    console_printf("\n");
    va_end(ap);
    cpu_halt_forever();
}
