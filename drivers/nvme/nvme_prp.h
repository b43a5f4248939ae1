/* SPDX-License-Identifier: MIT */
/*
 * Building the PRP entries of a transfer (NVMe 1.4 section 4.3) from a list
 * of physical segments. PRP1 may start anywhere dword aligned; when the data
 * ends in the next page PRP2 is that page, otherwise PRP2 points to a PRP
 * list whose pages chain through their last slot when there are more entries
 * than a page holds. PRPs can only express a transfer in which the first
 * segment alone starts mid-page and the last alone ends mid-page; anything
 * else is refused so the caller can bounce or split it. Pure code: the list
 * pages are given by the caller with their physical and virtual addresses.
 */
#ifndef SIDECORE_NVME_NVME_PRP_H
#define SIDECORE_NVME_NVME_PRP_H

#include <stdint.h>

#include "drivers/block/blk.h"

#define NVME_PRP_MAX_LIST_PAGES 8

/* The PRP list pages one command may use (each one controller page). */
struct nvme_prp_lists {
    uint64_t *virt[NVME_PRP_MAX_LIST_PAGES];
    uint64_t phys[NVME_PRP_MAX_LIST_PAGES];
    unsigned count;
};

struct nvme_prp {
    uint64_t prp1, prp2;
    uint64_t bytes;           /* total transfer length */
    unsigned list_pages_used; /* 0 when PRP2 is empty or a data page */
};

enum nvme_prp_error {
    NVME_PRP_OK = 0,
    NVME_PRP_EMPTY = -1,           /* no segments, or a zero-length one */
    NVME_PRP_UNALIGNED = -2,       /* the first segment is not dword aligned */
    NVME_PRP_MID_START = -3,       /* a segment after the first starts mid-page */
    NVME_PRP_MID_END = -4,         /* a segment before the last ends mid-page */
    NVME_PRP_TOO_BIG = -5,         /* longer than the maximum transfer */
    NVME_PRP_NO_LIST_SPACE = -6,   /* more list pages needed than were given */
    NVME_PRP_BAD_PAGE_SIZE = -7,   /* not a power of two in 4K..128M */
    NVME_PRP_ADDRESS_OVERFLOW = -8 /* a segment wraps around the address space */
};

/*
 * Fills *out for segs[0..n). max_bytes is the transfer limit (from MDTS and
 * the driver's own). Writes list entries into lists->virt[] pages, which
 * must be page_size bytes each and page aligned. Returns NVME_PRP_OK or an
 * error from enum nvme_prp_error; on error nothing useful is in *out.
 */
int nvme_prp_build(const struct blk_seg *segs, unsigned n, uint32_t page_size, uint64_t max_bytes,
                   const struct nvme_prp_lists *lists, struct nvme_prp *out);

/* List pages a transfer of up to max_bytes can need in the worst case (the
 * first page starting at its last dword). */
unsigned nvme_prp_list_pages_for(uint64_t max_bytes, uint32_t page_size);

const char *nvme_prp_error_name(int err);

#endif
