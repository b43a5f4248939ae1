/* SPDX-License-Identifier: MIT */
/*
 * The virtio-blk device: turning descriptor chains into block-backend
 * requests and backend completions into used-ring entries, plus what the
 * virtio-pci transport asks of a device (configuration space, queue enable,
 * DRIVER_OK, reset, trapped notifications).
 *
 * Requests are parsed without assuming a layout (ANY_LAYOUT is implied by
 * VERSION_1): the 16-byte header is the first 16 device-readable bytes
 * wherever the descriptors cut them, the status byte is the last
 * device-writable byte, and the data is whatever lies between, handed to the
 * backend as host-physical segments of the guest's own buffers (zero copy).
 * A READ/WRITE longer than the backend's max_transfer is split into several
 * backend requests; the chain completes when the last one does, with the
 * first failure as its status.
 *
 * A guest mistake in one request's *contents* (a sector past the end, an
 * odd length, an unknown type) fails that request with IOERR or UNSUPP. A
 * mistake in its *shape* (no status byte, a short header, data the device
 * would have to write into a device-readable buffer or the reverse, more
 * segments than seg_max) or a ring virtq_pop() refuses means the driver
 * and the device no longer agree, so the whole device goes to NEEDS_RESET.
 *
 * The queue ownership handshake. A queue is serviced by one CPU (its
 * sidecore, or the notifying vCPU under the queue's lock), while a reset
 * arrives on whichever vCPU writes the status register. Each side announces
 * itself, then looks at the other, with a full fence between (Dekker):
 *   service:  busy = 1;    fence; if (!running) { busy = 0; return; } ...work...; busy = 0
 *   reset:    running = 0; fence; while (busy) pause;
 * With both fences sequentially consistent at least one side sees the
 * other's store: either the servicer sees running == 0 and backs off, or the
 * resetter sees busy == 1 and waits until the work is over. After the loop
 * the resetter owns the queue; the servicer will back off until queue
 * enable and DRIVER_OK set running again (with a release store, after the
 * queue's state is ready).
 */
#include "virtio/virtio_blk.h"
#include "virtio/virtio_device.h"

#include <stdarg.h>

#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"

