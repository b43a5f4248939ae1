/* SPDX-License-Identifier: MIT */
#include "kernel/console/log.h"

#include <stdarg.h>

#include "kernel/console/console.h"
#include "kernel/lib/fmt.h"
#include "kernel/time/clock.h"
#include "kernel/x86/cpu.h"

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

static void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
    char line[512];
    uint64_t us = clock_uptime_ns() / 1000;
    int n = fmt_snprintf(line, sizeof(line), "[%5lu.%06lu] %s", (unsigned long)(us / 1000000),
                         (unsigned long)(us % 1000000), level_names[level]);

    if (n < (int)sizeof(line) - 1)
        n += fmt_vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    console_write(line, (size_t)n);
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
    va_start(ap, fmt);
    console_printf("\nPANIC: ");
    console_vprintf(fmt, ap);
    console_printf("\n");
    va_end(ap);
    cpu_halt_forever();
}
