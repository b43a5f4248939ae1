/* SPDX-License-Identifier: MIT */
/*
 * The queue handoff between sidecores (vmm/sidecore/handoff.h). The order
 * of the two stores when letting go matters: move_to is cleared before
 * the new owner is released, so the new owner (whose acquire load of
 * owner sees the clear) does not take the finished request for a new
 * one; a request the monitor slips in between is simply the next move,
 * which the new owner carries out at its first begin.
 */
#include "vmm/sidecore/handoff.h"

void handoff_init(struct queue_handoff *h, uint32_t owner)
{
    h->owner = owner;
    h->move_to = HANDOFF_NONE;
    h->moves = 0;
}

bool handoff_request(struct queue_handoff *h, uint32_t to)
{
    uint32_t none = HANDOFF_NONE;

    if (to == HANDOFF_NONE || to == __atomic_load_n(&h->owner, __ATOMIC_ACQUIRE))
        return false;
    return __atomic_compare_exchange_n(&h->move_to, &none, to, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

bool handoff_pending(const struct queue_handoff *h)
{
    return __atomic_load_n(&h->move_to, __ATOMIC_ACQUIRE) != HANDOFF_NONE;
}

/* The owner lets go: everything it did to the queue is released with the
 * new owner's name. */
static void let_go(struct queue_handoff *h, uint32_t to)
{
    h->moves++;
    __atomic_store_n(&h->move_to, HANDOFF_NONE, __ATOMIC_RELAXED);
    __atomic_store_n(&h->owner, to, __ATOMIC_RELEASE);
}

bool handoff_begin(struct queue_handoff *h, uint32_t self)
{
    if (__atomic_load_n(&h->owner, __ATOMIC_ACQUIRE) != self)
        return false;
    uint32_t to = __atomic_load_n(&h->move_to, __ATOMIC_ACQUIRE);
    if (to != HANDOFF_NONE && to != self) {
        let_go(h, to);
        return false;
    }
    if (to == self) /* asked to move where it is: nothing to do */
        __atomic_store_n(&h->move_to, HANDOFF_NONE, __ATOMIC_RELAXED);
    return true;
}

void handoff_end(struct queue_handoff *h, uint32_t self)
{
    uint32_t to = __atomic_load_n(&h->move_to, __ATOMIC_ACQUIRE);

    if (to != HANDOFF_NONE && to != self)
        let_go(h, to);
}

uint32_t handoff_owner(const struct queue_handoff *h)
{
    return __atomic_load_n(&h->owner, __ATOMIC_ACQUIRE);
}