static void store_le(uint8_t *p, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t load_le(const uint8_t *p, unsigned bytes)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline void cpu_pause(void)
{
    __builtin_ia32_pause();
}

/* --- breaking the device ------------------------------------------------- */

/* NEEDS_RESET, once per device however many queues find trouble at once:
 * the first one writes the message and tells the transport. */
static void __attribute__((format(printf, 2, 3)))
blk_break(struct virtio_blk *d, const char *fmt, ...)
{
    va_list ap;

    if (!virtio_device_break_first(&d->needs_reset))
        return;
    va_start(ap, fmt);
    virtio_device_error(d->error, sizeof(d->error), d->p.name ? d->p.name : "virtio-blk", fmt, ap);
    va_end(ap);
    d->p.broken(d->p.ctx);
}

static bool blk_broken(const struct virtio_blk *d)
{
    return __atomic_load_n(&d->needs_reset, __ATOMIC_ACQUIRE);
}

/* --- slots --------------------------------------------------------------- */

static void slots_reset(struct virtio_blk_queue *q)
{
    q->free_count = VIRTIO_BLK_QUEUE_SIZE;
    for (unsigned i = 0; i < VIRTIO_BLK_QUEUE_SIZE; i++) {
        q->free_list[i] = (uint16_t)(VIRTIO_BLK_QUEUE_SIZE - 1 - i);
        memset(&q->slots[i], 0, sizeof(q->slots[i]));
    }
    q->pending = NULL;
}

static struct virtio_blk_slot *slot_alloc(struct virtio_blk_queue *q)
{
    struct virtio_blk_slot *s = &q->slots[q->free_list[--q->free_count]];

    memset(s, 0, sizeof(*s));
    s->used = true;
    q->stats.inflight++;
    return s;
}

static void slot_free(struct virtio_blk_queue *q, struct virtio_blk_slot *s)
{
    s->used = false;
    q->free_list[q->free_count++] = (uint16_t)(s - q->slots);
    q->stats.inflight--;
}

/* --- completing to the guest --------------------------------------------- */

static void signal_queue(struct virtio_blk_queue *q)
{
    struct virtio_blk *d = q->dev;

    q->stats.interrupts++;
    d->p.signal(d->p.signal_ctx ? d->p.signal_ctx : d->p.ctx, q->index);
}

static bool coalescing(const struct virtio_blk_queue *q)
{
    return q->dev->p.coalesce && q->dev->p.polled;
}

/* Hands the pushed entries to the driver and signals if it asked. With
 * coalescing the ratio may hold the interrupt: the driver's used_event may
 * then already lie behind the published index, so a later publish would
 * not ask again; coalesce.h remembers it and guarantees it goes out (at
 * the latest when CIF falls to the threshold or the time cap passes,
 * checked on every service call: flush_held()). */
static void publish(struct virtio_blk_queue *q)
{
    struct virtio_blk *d = q->dev;
    unsigned n = q->npushed;
    bool wanted;

    q->pushed = false;
    q->npushed = 0;
    wanted = virtq_publish(q->vq);
    if (coalescing(q))
        wanted = coalesce_complete(&q->co, d->p.coalesce, n, (unsigned)q->stats.inflight, wanted,
                                   d->p.now_ns());
    if (wanted)
        signal_queue(q);
}

/* Polled mode, on every service call: sends a held interrupt whose time
 * has come. */
static void flush_held(struct virtio_blk_queue *q)
{
    struct virtio_blk *d = q->dev;

    if (coalescing(q) && q->co.held &&
        coalesce_due(&q->co, d->p.coalesce, (unsigned)q->stats.inflight, d->p.now_ns()))
        signal_queue(q);
}

static void count_completion(struct virtio_blk_queue *q, const struct virtio_blk_slot *s)
{
    struct virtio_blk_queue_stats *st = &q->stats;

    st->requests++;
    switch (s->type) {
    case VIRTIO_BLK_T_IN: st->reads++; break;
    case VIRTIO_BLK_T_OUT: st->writes++; break;
    case VIRTIO_BLK_T_FLUSH: st->flushes++; break;
    default: st->others++; break;
    }
    if (s->result != VIRTIO_BLK_S_OK)
        st->errors++;
    else if (s->type == VIRTIO_BLK_T_IN || s->type == VIRTIO_BLK_T_OUT)
        st->bytes += s->bytes;
}

/* The request is over: its status goes into the guest's status byte, its
 * chain back to the used ring. A slot orphaned by a reset belongs to a
 * driver that is gone, so nothing of the guest's is touched. */
static void slot_finish(struct virtio_blk_queue *q, struct virtio_blk_slot *s)
{
    if (s->orphan) {
        slot_free(q, s);
        return;
    }
    *s->status = s->result;
    count_completion(q, s);
    virtq_push(q->vq, s->head, s->written);
    slot_free(q, s);
    if (q->dev->p.polled) {
        q->pushed = true; /* published once per service call */
        q->npushed++;
    } else
        publish(q); /* trap mode: every completion is its own interrupt */
}

static uint8_t status_of(int blk_status)
{
    if (blk_status == BLK_OK)
        return VIRTIO_BLK_S_OK;
    return blk_status == BLK_ENOTSUP ? VIRTIO_BLK_S_UNSUPP : VIRTIO_BLK_S_IOERR;
}

static void slot_fail(struct virtio_blk_slot *s, uint8_t status)
{
    if (s->result == VIRTIO_BLK_S_OK)
        s->result = status;
}

/* The backend's completion of one part of a request (blk_complete_fn). */
static void virtio_blk_complete(void *ctx, void *cookie, int status)
{
    struct virtio_blk_queue *q = ctx;
    struct virtio_blk_slot *s = cookie;

    if (status != BLK_OK)
        slot_fail(s, status_of(status));
    s->parts--;
    if (s->parts == 0 && !s->submitting)
        slot_finish(q, s);
}

/* --- reading the chain --------------------------------------------------- */

/* Moves (buf, off) forward by n bytes through the chain's buffers. */
static void chain_seek(const struct virtq_chain *c, unsigned *buf, uint32_t *off, uint64_t n)
{
    while (*buf < c->nbuf && n >= (uint64_t)c->buf[*buf].len - *off) {
        n -= c->buf[*buf].len - *off;
        (*buf)++;
        *off = 0;
    }
    *off += (uint32_t)n;
}

/* Copies n bytes between p and the chain starting at (buf, off); the caller
 * has made sure the chain holds them. */
static void chain_copy(const struct virtq_chain *c, unsigned buf, uint32_t off, void *p, size_t n,
                       bool to_guest)
{
    uint8_t *b = p;

    while (n && buf < c->nbuf) {
        size_t take = c->buf[buf].len - off;
        uint8_t *g = (uint8_t *)c->buf[buf].host + off;

        if (take > n)
            take = n;
        if (to_guest)
            memcpy(g, b, take);
        else
            memcpy(b, g, take);
        b += take;
        n -= take;
        buf++;
        off = 0;
    }
}

/* How many buffers the n bytes from (buf, off) touch. */
static unsigned chain_segments(const struct virtq_chain *c, unsigned buf, uint32_t off, uint64_t n)
{
    unsigned count = 0;

    while (n && buf < c->nbuf) {
        uint64_t take = c->buf[buf].len - off;

        if (take > n)
            take = n;
        n -= take;
        count++;
        buf++;
        off = 0;
    }
    return count;
}

/* --- handing requests to the backend ------------------------------------- */

/* Builds the segments of the next part (at most max_chunk bytes, at most
 * VIRTIO_BLK_SEG_MAX segments, which the whole request was checked
 * against) without moving the cursor. Returns the part's bytes. */
static uint64_t gather_part(struct virtio_blk_queue *q, const struct virtio_blk_cursor *cur,
                            unsigned *nseg)
{
    const struct virtq_chain *c = &q->chain;
    uint64_t want = cur->left < q->dev->max_chunk ? cur->left : q->dev->max_chunk;
    uint64_t got = 0;
    unsigned buf = cur->buf;
    uint32_t off = cur->off;

    *nseg = 0;
    while (got < want && buf < c->nbuf && *nseg < VIRTIO_BLK_SEG_MAX) {
        uint64_t take = c->buf[buf].len - off;

        if (take > want - got)
            take = want - got;
        q->segs[*nseg].phys = vmem_hpa((uint8_t *)c->buf[buf].host + off);
        q->segs[*nseg].len = (uint32_t)take;
        (*nseg)++;
        got += take;
        buf++;
        off = 0;
    }
    return got;
}

/* Submits the pending request's remaining parts. False when the backend is
 * full: the request stays pending, the cursor where it stopped. */
static bool submit_parts(struct virtio_blk_queue *q)
{
    struct virtio_blk_slot *s = q->pending;
    struct virtio_blk_cursor *cur = &q->cur;
    struct blk_device *be = q->dev->p.backend;

    while (s->submitting) {
        struct blk_request req = {.op = cur->op, .sector = cur->sector, .cookie = s};
        uint64_t bytes = cur->left;
        int err;

        if (cur->op == BLK_OP_READ || cur->op == BLK_OP_WRITE) {
            bytes = gather_part(q, cur, &req.nseg);
            req.segs = q->segs;
        }
        req.nsectors = (uint32_t)(bytes >> BLK_SECTOR_SHIFT);
        err = be->ops->submit(&q->bq, &req);
        if (err == BLK_EBUSY) {
            q->stats.busy++;
            return false;
        }
        if (err != BLK_OK) {
            /* Refused: no completion follows. What was accepted before
             * still completes; the request fails with it. */
            slot_fail(s, status_of(err));
            s->submitting = false;
            break;
        }
        s->parts++;
        cur->sector += bytes >> BLK_SECTOR_SHIFT;
        cur->left -= bytes;
        if (cur->op == BLK_OP_READ || cur->op == BLK_OP_WRITE)
            chain_seek(&q->chain, &cur->buf, &cur->off, bytes);
        if (cur->left == 0)
            s->submitting = false;
    }
    q->pending = NULL;
    if (s->parts == 0)
        slot_finish(q, s);
    return true;
}

/* The device broke while a request was half submitted: it submits no more
 * and fails once its accepted parts are back. */
static void abandon_pending(struct virtio_blk_queue *q)
{
    struct virtio_blk_slot *s = q->pending;

    q->pending = NULL;
    s->submitting = false;
    slot_fail(s, VIRTIO_BLK_S_IOERR);
    if (s->parts == 0)
        slot_finish(q, s);
}

/* --- parsing a request --------------------------------------------------- */

static bool in_capacity(const struct virtio_blk *d, uint64_t sector, uint64_t nsectors)
{
    uint64_t cap = d->p.backend->sectors;

    return sector <= cap && nsectors <= cap - sector;
}

/* DISCARD / WRITE_ZEROES: one {sector, num_sectors, flags} segment (we
 * offer max_*_seg = 1). Returns a status, or OK with *n sectors to submit. */
static uint8_t parse_dwz(struct virtio_blk *d, const struct virtq_chain *c, uint32_t type,
                         uint64_t payload, uint64_t *sector, uint32_t *n)
{
    uint8_t seg[VIRTIO_BLK_DWZ_BYTES];
    unsigned buf = 0;
    uint32_t off = 0, flags;
    bool discard = type == VIRTIO_BLK_T_DISCARD;
    unsigned feature = discard ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES;
    uint64_t max = load_le(d->config + (discard ? VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS
                                                : VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS),
                           4);

    if (!(d->features & (1ull << feature)))
        return VIRTIO_BLK_S_UNSUPP;
    if (payload == 0 || payload % VIRTIO_BLK_DWZ_BYTES)
        return VIRTIO_BLK_S_IOERR;
    if (payload > VIRTIO_BLK_DWZ_BYTES)
        return VIRTIO_BLK_S_UNSUPP; /* more segments than max_*_seg */
    chain_seek(c, &buf, &off, VIRTIO_BLK_HEADER_BYTES);
    chain_copy(c, buf, off, seg, sizeof(seg), false);
    *sector = load_le(seg, 8);
    *n = (uint32_t)load_le(seg + 8, 4);
    flags = (uint32_t)load_le(seg + 12, 4);
    /* Unknown flags, and unmap on a discard, are refused (5.2.6.2). */
    if (flags & ~VIRTIO_BLK_DWZ_F_UNMAP)
        return VIRTIO_BLK_S_UNSUPP;
    if (discard && (flags & VIRTIO_BLK_DWZ_F_UNMAP))
        return VIRTIO_BLK_S_UNSUPP;
    if (*n > max || !in_capacity(d, *sector, *n))
        return VIRTIO_BLK_S_IOERR;
    return VIRTIO_BLK_S_OK;
}

/* Starts the request in q->chain on slot s. False if the chain is malformed
 * (the device is then broken and the slot freed). Otherwise the request is
 * finished, with the backend, or pending (q->pending == s). */
static bool start_request(struct virtio_blk_queue *q, struct virtio_blk_slot *s)
{
    struct virtio_blk *d = q->dev;
    const struct virtq_chain *c = &q->chain;
    struct virtio_blk_cursor *cur = &q->cur;
    uint8_t hdr[VIRTIO_BLK_HEADER_BYTES];
    const struct virtq_buf *last;
    uint64_t data_in, data_out, data;
    uint32_t type;
    const char *why = NULL;
    bool to_backend = false;

    s->head = c->head;
    if (c->write_bytes == 0)
        why = "no status byte (no device-writable buffer)";
    else if (c->read_bytes < VIRTIO_BLK_HEADER_BYTES)
        why = "request header shorter than 16 bytes";
    if (why) {
        blk_break(d, "queue %u: chain at head %u: %s", q->index, c->head, why);
        slot_free(q, s);
        return false;
    }
    chain_copy(c, 0, 0, hdr, sizeof(hdr), false);
    type = (uint32_t)load_le(hdr, 4);
    last = &c->buf[c->nbuf - 1]; /* writable, non-empty: virtq_pop refuses empty buffers */
    s->status = (uint8_t *)last->host + last->len - 1;
    s->written = c->write_bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)c->write_bytes;
    s->type = type <= UINT8_MAX ? (uint8_t)type : UINT8_MAX;
    s->result = VIRTIO_BLK_S_OK;
    data_out = c->read_bytes - VIRTIO_BLK_HEADER_BYTES; /* device-readable data */
    data_in = c->write_bytes - 1;                       /* device-writable data */

    memset(cur, 0, sizeof(*cur));
    cur->sector = load_le(hdr + 8, 8);
    switch (type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT:
        if (type == VIRTIO_BLK_T_IN ? data_out : data_in) {
            why = type == VIRTIO_BLK_T_IN ? "read with device-readable data"
                                          : "write with device-writable data";
            break;
        }
        data = type == VIRTIO_BLK_T_IN ? data_in : data_out;
        if (type == VIRTIO_BLK_T_IN) {
            cur->buf = c->nread;
            cur->op = BLK_OP_READ;
        } else {
            chain_seek(c, &cur->buf, &cur->off, VIRTIO_BLK_HEADER_BYTES);
            cur->op = BLK_OP_WRITE;
        }
        if (chain_segments(c, cur->buf, cur->off, data) > VIRTIO_BLK_SEG_MAX) {
            why = "more data segments than seg_max";
            break;
        }
        s->bytes = data;
        cur->left = data;
        q->stats.bytes_taken += data;
        if (data % BLK_SECTOR_SIZE || !in_capacity(d, cur->sector, data >> BLK_SECTOR_SHIFT))
            s->result = VIRTIO_BLK_S_IOERR;
        break;
    case VIRTIO_BLK_T_FLUSH:
        /* Without a volatile cache in the backend every completed write is
         * already durable: nothing to do. */
        cur->op = BLK_OP_FLUSH;
        to_backend = d->p.backend->features & BLK_F_FLUSH;
        break;
    case VIRTIO_BLK_T_GET_ID:
        if (data_out) {
            why = "get-id with device-readable data";
            break;
        }
        chain_copy(c, c->nread, 0, d->id, data_in < sizeof(d->id) ? data_in : sizeof(d->id), true);
        break;
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES: {
        uint32_t n = 0;

        if (data_in) {
            why = "discard/write-zeroes with device-writable data";
            break;
        }
        s->result = parse_dwz(d, c, type, data_out, &cur->sector, &n);
        cur->op = type == VIRTIO_BLK_T_DISCARD ? BLK_OP_DISCARD : BLK_OP_WRITE_ZEROES;
        cur->left = (uint64_t)n << BLK_SECTOR_SHIFT;
        break;
    }
    default: s->result = VIRTIO_BLK_S_UNSUPP; break;
    }
    if (why) {
        blk_break(d, "queue %u: chain at head %u: %s", q->index, c->head, why);
        slot_free(q, s);
        return false;
    }

    /* What goes to the backend: READ/WRITE/DISCARD/WRITE_ZEROES with data,
     * and FLUSH; everything else (errors, get-id, empty transfers) is
     * answered here. */
    s->submitting = s->result == VIRTIO_BLK_S_OK && (cur->left > 0 || to_backend);
    if (!s->submitting) {
        slot_finish(q, s);
        return true;
    }
    q->pending = s;
    submit_parts(q);
    return true;
}

