/* SPDX-License-Identifier: MIT */
/*
 * 64-bit division that 32-bit guests can use without libgcc's __udivdi3.
 */
#ifndef GUEST_TESTS_DIV64_H
#define GUEST_TESTS_DIV64_H

#include <stdint.h>

/* n / d, with the remainder in *rem if rem is not NULL; d must not be 0. */
uint64_t u64_divmod(uint64_t n, uint64_t d, uint64_t *rem);

#endif
