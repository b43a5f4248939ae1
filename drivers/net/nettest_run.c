/* SPDX-License-Identifier: MIT */
/*
 * The nettest loop (nettest_run.h): drain what is waiting, then per burst
 * build the frames, submit them with one tail write, poll until every one
 * is back (checking each, reposting the buffers in one refill per poll) or
 * the timeout passes, and reclaim the transmit descriptors.
 */
#include "drivers/net/nettest_run.h"

#include "drivers/net/nettest_frame.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"

static uint8_t *rx_buf(struct nettest_port *port, unsigned i)
{
    return port->pool + (uint64_t)i * NIC_RX_BUF_SIZE;
}

static uint8_t *tx_buf(struct nettest_port *port, unsigned i)
{
    return port->pool + (uint64_t)(NETTEST_RX_BUFS + i) * NIC_RX_BUF_SIZE;
}

static uint64_t ticks_to_ns(uint64_t ticks, uint64_t hz)
{
    if (!hz)
        return 0;
    if (ticks < (1ull << 32))
        return ticks * 1000000000ull / hz;
    return ticks / hz * 1000000000ull;
}

static void fail(struct nettest_result *res, const char *fmt, uint64_t a, uint64_t b)
{
    res->pass = false;
    fmt_snprintf(res->why, sizeof(res->why), fmt, (unsigned long long)a, (unsigned long long)b);
}

/* Gives received buffers back to the ring (one refill, one tail write). */
static void repost(struct nettest_port *port, const struct nic_rx_frame *f, unsigned n)
{
    uint64_t bufs[32];

    for (unsigned i = 0; i < n; i++)
        bufs[i] = f[i].buf;
    if (n)
        nic_rx_refill(port->nic, port->queue, bufs, n);
}

static void post_all(struct nettest_port *port)
{
    uint64_t bufs[32];

    for (unsigned i = 0; i < NETTEST_RX_BUFS; i += 32) {
        unsigned n = NETTEST_RX_BUFS - i < 32 ? NETTEST_RX_BUFS - i : 32;

        for (unsigned k = 0; k < n; k++)
            bufs[k] = (uint64_t)(uintptr_t)rx_buf(port, i + k);
        nic_rx_refill(port->nic, port->queue, bufs, n);
    }
    port->posted = true;
}

static void drain(struct nettest_port *port, struct nettest_result *res)
{
    struct nic_rx_frame f[32];
    unsigned n;

    uint64_t cookies[NETTEST_MAX_BURST];

    while ((n = nic_rx_poll(port->nic, port->queue, f, 32)) != 0) {
        res->foreign += n;
        repost(port, f, n);
    }
    /* A failed run may have left frames of its own in flight. */
    while (nic_tx_reclaim(port->nic, port->queue, cookies, NETTEST_MAX_BURST))
        ;
}

/* Polls until every frame of the burst is back; false (res filled) on a bad
 * frame or the timeout. */
static bool collect(struct nettest_port *port, const struct nettest_params *p, uint64_t base,
                    unsigned b, const uint64_t *sent_at, struct nettest_result *res)
{
    const uint8_t *own = nic_mac(port->nic);
    uint32_t seen = 0, all = b == 32 ? 0xffffffffu : (1u << b) - 1;
    uint64_t deadline = p->now() + p->timeout_ticks;
    struct nic_rx_frame f[32];

    while (seen != all) {
        unsigned n = nic_rx_poll(port->nic, port->queue, f, 32);
        uint64_t now = p->now();

        for (unsigned i = 0; i < n; i++) {
            uint32_t seq = 0;
            unsigned off = 0;
            enum nettest_check c =
                f[i].ok ? nettest_frame_check((const uint8_t *)(uintptr_t)f[i].buf, f[i].len, own,
                                              nettest_peer_mac, &seq, &off)
                        : NETTEST_FRAME_BAD_BYTES;

            if (c == NETTEST_FRAME_FOREIGN) {
                res->foreign++;
                continue;
            }
            if (!f[i].ok) {
                fail(res, "the NIC flagged a received frame as bad (length %llu)", f[i].len, 0);
                repost(port, f, n);
                return false;
            }
            /* A late echo of an earlier burst is another run's or a duplicate. */
            uint64_t full = (base & ~0xffffffffull) | seq;
            if (c == NETTEST_FRAME_OK && (full < base || full >= base + b)) {
                fail(res, "frame %llu came back while %llu was awaited (duplicate or late)", full,
                     base);
                repost(port, f, n);
                return false;
            }
            if (c != NETTEST_FRAME_OK) {
                fmt_snprintf(res->why, sizeof(res->why), "frame %llu came back with %s (byte %u)",
                             (unsigned long long)full, nettest_check_name(c), off);
                res->pass = false;
                repost(port, f, n);
                return false;
            }
            unsigned k = (unsigned)(full - base);
            if (seen & (1u << k)) {
                fail(res, "frame %llu came back twice", full, 0);
                repost(port, f, n);
                return false;
            }
            seen |= 1u << k;
            latency_stats_add(&res->lat, ticks_to_ns(now - sent_at[k], p->ticks_per_sec));
            res->frames++;
        }
        repost(port, f, n);
        if (seen != all && now > deadline) {
            uint64_t missing = base;
            while (seen & (1u << (missing - base)))
                missing++;
            fail(res, "frame %llu did not come back within %llu ms", missing,
                 p->ticks_per_sec
                     ? (p->timeout_ticks * 1000 + p->ticks_per_sec / 2) / p->ticks_per_sec
                     : 0);
            return false;
        }
    }
    return true;
}

static bool reclaim_all(struct nettest_port *port, const struct nettest_params *p, unsigned b,
                        struct nettest_result *res)
{
    uint64_t cookies[NETTEST_MAX_BURST], deadline = p->now() + p->timeout_ticks;
    unsigned got = 0;

    while (got < b) {
        got += nic_tx_reclaim(port->nic, port->queue, cookies, NETTEST_MAX_BURST);
        if (got < b && p->now() > deadline) {
            fail(res, "the NIC did not report %llu sent frame(s) done (DD)", b - got, 0);
            return false;
        }
    }
    return true;
}

void nettest_run(struct nettest_port *port, const struct nettest_params *p,
                 struct nettest_result *res)
{
    struct nic_tx_frame tx[NETTEST_MAX_BURST];
    uint64_t sent_at[NETTEST_MAX_BURST], start;
    const uint8_t *own = nic_mac(port->nic);

    memset(res, 0, sizeof(*res));
    latency_stats_reset(&res->lat);
    res->pass = true;
    if (!port->posted)
        post_all(port);
    drain(port, res);
    start = p->now();
    for (uint64_t base = 0; base < p->count; base += p->burst) {
        unsigned b = p->count - base < p->burst ? (unsigned)(p->count - base) : p->burst;

        for (unsigned i = 0; i < b; i++) {
            nettest_frame_build(tx_buf(port, i), p->len, own, nettest_peer_mac,
                                (uint32_t)(base + i));
            tx[i] = (struct nic_tx_frame){
                .buf = (uint64_t)(uintptr_t)tx_buf(port, i), .len = p->len, .cookie = i};
        }
        uint64_t t = p->now();
        for (unsigned i = 0; i < b; i++)
            sent_at[i] = t;
        unsigned sent = nic_tx_submit(port->nic, port->queue, tx, b);
        if (sent != b) {
            fail(res, "the transmit ring took %llu of %llu frames", sent, b);
            break;
        }
        if (!collect(port, p, base, b, sent_at, res) || !reclaim_all(port, p, b, res))
            break;
    }
    res->ticks = p->now() - start;
}
