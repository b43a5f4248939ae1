/* SPDX-License-Identifier: MIT */
/*
 * Generating and checking the test-disk pattern of disk_pattern.h. Words
 * are assembled byte by byte so the result is little-endian whatever the
 * host, and buffers need no alignment.
 */
#include "disk_pattern.h"

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void disk_pattern_fill(void *buf, uint8_t tag, uint32_t sector, uint32_t count)
{
    uint8_t *p = buf;
    uint32_t first = sector * DISK_SECTOR_WORDS;

    for (uint32_t i = 0; i < count * DISK_SECTOR_WORDS; i++)
        put_le32(p + 4 * i, disk_pattern_word(tag, first + i));
}

bool disk_pattern_check(const void *buf, uint8_t tag, uint32_t sector, uint32_t count,
                        struct disk_mismatch *m)
{
    const uint8_t *p = buf;
    uint32_t first = sector * DISK_SECTOR_WORDS;

    for (uint32_t i = 0; i < count * DISK_SECTOR_WORDS; i++) {
        uint32_t got = get_le32(p + 4 * i), want = disk_pattern_word(tag, first + i);
        if (got != want) {
            if (m)
                *m = (struct disk_mismatch){.word = first + i, .got = got, .want = want};
            return false;
        }
    }
    return true;
}
