/* SPDX-License-Identifier: MIT */
/*
 * The value of a guest's `disk =` key (vmm/disk_spec.c): which storage backs
 * the guest's virtio-blk disk. `ram:PATH` is a RAM disk loaded from a boot
 * file; `nvme:CTRL:NSID` is a whole NVMe namespace and
 * `nvme:CTRL:NSID:START+LENGTH` a byte window of one; `null:SIZE[:LATENCY]`
 * is the null benchmarking device (drivers/block/nullblk.h). Only the text is
 * checked here; whether the boot file exists is the config parser's
 * business, and whether the controller and namespace exist and hold the
 * window can only be known at run time (drivers/nvme/nvme_blk.h).
 */
#ifndef SIDECORE_VMM_DISK_SPEC_H
#define SIDECORE_VMM_DISK_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISK_PATH_LEN      96  /* as GUEST_PATH_LEN */
#define DISK_SECTOR        512 /* START, LENGTH and RAM images are multiples of it */
#define DISK_NVME_CTRL_MAX 255
#define DISK_NVME_NSID_MAX 0xfffffffeu /* 0xffffffff is NVMe's "every namespace" */

enum disk_kind {
    DISK_NONE = 0,
    DISK_RAM,
    DISK_NVME,
    DISK_NULL,
};

/* The longest null-disk latency: NULLBLK_MAX_LATENCY_NS, 1 s. */
#define DISK_NULL_LATENCY_MAX_NS (1000ull * 1000 * 1000)

struct disk_spec {
    enum disk_kind kind;
    char path[DISK_PATH_LEN]; /* DISK_RAM: boot-file name, spaces around it dropped */
    uint32_t ctrl;            /* DISK_NVME: controller index, as the `nvme` command lists them */
    uint32_t nsid;            /* DISK_NVME: 1 .. DISK_NVME_NSID_MAX */
    bool whole;               /* DISK_NVME: the whole namespace (start, length are 0) */
    uint64_t start, length;   /* DISK_NVME window in bytes: multiples of 512, length > 0 */
    uint64_t size;            /* DISK_NULL: bytes, a non-zero multiple of 512 */
    uint64_t latency_ns;      /* DISK_NULL: per request, 0 .. DISK_NULL_LATENCY_MAX_NS */
};

/*
 * Parses a `disk =` value. On success fills out and returns true; otherwise
 * writes why it is wrong to why (e.g. "start 1000 is not a multiple of
 * 512"), without the key or value, which the caller quotes, and returns
 * false. A RAM path that is empty or does not fit DISK_PATH_LEN is refused
 * here; its other checks are the caller's.
 */
bool disk_spec_parse(const char *value, struct disk_spec *out, char *why, size_t why_size);

/*
 * Whether two disks would share storage: NVMe disks on the same controller
 * and namespace whose byte ranges intersect (a whole namespace intersects
 * everything on it; ranges that only touch do not). RAM disks never
 * overlap, even from the same image: each guest's RAM disk is its own copy,
 * so the run-time setup must copy the image rather than hand out the boot
 * file's memory.
 */
bool disk_spec_overlaps(const struct disk_spec *a, const struct disk_spec *b);

/* The disk as a config would write it ("nvme:0:1:1G+4G", "ram:disk.img",
 * "null:1G:100us", "none"), for messages. */
void disk_spec_format(const struct disk_spec *d, char *buf, size_t size);

#endif
