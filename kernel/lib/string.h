/* SPDX-License-Identifier: MIT */
/* The few C library string and memory functions the hypervisor uses. On the
 * host (unit tests) the C library provides them with the same prototypes. */
#ifndef SIDECORE_LIB_STRING_H
#define SIDECORE_LIB_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
void *memchr(const void *s, int c, size_t n);
char *strstr(const char *haystack, const char *needle);

#endif
