/* SPDX-License-Identifier: MIT */
/* Little-endian reads and writes of unaligned fields, for tests that build
 * or inspect binary images (boot images, ACPI tables) byte by byte. */
#ifndef SIDECORE_TESTS_LE_BYTES_H
#define SIDECORE_TESTS_LE_BYTES_H

#include <stdint.h>
#include <string.h>

static inline void w16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static inline void w32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static inline void w64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static inline uint16_t r16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static inline uint32_t r32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t r64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

#endif
