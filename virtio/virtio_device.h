/* SPDX-License-Identifier: MIT */
/*
 * What every virtio device model (virtio_blk.c, virtio_net*.c,
 * virtio_console.c) does the same way, header-only so that each host test
 * and fuzz target building a device gets it without naming one more source:
 *
 * - Breaking the device: NEEDS_RESET once per device, however many queues
 *   find trouble at once; the first writes the message ("NAME: what").
 * - The queue handshake between a queue's servicer (a sidecore, or the vCPU
 *   in trap mode) and the transport taking the queue away (a reset):
 *   Dekker-style, each side stores its flag, fences, then reads the other's.
 *   The servicer announces itself in busy and serves only while running;
 *   the transport clears running and waits until busy is clear. Either the
 *   servicer sees running clear and leaves, or the transport sees busy set
 *   and waits for the visit to end: never both missing each other.
 */
#ifndef SIDECORE_VIRTIO_VIRTIO_DEVICE_H
#define SIDECORE_VIRTIO_VIRTIO_DEVICE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/lib/fmt.h"

/* True for the caller that set *needs_reset first: it writes the message
 * (virtio_device_error) and tells the transport. */
static inline bool virtio_device_break_first(volatile bool *needs_reset)
{
    return !__atomic_exchange_n(needs_reset, true, __ATOMIC_SEQ_CST);
}

/* error = "NAME: " followed by fmt's text, cut to size. */
static inline void virtio_device_error(char *error, size_t size, const char *name, const char *fmt,
                                       va_list ap)
{
    int n = fmt_snprintf(error, size, "%s: ", name);

    if (n < 0 || (size_t)n >= size)
        n = 0;
    fmt_vsnprintf(error + n, size - (size_t)n, fmt, ap);
}

/* The servicer: announce, fence, look. False (and busy clear again) when
 * the queue is not running; otherwise serve, then virtio_queue_leave. */
static inline bool virtio_queue_enter(volatile uint32_t *running, volatile uint32_t *busy)
{
    __atomic_store_n(busy, 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(running, __ATOMIC_ACQUIRE))
        return true;
    __atomic_store_n(busy, 0, __ATOMIC_RELEASE);
    return false;
}

static inline void virtio_queue_leave(volatile uint32_t *busy)
{
    __atomic_store_n(busy, 0, __ATOMIC_RELEASE);
}

/* The transport: takes the queue from its servicer; returns once no visit
 * is under way (a visit is bounded by its budget). */
static inline void virtio_queue_stop(volatile uint32_t *running, volatile uint32_t *busy)
{
    __atomic_store_n(running, 0, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    while (__atomic_load_n(busy, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
}

#endif
