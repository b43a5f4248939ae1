/* SPDX-License-Identifier: MIT */
/*
 * The virtio console device: the transmitq's chains become bytes for the
 * guest's console, waiting operator input becomes receiveq entries, plus
 * what the transport asks of a device (configuration space, queue enable,
 * DRIVER_OK, reset).
 *
 * Each queue is serviced by one CPU while a reset arrives on whichever vCPU
 * writes the status register; the two meet in virtio-blk's handshake
 * (virtio/virtio_blk.c explains why it is sound):
 *   service:  busy = 1;    fence; if (!running) { busy = 0; return; } ...work...; busy = 0
 *   reset:    running = 0; fence; while (busy) pause;
 */
#include "virtio/virtio_console.h"
#include "virtio/virtio_device.h"

#include <stdarg.h>

#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"

/* NEEDS_RESET once, whichever queue finds trouble first. */
static void __attribute__((format(printf, 2, 3)))
console_break(struct virtio_console *d, const char *fmt, ...)
{
    va_list ap;

    if (!virtio_device_break_first(&d->needs_reset))
        return;
    va_start(ap, fmt);
    virtio_device_error(d->error, sizeof(d->error), d->p.name ? d->p.name : "virtio-console", fmt,
                        ap);
    va_end(ap);
    d->p.broken(d->p.ctx);
}

static bool console_broken(const struct virtio_console *d)
{
    return __atomic_load_n(&d->needs_reset, __ATOMIC_ACQUIRE);
}

/* Pops the next chain into d->chain: 1, 0 (none), or -1 (the device broke). */
static int pop(struct virtio_console_queue *q)
{
    struct virtio_console *d = q->dev;
    int r = virtq_pop(q->vq, &d->chain);

    if (r < 0)
        console_break(d, "queue %u: %s", q->index, q->vq->error ? q->vq->error : "bad ring");
    return r;
}

static void publish(struct virtio_console_queue *q)
{
    struct virtio_console *d = q->dev;

    if (virtq_publish(q->vq)) {
        d->stats.interrupts++;
        d->p.signal(d->p.ctx, q->index);
    }
}

/* --- transmitq: the guest writes ----------------------------------------- */

/* Copies the chain's readable bytes, at most VIRTIO_CONSOLE_CHAIN_MAX, out
 * through the bounce buffer: each guest byte is read once. */
static void tx_chain(struct virtio_console *d, const struct virtq_chain *c)
{
    uint32_t left = VIRTIO_CONSOLE_CHAIN_MAX;

    for (unsigned i = 0; i < c->nread && left; i++) {
        const uint8_t *src = c->buf[i].host;
        uint32_t len = c->buf[i].len < left ? c->buf[i].len : left;

        left -= len;
        while (len) {
            uint32_t n = len < VIRTIO_CONSOLE_BOUNCE ? len : VIRTIO_CONSOLE_BOUNCE;

            memcpy(d->bounce, src, n);
            d->p.out(d->p.out_ctx, d->bounce, n);
            d->stats.tx_bytes += n;
            src += n;
            len -= n;
        }
    }
    if (c->read_bytes > VIRTIO_CONSOLE_CHAIN_MAX)
        d->stats.tx_truncated++;
}

static unsigned tx_service(struct virtio_console_queue *q, unsigned budget)
{
    struct virtio_console *d = q->dev;
    unsigned n = 0;

    while (n < budget && !console_broken(d)) {
        if (pop(q) <= 0)
            break;
        n++;
        if (d->chain.nbuf != d->chain.nread) {
            console_break(d, "transmitq: a chain with a device-writable buffer");
            break;
        }
        tx_chain(d, &d->chain);
        d->stats.tx_chains++;
        virtq_push(q->vq, d->chain.head, 0);
    }
    if (n)
        publish(q);
    return n;
}

/* --- receiveq: input for the guest --------------------------------------- */

static uint32_t in_waiting(const struct virtio_console *d)
{
    return __atomic_load_n(&d->in_head, __ATOMIC_ACQUIRE) - d->in_tail;
}

/* Fills the chain's writable buffers from the input ring; bytes written. */
static uint32_t rx_chain(struct virtio_console *d, const struct virtq_chain *c)
{
    uint32_t avail = in_waiting(d), done = 0;

    for (unsigned i = c->nread; i < c->nbuf && done < avail; i++) {
        uint8_t *dst = c->buf[i].host;

        for (uint32_t k = 0; k < c->buf[i].len && done < avail; k++, done++)
            dst[k] = d->in_ring[(d->in_tail + done) % VIRTIO_CONSOLE_IN_RING];
    }
    __atomic_store_n(&d->in_tail, d->in_tail + done, __ATOMIC_RELEASE);
    d->stats.rx_bytes += done;
    return done;
}

static unsigned rx_service(struct virtio_console_queue *q, unsigned budget)
{
    struct virtio_console *d = q->dev;
    unsigned n = 0;

    while (n < budget && !console_broken(d) && in_waiting(d)) {
        if (pop(q) <= 0)
            break;
        n++;
        if (d->chain.nread) {
            console_break(d, "receiveq: a chain with a device-readable buffer");
            break;
        }
        virtq_push(q->vq, d->chain.head, rx_chain(d, &d->chain));
        d->stats.rx_chains++;
    }
    if (n)
        publish(q);
    return n;
}

