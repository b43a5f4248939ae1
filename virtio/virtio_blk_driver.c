/* SPDX-License-Identifier: MIT */
/*
 * The virtio-blk driver (virtio_blk_driver.h). The driver area is laid out
 * as: the ring (virtq_driver), then one 32-byte request block per slot
 * (header at 0, status byte at 16), then with indirect descriptors one
 * table of MAX_SEGS + 2 descriptors per slot. A slot is a request in
 * flight; the ring's head of its chain maps back to it, so completions may
 * come in any order. The status byte is set to S_NONE before a request is
 * handed over, so a completion the device never wrote a status for is seen
 * as such rather than as whatever the byte held before.
 */
#include "virtio/virtio_blk_driver.h"

#include "virtio/virtio_blk.h"
#include "virtio/virtio_pci.h"

#define REQ_BYTES   32u
#define STATUS_OFF  16u
#define TABLE_DESCS (VIRTIO_BLK_DRIVER_MAX_SEGS + 2u)
#define TABLE_BYTES (16u * TABLE_DESCS)
#define ALIGN16(x)  (((x) + 15u) & ~(uint64_t)15u)

uint64_t virtio_blk_driver_features(uint64_t offered)
{
    return (1ull << VIRTIO_F_VERSION_1) | (offered & (1ull << VIRTIO_F_RING_INDIRECT_DESC));
}

static uint64_t req_offset(uint16_t size)
{
    return ALIGN16(virtq_driver_ring_bytes(size));
}

static uint64_t table_offset(uint16_t size)
{
    return req_offset(size) + (uint64_t)REQ_BYTES * size;
}

uint64_t virtio_blk_driver_area_bytes(uint16_t queue_size, bool indirect)
{
    return table_offset(queue_size) + (indirect ? (uint64_t)TABLE_BYTES * queue_size : 0);
}

bool virtio_blk_driver_init(struct virtio_blk_driver *d, const struct vmem *mem, uint64_t area_gpa,
                            uint16_t queue_size, bool indirect)
{
    if (queue_size == 0 || queue_size > VIRTQ_MAX_SIZE || (queue_size & (queue_size - 1)) ||
        area_gpa % 16 ||
        !vmem_ptr(mem, area_gpa, virtio_blk_driver_area_bytes(queue_size, indirect)))
        return false;
    if (!virtq_driver_init(&d->vq, mem, area_gpa, queue_size, false, 0))
        return false;
    d->mem = mem;
    d->indirect = indirect;
    d->req_gpa = area_gpa + req_offset(queue_size);
    d->table_gpa = area_gpa + table_offset(queue_size);
    d->inflight = 0;
    d->free_count = queue_size;
    for (uint16_t i = 0; i < queue_size; i++) {
        d->free_slot[i] = (uint16_t)(queue_size - 1 - i);
        d->slot[i] = (struct virtio_blk_driver_slot){0};
    }
    d->error = NULL;
    /* Both sides poll: no interrupts wanted. */
    virtq_driver_set_interrupt(&d->vq, false);
    return true;
}

void virtio_blk_driver_queue_config(const struct virtio_blk_driver *d, struct virtq *vq)
{
    vq->size = d->vq.size;
    vq->desc_gpa = d->vq.desc_gpa;
    vq->avail_gpa = d->vq.avail_gpa;
    vq->used_gpa = d->vq.used_gpa;
    vq->event_idx = false;
    vq->indirect = d->indirect;
}

