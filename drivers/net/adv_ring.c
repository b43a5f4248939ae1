/* SPDX-License-Identifier: MIT */
/*
 * The advanced-descriptor ring logic shared by the igb and ixgbe drivers
 * (see adv_ring.h). Every descriptor the device may have written is read
 * through the volatile ring once, status first, and only after DD is seen
 * are its other fields trusted (the device writes the status dword last).
 */
#include "drivers/net/adv_ring.h"

/* Descriptor stores must reach memory before the tail write that publishes
 * them, and nothing may be read from a descriptor before its DD bit. On x86
 * (write-back memory, uncached MMIO) ordering the compiler is enough. */
static inline void ring_release(void)
{
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void ring_acquire(void)
{
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
}

bool adv_ring_size_ok(unsigned size)
{
    return size >= 8 && size <= ADV_RING_MAX && (size & (size - 1)) == 0;
}

void adv_rx_ring_init(struct adv_rx_ring *r, volatile union adv_rx_desc *desc, uint64_t *buf,
                      uint16_t size)
{
    r->desc = desc;
    r->buf = buf;
    r->size = size;
    r->tail = 0;
    r->clean = 0;
    for (unsigned i = 0; i < size; i++) {
        desc[i].read.pkt_addr = 0;
        desc[i].read.hdr_addr = 0;
        buf[i] = 0;
    }
}

void adv_tx_ring_init(struct adv_tx_ring *r, volatile union adv_tx_desc *desc, uint64_t *cookie,
                      uint16_t size)
{
    r->desc = desc;
    r->cookie = cookie;
    r->size = size;
    r->tail = 0;
    r->clean = 0;
    for (unsigned i = 0; i < size; i++) {
        desc[i].read.buffer_addr = 0;
        desc[i].read.cmd_type_len = 0;
        desc[i].read.olinfo_status = 0;
        cookie[i] = 0;
    }
}

static inline uint16_t ring_next(uint16_t i, uint16_t size)
{
    return (uint16_t)((i + 1) & (size - 1));
}

unsigned adv_rx_ring_posted(const struct adv_rx_ring *r)
{
    return (unsigned)(r->tail - r->clean) & (r->size - 1u);
}

unsigned adv_tx_ring_in_flight(const struct adv_tx_ring *r)
{
    return (unsigned)(r->tail - r->clean) & (r->size - 1u);
}

unsigned adv_rx_ring_room(const struct adv_rx_ring *r)
{
    return r->size - 1u - adv_rx_ring_posted(r);
}

unsigned adv_tx_ring_room(const struct adv_tx_ring *r)
{
    return r->size - 1u - adv_tx_ring_in_flight(r);
}

unsigned adv_rx_ring_refill(struct adv_rx_ring *r, const uint64_t *bufs, unsigned n)
{
    unsigned room = adv_rx_ring_room(r), done = 0;

    if (n > room)
        n = room;
    while (done < n) {
        uint16_t i = r->tail;

        r->buf[i] = bufs[done];
        r->desc[i].read.pkt_addr = bufs[done];
        r->desc[i].read.hdr_addr = 0; /* also clears the DD of the last pass */
        r->tail = ring_next(i, r->size);
        done++;
    }
    ring_release();
    return done;
}

unsigned adv_rx_ring_poll(struct adv_rx_ring *r, struct adv_rx_done *out, unsigned max)
{
    unsigned n = 0;

    while (n < max && r->clean != r->tail) {
        uint16_t i = r->clean;
        uint32_t st = r->desc[i].wb.status_error;

        if (!(st & ADV_RXD_STAT_DD))
            break;
        ring_acquire();
        out[n].buf = r->buf[i];
        out[n].len = r->desc[i].wb.length;
        out[n].status_error = st;
        out[n].ok = (st & ADV_RXD_STAT_EOP) && !(st & ADV_RXD_ERR_MASK);
        r->buf[i] = 0;
        r->clean = ring_next(i, r->size);
        n++;
    }
    return n;
}

uint32_t adv_tx_cmd_type_len(uint16_t len)
{
    return (uint32_t)len | ADV_TXD_DTYP_DATA | ADV_TXD_CMD_DEXT | ADV_TXD_CMD_EOP |
           ADV_TXD_CMD_IFCS | ADV_TXD_CMD_RS;
}

uint32_t adv_tx_olinfo(uint16_t len)
{
    return (uint32_t)len << ADV_TXD_PAYLEN_SHIFT;
}

unsigned adv_tx_ring_submit(struct adv_tx_ring *r, const struct adv_tx_frame *f, unsigned n)
{
    unsigned room = adv_tx_ring_room(r), done = 0;

    if (n > room)
        n = room;
    while (done < n) {
        uint16_t i = r->tail;
        uint16_t len = f[done].len;

        if (len == 0 || len > 16383)
            break;
        r->cookie[i] = f[done].cookie;
        r->desc[i].read.buffer_addr = f[done].buf;
        r->desc[i].read.olinfo_status = adv_tx_olinfo(len);
        r->desc[i].read.cmd_type_len = adv_tx_cmd_type_len(len);
        r->tail = ring_next(i, r->size);
        done++;
    }
    ring_release();
    return done;
}

unsigned adv_tx_ring_reclaim(struct adv_tx_ring *r, uint64_t *cookies, unsigned max)
{
    unsigned n = 0;

    while (n < max && r->clean != r->tail) {
        uint16_t i = r->clean;

        if (!(r->desc[i].wb.status & ADV_TXD_STAT_DD))
            break;
        ring_acquire();
        cookies[n++] = r->cookie[i];
        r->cookie[i] = 0;
        r->desc[i].wb.status = 0;
        r->clean = ring_next(i, r->size);
    }
    return n;
}
