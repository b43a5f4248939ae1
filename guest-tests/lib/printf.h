/* SPDX-License-Identifier: MIT */
/*
 * A printf subset for the test guests, printing on COM1: %c %s %d %i %u %x
 * %X %p %%, the flags '0' '-' '#', a field width, and the length modifiers
 * l, ll and z. 64-bit values work in 32-bit guests without libgcc.
 */
#ifndef GUEST_TESTS_PRINTF_H
#define GUEST_TESTS_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
/* Formats into buf (always terminated when size > 0); returns the length the
 * whole output would have. */
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