static void store_le(uint8_t *p, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static bool data_from_device(uint32_t type)
{
    return type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
}

int virtio_blk_driver_submit(struct virtio_blk_driver *d, uint32_t type, uint64_t sector,
                             const struct virtq_sg *data, unsigned nseg, void *cookie)
{
    struct virtq_sg sg[TABLE_DESCS];
    unsigned n = 0;
    uint16_t s;
    uint8_t *req;
    int head;

    if (d->error || d->vq.error)
        return VIRTIO_BLK_DRIVER_EBROKEN;
    if (nseg > VIRTIO_BLK_DRIVER_MAX_SEGS || (type == VIRTIO_BLK_T_FLUSH && nseg))
        return VIRTIO_BLK_DRIVER_EINVAL;
    if (!d->indirect && nseg + 2 > d->vq.size)
        return VIRTIO_BLK_DRIVER_EINVAL; /* could never fit */
    for (unsigned i = 0; i < nseg; i++)
        if (data[i].len == 0 || !vmem_ptr(d->mem, data[i].gpa, data[i].len))
            return VIRTIO_BLK_DRIVER_EINVAL; /* the device would break on it */
    if (d->free_count == 0)
        return VIRTIO_BLK_DRIVER_EBUSY;
    s = d->free_slot[d->free_count - 1];
    req = vmem_ptr(d->mem, d->req_gpa + (uint64_t)REQ_BYTES * s, REQ_BYTES);
    store_le(req, type, 4);
    store_le(req + 4, 0, 4);
    store_le(req + 8, sector, 8);
    __atomic_store_n(req + STATUS_OFF, (uint8_t)VIRTIO_BLK_DRIVER_S_NONE, __ATOMIC_RELAXED);

    sg[n++] = (struct virtq_sg){d->req_gpa + (uint64_t)REQ_BYTES * s, 16};
    for (unsigned i = 0; i < nseg; i++)
        sg[n++] = data[i];
    sg[n++] = (struct virtq_sg){d->req_gpa + (uint64_t)REQ_BYTES * s + STATUS_OFF, 1};
    /* Readable first: the header, and the data of a write. */
    unsigned nread = data_from_device(type) ? 1 : n - 1;

    if (d->indirect)
        head = virtq_driver_add_indirect(&d->vq, sg, nread, n - nread,
                                         d->table_gpa + (uint64_t)TABLE_BYTES * s);
    else
        head = virtq_driver_add(&d->vq, sg, nread, n - nread);
    if (head < 0)
        return d->vq.error ? VIRTIO_BLK_DRIVER_EBROKEN : VIRTIO_BLK_DRIVER_EBUSY;
    d->free_count--;
    d->slot[s] = (struct virtio_blk_driver_slot){.cookie = cookie, .type = type, .busy = true};
    d->slot_of_head[head] = s;
    d->inflight++;
    return VIRTIO_BLK_DRIVER_OK;
}

int virtio_blk_driver_read(struct virtio_blk_driver *d, uint64_t sector, uint64_t gpa, uint32_t len,
                           void *cookie)
{
    struct virtq_sg sg = {gpa, len};

    return virtio_blk_driver_submit(d, VIRTIO_BLK_T_IN, sector, &sg, 1, cookie);
}

int virtio_blk_driver_write(struct virtio_blk_driver *d, uint64_t sector, uint64_t gpa,
                            uint32_t len, void *cookie)
{
    struct virtq_sg sg = {gpa, len};

    return virtio_blk_driver_submit(d, VIRTIO_BLK_T_OUT, sector, &sg, 1, cookie);
}

int virtio_blk_driver_flush(struct virtio_blk_driver *d, void *cookie)
{
    return virtio_blk_driver_submit(d, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, cookie);
}

bool virtio_blk_driver_kick_needed(struct virtio_blk_driver *d)
{
    return virtq_driver_kick_needed(&d->vq);
}

int virtio_blk_driver_reap(struct virtio_blk_driver *d, struct virtio_blk_completion *c)
{
    uint16_t head, s;
    uint32_t len;
    int r;

    if (d->error)
        return -1;
    r = virtq_driver_take_used(&d->vq, &head, &len);
    if (r < 0) {
        d->error = d->vq.error;
        return -1;
    }
    if (r == 0)
        return 0;
    /* virtq_driver only hands back heads in flight, and each of those was
     * mapped at submit. */
    s = d->slot_of_head[head];
    if (s >= d->vq.size || !d->slot[s].busy) {
        d->error = "used entry for a request that is not in flight";
        return -1;
    }
    c->cookie = d->slot[s].cookie;
    c->type = d->slot[s].type;
    c->written = len;
    /* take_used's acquire load of used->idx ordered this after the
     * device's status store. */
    c->status = __atomic_load_n(
        (uint8_t *)vmem_ptr(d->mem, d->req_gpa + (uint64_t)REQ_BYTES * s + STATUS_OFF, 1),
        __ATOMIC_RELAXED);
    d->slot[s].busy = false;
    d->free_slot[d->free_count++] = s;
    d->inflight--;
    return 1;
}
