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

#define RAMDISK_MAX_QUEUES 16
#define RAMDISK_DEPTH      256

struct ramdisk_done {
    void *cookie;
    int status;
};

struct ramdisk_queue {
    bool open;
    uint32_t head, tail; /* completions waiting: done[head % depth .. tail) */
    struct ramdisk_done done[RAMDISK_DEPTH];
};

struct ramdisk {
    struct blk_device dev;
    uint8_t *data;
    uint64_t bytes;
    char name[48];
    struct ramdisk_queue queues[RAMDISK_MAX_QUEUES];
};

/* data holds bytes (a multiple of 512, at least 512). False if not. */
bool ramdisk_init(struct ramdisk *rd, void *data, uint64_t bytes, const char *name);

#endif
