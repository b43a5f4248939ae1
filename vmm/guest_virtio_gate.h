/* SPDX-License-Identifier: MIT */
/*
 * Who services a virtio queue, made exclusive: the notify gate and the
 * trap-mode servicing of vmm/guest_virtio.c, as pure code (host-tested
 * with threads in tests/unit/test_virtio_gate.c).
 *
 * Every notification that traps reaches virtio_gate_notify(), whichever
 * way the guest wrote it. In sidecore mode it is counted and dropped: the
 * queue's sidecore is its only servicer. In trap mode it marks the queue,
 * and the notifying vCPU then calls virtio_gate_service() once it has let
 * go of the guest's device lock: under the queue's lock, a bounded number
 * of service rounds, so two vCPUs notifying one queue take turns and
 * neither stays in the hypervisor for long however fast the guest adds
 * requests.
 */
#ifndef SIDECORE_VMM_GUEST_VIRTIO_GATE_H
#define SIDECORE_VMM_GUEST_VIRTIO_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/lib/spinlock.h"

/* Service rounds a trap-mode vCPU runs for one queue per exit. */
#define VIRTIO_GATE_TRAP_ROUNDS 4

struct virtio_gate_queue {
    unsigned (*service)(void *ctx, unsigned budget); /* the device's fast path */
    void *ctx;
    unsigned budget;            /* per round: the queue's size */
    bool polled;                /* a sidecore services it (io = sidecore) */
    struct spinlock lock;       /* trap mode: held by the servicing vCPU */
    volatile uint32_t notified; /* trap mode: notified, not serviced since */
    uint64_t io_exits;          /* notify writes that cost the guest an exit */
    uint64_t trap_services;     /* trap mode: service rounds run by vCPUs */
};

void virtio_gate_init(struct virtio_gate_queue *q, unsigned (*service)(void *, unsigned), void *ctx,
                      unsigned budget, bool polled);
/* A trapped notification (any vCPU, device lock held). True when the
 * caller must call virtio_gate_service() after dropping the lock. */
bool virtio_gate_notify(struct virtio_gate_queue *q);
/* Trap mode, on a vCPU: services the queue if it was notified (notified
 * only) or whenever (the backend owes it completions), for at most
 * VIRTIO_GATE_TRAP_ROUNDS rounds. wait: take the lock even if another vCPU
 * holds it (it holds it only for bounded work); otherwise give up. Never
 * services a polled queue. */
void virtio_gate_service(struct virtio_gate_queue *q, bool notified_only, bool wait);

#endif
