/* SPDX-License-Identifier: MIT */
/* Command-ID bitmap; see nvme_cid.h. */
#include "drivers/nvme/nvme_cid.h"

void nvme_cid_init(struct nvme_cid_map *m, unsigned count)
{
    if (count == 0)
        count = 1;
    if (count > NVME_CID_MAX)
        count = NVME_CID_MAX;
    for (unsigned i = 0; i < NVME_CID_MAX / 64; i++)
        m->used[i] = 0;
    m->count = (uint16_t)count;
    m->in_use = 0;
    m->next = 0;
}

bool nvme_cid_in_use(const struct nvme_cid_map *m, uint16_t cid)
{
    return cid < m->count && (m->used[cid / 64] >> (cid % 64) & 1);
}

int nvme_cid_alloc(struct nvme_cid_map *m)
{
    if (m->in_use >= m->count)
        return -1;
    for (unsigned i = 0; i < m->count; i++) {
        uint16_t cid = (uint16_t)((m->next + i) % m->count);

        if (!(m->used[cid / 64] >> (cid % 64) & 1)) {
            m->used[cid / 64] |= 1ull << (cid % 64);
            m->in_use++;
            m->next = (uint16_t)((cid + 1) % m->count);
            return cid;
        }
    }
    return -1;
}

bool nvme_cid_free(struct nvme_cid_map *m, uint16_t cid)
{
    if (!nvme_cid_in_use(m, cid))
        return false;
    m->used[cid / 64] &= ~(1ull << (cid % 64));
    m->in_use--;
    return true;
}
