/* SPDX-License-Identifier: MIT */
/* `nvme rw`: a write/read/verify pass over a range through the block-backend
 * interface, to prove the data path before the full `blktest` exists. */
#ifndef SIDECORE_NVME_NVME_EXERCISE_H
#define SIDECORE_NVME_NVME_EXERCISE_H

#include <stdint.h>

/* The 64-bit word written at byte offset `offset` of the namespace (8-byte
 * aligned): tests on the host recompute it to find the pattern. */
#define NVME_EXERCISE_MAGIC 0x53434e564d450000ull /* "SCNVME" */
static inline uint64_t nvme_exercise_word(uint64_t offset)
{
    return offset ^ NVME_EXERCISE_MAGIC;
}

/* Writes the pattern over bytes [start, start+length) of the namespace, reads
 * it back and verifies it, then checks that a request past the range's end
 * is refused. Prints progress and PASS/FAIL; returns 0 on pass. */
int nvme_exercise_rw(unsigned ctrl, uint32_t nsid, uint64_t start, uint64_t length);

#endif
