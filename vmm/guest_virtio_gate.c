/* SPDX-License-Identifier: MIT */
/* The notify gate behind vmm/guest_virtio_gate.h. */
#include "vmm/guest_virtio_gate.h"

void virtio_gate_init(struct virtio_gate_queue *q, unsigned (*service)(void *, unsigned), void *ctx,
                      unsigned budget, bool polled)
{
    *q = (struct virtio_gate_queue){
        .service = service, .ctx = ctx, .budget = budget, .polled = polled, .lock = SPINLOCK_INIT};
}

bool virtio_gate_notify(struct virtio_gate_queue *q)
{
    __atomic_fetch_add(&q->io_exits, 1, __ATOMIC_RELAXED);
    if (q->polled)
        return false; /* the sidecore polls this queue; a vCPU never services it */
    __atomic_store_n(&q->notified, 1, __ATOMIC_RELEASE);
    return true;
}

void virtio_gate_service(struct virtio_gate_queue *q, bool notified_only, bool wait)
{
    if (q->polled || (notified_only && !__atomic_load_n(&q->notified, __ATOMIC_ACQUIRE)))
        return;
    if (wait)
        spin_lock(&q->lock);
    else if (!spin_trylock(&q->lock))
        return; /* another vCPU is servicing it */
    /* Cleared before servicing: a notify that lands meanwhile is either
     * seen by this service or leaves the flag set for its own vCPU. */
    __atomic_store_n(&q->notified, 0, __ATOMIC_SEQ_CST);
    for (unsigned round = 0; round < VIRTIO_GATE_TRAP_ROUNDS; round++) {
        __atomic_fetch_add(&q->trap_services, 1, __ATOMIC_RELAXED);
        if (!q->service(q->ctx, q->budget))
            break;
    }
    spin_unlock(&q->lock);
}
