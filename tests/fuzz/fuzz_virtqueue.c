/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the device side of a split virtqueue. The input is a
 * header choosing the queue size, negotiated features and the three ring
 * addresses, a script of device operations (start, pop, push, publish,
 * notify on/off, plus "the guest writes" steps that move avail->idx or
 * scribble on memory between operations), and then guest memory itself,
 * holding whatever ring the fuzzer made. Memory is a block of exactly that
 * size, so the sanitizers catch any access outside it. Besides that, the
 * target aborts when a promise of virtqueue.h breaks: a popped buffer not
 * inside guest memory or empty, readable buffers after writable ones, byte
 * counts that do not add up, a head beyond the ring, a broken queue that
 * pops again. Every operation is bounded, so a hang is a bug too.
 * fuzz-sources: virtio/virtqueue.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "virtio/virtqueue.h"

#define HEADER_BYTES 9
#define SCRIPT_BYTES 32
#define MAX_STEPS    512

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void check_chain(const struct virtq *q, const struct vmem *mem, const struct virtq_chain *c)
{
    uint64_t rd = 0, wr = 0;

    check(c->head < q->size, "head beyond the ring");
    check(c->nbuf >= 1 && c->nbuf <= VIRTQ_MAX_CHAIN, "buffer count");
    check(c->nread <= c->nbuf, "nread beyond nbuf");
    for (unsigned k = 0; k < c->nbuf; k++) {
        const struct virtq_buf *b = &c->buf[k];
        uint8_t *host = b->host;

        check(b->len > 0, "empty buffer");
        check(b->gpa < mem->size && b->len <= mem->size - b->gpa, "buffer outside guest memory");
        check(host == mem->base + b->gpa, "host pointer does not match the address");
        check(b->write == (k >= c->nread), "readable buffer after a writable one");
        if (b->write) {
            wr += b->len;
            host[0] = 0xa5; /* touch both ends: ASan checks them */
            host[b->len - 1] = 0x5a;
        } else {
            rd += b->len;
            (void)*(volatile uint8_t *)host;
            (void)*(volatile uint8_t *)(host + b->len - 1);
        }
    }
    check(rd == c->read_bytes && wr == c->write_bytes, "byte counts");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct virtq_chain chain;
    struct virtq q;
    struct vmem mem;
    uint16_t pending[VIRTQ_MAX_SIZE];
    unsigned npending = 0, steps;
    const uint8_t *script;
    bool started;

    if (size < HEADER_BYTES + SCRIPT_BYTES)
        return 0;
    memset(&q, 0, sizeof(q));
    /* Mostly powers of two; sometimes anything, to test the refusal. */
    q.size = data[0] & 0x80 ? data[0] & 0x7f : 1u << (data[0] % 10);
    q.event_idx = data[1] & 1;
    q.indirect = data[1] & 2;
    q.desc_gpa = le16(data + 2);
    q.avail_gpa = le16(data + 4);
    q.used_gpa = le16(data + 6);
    if (data[1] & 4) /* far outside memory, and near 2^64 */
        q.used_gpa |= 0xffffffffffff0000ull;
    steps = 1 + data[8] * 2;
    script = data + HEADER_BYTES;

    /* Guest memory: exactly the rest of the input, in its own allocation. */
    mem.size = size - HEADER_BYTES - SCRIPT_BYTES;
    mem.base = malloc(mem.size ? mem.size : 1);
    if (!mem.base)
        return 0;
    memcpy(mem.base, data + HEADER_BYTES + SCRIPT_BYTES, mem.size);

    started = virtq_start(&q, &mem);
    check(started == (q.error == NULL), "start result and error disagree");
    if (!started)
        goto out;

    for (unsigned s = 0; s < steps && s < MAX_STEPS; s++) {
        uint8_t op = script[s % SCRIPT_BYTES];
        unsigned arg = op >> 3;
        bool was_broken = q.error != NULL;
        int r;

        switch (op & 7) {
        case 0:
        case 1:
            r = virtq_pop(&q, &chain);
            check(r >= -1 && r <= 1, "pop result");
            check((r == -1) == (q.error != NULL), "pop result and error disagree");
            check(!was_broken || r == -1, "broken queue popped again");
            if (r == 1) {
                check_chain(&q, &mem, &chain);
                if (npending < VIRTQ_MAX_SIZE)
                    pending[npending++] = chain.head;
            }
            break;
        case 2:
            if (npending) {
                virtq_push(&q, pending[0], arg * 977u);
                memmove(pending, pending + 1, --npending * sizeof(pending[0]));
            }
            break;
        case 3: (void)virtq_publish(&q); break;
        case 4: virtq_set_notify(&q, arg & 1); break;
        case 5: {
            /* The driver makes more chains available (any amount). */
            uint64_t at = q.avail_gpa + 2;
            if (at + 2 <= mem.size) {
                uint16_t idx = le16(mem.base + at) + (uint16_t)(arg % 5);
                mem.base[at] = (uint8_t)idx;
                mem.base[at + 1] = (uint8_t)(idx >> 8);
            }
            break;
        }
        case 6:
            /* The guest scribbles anywhere. */
            if (mem.size)
                mem.base[(s * 7919u + arg * 131u) % mem.size] ^= (uint8_t)(arg | 1);
            break;
        case 7:
            if (arg == 0) { /* a restart, as after a reset */
                npending = 0;
                started = virtq_start(&q, &mem);
                check(started == (q.error == NULL), "restart result and error disagree");
            } else {
                (void)virtq_avail_count(&q);
                check(!was_broken || q.error != NULL, "broken queue healed");
            }
            break;
        }
        check(!was_broken || q.error != NULL || ((op & 7) == 7 && arg == 0),
              "a broken queue healed itself");
    }
out:
    free(mem.base);
    return 0;
}
