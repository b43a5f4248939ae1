/* SPDX-License-Identifier: MIT */
/*
 * Windows of a block device: byte bounds to blocks, and requests mapped and
 * bounds-checked onto the underlying device. Every check is written so that
 * no sum can overflow: the values come from configs and guests.
 */
#include "drivers/block/blk_range.h"

#include "drivers/block/blk.h"
#include "kernel/lib/str.h"

int blk_range_from_bytes(uint64_t dev_blocks, unsigned lba_shift, uint64_t start, uint64_t length,
                         struct blk_range *out)
{
    if (lba_shift < 9 || lba_shift > 16)
        return BLK_EINVAL;
    uint64_t mask = (1ull << lba_shift) - 1;

    if ((start & mask) || (length & mask))
        return BLK_EINVAL;
    uint64_t first = start >> lba_shift;

    if (first >= dev_blocks)
        return BLK_ERANGE;
    uint64_t n = length ? length >> lba_shift : dev_blocks - first;

    if (n > dev_blocks - first)
        return BLK_ERANGE;
    out->first_lba = first;
    out->nlba = n;
    out->lba_shift = lba_shift;
    return BLK_OK;
}

uint64_t blk_range_sectors(const struct blk_range *r)
{
    return r->nlba << (r->lba_shift - BLK_SECTOR_SHIFT);
}

int blk_range_map(const struct blk_range *r, uint64_t sector, uint64_t nsectors, uint64_t *slba,
                  uint64_t *nlb)
{
    unsigned shift = r->lba_shift - BLK_SECTOR_SHIFT;
    uint64_t mask = (1ull << shift) - 1;

    if (nsectors == 0 || (sector & mask) || (nsectors & mask))
        return BLK_EINVAL;
    uint64_t lba = sector >> shift;
    uint64_t n = nsectors >> shift;

    if (lba >= r->nlba || n > r->nlba - lba)
        return BLK_ERANGE;
    *slba = r->first_lba + lba;
    *nlb = n;
    return BLK_OK;
}

bool blk_range_overlaps(const struct blk_range *a, const struct blk_range *b)
{
    if (a->lba_shift == b->lba_shift)
        return a->first_lba < b->first_lba + b->nlba && b->first_lba < a->first_lba + a->nlba;
    /* Different block sizes: compare in 512-byte sectors, which any block
     * size in 512..64K divides. */
    uint64_t a0 = a->first_lba << (a->lba_shift - BLK_SECTOR_SHIFT);
    uint64_t b0 = b->first_lba << (b->lba_shift - BLK_SECTOR_SHIFT);

    return a0 < b0 + blk_range_sectors(b) && b0 < a0 + blk_range_sectors(a);
}

bool blk_parse_extent(const char *s, uint64_t *start, uint64_t *length)
{
    char first[32];
    size_t i = 0;

    while (s[i] && s[i] != '+') {
        if (i + 1 >= sizeof(first))
            return false;
        first[i] = s[i];
        i++;
    }
    if (s[i] != '+')
        return false;
    first[i] = '\0';
    return str_to_size(first, start) && str_to_size(s + i + 1, length) && *length > 0;
}
