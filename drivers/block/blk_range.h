/* SPDX-License-Identifier: MIT */
/*
 * A window of a device's logical blocks offered as a smaller block device
 * (`disk = nvme:0:1:1G+4G`): converting the window's byte bounds into blocks,
 * and each request's 512-byte sectors into blocks of the underlying device
 * with its bounds checked, so a request past the window's end is refused
 * before it reaches the hardware. Pure code, also built for the host tests.
 */
#ifndef SIDECORE_BLOCK_BLK_RANGE_H
#define SIDECORE_BLOCK_BLK_RANGE_H

#include <stdbool.h>
#include <stdint.h>

struct blk_range {
    uint64_t first_lba; /* in the underlying device */
    uint64_t nlba;      /* blocks in the window */
    unsigned lba_shift; /* log2 of the block size, >= 9 */
};

/*
 * Builds the window [start, start+length) bytes of a device of dev_blocks
 * blocks; length 0 means "to the end". BLK_EINVAL when start or length is not
 * a multiple of the block size (or the shift is out of 9..16), BLK_ERANGE when
 * the window runs past the device or is empty.
 */
int blk_range_from_bytes(uint64_t dev_blocks, unsigned lba_shift, uint64_t start, uint64_t length,
                         struct blk_range *out);

/* The window's size in 512-byte sectors. */
uint64_t blk_range_sectors(const struct blk_range *r);

/*
 * Maps [sector, sector+nsectors) of the window onto the device: *slba is the
 * first device block, *nlb the count. BLK_EINVAL when nsectors is 0 or the
 * request is not aligned to the block size, BLK_ERANGE when it does not lie
 * wholly inside the window.
 */
int blk_range_map(const struct blk_range *r, uint64_t sector, uint64_t nsectors, uint64_t *slba,
                  uint64_t *nlb);

bool blk_range_overlaps(const struct blk_range *a, const struct blk_range *b);

/* Parses "START+LENGTH" (sizes as str_to_size takes them: 1M, 4096, 2G). */
bool blk_parse_extent(const char *s, uint64_t *start, uint64_t *length);

#endif