/* Takes at most budget new chains. */
static unsigned take_requests(struct virtio_blk_queue *q, unsigned budget)
{
    struct virtio_blk *d = q->dev;
    unsigned n = 0;

    /* A resumed request counts as work done, so that a caller servicing
     * until there is nothing to do comes back for its completion. */
    if (q->pending) {
        if (blk_broken(d))
            abandon_pending(q);
        else if (!submit_parts(q))
            return 0;
        n++;
    }
    for (unsigned taken = 0; taken < budget && q->free_count > 0 && !blk_broken(d); taken++) {
        int r = virtq_pop(q->vq, &q->chain);

        if (r == 0)
            break;
        if (r < 0) {
            blk_break(d, "queue %u: %s", q->index, q->vq->error ? q->vq->error : "bad ring");
            break;
        }
        n++;
        q->stats.taken++;
        if (start_request(q, slot_alloc(q)) && q->pending)
            break; /* the backend is full */
    }
    return n;
}

unsigned virtio_blk_queue_service(void *queue, unsigned budget)
{
    struct virtio_blk_queue *q = queue;
    unsigned n;

    if (!virtio_queue_enter(&q->running, &q->busy)) /* the handshake (top of file) */
        return 0;
    /* Completions first: they free slots and backend room for new work,
     * and they are reaped even when the device is broken. */
    n = q->dev->p.backend->ops->poll(&q->bq, VIRTIO_BLK_QUEUE_SIZE);
    n += take_requests(q, budget);
    if (q->pushed)
        publish(q);
    flush_held(q);
    virtio_queue_leave(&q->busy);
    return n;
}

