/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the virtio console device's transmit path (and its
 * receive path beside it). The input picks the ring features the driver
 * takes and then a script of guest actions: TX chains of any number of
 * buffers with any address, length and direction (a writable one now and
 * then, some outside guest memory), RX buffers of either direction, raw
 * writes anywhere in guest memory (rings and descriptors: a guest racing
 * or lying), service calls of either queue with any budget, operator
 * input, the driver reaping used entries, and resets followed by a fresh
 * start. Guest memory is a heap block of its own, so the sanitizers catch
 * any access outside it; besides that the target aborts when a promise
 * breaks: a service call that takes more chains than its budget, an out
 * call with nothing or more than the bounce buffer, more bytes out than
 * the chains taken may carry (VIRTIO_CONSOLE_CHAIN_MAX each), NEEDS_RESET
 * reported twice without a reset or without a message, a broken device
 * that still takes chains, or state left over after a reset.
 * fuzz-sources: virtio/virtio_console.c virtio/virtqueue.c virtio/virtq_driver.c kernel/lib/fmt.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "virtio/virtio_console.h"
#include "virtio/virtq_driver.h"

#define GUEST_BYTES 0x10000u
#define RING_GPA(q) (0x1000u * (q))
#define QSIZE       16
#define MAX_STEPS   512

struct bench {
    uint8_t *mem_block;
    struct vmem mem;
    struct virtio_console d;
    struct virtq_driver drv[VIRTIO_CONSOLE_QUEUES];
    uint64_t features;
    unsigned broken;
    uint64_t out_bytes;
};

static void on_signal(void *ctx, unsigned q)
{
    check(q < VIRTIO_CONSOLE_QUEUES, "signal for a queue that does not exist");
}

static void on_broken(void *ctx)
{
    struct bench *b = ctx;

    b->broken++;
    check(b->broken == 1, "NEEDS_RESET reported twice without a reset");
    check(b->d.error[0] != '\0', "broken without a message");
}

static void on_out(void *ctx, const char *p, uint32_t n)
{
    struct bench *b = ctx;
    volatile char sink = 0;

    check(n > 0 && n <= VIRTIO_CONSOLE_BOUNCE, "an out call of nothing or too much");
    check(p == b->d.bounce, "out handed something other than the bounce copy");
    for (uint32_t i = 0; i < n; i++)
        sink ^= p[i];
    (void)sink;
    b->out_bytes += n;
}

static bool start(struct bench *b)
{
    bool ev = b->features & (1ull << VIRTIO_F_RING_EVENT_IDX);

    for (unsigned q = 0; q < VIRTIO_CONSOLE_QUEUES; q++) {
        struct virtq *vq = &b->d.vqs[q];

        if (!virtq_driver_init(&b->drv[q], &b->mem, RING_GPA(q), QSIZE, ev, 0))
            return false;
        vq->size = QSIZE;
        vq->desc_gpa = b->drv[q].desc_gpa;
        vq->avail_gpa = b->drv[q].avail_gpa;
        vq->used_gpa = b->drv[q].used_gpa;
        if (!virtio_console_pci_ops.queue_enable(&b->d, q, b->features))
            return false;
    }
    virtio_console_pci_ops.driver_ok(&b->d);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct bench b;
    struct input in = {data, size};
    char why[128];

    memset(&b, 0, sizeof(b));
    b.mem_block = malloc(GUEST_BYTES);
    if (!b.mem_block)
        return 0;
    memset(b.mem_block, 0, GUEST_BYTES);
    b.mem = (struct vmem){b.mem_block, GUEST_BYTES};
    struct virtio_console_params p = {.name = "fuzz console",
                                      .mem = &b.mem,
                                      .polled = take(&in, 1) & 1,
                                      .signal = on_signal,
                                      .broken = on_broken,
                                      .ctx = &b,
                                      .out = on_out,
                                      .out_ctx = &b};
    check(virtio_console_init(&b.d, &p, why, sizeof(why)), "init refused good parameters");
    b.features = (b.d.features | (1ull << VIRTIO_F_VERSION_1)) & ~(take(&in, 1) << 28);
    if (!start(&b))
        goto out;

    for (unsigned step = 0; step < MAX_STEPS && in.n; step++) {
        unsigned op = (unsigned)take(&in, 1) % 8;

        switch (op) {
        case 0:
        case 1: { /* a TX chain */
            struct virtq_sg sg[8];
            unsigned n = 1 + (unsigned)take(&in, 1) % 8, nwrite = 0;

            for (unsigned i = 0; i < n; i++) {
                uint32_t gpa = (uint32_t)take(&in, 2) | (take(&in, 1) == 0xff ? 0x10000u : 0);
                uint32_t len = (uint32_t)take(&in, 2);

                sg[i] = (struct virtq_sg){gpa, len};
            }
            if (take(&in, 1) == 0xff)
                nwrite = 1;
            virtq_driver_add(&b.drv[VIRTIO_CONSOLE_TXQ], sg, n - nwrite, nwrite);
            break;
        }
        case 2: { /* an RX buffer, mostly writable */
            struct virtq_sg sg = {(uint32_t)take(&in, 2), (uint32_t)take(&in, 2) % 4096};
            bool readable = take(&in, 1) == 0xff;

            virtq_driver_add(&b.drv[VIRTIO_CONSOLE_RXQ], &sg, readable, !readable);
            break;
        }
        case 3: { /* a raw write: the guest scribbles */
            uint32_t at = (uint32_t)take(&in, 2) % GUEST_BYTES;

            b.mem_block[at] = (uint8_t)take(&in, 1);
            break;
        }
        case 4:
        case 5: { /* the sidecore visits a queue */
            unsigned q = op == 4 ? VIRTIO_CONSOLE_TXQ : VIRTIO_CONSOLE_RXQ;
            unsigned budget = (unsigned)take(&in, 1) % 40;
            uint64_t chains = b.d.stats.tx_chains, truncated = b.d.stats.tx_truncated;
            bool was_broken = b.d.needs_reset;
            unsigned taken = virtio_console_queue_service(virtio_console_queue(&b.d, q), budget);

            check(taken <= budget, "took more chains than the budget");
            check(!was_broken || taken == 0, "a broken device took chains");
            check(b.d.stats.tx_truncated - truncated <= b.d.stats.tx_chains - chains,
                  "more truncated chains than chains");
            check(b.out_bytes == b.d.stats.tx_bytes, "out bytes and tx_bytes disagree");
            check(b.d.stats.tx_bytes <= b.d.stats.tx_chains * (uint64_t)VIRTIO_CONSOLE_CHAIN_MAX,
                  "more bytes out than the chains may carry");
            break;
        }
        case 6: { /* operator input, and the driver reaping */
            unsigned n = (unsigned)take(&in, 1);
            uint16_t id;
            uint32_t len;

            for (unsigned i = 0; i < n; i++)
                virtio_console_input(&b.d, (uint8_t)i);
            for (unsigned q = 0; q < VIRTIO_CONSOLE_QUEUES; q++)
                while (virtq_driver_take_used(&b.drv[q], &id, &len) > 0)
                    ;
            break;
        }
        case 7: /* reset, and the driver starts again */
            virtio_console_pci_ops.reset(&b.d);
            check(!b.d.needs_reset && !b.d.driver_ok, "state left over after a reset");
            for (unsigned q = 0; q < VIRTIO_CONSOLE_QUEUES; q++)
                check(!b.d.q[q].enabled && !b.d.q[q].running, "a queue still on after a reset");
            b.broken = 0;
            if (!start(&b))
                goto out;
            break;
        }
    }
out:
    free(b.mem_block);
    return 0;
}
