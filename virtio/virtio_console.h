/* SPDX-License-Identifier: MIT */
/*
 * A virtio console device (virtio 1.x, 5.3) behind struct virtio_pci_ops:
 * one port (no MULTIPORT, no SIZE, no EMERG_WRITE), so two queues, port
 * 0's receiveq (queue 0) and transmitq (queue 1). It exists so a guest's
 * console costs no exit per character: the guest's driver puts whole
 * writes in the transmitq, the device's owner (an I/O sidecore) polls it
 * and hands the bytes to params.out (the guest's console buffer and its
 * "[NAME]" lines), and operator input waits in the device's own input ring
 * until the owner copies it into the receiveq's buffers.
 *
 * Who calls what:
 *  - The transport's ops: the guest's vCPUs, serialized by the transport's
 *    caller. reset takes both queues from their servicer with the
 *    running/busy handshake of virtio-blk and returns with nothing
 *    touching the rings.
 *  - virtio_console_queue_service(): the queue's owner only (its sidecore).
 *    Bounded: at most budget chains, each of at most
 *    VIRTIO_CONSOLE_CHAIN_MAX bytes taken (a longer TX chain delivers its
 *    first VIRTIO_CONSOLE_CHAIN_MAX bytes and is counted in tx_truncated).
 *    Never waits, allocates or locks; params.out is the caller's.
 *  - virtio_console_input(): one producer CPU at a time (the operator's).
 * Guest bytes are read once into a bounce buffer before params.out sees
 * them. A malformed chain (a ring error from virtq_pop, a writable buffer
 * in a TX chain, a readable one in an RX chain) puts the device into
 * NEEDS_RESET through params.broken, once, with the reason in d->error.
 */
#ifndef SIDECORE_VIRTIO_VIRTIO_CONSOLE_H
#define SIDECORE_VIRTIO_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/virtio_pci.h"
#include "virtio/virtqueue.h"

#define VIRTIO_ID_CONSOLE          3
#define VIRTIO_CONSOLE_QUEUES      2
#define VIRTIO_CONSOLE_RXQ         0
#define VIRTIO_CONSOLE_TXQ         1
#define VIRTIO_CONSOLE_QUEUE_SIZE  128
#define VIRTIO_CONSOLE_CONFIG_SIZE 12 /* cols, rows, max_nr_ports, emerg_wr (5.3.4) */
#define VIRTIO_CONSOLE_CHAIN_MAX   65536u
#define VIRTIO_CONSOLE_IN_RING     1024u /* a power of two */
#define VIRTIO_CONSOLE_BOUNCE      256u

/* Read by `stats` from another CPU (plain loads); each has one writer. */
struct virtio_console_stats {
    uint64_t tx_bytes, tx_chains, tx_truncated; /* the owner */
    uint64_t rx_bytes, rx_chains;               /* the owner */
    uint64_t interrupts;                        /* signals asked of the transport (the owner) */
    uint64_t in_dropped;                        /* input the ring had no room for (the producer) */
};

struct virtio_console_queue {
    struct virtio_console *dev;
    struct virtq *vq;
    unsigned index;
    bool enabled;
    volatile uint32_t running, busy; /* the reset handshake (virtio_console.c) */
};

struct virtio_console_params {
    const char *name; /* for messages: "guest web0 console" */
    const struct vmem *mem;
    bool polled; /* sidecore mode: keep driver notifications suppressed */
    void (*signal)(void *ctx, unsigned q);
    void (*broken)(void *ctx);
    void *ctx;
    /* The guest wrote n bytes (a copy; the callee keeps nothing). */
    void (*out)(void *out_ctx, const char *p, uint32_t n);
    void *out_ctx;
};

struct virtio_console {
    struct virtio_console_params p;
    uint64_t features;
    uint8_t config[VIRTIO_CONSOLE_CONFIG_SIZE];
    struct virtq vqs[VIRTIO_CONSOLE_QUEUES];
    struct virtio_console_queue q[VIRTIO_CONSOLE_QUEUES];
    struct virtq_chain chain; /* scratch for pops; only one queue's owner uses it at a time */
    bool driver_ok;
    volatile bool needs_reset;
    /* Operator input: single producer (virtio_console_input), consumer the
     * receiveq's owner. */
    uint8_t in_ring[VIRTIO_CONSOLE_IN_RING];
    volatile uint32_t in_head, in_tail;
    char bounce[VIRTIO_CONSOLE_BOUNCE];
    struct virtio_console_stats stats;
    char error[160];
};

extern const struct virtio_pci_ops virtio_console_pci_ops;

/* Sets the device up (config space, features, both queues stopped). False,
 * with why, when memory or a callback is missing. */
bool virtio_console_init(struct virtio_console *d, const struct virtio_console_params *p, char *why,
                         size_t why_size);

/* The shared virtio layer's per-queue entry points: the context of queue q
 * (NULL past the last), and its service: the transmitq takes what the
 * guest wrote, the receiveq fills buffers with waiting input; at most
 * budget chains. Returns the chains taken. */
void *virtio_console_queue(void *dev, unsigned q);
unsigned virtio_console_queue_service(void *queue, unsigned budget);

/* Producer. Queues one byte of input for the receiveq; false (counted in
 * in_dropped) when the ring is full. */
bool virtio_console_input(struct virtio_console *d, uint8_t c);

/* Whether the guest's driver has the receiveq running (input given now
 * will reach it) and the device is not broken. Any CPU. */
bool virtio_console_rx_ready(const struct virtio_console *d);

#endif