unsigned virtio_blk_service(struct virtio_blk *d, unsigned qi, unsigned budget)
{
    return qi < d->p.num_queues ? virtio_blk_queue_service(&d->q[qi], budget) : 0;
}

void *virtio_blk_queue(void *dev, unsigned qi)
{
    struct virtio_blk *d = dev;

    return qi < d->p.num_queues ? &d->q[qi] : NULL;
}

bool virtio_blk_queue_inflight(void *queue)
{
    struct virtio_blk_queue *q = queue;

    return __atomic_load_n(&q->stats.inflight, __ATOMIC_RELAXED) != 0;
}

bool virtio_blk_queue_live(const struct virtio_blk *d, unsigned qi)
{
    return qi < d->p.num_queues && __atomic_load_n(&d->q[qi].running, __ATOMIC_ACQUIRE) &&
           !blk_broken(d);
}

/* --- the transport's operations ------------------------------------------ */

static uint32_t blk_config_read(void *dev, unsigned offset, unsigned size)
{
    struct virtio_blk *d = dev;
    uint32_t v = 0;

    if (size != 1 && size != 2 && size != 4)
        return 0;
    for (unsigned i = 0; i < size; i++)
        if (offset + i < VIRTIO_BLK_CONFIG_SIZE)
            v |= (uint32_t)d->config[offset + i] << (8 * i);
    return v;
}

