/* SPDX-License-Identifier: MIT */
/*
 * The null block backend (drivers/block/blk.h), a benchmarking device like
 * Linux's null_blk or SPDK's null bdev: reads return zeroes, writes are
 * dropped, and every request completes a fixed latency after it was
 * submitted. It measures the virtualization path alone, and with a latency
 * it gives interrupt coalescing a device whose completions trickle in.
 *
 * Time comes from a clock function given at init (the sidecore's own TSC
 * clock in the hypervisor, a fake one in host tests): nothing here uses a
 * timer interrupt, a request is simply not handed out by poll() before its
 * due time. Each queue completes in submission order from a ring of its
 * own; a full ring refuses with BLK_EBUSY. Nothing is allocated after
 * nullblk_init(). Pure code, host-tested.
 */
#ifndef SIDECORE_BLOCK_NULLBLK_H
#define SIDECORE_BLOCK_NULLBLK_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/block/blk.h"

#include "drivers/block/blk_memq.h"

#define NULLBLK_MAX_QUEUES BLK_MEMQ_MAX
#define NULLBLK_DEPTH      BLK_MEMQ_DEPTH
/* The longest latency accepted: well below a reset's drain wait
 * (VIRTIO_BLK_DRAIN_NS), so a reset never gives up on a null disk. */
#define NULLBLK_MAX_LATENCY_NS (1000ull * 1000 * 1000)

/* Nanoseconds from any fixed origin, monotonic. */
typedef uint64_t (*nullblk_clock_fn)(void);

struct nullblk {
    struct blk_device dev;
    uint64_t latency_ns;
    nullblk_clock_fn now_ns;
    char name[48];
    struct blk_memq queues[NULLBLK_MAX_QUEUES];
};

/* A device of bytes (a non-zero multiple of 512) whose requests complete
 * latency_ns (at most NULLBLK_MAX_LATENCY_NS) after submit by now_ns. False
 * if an argument is out of range. */
bool nullblk_init(struct nullblk *nb, uint64_t bytes, uint64_t latency_ns, nullblk_clock_fn now_ns,
                  const char *name);

#endif