unsigned virtio_console_queue_service(void *queue, unsigned budget)
{
    struct virtio_console_queue *q = queue;
    unsigned n;

    if (!virtio_queue_enter(&q->running, &q->busy)) /* the handshake (virtio_device.h) */
        return 0;
    n = q->index == VIRTIO_CONSOLE_TXQ ? tx_service(q, budget) : rx_service(q, budget);
    virtio_queue_leave(&q->busy);
    return n;
}

void *virtio_console_queue(void *dev, unsigned qi)
{
    struct virtio_console *d = dev;

    return qi < VIRTIO_CONSOLE_QUEUES ? &d->q[qi] : NULL;
}

bool virtio_console_input(struct virtio_console *d, uint8_t c)
{
    uint32_t head = d->in_head;

    if (head - __atomic_load_n(&d->in_tail, __ATOMIC_ACQUIRE) >= VIRTIO_CONSOLE_IN_RING) {
        d->stats.in_dropped++;
        return false;
    }
    d->in_ring[head % VIRTIO_CONSOLE_IN_RING] = c;
    __atomic_store_n(&d->in_head, head + 1, __ATOMIC_RELEASE);
    return true;
}

bool virtio_console_rx_ready(const struct virtio_console *d)
{
    return __atomic_load_n(&d->q[VIRTIO_CONSOLE_RXQ].running, __ATOMIC_ACQUIRE) &&
           !console_broken(d);
}

/* --- the transport's operations ------------------------------------------ */

static uint32_t console_config_read(void *dev, unsigned offset, unsigned size)
{
    struct virtio_console *d = dev;
    uint32_t v = 0;

    if (size != 1 && size != 2 && size != 4)
        return 0;
    for (unsigned i = 0; i < size; i++)
        if (offset + i < VIRTIO_CONSOLE_CONFIG_SIZE)
            v |= (uint32_t)d->config[offset + i] << (8 * i);
    return v;
}

/* emerg_wr is only writable with EMERG_WRITE, which is not offered. */
static void console_config_write(void *dev, unsigned offset, unsigned size, uint32_t value)
{
}

static bool console_queue_enable(void *dev, unsigned qi, uint64_t driver_features)
{
    struct virtio_console *d = dev;
    struct virtio_console_queue *q;

    if (qi >= VIRTIO_CONSOLE_QUEUES)
        return false;
    q = &d->q[qi];
    if (q->enabled) {
        console_break(d, "queue %u enabled twice", qi);
        return false;
    }
    q->vq->event_idx = driver_features & (1ull << VIRTIO_F_RING_EVENT_IDX);
    q->vq->indirect = driver_features & (1ull << VIRTIO_F_RING_INDIRECT_DESC);
    if (!virtq_start(q->vq, d->p.mem)) {
        fmt_snprintf(d->error, sizeof(d->error), "%s: queue %u: %s",
                     d->p.name ? d->p.name : "virtio-console", qi,
                     q->vq->error ? q->vq->error : "ring refused");
        return false;
    }
    virtq_set_notify(q->vq, !d->p.polled);
    q->enabled = true;
    /* A device consumes nothing before DRIVER_OK (virtio 1.x 3.1.1). */
    if (d->driver_ok)
        __atomic_store_n(&q->running, 1, __ATOMIC_RELEASE);
    return true;
}

static void console_driver_ok(void *dev)
{
    struct virtio_console *d = dev;

    d->driver_ok = true;
    for (unsigned i = 0; i < VIRTIO_CONSOLE_QUEUES; i++)
        if (d->q[i].enabled)
            __atomic_store_n(&d->q[i].running, 1, __ATOMIC_RELEASE);
}

static void console_reset(void *dev)
{
    struct virtio_console *d = dev;

    for (unsigned i = 0; i < VIRTIO_CONSOLE_QUEUES; i++) {
        struct virtio_console_queue *q = &d->q[i];

        virtio_queue_stop(&q->running, &q->busy);
        q->enabled = false;
    }
    d->driver_ok = false;
    d->error[0] = '\0';
    __atomic_store_n(&d->needs_reset, false, __ATOMIC_RELEASE);
}

const struct virtio_pci_ops virtio_console_pci_ops = {
    .config_read = console_config_read,
    .config_write = console_config_write,
    .queue_enable = console_queue_enable,
    .driver_ok = console_driver_ok,
    .reset = console_reset,
};

/* --- setting up ---------------------------------------------------------- */

bool virtio_console_init(struct virtio_console *d, const struct virtio_console_params *p, char *why,
                         size_t why_size)
{
    if (!p->mem || !p->signal || !p->broken || !p->out) {
        fmt_snprintf(why, why_size, "%s: guest memory and callbacks are required",
                     p->name ? p->name : "virtio-console");
        return false;
    }
    memset(d, 0, sizeof(*d));
    d->p = *p;
    d->features = (1ull << VIRTIO_F_RING_INDIRECT_DESC) | (1ull << VIRTIO_F_RING_EVENT_IDX);
    /* cols and rows 0 (no SIZE), max_nr_ports 1 (read only with MULTIPORT). */
    d->config[4] = 1;
    for (unsigned i = 0; i < VIRTIO_CONSOLE_QUEUES; i++) {
        d->q[i].dev = d;
        d->q[i].index = i;
        d->q[i].vq = &d->vqs[i];
    }
    return true;
}
