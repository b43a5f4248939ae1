/* SPDX-License-Identifier: MIT */
/* Ring index arithmetic for NVMe queues; see nvme_ring.h. */
#include "drivers/nvme/nvme_ring.h"

void nvme_sq_ring_init(struct nvme_sq_ring *r, uint16_t size)
{
    r->size = size;
    r->tail = 0;
    r->head = 0;
}

bool nvme_sq_ring_full(const struct nvme_sq_ring *r)
{
    return (uint16_t)((r->tail + 1) % r->size) == r->head;
}

unsigned nvme_sq_ring_used(const struct nvme_sq_ring *r)
{
    return (unsigned)(r->tail + r->size - r->head) % r->size;
}

uint16_t nvme_sq_ring_push(struct nvme_sq_ring *r)
{
    uint16_t slot = r->tail;

    r->tail = (uint16_t)((r->tail + 1) % r->size);
    return slot;
}

bool nvme_sq_ring_set_head(struct nvme_sq_ring *r, uint16_t head)
{
    /* The controller's head can only move forward through slots the host
     * filled: from the current head up to and including the tail. */
    if (head >= r->size)
        return false;
    unsigned ahead = (unsigned)(head + r->size - r->head) % r->size;

    if (ahead > nvme_sq_ring_used(r))
        return false;
    r->head = head;
    return true;
}

void nvme_cq_ring_init(struct nvme_cq_ring *r, uint16_t size)
{
    r->size = size;
    r->head = 0;
    r->phase = 1;
}

bool nvme_cq_ring_is_new(const struct nvme_cq_ring *r, uint16_t status_word)
{
    return (status_word & 1) == r->phase;
}

uint16_t nvme_cq_ring_pop(struct nvme_cq_ring *r)
{
    if (++r->head == r->size) {
        r->head = 0;
        r->phase ^= 1;
    }
    return r->head;
}
