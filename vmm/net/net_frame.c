/* SPDX-License-Identifier: MIT */
/*
 * Reading a scatter-list frame: pieces of it into a small local buffer (the
 * Ethernet addresses, a header to hash) and the Internet checksum over a
 * range of it, which a receiver without checksum offload needs when the
 * sender left the checksum to the device. The checksum walks the pieces as
 * one byte stream, so a piece boundary at an odd offset is handled by
 * carrying the odd byte into the next piece.
 */
#include "vmm/net/net_frame.h"

#include "kernel/lib/string.h"

void net_frame_read(const struct net_frame *f, uint32_t off, void *dst, uint32_t len)
{
    uint8_t *out = dst;

    for (unsigned i = 0; i < f->nseg && len; i++) {
        const struct net_seg *s = &f->seg[i];
        uint32_t n;

        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        n = s->len - off < len ? s->len - off : len;
        memcpy(out, s->p + off, n);
        out += n;
        len -= n;
        off = 0;
    }
}

uint16_t net_frame_csum(const struct net_frame *f, uint32_t off)
{
    uint64_t sum = 0;
    uint32_t pos = 0; /* bytes summed so far: even ones are high bytes */

    for (unsigned i = 0; i < f->nseg; i++) {
        const struct net_seg *s = &f->seg[i];
        uint32_t j = 0;

        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        j = off;
        off = 0;
        for (; j < s->len; j++, pos++)
            sum += (pos & 1) ? s->p[j] : (uint32_t)s->p[j] << 8;
    }
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    /* 0 means "no checksum" to UDP; 0xffff is the same value to TCP. */
    return (uint16_t)~sum ? (uint16_t)~sum : 0xffff;
}

void net_frame_load_macs(struct net_frame *f)
{
    uint8_t h[2 * NET_ETH_ALEN];

    net_frame_read(f, 0, h, sizeof(h));
    memcpy(f->dst, h, NET_ETH_ALEN);
    memcpy(f->src, h + NET_ETH_ALEN, NET_ETH_ALEN);
}
