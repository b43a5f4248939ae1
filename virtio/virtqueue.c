/* SPDX-License-Identifier: MIT */
/*
 * The device side of a split virtqueue (virtio 1.x, 2.7). The ring lives in
 * guest memory and the guest may rewrite any of it at any moment, so shared
 * fields are touched only with single atomic loads and stores, every
 * descriptor is copied once into a local before it is looked at, and every
 * index, length and address is checked before it is used. The first
 * malformed chain breaks the queue for good (q->error says why): a device
 * cannot resynchronise with a driver that wrote garbage, it can only ask for
 * a reset. Pure code: also built for the host unit tests and the fuzzer.
 */
#include "virtio/virtqueue.h"

/* Offsets inside the available ring (flags, idx, ring[size], used_event)
 * and the used ring (flags, idx, ring[size] of {id, len}, avail_event). */

/* Bytes of each ring part for a queue of n entries (2.7 "Queue Part
 * sizes"); the event fields are counted whether negotiated or not. */
#define DESC_BYTES(n)  (16u * (n))
#define AVAIL_BYTES(n) (6u + 2u * (n))
#define USED_BYTES(n)  (6u + 8u * (n))

/* How far ahead of last_avail the avail_event sits while notifications are
 * off, and how close the driver may come before it is pushed away again. */
#define SUPPRESS_DISTANCE 0x8000u
#define SUPPRESS_REFRESH  0x4000u

static uint16_t load16(const uint8_t *p)
{
    return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
}

static void store16(uint8_t *p, uint16_t v)
{
    __atomic_store_n((uint16_t *)p, v, __ATOMIC_RELAXED);
}

static void store32(uint8_t *p, uint32_t v)
{
    __atomic_store_n((uint32_t *)p, v, __ATOMIC_RELAXED);
}

/* --- error messages: a tiny formatter, so this file needs nothing else -- */

struct errfmt {
    char *buf;
    unsigned len, cap;
};

static void err_str(struct errfmt *e, const char *s)
{
    while (*s && e->len + 1 < e->cap)
        e->buf[e->len++] = *s++;
    e->buf[e->len] = 0;
}

static void err_num(struct errfmt *e, uint64_t v, unsigned base)
{
    char tmp[24];
    unsigned n = 0;

    if (base == 16)
        err_str(e, "0x");
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (n && e->len + 1 < e->cap)
        e->buf[e->len++] = tmp[--n];
    e->buf[e->len] = 0;
}

static struct errfmt err_begin(struct virtq *q)
{
    struct errfmt e = {q->errbuf, 0, sizeof(q->errbuf)};

    e.buf[0] = 0;
    q->error = q->errbuf;
    return e;
}

/* "<what> <n>: <why>", the common shape of a broken-chain message. */
static void fail_at(struct virtq *q, const char *what, unsigned n, const char *why)
{
    struct errfmt e = err_begin(q);

    err_str(&e, what);
    err_str(&e, " ");
    err_num(&e, n, 10);
    err_str(&e, ": ");
    err_str(&e, why);
}

/* --- starting a queue ---------------------------------------------------- */

static bool ring_part(struct virtq *q, const char *name, uint64_t gpa, uint64_t bytes,
                      unsigned align, uint8_t **out)
{
    struct errfmt e;

    *out = vmem_ptr(q->mem, gpa, bytes);
    if (gpa % align == 0 && *out)
        return true;
    e = err_begin(q);
    err_str(&e, name);
    err_str(&e, " at ");
    err_num(&e, gpa, 16);
    err_str(&e, *out ? " is not aligned to " : " (");
    err_num(&e, *out ? align : bytes, 10);
    err_str(&e, *out ? "" : " bytes) outside guest memory");
    *out = NULL;
    return false;
}

