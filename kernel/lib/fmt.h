/* SPDX-License-Identifier: MIT */
/*
 * printf-style formatting for a freestanding hypervisor. Supports %d %i %u %x
 * %X %o %p %s %c %%, the flags '-', '0', '+', ' ', '#', field width and precision
 * (both may be '*'), and the length modifiers hh h l ll z. Pure code, also
 * built for the host unit tests.
 */
#ifndef SIDECORE_LIB_FMT_H
#define SIDECORE_LIB_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Receives formatted output a piece at a time. */
typedef void (*fmt_sink_fn)(void *ctx, const char *s, size_t n);

/* Formats into a sink; returns the number of characters produced. */
int fmt_format(fmt_sink_fn sink, void *ctx, const char *fmt, va_list ap);

/* Like vsnprintf/snprintf: always terminates when size > 0, returns the length
 * the full output would have. */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