/* Every field is read-only: writeback is writable only with CONFIG_WCE,
 * which is not offered. */
static void blk_config_write(void *dev, unsigned offset, unsigned size, uint32_t value)
{
}

static bool blk_queue_enable(void *dev, unsigned qi, uint64_t driver_features)
{
    struct virtio_blk *d = dev;
    struct virtio_blk_queue *q;

    if (qi >= d->p.num_queues)
        return false;
    q = &d->q[qi];
    if (q->enabled) {
        blk_break(d, "queue %u enabled twice", qi);
        return false;
    }
    q->vq->event_idx = driver_features & (1ull << VIRTIO_F_RING_EVENT_IDX);
    q->vq->indirect = driver_features & (1ull << VIRTIO_F_RING_INDIRECT_DESC);
    if (!q->opened) {
        int err;

        q->bq = (struct blk_queue){
            .dev = d->p.backend, .complete = virtio_blk_complete, .complete_ctx = q};
        err = d->p.backend->ops->queue_open(&q->bq);
        if (err) {
            fmt_snprintf(d->error, sizeof(d->error), "%s: queue %u: backend %s: %s",
                         d->p.name ? d->p.name : "virtio-blk", qi, d->p.backend->name,
                         blk_status_name(err));
            return false;
        }
        q->opened = true;
        slots_reset(q);
    }
    if (!virtq_start(q->vq, d->p.mem)) {
        fmt_snprintf(d->error, sizeof(d->error), "%s: queue %u: %s",
                     d->p.name ? d->p.name : "virtio-blk", qi,
                     q->vq->error ? q->vq->error : "ring refused");
        return false;
    }
    virtq_set_notify(q->vq, !d->p.polled);
    q->pushed = false;
    q->npushed = 0;
    coalesce_init(&q->co, d->p.now_ns ? d->p.now_ns() : 0);
    q->enabled = true;
    /* A device consumes nothing before DRIVER_OK (virtio 1.x 3.1.1). */
    if (d->driver_ok)
        __atomic_store_n(&q->running, 1, __ATOMIC_RELEASE);
    return true;
}

