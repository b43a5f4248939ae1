/* SPDX-License-Identifier: MIT */
/*
 * The engine of `blktest`: one CPU acting as both ends of a virtio-blk
 * queue - the driver (virtio/virtio_blk_driver.c) making requests and the
 * device (virtio/virtio_blk.c, the code guests' disks use) serving them
 * from a block backend, alternately, with no guest involved. It is how the
 * whole guest block path (virtqueue, virtio-blk, backend, NVMe) is
 * exercised and measured on machines without VT-x. Runs:
 *   verify    write the blktest pattern over the whole device, flush, read
 *             everything back and compare (first mismatch reported);
 *   randread  count reads of bs bytes at random bs-aligned offsets;
 *   pastend   reads beyond and across the end, which must come back to the
 *             requester as VIRTIO_BLK_S_IOERR.
 * with up to qd requests in flight, recording each request's latency.
 * With misalign, data buffers start inside a page and every request is cut
 * into segments that start and end mid-page and mid-sector, the layouts a
 * guest may choose and a backend with alignment rules must still serve.
 *
 * The caller gives it one block of memory (the device's view of "guest
 * memory": rings, headers, data buffers) and a clock. Setup and teardown
 * open and close the backend's queue and belong on a CPU allowed to do
 * that (the boot CPU); blktest_run() is the loop for the spare core. A
 * request outstanding longer than request_timeout_ticks, or the abort flag
 * another CPU sets, ends the run with the requests still outstanding
 * counted in res.stuck: their buffers must then stay allocated. Pure code,
 * host-tested against a RAM disk.
 */
#ifndef SIDECORE_BLOCK_BLKTEST_RUN_H
#define SIDECORE_BLOCK_BLKTEST_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/block/blk.h"
#include "drivers/block/blktest_pattern.h"
#include "drivers/block/latency_stats.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_blk_driver.h"

#define BLKTEST_MAX_QD      128
#define BLKTEST_MAX_BS      (1u << 20)
#define BLKTEST_MAX_BUFFERS (32u << 20) /* qd * bs */
#define BLKTEST_QUEUE_SIZE  256

enum blktest_op {
    BLKTEST_VERIFY,
    BLKTEST_RANDREAD,
    BLKTEST_PASTEND,
};

struct blktest_params {
    enum blktest_op op;
    unsigned qd;           /* 1 .. BLKTEST_MAX_QD */
    uint64_t count;        /* randread: requests */
    uint32_t bs;           /* bytes per request: a multiple of the block size */
    uint64_t seed;         /* pattern seed (verify), random offsets (randread) */
    uint32_t misalign;     /* 0: one segment per request, buffers as laid out; else
                            * buffers start this many bytes into a page and each
                            * request is cut into up to 16 segments at odd places */
    uint64_t origin;       /* absolute byte offset of the device's sector 0 (pattern tags) */
    uint64_t (*now)(void); /* a monotonic tick counter (the TSC) */
    uint64_t ticks_per_sec;
    uint64_t request_timeout_ticks;
};

struct blktest_result {
    bool pass;
    uint64_t requests; /* completed */
    uint64_t errors;   /* completed with a status other than the one expected */
    uint64_t stuck;    /* submitted, never completed (the run was cut short) */
    uint64_t ticks;    /* wall time of the run */
    uint64_t bytes;    /* data moved by successful requests */
    bool mismatch;     /* verify read back something else: m says what */
    struct blktest_mismatch m;
    char why[200]; /* for a failure: what happened */
};

struct blktest_slot {
    bool busy;
    uint32_t type;
    uint64_t sector;
    uint32_t len;
    uint64_t start;
};

struct blktest_job {
    struct blktest_params p;
    struct vmem mem;
    struct blk_device *backend;
    uint64_t data_gpa; /* qd buffers of bs bytes */
    bool device_broken;
    struct virtio_blk dev;
    struct virtio_blk_driver drv;
    struct blktest_slot slot[BLKTEST_MAX_QD];
    uint64_t rng;
    struct latency_stats lat;
    struct blktest_result res;
    /* Shared with the CPU waiting for the run. */
    volatile uint64_t progress; /* completions so far */
    volatile bool abort;
    volatile bool done;
};

/* Bytes of memory a run with these parameters needs (driver area and data
 * buffers), or 0 if qd or bs is out of range. */
uint64_t blktest_mem_bytes(unsigned qd, uint32_t bs);

/* Checks the parameters against the backend, lays out mem (mem_bytes from
 * blktest_mem_bytes, 16-byte aligned, the hypervisor's pointer to
 * host-physical memory) and starts the device's queue on the backend.
 * False with why if anything does not fit. */
bool blktest_setup(struct blktest_job *j, struct blk_device *backend, void *mem, uint64_t mem_bytes,
                   const struct blktest_params *p, char *why, size_t why_size);

/* The run: fills j->res and j->lat, then sets j->done. */
void blktest_run(struct blktest_job *j);

/* Resets the device, which drains and closes the backend queue. Only after
 * a run that left nothing stuck. False if the backend kept requests (then
 * nothing of the run may be freed). */
bool blktest_teardown(struct blktest_job *j);

/* Ticks to nanoseconds with the job's clock. */
uint64_t blktest_ticks_to_ns(const struct blktest_job *j, uint64_t ticks);

#endif