bool virtq_start(struct virtq *q, const struct vmem *mem)
{
    uint16_t avail_idx;

    q->mem = mem;
    q->error = NULL;
    q->suppress_notify = false;
    if (q->size == 0 || q->size > VIRTQ_MAX_SIZE || (q->size & (q->size - 1))) {
        struct errfmt e = err_begin(q);

        err_str(&e, "queue size ");
        err_num(&e, q->size, 10);
        err_str(&e, " is not a power of two from 1 to ");
        err_num(&e, VIRTQ_MAX_SIZE, 10);
        return false;
    }
    if (!ring_part(q, "descriptor table", q->desc_gpa, DESC_BYTES(q->size), 16, &q->desc) ||
        !ring_part(q, "available ring", q->avail_gpa, AVAIL_BYTES(q->size), 2, &q->avail) ||
        !ring_part(q, "used ring", q->used_gpa, USED_BYTES(q->size), 4, &q->used))
        return false;

    /* Whatever sits between used->idx and avail->idx is pending work: a
     * driver may make buffers available before it sets DRIVER_OK, and a
     * restarted ring (no chain in flight) resumes where it stopped. */
    q->used_idx = load16(q->used + VQ_USED_IDX);
    q->used_published = q->used_idx;
    q->last_avail = q->used_idx;
    avail_idx = __atomic_load_n((const uint16_t *)(q->avail + VQ_AVAIL_IDX), __ATOMIC_ACQUIRE);
    if ((uint16_t)(avail_idx - q->last_avail) > q->size) {
        struct errfmt e = err_begin(q);

        err_str(&e, "avail->idx ");
        err_num(&e, avail_idx, 10);
        err_str(&e, " is more than the queue size ahead of used->idx ");
        err_num(&e, q->last_avail, 10);
        return false;
    }
    store16(q->used + VQ_USED_FLAGS, 0);
    if (q->event_idx) {
        q->avail_event = q->last_avail;
        store16(q->used + VQ_USED_RING + VQ_USED_ELEM * q->size, q->avail_event);
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return true;
}

/* --- taking chains ------------------------------------------------------- */

uint16_t virtq_avail_count(struct virtq *q)
{
    uint16_t idx, n;

    if (q->error)
        return 0;
    /* Acquire: the ring entries and descriptors the driver wrote before
     * this index are visible to the loads that follow. */
    idx = __atomic_load_n((const uint16_t *)(q->avail + VQ_AVAIL_IDX), __ATOMIC_ACQUIRE);
    n = (uint16_t)(idx - q->last_avail);
    if (n > q->size) {
        struct errfmt e = err_begin(q);

        err_str(&e, "avail->idx ");
        err_num(&e, idx, 10);
        err_str(&e, " is more than the queue size ahead of the device's ");
        err_num(&e, q->last_avail, 10);
        return 0;
    }
    return n;
}

/* One descriptor, read exactly once: the guest may change it right after. */
static struct virtq_desc desc_read(const uint8_t *p)
{
    struct virtq_desc d;
    uint64_t w0, w1;

    if (((uintptr_t)p & 7) == 0) {
        w0 = __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
        w1 = __atomic_load_n((const uint64_t *)(p + 8), __ATOMIC_RELAXED);
    } else {
        /* An indirect table need not be aligned. */
        const volatile uint8_t *v = p;

        w0 = w1 = 0;
        for (unsigned i = 0; i < 8; i++) {
            w0 |= (uint64_t)v[i] << (8 * i);
            w1 |= (uint64_t)v[8 + i] << (8 * i);
        }
    }
    d.addr = w0;
    d.len = (uint32_t)w1;
    d.flags = (uint16_t)(w1 >> 32);
    d.next = (uint16_t)(w1 >> 48);
    return d;
}

/* Adds one checked buffer to the chain. where/n name the descriptor in the
 * message ("descriptor 5", "indirect descriptor 3"). */
static bool chain_add(struct virtq *q, struct virtq_chain *c, const struct virtq_desc *d,
                      const char *where, unsigned n)
{
    bool write = d->flags & VIRTQ_DESC_F_WRITE;
    void *host;

    if (c->nbuf >= VIRTQ_MAX_CHAIN) {
        struct errfmt e = err_begin(q);

        err_str(&e, "chain at head ");
        err_num(&e, c->head, 10);
        err_str(&e, ": more than ");
        err_num(&e, VIRTQ_MAX_CHAIN, 10);
        err_str(&e, " buffers");
        return false;
    }
    if (d->len == 0) {
        fail_at(q, where, n, "zero-length buffer");
        return false;
    }
    host = vmem_ptr(q->mem, d->addr, d->len);
    if (!host) {
        struct errfmt e = err_begin(q);

        err_str(&e, where);
        err_str(&e, " ");
        err_num(&e, n, 10);
        err_str(&e, ": address ");
        err_num(&e, d->addr, 16);
        err_str(&e, " length ");
        err_num(&e, d->len, 10);
        err_str(&e, " outside guest memory");
        return false;
    }
    if (!write && c->nbuf > c->nread) {
        fail_at(q, where, n, "device-readable buffer after a device-writable one");
        return false;
    }
    c->buf[c->nbuf].gpa = d->addr;
    c->buf[c->nbuf].host = host;
    c->buf[c->nbuf].len = d->len;
    c->buf[c->nbuf].write = write;
    c->nbuf++;
    if (write)
        c->write_bytes += d->len;
    else {
        c->nread++;
        c->read_bytes += d->len;
    }
    return true;
}

/* Follows the indirect table d (already known to be the chain's last
 * descriptor, number n in the direct table). */
static bool chain_indirect(struct virtq *q, struct virtq_chain *c, const struct virtq_desc *d,
                           unsigned n)
{
    const uint8_t *table;
    uint32_t entries, i, walked;

    if (!q->indirect) {
        fail_at(q, "descriptor", n, "INDIRECT flag but indirect descriptors not negotiated");
        return false;
    }
    if (d->flags & VIRTQ_DESC_F_NEXT) {
        fail_at(q, "descriptor", n, "both INDIRECT and NEXT set");
        return false;
    }
    if (d->len == 0 || d->len % 16) {
        fail_at(q, "descriptor", n, "indirect table length not a non-zero multiple of 16");
        return false;
    }
    table = vmem_ptr(q->mem, d->addr, d->len);
    if (!table) {
        struct errfmt e = err_begin(q);

        err_str(&e, "descriptor ");
        err_num(&e, n, 10);
        err_str(&e, ": indirect table at ");
        err_num(&e, d->addr, 16);
        err_str(&e, " length ");
        err_num(&e, d->len, 10);
        err_str(&e, " outside guest memory");
        return false;
    }
    entries = d->len / 16;
    /* chain_add() bounds the total; walked bounds a loop inside a table
     * shorter than that. */
    for (i = 0, walked = 0;; walked++) {
        struct virtq_desc e;

        if (walked >= entries) {
            fail_at(q, "indirect table of descriptor", n, "chain loops");
            return false;
        }
        e = desc_read(table + 16 * i);
        if (e.flags & VIRTQ_DESC_F_INDIRECT) {
            fail_at(q, "indirect descriptor", i, "INDIRECT inside an indirect table");
            return false;
        }
        if (!chain_add(q, c, &e, "indirect descriptor", i))
            return false;
        if (!(e.flags & VIRTQ_DESC_F_NEXT))
            return true;
        if (e.next >= entries) {
            fail_at(q, "indirect descriptor", i, "next beyond the indirect table");
            return false;
        }
        i = e.next;
    }
}

int virtq_pop(struct virtq *q, struct virtq_chain *c)
{
    uint16_t slot, head, i;
    unsigned walked, max_direct;

    if (q->error)
        return -1;
    if (virtq_avail_count(q) == 0)
        return q->error ? -1 : 0;

    slot = q->last_avail & (q->size - 1);
    head = load16(q->avail + VQ_AVAIL_RING + 2 * slot);
    if (head >= q->size) {
        struct errfmt e = err_begin(q);

        err_str(&e, "available ring slot ");
        err_num(&e, slot, 10);
        err_str(&e, ": head ");
        err_num(&e, head, 10);
        err_str(&e, " beyond the queue size ");
        err_num(&e, q->size, 10);
        return -1;
    }
    c->head = head;
    c->nbuf = c->nread = 0;
    c->read_bytes = c->write_bytes = 0;

    max_direct = q->size < VIRTQ_MAX_CHAIN ? q->size : VIRTQ_MAX_CHAIN;
    for (i = head, walked = 0;; walked++) {
        struct virtq_desc d;

        if (walked >= max_direct) {
            fail_at(q, "chain at head", head, "too long or loops");
            return -1;
        }
        d = desc_read(q->desc + 16 * i);
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            if (!chain_indirect(q, c, &d, i))
                return -1;
            break;
        }
        if (!chain_add(q, c, &d, "descriptor", i))
            return -1;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            break;
        if (d.next >= q->size) {
            fail_at(q, "descriptor", i, "next beyond the queue size");
            return -1;
        }
        i = d.next;
    }

    q->last_avail++;
    if (q->event_idx) {
        uint8_t *avail_event = q->used + VQ_USED_RING + VQ_USED_ELEM * q->size;

        if (!q->suppress_notify) {
            /* Trap mode: the next chain the driver adds is the one we
             * want to hear about. The fence orders this store before the
             * caller's next look at avail->idx (the driver does the
             * mirror image: store avail->idx, fence, load avail_event). */
            q->avail_event = q->last_avail;
            store16(avail_event, q->avail_event);
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
        } else if ((uint16_t)(q->avail_event - q->last_avail) < SUPPRESS_REFRESH) {
            q->avail_event = q->last_avail + SUPPRESS_DISTANCE;
            store16(avail_event, q->avail_event);
        }
    }
    return 1;
}

