/* SPDX-License-Identifier: MIT */
/*
 * The driver side of a split virtqueue (see virtq_driver.h). The ring layout
 * is the one virtio 1.x allows with separate part addresses: descriptor
 * table (16-byte aligned), available ring right after it (2-byte aligned,
 * which a table of 16-byte entries guarantees), used ring at the next
 * 4-byte boundary. Fields the device reads are written with atomic stores
 * and avail->idx with release semantics; fields the device writes are read
 * with atomic loads and checked. Pure code, built for the host tests too.
 */
#include "virtio/virtq_driver.h"

/* Where used_event goes while interrupts are off: as far from the
 * device's position as the 16-bit index allows. */
#define INTERRUPT_OFF_DISTANCE 0x8000u

static uint64_t avail_offset(uint16_t size)
{
    return 16u * (uint64_t)size;
}

static uint64_t used_offset(uint16_t size)
{
    return (avail_offset(size) + 6u + 2u * size + 3u) & ~3ull;
}

uint64_t virtq_driver_ring_bytes(uint16_t size)
{
    return used_offset(size) + 6u + 8u * size;
}

static uint16_t load16(const uint8_t *p)
{
    return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
}

static uint32_t load32(const uint8_t *p)
{
    return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
}

static void store16(uint8_t *p, uint16_t v)
{
    __atomic_store_n((uint16_t *)p, v, __ATOMIC_RELAXED);
}

/* One descriptor, as the device will read it (little-endian, 16 bytes). */
static void desc_write(uint8_t *p, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    __atomic_store_n((uint64_t *)p, addr, __ATOMIC_RELAXED);
    __atomic_store_n((uint64_t *)(p + 8), len | (uint64_t)flags << 32 | (uint64_t)next << 48,
                     __ATOMIC_RELAXED);
}

bool virtq_driver_init(struct virtq_driver *d, const struct vmem *mem, uint64_t gpa, uint16_t size,
                       bool event_idx, uint16_t first_idx)
{
    uint8_t *base;
    uint64_t bytes = virtq_driver_ring_bytes(size);

    if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)) || gpa % 16)
        return false;
    base = vmem_ptr(mem, gpa, bytes);
    if (!base)
        return false;
    for (uint64_t i = 0; i < bytes; i++)
        base[i] = 0;

    d->mem = mem;
    d->size = size;
    d->event_idx = event_idx;
    d->desc_gpa = gpa;
    d->avail_gpa = gpa + avail_offset(size);
    d->used_gpa = gpa + used_offset(size);
    d->desc = base;
    d->avail = base + avail_offset(size);
    d->used = base + used_offset(size);
    d->avail_idx = d->kick_idx = d->last_used = first_idx;
    store16(d->avail + VQ_AVAIL_IDX, first_idx);
    store16(d->used + VQ_USED_IDX, first_idx);
    /* Interrupts on: with EVENT_IDX, for the first entry to come. */
    store16(d->avail + VQ_AVAIL_RING + 2u * size, first_idx);
    store16(d->used + VQ_USED_RING + VQ_USED_ELEM * size, first_idx);

    d->free_head = 0;
    d->num_free = size;
    for (uint16_t i = 0; i < size; i++) {
        d->next_free[i] = i + 1;
        d->chain_len[i] = 0;
    }
    d->error = NULL;
    return true;
}

/* Takes n descriptors off the free list; they stay linked through
 * next_free[] in the order returned. */
static int desc_alloc(struct virtq_driver *d, unsigned n)
{
    uint16_t head = d->free_head, i = head;

    if (n == 0 || n > d->num_free)
        return -1;
    for (unsigned k = 0; k < n; k++)
        i = d->next_free[i];
    /* i walked n links: the new free head, or size if none is left. */
    d->free_head = i;
    d->num_free -= n;
    d->chain_len[head] = n;
    return head;
}

void virtq_driver_post(struct virtq_driver *d, uint16_t head)
{
    store16(d->avail + VQ_AVAIL_RING + 2u * (d->avail_idx & (d->size - 1)), head);
    d->avail_idx++;
    /* Release: the descriptors and the ring entry are visible first. */
    __atomic_store_n((uint16_t *)(d->avail + VQ_AVAIL_IDX), d->avail_idx, __ATOMIC_RELEASE);
}

