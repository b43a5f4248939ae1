/* SPDX-License-Identifier: MIT */
/*
 * The host's view of one submission/completion queue pair: the SQ tail the
 * host advances and the SQ head the controller reports in each completion,
 * and the CQ head with the phase the host expects next (1 on the first pass,
 * flipped at every wrap). One slot of the SQ stays empty so that full and
 * empty differ. Pure code, also built for the host tests.
 */
#ifndef SIDECORE_NVME_NVME_RING_H
#define SIDECORE_NVME_NVME_RING_H

#include <stdbool.h>
#include <stdint.h>

struct nvme_sq_ring {
    uint16_t size; /* entries, >= 2 */
    uint16_t tail; /* next slot the host fills */
    uint16_t head; /* oldest slot the controller may still read */
};

struct nvme_cq_ring {
    uint16_t size;
    uint16_t head; /* next entry to look at */
    uint8_t phase; /* the phase a new entry at head carries */
};

void nvme_sq_ring_init(struct nvme_sq_ring *r, uint16_t size);
bool nvme_sq_ring_full(const struct nvme_sq_ring *r);
unsigned nvme_sq_ring_used(const struct nvme_sq_ring *r);
/* Takes the slot at tail and advances tail; the caller checked full. */
uint16_t nvme_sq_ring_push(struct nvme_sq_ring *r);
/* Records the SQ head from a completion; false (and ignored) when it is not
 * a slot the controller could have consumed up to. */
bool nvme_sq_ring_set_head(struct nvme_sq_ring *r, uint16_t head);

void nvme_cq_ring_init(struct nvme_cq_ring *r, uint16_t size);
/* Is the entry whose status word is given (the 16 bits holding the phase
 * tag in bit 0) new? */
bool nvme_cq_ring_is_new(const struct nvme_cq_ring *r, uint16_t status_word);
/* Moves past the entry at head; returns the new head (for the doorbell). */
uint16_t nvme_cq_ring_pop(struct nvme_cq_ring *r);

#endif
