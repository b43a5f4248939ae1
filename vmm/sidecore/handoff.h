/* SPDX-License-Identifier: MIT */
/*
 * Moving a queue from one sidecore to another without losing,
 * duplicating or reordering a request. Pure code, tested with threads
 * (tests/unit/test_handoff.c).
 *
 * A queue has one owner, the only core that visits it. The monitor asks
 * for a move by naming the new owner (handoff_request); the old owner
 * notices it only between visits - before starting one (handoff_begin) or
 * right after finishing one, whose completions it has published
 * (handoff_end) - and then hands the queue over with a release store of
 * the new owner. The new owner visits only once it reads itself as owner
 * with an acquire load, so everything the old owner did to the queue
 * (its ring indexes, the backend's queue, the coalescing state) happens
 * before the new owner's first look at it, and no two cores are ever
 * inside a visit of the queue at once.
 *
 * A request made while a move is pending is refused; the monitor asks
 * again after the move (handoff_pending). No lock: one word each way.
 */
#ifndef SIDECORE_VMM_SIDECORE_HANDOFF_H
#define SIDECORE_VMM_SIDECORE_HANDOFF_H

#include <stdbool.h>
#include <stdint.h>

#define HANDOFF_NONE 0xffffffffu

struct queue_handoff {
    uint32_t owner;   /* written only by the owner, when it lets go */
    uint32_t move_to; /* the requested owner, or HANDOFF_NONE */
    uint64_t moves;   /* handovers done, counted by the core letting go */
};

void handoff_init(struct queue_handoff *h, uint32_t owner);

/* Monitor: asks for the queue to move to core to. False when a move is
 * already pending, or to owns it already. */
bool handoff_request(struct queue_handoff *h, uint32_t to);

/* Monitor: a requested move has not happened yet. */
bool handoff_pending(const struct queue_handoff *h);

/* Core self, before a visit: true when self owns the queue and may visit
 * it now; when a move is pending, hands the queue over instead (self is
 * between visits) and returns false. */
bool handoff_begin(struct queue_handoff *h, uint32_t self);

/* Core self, after a visit (its work published): hands the queue over if
 * a move was asked for meanwhile. */
void handoff_end(struct queue_handoff *h, uint32_t self);

/* The current owner (for `stats` and the monitor; may be stale). */
uint32_t handoff_owner(const struct queue_handoff *h);

#endif
