/* SPDX-License-Identifier: MIT */
/* The hypervisor's console: the serial line an operator reads and types on.
 * Output from all CPUs is serialized line by line. Once the shell runs, only
 * the console CPU writes to the UART; the other CPUs' output is queued and
 * printed by it (console_async.h), so no CPU waits for the serial line. */
#ifndef SIDECORE_CONSOLE_CONSOLE_H
#define SIDECORE_CONSOLE_CONSOLE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/console/ratelimit.h"

/* Selects the UART (I/O port) and speed; may be called again to move it. */
void console_init(uint16_t port, uint32_t baud);
uint16_t console_port(void);
uint32_t console_baud(void);

void console_write(const char *s, size_t n);
int console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int console_vprintf(const char *fmt, va_list ap);

/* For the I/O path (a sidecore, a vCPU handling a request, a driver's
 * completion handling): queues the text for the console CPU on every CPU and
 * at every time, never touching the UART; cut at 511 characters. */
int console_async_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* console_async_printf() through the call site's limiter rl: at most
 * CONSOLE_RATELIMIT_BURST lines a second per call site, then one
 * "sidecore: (suppressed M similar messages)" line before the next one that
 * gets through. Use console_printf_ratelimited(). */
void console_async_printf_limited(struct ratelimit *rl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define CONSOLE_RATELIMIT_BURST     5
#define CONSOLE_RATELIMIT_WINDOW_NS 1000000000ull

#define console_printf_ratelimited(...)                                                            \
    do {                                                                                           \
        static struct ratelimit console_rl_ =                                                      \
            RATELIMIT_INIT(CONSOLE_RATELIMIT_BURST, CONSOLE_RATELIMIT_WINDOW_NS);                  \
        console_async_printf_limited(&console_rl_, __VA_ARGS__);                                   \
    } while (0)

/* Where the console finds lines that must not be lost (latched_report.h: a
 * device's "broken" line): next(line, cap) writes one line (with its newline)
 * and returns its length, or 0 when none is due. The console calls it under
 * its lock each time it takes a queued message, after taking it, and prints
 * the report first: a report posted before the event it describes became
 * visible (a device's NEEDS_RESET) comes out before any line a guest wrote
 * in reaction. Whoever posts calls console_async_kick(). */
void console_set_report_source(size_t (*next)(char *line, size_t cap));

/* The console CPU's idle loop: prints up to budget queued messages. True
 * when more are waiting (do not halt). */
bool console_drain(unsigned budget);

/* Prints everything queued now (a panic or exception report, on the CPU
 * that has it, after console_sync_this_cpu()). */
void console_flush(void);

/* Next input byte, or -1 when none is waiting. */
int console_getc(void);

/* For the receive interrupt (console_irq.c): moves every byte the UART holds
 * into the input ring; and switches console_getc() to that ring. */
void console_rx_drain(void);
void console_rx_by_interrupt(bool on);

#endif
