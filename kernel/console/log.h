/* SPDX-License-Identifier: MIT */
/* The boot and event log: one line per message, with an uptime timestamp and
 * a level, written to the console.
 *
 * log_msg() and its log_error()/... shorthands print synchronously on the
 * console CPU and during the boot log, and are queued from other CPUs once
 * the shell runs (console_async.h). Code on the I/O path (an I/O sidecore's
 * poll loop, a vCPU handling a guest's request, a driver's completion
 * handling) uses log_async(), which only ever queues, and for anything a
 * guest or a failing device can make happen over and over, the rate-limited
 * log_*_ratelimited(): at most LOG_RATELIMIT_BURST messages per call site a
 * second, then one "(suppressed M similar messages)" line before the next
 * one that gets through. */
#ifndef SIDECORE_CONSOLE_LOG_H
#define SIDECORE_CONSOLE_LOG_H

#include "kernel/console/ratelimit.h"

enum log_level {
    LOG_ERROR = 0,
    LOG_WARN = 1,
    LOG_INFO = 2,
    LOG_DEBUG = 3,
};

/* Messages above this level are dropped; set from the command line
 * (loglevel=N). */
void log_set_level(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Queues the line for the console CPU; never waits for the UART. */
void log_async(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* log_async() through the call site's limiter rl. */
void log_async_limited(struct ratelimit *rl, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_RATELIMIT_BURST     5
#define LOG_RATELIMIT_WINDOW_NS 1000000000ull /* 1 s */

/* One limiter per call site. */
#define log_ratelimited(level, ...)                                                                \
    do {                                                                                           \
        static struct ratelimit log_rl_ =                                                          \
            RATELIMIT_INIT(LOG_RATELIMIT_BURST, LOG_RATELIMIT_WINDOW_NS);                          \
        log_async_limited(&log_rl_, (level), __VA_ARGS__);                                         \
    } while (0)
#define log_error_ratelimited(...) log_ratelimited(LOG_ERROR, __VA_ARGS__)
#define log_warn_ratelimited(...)  log_ratelimited(LOG_WARN, __VA_ARGS__)

/* Prints the message and stops this CPU. */
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

#endif