static void blk_driver_ok(void *dev)
{
    struct virtio_blk *d = dev;

    d->driver_ok = true;
    for (unsigned i = 0; i < d->p.num_queues; i++)
        if (d->q[i].enabled)
            __atomic_store_n(&d->q[i].running, 1, __ATOMIC_RELEASE);
}

/* Takes the queue from its servicer (the handshake, top of file). */
static void queue_stop(struct virtio_blk_queue *q)
{
    virtio_queue_stop(&q->running, &q->busy);
}

/* Waits until the backend has completed everything it accepted for this
 * queue. The ring is gone, so every slot is orphaned first: completions
 * only free their slots. False if the backend did not finish in time; its
 * late completions then free their slots whenever the queue is polled. */
static bool queue_drain(struct virtio_blk *d, struct virtio_blk_queue *q)
{
    uint64_t start = d->p.now_ns ? d->p.now_ns() : 0;

    if (q->pending) {
        struct virtio_blk_slot *s = q->pending;

        q->pending = NULL;
        s->submitting = false;
    }
    for (unsigned i = 0; i < VIRTIO_BLK_QUEUE_SIZE; i++) {
        struct virtio_blk_slot *s = &q->slots[i];

        if (!s->used)
            continue;
        s->orphan = true;
        if (s->parts == 0 && !s->submitting)
            slot_free(q, s); /* was pending with nothing accepted */
    }
    for (uint32_t polls = 0; q->stats.inflight > 0; polls++) {
        if (d->p.now_ns ? d->p.now_ns() - start > VIRTIO_BLK_DRAIN_NS
                        : polls >= VIRTIO_BLK_DRAIN_POLLS)
            return false;
        if (!d->p.backend->ops->poll(&q->bq, VIRTIO_BLK_QUEUE_SIZE))
            cpu_pause();
    }
    return true;
}

