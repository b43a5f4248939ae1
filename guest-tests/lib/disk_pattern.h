/* SPDX-License-Identifier: MIT */
/*
 * The contents of the test disks the virtio-blk guests read (written by
 * guest-tests/tools/mkdisk.py, which must agree with this file): the disk is
 * an array of little-endian 32-bit words, and word n of a disk with tag T
 * holds T << 24 | (n & 0xffffff). The tag (one ASCII letter per disk) tells
 * one guest's disk from another's, and the running index catches a sector
 * or a word in the wrong place. Pure logic, built for the host test too.
 */
#ifndef GUEST_TESTS_DISK_PATTERN_H
#define GUEST_TESTS_DISK_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISK_SECTOR_BYTES 512u
#define DISK_SECTOR_WORDS (DISK_SECTOR_BYTES / 4)

static inline uint32_t disk_pattern_word(uint8_t tag, uint32_t n)
{
    return (uint32_t)tag << 24 | (n & 0xffffffu);
}

/* Fills buf with the pattern of sectors [sector, sector + count). */
void disk_pattern_fill(void *buf, uint8_t tag, uint32_t sector, uint32_t count);

struct disk_mismatch {
    uint32_t word; /* disk-wide word index of the first difference */
    uint32_t got, want;
};

/* Whether buf holds the pattern of sectors [sector, sector + count); the
 * first difference goes to *m (if not NULL). */
bool disk_pattern_check(const void *buf, uint8_t tag, uint32_t sector, uint32_t count,
                        struct disk_mismatch *m);

#endif
