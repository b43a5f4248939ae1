/* SPDX-License-Identifier: MIT */
/* String helpers beyond the C library's: bounded copy and number parsing.
 * Pure code, also built for the host unit tests. */
#ifndef SIDECORE_LIB_STR_H
#define SIDECORE_LIB_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copies at most size-1 bytes and always terminates (if size > 0). Returns
 * strlen(src), so truncation shows as a result >= size. */
size_t str_copy(char *dst, const char *src, size_t size);

/* Parses a whole unsigned number: decimal, or hex with a 0x prefix. False on
 * empty input, trailing characters or overflow. */
bool str_to_u64(const char *s, uint64_t *out);

/* Parses a size such as "4096", "256M", "2G", "64K" (binary units, case
 * insensitive, optional trailing B as in "256MB"). False on bad input or
 * overflow. */
bool str_to_size(const char *s, uint64_t *out);

/* Formats a byte count for people: "512M", "3.5G", "640K", "17B". */
void str_format_size(char *buf, size_t size, uint64_t bytes);

#endif