/* The drain gave up: before the queue is forgotten (and the guest's
 * memory, which those requests point into, is reused by a restart), the
 * backend must stop touching their buffers. False if it cannot be asked
 * to (a backend without queue_abort never needs it). */
static bool queue_abort(struct virtio_blk *d, struct virtio_blk_queue *q, int *status)
{
    if (!d->p.backend->ops->queue_abort)
        return false;
    *status = d->p.backend->ops->queue_abort(&q->bq);
    q->stats.aborted += q->stats.inflight;
    q->opened = false;
    slots_reset(q);
    q->stats.inflight = 0;
    return true;
}

static void blk_reset(void *dev)
{
    struct virtio_blk *d = dev;
    unsigned stuck_queue = 0;
    uint64_t stuck = 0;
    bool aborted = true;
    int abort_status = BLK_OK;

    for (unsigned i = 0; i < d->p.num_queues; i++)
        queue_stop(&d->q[i]);
    d->driver_ok = false;
    for (unsigned i = 0; i < d->p.num_queues; i++) {
        struct virtio_blk_queue *q = &d->q[i];

        q->enabled = false;
        q->pushed = false;
        q->npushed = 0;
        if (!q->opened)
            continue;
        if (!queue_drain(d, q)) {
            stuck_queue = i;
            stuck += q->stats.inflight;
            /* Aborted, or it stays open: the backend still holds them. */
            aborted &= queue_abort(d, q, &abort_status);
            continue;
        }
        if (d->p.backend->ops->queue_close(&q->bq) == BLK_OK)
            q->opened = false;
    }
    d->error[0] = '\0';
    if (stuck)
        fmt_snprintf(d->error, sizeof(d->error),
                     "%s: reset: the backend never completed %llu requests (queue %u); %s",
                     d->p.name ? d->p.name : "virtio-blk", (unsigned long long)stuck, stuck_queue,
                     !aborted                 ? "they stay in flight"
                     : abort_status == BLK_OK ? "aborted at the device"
                                              : "the device was cut off to stop them");
    __atomic_store_n(&d->needs_reset, false, __ATOMIC_RELEASE);
}

const struct virtio_pci_ops virtio_blk_pci_ops = {
    .config_read = blk_config_read,
    .config_write = blk_config_write,
    .queue_enable = blk_queue_enable,
    .driver_ok = blk_driver_ok,
    .reset = blk_reset,
};

