/* SPDX-License-Identifier: MIT */
/*
 * A RAM disk block backend (drivers/block/blk.h): a block of hypervisor
 * memory, e.g. a disk image loaded from the boot medium, served with
 * memcpy. Writes stay in memory. Each queue completes its requests in
 * order from a ring of its own (a request is copied at submit and its
 * completion handed out by the next poll), so queues share nothing. Pure
 * code, host-tested; buffers are host-physical addresses, which are the
 * hypervisor's pointers (identity mapping).
 */
#ifndef SIDECORE_BLOCK_RAMDISK_H
#define SIDECORE_BLOCK_RAMDISK_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/block/blk.h"

#include "drivers/block/blk_memq.h"

#define RAMDISK_MAX_QUEUES BLK_MEMQ_MAX
#define RAMDISK_DEPTH      BLK_MEMQ_DEPTH

struct ramdisk {
    struct blk_device dev;
    uint8_t *data;
    uint64_t bytes;
    char name[48];
    struct blk_memq queues[RAMDISK_MAX_QUEUES];
};

/* data holds bytes (a multiple of 512, at least 512). False if not. */
bool ramdisk_init(struct ramdisk *rd, void *data, uint64_t bytes, const char *name);

#endif
