/* SPDX-License-Identifier: MIT */
/*
 * Command identifiers of one queue: a fixed bitmap, no allocation. IDs are
 * handed out round-robin rather than lowest-first so that a just-freed ID is
 * not reused at once, which makes a stale or duplicated completion from a
 * misbehaving controller show up as "not in flight" instead of completing
 * the wrong request. Pure code, also built for the host tests.
 */
#ifndef SIDECORE_NVME_NVME_CID_H
#define SIDECORE_NVME_NVME_CID_H

#include <stdbool.h>
#include <stdint.h>

#define NVME_CID_MAX 1024

struct nvme_cid_map {
    uint64_t used[NVME_CID_MAX / 64];
    uint16_t count; /* IDs 0..count-1 exist */
    uint16_t in_use;
    uint16_t next; /* where the next search starts */
};

/* count is clamped to 1..NVME_CID_MAX. */
void nvme_cid_init(struct nvme_cid_map *m, unsigned count);
/* A free ID, or -1 when all are in use. */
int nvme_cid_alloc(struct nvme_cid_map *m);
/* False when cid is out of range or was not in use. */
bool nvme_cid_free(struct nvme_cid_map *m, uint16_t cid);
bool nvme_cid_in_use(const struct nvme_cid_map *m, uint16_t cid);

#endif
