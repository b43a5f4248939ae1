/* SPDX-License-Identifier: MIT */
/*
 * A multi-producer, single-consumer ring of console messages: any CPU (an I/O
 * sidecore, a vCPU in an exit handler) appends a message without waiting for
 * the UART or for a lock, and the console's CPU prints them later. Lock-free:
 * a producer reserves space with one compare-and-swap on the head, copies its
 * bytes and then publishes the record's header; the consumer takes whole
 * records in reservation order and stops at the first one not yet published.
 * A full ring drops the new message and counts it. Plain C, built for the
 * host too (tests/unit/test_msg_ring.c).
 */
#ifndef SIDECORE_CONSOLE_MSG_RING_H
#define SIDECORE_CONSOLE_MSG_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest message one record holds; longer ones are cut. */
#define MSG_RING_MSG_MAX 1024

struct msg_ring {
    uint8_t *buf;
    uint32_t size;          /* bytes, a power of two, at least 64 */
    uint64_t head;          /* next byte to reserve (producers) */
    uint64_t tail;          /* first byte not yet consumed (consumer) */
    uint64_t dropped;       /* messages refused because the ring was full */
    uint64_t dropped_shown; /* consumer: how many of those it has reported */
};

/* buf must be zeroed, size bytes, size a power of two >= 64, 8-aligned. */
void msg_ring_init(struct msg_ring *r, void *buf, uint32_t size);

/* Producer (any CPU, any context): appends n bytes (cut to MSG_RING_MSG_MAX)
 * as one message. False, and the drop counted, when the ring has no room. */
bool msg_ring_put(struct msg_ring *r, const char *s, size_t n);

/* Consumer (one at a time): copies the oldest published message to out
 * (cap >= MSG_RING_MSG_MAX) and frees its space; returns its length, or -1
 * when the ring is empty or its oldest message is still being written. */
int msg_ring_get(struct msg_ring *r, char *out, size_t cap);

/* True when the oldest message is published (msg_ring_get would take it). */
bool msg_ring_ready(const struct msg_ring *r);

/* True when something is reserved and not yet consumed. */
bool msg_ring_pending(const struct msg_ring *r);

/* Consumer: messages dropped since the last call (0 if none). */
uint64_t msg_ring_take_dropped(struct msg_ring *r);

#endif