int virtq_driver_add(struct virtq_driver *d, const struct virtq_sg *sg, unsigned nread,
                     unsigned nwrite)
{
    unsigned n = nread + nwrite;
    int head;
    uint16_t i;

    if (d->error || n > d->size)
        return -1;
    head = desc_alloc(d, n);
    if (head < 0)
        return -1;
    i = (uint16_t)head;
    for (unsigned k = 0; k < n; k++) {
        uint16_t flags = k < nread ? 0 : VIRTQ_DESC_F_WRITE;
        uint16_t next = d->next_free[i];

        if (k + 1 < n)
            flags |= VIRTQ_DESC_F_NEXT;
        else
            next = 0;
        desc_write(d->desc + 16u * i, sg[k].gpa, sg[k].len, flags, next);
        i = d->next_free[i];
    }
    virtq_driver_post(d, (uint16_t)head);
    return head;
}

int virtq_driver_add_indirect(struct virtq_driver *d, const struct virtq_sg *sg, unsigned nread,
                              unsigned nwrite, uint64_t table_gpa)
{
    unsigned n = nread + nwrite;
    uint8_t *table;
    int head;

    if (d->error || n == 0 || n > VIRTQ_MAX_CHAIN || table_gpa % 16)
        return -1;
    table = vmem_ptr(d->mem, table_gpa, 16u * n);
    if (!table)
        return -1;
    head = desc_alloc(d, 1);
    if (head < 0)
        return -1;
    for (unsigned k = 0; k < n; k++) {
        uint16_t flags = k < nread ? 0 : VIRTQ_DESC_F_WRITE;

        if (k + 1 < n)
            flags |= VIRTQ_DESC_F_NEXT;
        desc_write(table + 16u * k, sg[k].gpa, sg[k].len, flags, k + 1 < n ? k + 1 : 0);
    }
    desc_write(d->desc + 16u * head, table_gpa, 16u * n, VIRTQ_DESC_F_INDIRECT, 0);
    virtq_driver_post(d, (uint16_t)head);
    return head;
}

/* The other side wants an event when the index moved from old to new past
 * event, i.e. event lies in [old, new) modulo 2^16. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

bool virtq_driver_kick_needed(struct virtq_driver *d)
{
    uint16_t old = d->kick_idx;

    d->kick_idx = d->avail_idx;
    /* avail->idx must be visible before we read the device's wish, or a
     * device turning notifications on just now could miss our chains. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (d->event_idx)
        return need_event(load16(d->used + VQ_USED_RING + VQ_USED_ELEM * d->size), d->avail_idx,
                          old);
    return !(load16(d->used + VQ_USED_FLAGS) & VIRTQ_USED_F_NO_NOTIFY);
}

static int driver_fail(struct virtq_driver *d, const char *why)
{
    d->error = why;
    return -1;
}

int virtq_driver_take_used(struct virtq_driver *d, uint16_t *id, uint32_t *len)
{
    uint16_t used_idx, head, tail;
    const uint8_t *elem;
    uint32_t raw_id;

    if (d->error)
        return -1;
    /* Acquire: the entry (and the data the device wrote) after the index. */
    used_idx = __atomic_load_n((const uint16_t *)(d->used + VQ_USED_IDX), __ATOMIC_ACQUIRE);
    if (used_idx == d->last_used)
        return 0;
    if ((uint16_t)(used_idx - d->last_used) > virtq_driver_in_flight(d))
        return driver_fail(d, "used->idx ahead of the chains in flight");
    elem = d->used + VQ_USED_RING + VQ_USED_ELEM * (d->last_used & (d->size - 1));
    raw_id = load32(elem);
    if (raw_id >= d->size || d->chain_len[raw_id] == 0)
        return driver_fail(d, "used entry names a descriptor that is not in flight");
    head = (uint16_t)raw_id;
    *id = head;
    *len = load32(elem + 4);
    d->last_used++;

    /* The chain is still linked through next_free[]: splice it back. */
    tail = head;
    for (unsigned k = 1; k < d->chain_len[head]; k++)
        tail = d->next_free[tail];
    d->next_free[tail] = d->free_head;
    d->free_head = head;
    d->num_free += d->chain_len[head];
    d->chain_len[head] = 0;
    return 1;
}

bool virtq_driver_set_interrupt(struct virtq_driver *d, bool enabled)
{
    if (d->event_idx)
        store16(d->avail + VQ_AVAIL_RING + 2u * d->size,
                enabled ? d->last_used : (uint16_t)(d->last_used + INTERRUPT_OFF_DISTANCE));
    else
        store16(d->avail + VQ_AVAIL_FLAGS, enabled ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT);
    if (!enabled)
        return false;
    /* Our wish must be visible before we look at used->idx: the device
     * stores used->idx, fences, then reads it. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return __atomic_load_n((const uint16_t *)(d->used + VQ_USED_IDX), __ATOMIC_ACQUIRE) !=
           d->last_used;
}

void virtq_driver_interrupt_at(struct virtq_driver *d, uint16_t idx)
{
    store16(d->avail + VQ_AVAIL_RING + 2u * d->size, idx);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