/* --- returning chains ---------------------------------------------------- */

void virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
    uint8_t *elem;

    if (q->error)
        return;
    elem = q->used + VQ_USED_RING + VQ_USED_ELEM * (q->used_idx & (q->size - 1));
    store32(elem, head);
    store32(elem + 4, written);
    q->used_idx++;
}

/* The driver wants an event when the index moved from old to new past
 * event, i.e. event lies in [old, new) modulo 2^16 (2.7.7.2, 2.7.10). */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

bool virtq_publish(struct virtq *q)
{
    uint16_t old = q->used_published;

    if (q->error || q->used_idx == old)
        return false;
    /* Release: the used elements (and the data the device wrote into the
     * buffers) are visible before the index that hands them over. */
    __atomic_store_n((uint16_t *)(q->used + VQ_USED_IDX), q->used_idx, __ATOMIC_RELEASE);
    q->used_published = q->used_idx;
    /* The index store must be visible before we read the driver's wish:
     * the driver stores used_event, fences, then rereads used->idx. With
     * only a release here, both sides could miss each other. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (q->event_idx) {
        /* Entries old .. new-1 were written by this publish; the driver
         * asked for an interrupt when the entry at used_event is. */
        uint16_t used_event = load16(q->avail + VQ_AVAIL_RING + 2 * q->size);

        return need_event(used_event, q->used_idx, old);
    }
    return !(load16(q->avail + VQ_AVAIL_FLAGS) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* --- notification suppression -------------------------------------------- */

void virtq_set_notify(struct virtq *q, bool enabled)
{
    if (q->error)
        return;
    q->suppress_notify = !enabled;
    if (q->event_idx) {
        /* On: notify when the chain at last_avail is added. Off: put the
         * event half the index space ahead, where the driver (never more
         * than size ahead of us) cannot reach it; virtq_pop keeps it
         * there as last_avail advances. */
        q->avail_event = enabled ? q->last_avail : (uint16_t)(q->last_avail + SUPPRESS_DISTANCE);
        store16(q->used + VQ_USED_RING + VQ_USED_ELEM * q->size, q->avail_event);
    } else {
        store16(q->used + VQ_USED_FLAGS, enabled ? 0 : VIRTQ_USED_F_NO_NOTIFY);
    }
    if (enabled)
        __atomic_thread_fence(__ATOMIC_SEQ_CST); /* before the caller's look at the ring */
}