/* --- setting up ---------------------------------------------------------- */

static void build_config(struct virtio_blk *d)
{
    const struct blk_device *be = d->p.backend;
    uint8_t *cfg = d->config;
    uint32_t align = be->block_size >> BLK_SECTOR_SHIFT;
    uint32_t max_dwz = be->max_discard_sectors ? be->max_discard_sectors : UINT32_MAX;

    max_dwz &= ~(align - 1);
    memset(cfg, 0, VIRTIO_BLK_CONFIG_SIZE);
    store_le(cfg + VIRTIO_BLK_CFG_CAPACITY, be->sectors, 8);
    store_le(cfg + VIRTIO_BLK_CFG_SEG_MAX, VIRTIO_BLK_SEG_MAX, 4);
    store_le(cfg + VIRTIO_BLK_CFG_BLK_SIZE, be->block_size, 4);
    store_le(cfg + VIRTIO_BLK_CFG_NUM_QUEUES, d->p.num_queues, 2);
    if (be->features & (BLK_F_DISCARD | BLK_F_WRITE_ZEROES))
        store_le(cfg + VIRTIO_BLK_CFG_DISCARD_SECTOR_ALIGNMENT, align, 4);
    /* One segment per request, so each is one backend request. */
    if (be->features & BLK_F_DISCARD) {
        store_le(cfg + VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, max_dwz, 4);
        store_le(cfg + VIRTIO_BLK_CFG_MAX_DISCARD_SEG, 1, 4);
    }
    if (be->features & BLK_F_WRITE_ZEROES) {
        store_le(cfg + VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS, max_dwz, 4);
        store_le(cfg + VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SEG, 1, 4);
    }
}

bool virtio_blk_init(struct virtio_blk *d, const struct virtio_blk_params *p, char *why,
                     size_t why_size)
{
    const struct blk_device *be = p->backend;
    const char *name = p->name ? p->name : "virtio-blk";

    if (!be || !be->ops) {
        fmt_snprintf(why, why_size, "%s: no backend", name);
        return false;
    }
    if (p->num_queues < 1 || p->num_queues > VIRTIO_BLK_MAX_QUEUES) {
        fmt_snprintf(why, why_size, "%s: %u queues (1 to %u)", name, p->num_queues,
                     VIRTIO_BLK_MAX_QUEUES);
        return false;
    }
    if (!p->mem || !p->signal || !p->broken || (p->coalesce && !p->now_ns)) {
        fmt_snprintf(why, why_size, "%s: guest memory and callbacks are required", name);
        return false;
    }
    if (be->block_size < BLK_SECTOR_SIZE || be->block_size > 65536 ||
        (be->block_size & (be->block_size - 1))) {
        fmt_snprintf(why, why_size, "%s: %s has %u-byte blocks (512 to 64K, a power of two)", name,
                     be->name, be->block_size);
        return false;
    }
    if (be->sectors == 0 || be->max_transfer < be->block_size) {
        fmt_snprintf(why, why_size, "%s: %s is empty or takes less than a block per request", name,
                     be->name);
        return false;
    }
    memset(d, 0, sizeof(*d));
    d->p = *p;
    d->max_chunk = be->max_transfer & ~(be->block_size - 1);
    d->features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
                  (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_F_RING_INDIRECT_DESC) |
                  (1ull << VIRTIO_F_RING_EVENT_IDX);
    if (p->num_queues > 1)
        d->features |= 1ull << VIRTIO_BLK_F_MQ;
    if (be->features & BLK_F_DISCARD)
        d->features |= 1ull << VIRTIO_BLK_F_DISCARD;
    if (be->features & BLK_F_WRITE_ZEROES)
        d->features |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
    if (p->serial)
        memcpy(d->id, p->serial, strnlen(p->serial, sizeof(d->id)));
    build_config(d);
    for (unsigned i = 0; i < VIRTIO_BLK_MAX_QUEUES; i++) {
        d->q[i].dev = d;
        d->q[i].index = i;
        d->q[i].vq = &d->vqs[i];
    }
    return true;
}
