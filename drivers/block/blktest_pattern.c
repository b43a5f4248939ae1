/* SPDX-License-Identifier: MIT */
/* The blktest data pattern (blktest_pattern.h). Words are built and
 * compared as 64-bit little-endian values through memcpy, so buffers need
 * no alignment. */
#include "drivers/block/blktest_pattern.h"

#include "drivers/block/blk.h"
#include "kernel/lib/string.h"

#define WORDS_PER_SECTOR (BLK_SECTOR_SIZE / 8)

uint64_t blktest_pattern_word(uint64_t seed, uint64_t sector_offset, unsigned word)
{
    if (word == 0)
        return sector_offset;
    if (word == 1)
        return seed;
    return (seed ^ (sector_offset + 8ull * word)) * BLKTEST_PATTERN_MULT;
}

void blktest_pattern_fill(void *buf, uint32_t len, uint64_t offset, uint64_t seed)
{
    uint8_t *p = buf;

    for (uint32_t s = 0; s + BLK_SECTOR_SIZE <= len; s += BLK_SECTOR_SIZE)
        for (unsigned w = 0; w < WORDS_PER_SECTOR; w++) {
            uint64_t v = blktest_pattern_word(seed, offset + s, w);

            memcpy(p + s + 8 * w, &v, 8);
        }
}

bool blktest_pattern_check(const void *buf, uint32_t len, uint64_t offset, uint64_t seed,
                           struct blktest_mismatch *m)
{
    const uint8_t *p = buf;

    for (uint32_t s = 0; s + BLK_SECTOR_SIZE <= len; s += BLK_SECTOR_SIZE)
        for (unsigned w = 0; w < WORDS_PER_SECTOR; w++) {
            uint64_t got, want = blktest_pattern_word(seed, offset + s, w);

            memcpy(&got, p + s + 8 * w, 8);
            if (got == want)
                continue;
            m->offset = offset + s + 8 * w;
            m->got = got;
            m->want = want;
            memcpy(&m->tag_offset, p + s, 8);
            memcpy(&m->tag_seed, p + s + 8, 8);
            return false;
        }
    return true;
}
