/* SPDX-License-Identifier: MIT */
/*
 * The data `blktest verify` writes: every 512-byte sector carries its own
 * absolute byte offset on the disk (word 0), the run's seed (word 1), and
 * 62 words derived from both, so a read that returns another sector's
 * data, a write that landed in the wrong place, or data left over from an
 * earlier run is told apart from the right data. The tests on the host
 * recompute it from the image files:
 *   word 0 = offset, word 1 = seed,
 *   word i = (seed ^ (offset + 8 * i)) * 0x9E3779B97F4A7C15 mod 2^64 (i >= 2),
 * each stored little-endian at offset + 8 * i. Pure code, host-tested.
 */
#ifndef SIDECORE_BLOCK_BLKTEST_PATTERN_H
#define SIDECORE_BLOCK_BLKTEST_PATTERN_H

#include <stdbool.h>
#include <stdint.h>

#define BLKTEST_PATTERN_MULT 0x9E3779B97F4A7C15ull

/* The first difference check() found. */
struct blktest_mismatch {
    uint64_t offset;     /* absolute byte offset of the differing word */
    uint64_t got, want;  /* the word read and the word expected */
    uint64_t tag_offset; /* word 0 and 1 of the sector that was read: whose */
    uint64_t tag_seed;   /* data it holds, if it holds pattern data at all */
};

uint64_t blktest_pattern_word(uint64_t seed, uint64_t sector_offset, unsigned word);

/* Fills len bytes (a multiple of 512) that belong at absolute byte offset
 * offset (a multiple of 512). */
void blktest_pattern_fill(void *buf, uint32_t len, uint64_t offset, uint64_t seed);

/* Checks len bytes read from offset; false with *m describing the first
 * wrong word. */
bool blktest_pattern_check(const void *buf, uint32_t len, uint64_t offset, uint64_t seed,
                           struct blktest_mismatch *m);

#endif
