/* SPDX-License-Identifier: MIT */
/*
 * The console's message ring (msg_ring.h). Each record is an 8-byte header
 * followed by the message, padded to 8 bytes; a header is never split by the
 * wrap because the size is a multiple of 8, but a message may be. The header
 * word is 0 while the producer copies and becomes len | MSG_COMMITTED when it
 * is done. The consumer zeroes every record it takes before it releases the
 * space, so whatever header position a later record lands on reads 0 until
 * that record is published, whatever bytes (a guest's, say) were there before.
 */
#include "kernel/console/msg_ring.h"

#include "kernel/lib/string.h"

#define MSG_HDR       8u
#define MSG_COMMITTED 0x80000000u

static uint32_t record_size(uint32_t len)
{
    return (MSG_HDR + len + 7u) & ~7u;
}

void msg_ring_init(struct msg_ring *r, void *buf, uint32_t size)
{
    r->buf = buf;
    r->size = size;
    r->head = r->tail = 0;
    r->dropped = r->dropped_shown = 0;
}

static uint32_t *header_at(const struct msg_ring *r, uint64_t pos)
{
    return (uint32_t *)(void *)(r->buf + (pos & (r->size - 1)));
}

/* Copies n bytes to or from the ring at stream position pos, across the
 * wrap. */
static void copy_in(struct msg_ring *r, uint64_t pos, const void *src, uint32_t n)
{
    uint32_t at = (uint32_t)(pos & (r->size - 1));
    uint32_t first = n < r->size - at ? n : r->size - at;

    memcpy(r->buf + at, src, first);
    memcpy(r->buf, (const uint8_t *)src + first, n - first);
}

static void copy_out(const struct msg_ring *r, uint64_t pos, void *dst, uint32_t n)
{
    uint32_t at = (uint32_t)(pos & (r->size - 1));
    uint32_t first = n < r->size - at ? n : r->size - at;

    memcpy(dst, r->buf + at, first);
    memcpy((uint8_t *)dst + first, r->buf, n - first);
}

static void zero_range(struct msg_ring *r, uint64_t pos, uint32_t n)
{
    uint32_t at = (uint32_t)(pos & (r->size - 1));
    uint32_t first = n < r->size - at ? n : r->size - at;

    memset(r->buf + at, 0, first);
    memset(r->buf, 0, n - first);
}

bool msg_ring_put(struct msg_ring *r, const char *s, size_t n)
{
    uint32_t len = n > MSG_RING_MSG_MAX ? MSG_RING_MSG_MAX : (uint32_t)n;
    uint32_t need = record_size(len);
    uint64_t head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);

    for (;;) {
        /* Acquire: the consumer zeroed the space before it moved tail. */
        uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
        if (need > r->size || head + need - tail > r->size) {
            __atomic_fetch_add(&r->dropped, 1, __ATOMIC_RELAXED);
            return false;
        }
        if (__atomic_compare_exchange_n(&r->head, &head, head + need, true, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            break;
    }
    copy_in(r, head + MSG_HDR, s, len);
    __atomic_store_n(header_at(r, head), len | MSG_COMMITTED, __ATOMIC_RELEASE);
    return true;
}

int msg_ring_get(struct msg_ring *r, char *out, size_t cap)
{
    uint64_t tail = r->tail;

    if (tail == __atomic_load_n(&r->head, __ATOMIC_ACQUIRE))
        return -1;
    uint32_t hdr = __atomic_load_n(header_at(r, tail), __ATOMIC_ACQUIRE);
    if (!(hdr & MSG_COMMITTED))
        return -1;
    uint32_t len = hdr & ~MSG_COMMITTED;
    uint32_t need = record_size(len);
    uint32_t copy = len < cap ? len : (uint32_t)cap;

    copy_out(r, tail + MSG_HDR, out, copy);
    zero_range(r, tail, need);
    __atomic_store_n(&r->tail, tail + need, __ATOMIC_RELEASE);
    return (int)copy;
}

bool msg_ring_ready(const struct msg_ring *r)
{
    uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

    if (tail == __atomic_load_n(&r->head, __ATOMIC_ACQUIRE))
        return false;
    return __atomic_load_n(header_at(r, tail), __ATOMIC_ACQUIRE) & MSG_COMMITTED;
}

bool msg_ring_pending(const struct msg_ring *r)
{
    return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) !=
           __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
}

uint64_t msg_ring_take_dropped(struct msg_ring *r)
{
    uint64_t d = __atomic_load_n(&r->dropped, __ATOMIC_RELAXED);
    uint64_t n = d - r->dropped_shown;

    r->dropped_shown = d;
    return n;
}
