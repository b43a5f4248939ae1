/* SPDX-License-Identifier: MIT */
/*
 * Chip-independent NIC code: bounded register polls, bring-up of the rings
 * around a chip's reset and finish steps, the queue setup both chips share
 * (driven by the chip's table), and the data path (refill, poll,
 * submit, reclaim) on top of the shared advanced-descriptor rings with one
 * tail write per batch. Pure C over the register accessor, so the host tests
 * run it against register-level models of both chips.
 */
#include "drivers/net/nic_dev.h"

#define POLL_STEP_US 10

bool nic_wait_reg(struct nic *n, uint32_t off, uint32_t mask, uint32_t want, unsigned timeout_us)
{
    for (unsigned waited = 0;; waited += POLL_STEP_US) {
        uint32_t v = nic_rd(n, off);

        if (v == 0xffffffffu && mask != 0xffffffffu)
            return false;
        if ((v & mask) == want)
            return true;
        if (waited >= timeout_us)
            return false;
        nic_delay_us(n, POLL_STEP_US);
    }
}

bool nic_read_ral_rah(struct nic *n, uint8_t mac[6])
{
    uint32_t lo = nic_rd(n, 0x5400), hi = nic_rd(n, 0x5404);

    mac[0] = (uint8_t)lo;
    mac[1] = (uint8_t)(lo >> 8);
    mac[2] = (uint8_t)(lo >> 16);
    mac[3] = (uint8_t)(lo >> 24);
    mac[4] = (uint8_t)hi;
    mac[5] = (uint8_t)(hi >> 8);
    if (!(hi & (1u << 31)) || (mac[0] & 1))
        return false;
    return (lo | (hi & 0xffff)) != 0;
}

static bool alloc_rings(struct nic_queue *q, const char **why)
{
    const size_t ring_bytes = NIC_RING_SIZE * 16;
    void *rxd = nic_dma_alloc(ring_bytes, 128);
    void *txd = nic_dma_alloc(ring_bytes, 128);
    void *rxb = nic_dma_alloc(NIC_RING_SIZE * sizeof(uint64_t), 8);
    void *txc = nic_dma_alloc(NIC_RING_SIZE * sizeof(uint64_t), 8);

    if (!rxd || !txd || !rxb || !txc) {
        *why = "out of memory for the descriptor rings";
        return false;
    }
    adv_rx_ring_init(&q->rx, rxd, rxb, NIC_RING_SIZE);
    adv_tx_ring_init(&q->tx, txd, txc, NIC_RING_SIZE);
    return true;
}

bool nic_bring_up(struct nic *n, unsigned nqueues, const char **why)
{
    _Static_assert((NIC_RING_SIZE * 16) % 128 == 0, "RDLEN/TDLEN must be a multiple of 128");

    n->up = false;
    if (nqueues == 0 || nqueues > NIC_MAX_QUEUES || nqueues > n->chip->max_queues) {
        *why = "unsupported number of queue pairs";
        return false;
    }
    n->queues = nqueues;
    for (unsigned i = 0; i < nqueues; i++) {
        struct nic_queue *q = &n->q[i];

        if (!q->rx.desc && !alloc_rings(q, why))
            return false;
        adv_rx_ring_init(&q->rx, q->rx.desc, q->rx.buf, NIC_RING_SIZE);
        adv_tx_ring_init(&q->tx, q->tx.desc, q->tx.cookie, NIC_RING_SIZE);
        q->rdt = nic_rxq_reg(n, i, NIC_Q_TAIL);
        q->tdt = nic_txq_reg(n, i, NIC_Q_TAIL);
    }
    if (!n->chip->reset_and_setup(n, why))
        return false;
    for (unsigned i = 0; i < nqueues; i++)
        if (!nic_queue_start(n, i, why))
            return false;
    if (!n->chip->finish(n, why))
        return false;
    n->up = true;
    return true;
}

const char *nic_chip_name(const struct nic *n)
{
    return n->chip->name;
}

const uint8_t *nic_mac(const struct nic *n)
{
    return n->mac;
}

unsigned nic_queue_count(const struct nic *n)
{
    return n->up ? n->queues : 0;
}

bool nic_link(struct nic *n, unsigned *mbps)
{
    *mbps = 0;
    return n->up && n->chip->link(n, mbps);
}

const struct nic_counters *nic_stats_update(struct nic *n)
{
    if (n->up)
        n->chip->stats(n);
    return &n->hw;
}

const struct nic_queue_counters *nic_queue_counters(const struct nic *n, unsigned q)
{
    return q < n->queues ? &n->q[q].c : NULL;
}

bool nic_queue_claim(struct nic *n, unsigned q, const char *owner, const char **holder)
{
    const char *none = NULL;

    if (q >= nic_queue_count(n) || !owner) {
        *holder = "no such queue pair";
        return false;
    }
    if (__atomic_compare_exchange_n(&n->q[q].owner, &none, owner, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE) ||
        none == owner)
        return true;
    *holder = none;
    return false;
}

const char *nic_queue_owner(const struct nic *n, unsigned q)
{
    return q < n->queues ? __atomic_load_n(&n->q[q].owner, __ATOMIC_ACQUIRE) : NULL;
}

/* Data path. q is checked against the queues brought up; the rest trusts
 * the owner (it is hypervisor code, not guest input). */

unsigned nic_rx_refill(struct nic *n, unsigned qi, const uint64_t *bufs, unsigned count)
{
    if (qi >= n->queues || !n->up)
        return 0;
    struct nic_queue *q = &n->q[qi];
    unsigned done = adv_rx_ring_refill(&q->rx, bufs, count);

    if (done) {
        nic_wr(n, q->rdt, q->rx.tail);
        q->c.tail_writes++;
    }
    return done;
}

unsigned nic_rx_poll(struct nic *n, unsigned qi, struct nic_rx_frame *out, unsigned max)
{
    struct adv_rx_done done[32];
    unsigned total = 0;

    if (qi >= n->queues || !n->up)
        return 0;
    struct nic_queue *q = &n->q[qi];

    while (total < max) {
        unsigned want = max - total < 32 ? max - total : 32;
        unsigned got = adv_rx_ring_poll(&q->rx, done, want);

        for (unsigned i = 0; i < got; i++) {
            struct nic_rx_frame *f = &out[total + i];

            f->buf = done[i].buf;
            f->len = done[i].len;
            f->ok = done[i].ok && done[i].len >= 14 && done[i].len <= NIC_RX_BUF_SIZE;
            if (f->ok) {
                q->c.rx_packets++;
                q->c.rx_bytes += f->len;
            } else {
                q->c.rx_errors++;
            }
        }
        total += got;
        if (got < want)
            break;
    }
    return total;
}

unsigned nic_tx_submit(struct nic *n, unsigned qi, const struct nic_tx_frame *f, unsigned count)
{
    struct adv_tx_frame batch[32];
    unsigned total = 0;

    if (qi >= n->queues || !n->up)
        return 0;
    struct nic_queue *q = &n->q[qi];

    while (total < count) {
        unsigned want = count - total < 32 ? count - total : 32;
        unsigned got;

        for (unsigned i = 0; i < want; i++) {
            batch[i].buf = f[total + i].buf;
            batch[i].len = f[total + i].len;
            batch[i].cookie = f[total + i].cookie;
        }
        got = adv_tx_ring_submit(&q->tx, batch, want);
        for (unsigned i = 0; i < got; i++) {
            q->c.tx_packets++;
            q->c.tx_bytes += batch[i].len;
        }
        total += got;
        if (got < want)
            break;
    }
    if (total < count)
        q->c.tx_ring_full += count - total;
    if (total) {
        nic_wr(n, q->tdt, q->tx.tail);
        q->c.tail_writes++;
    }
    return total;
}

unsigned nic_tx_reclaim(struct nic *n, unsigned qi, uint64_t *cookies, unsigned max)
{
    if (qi >= n->queues || !n->up)
        return 0;
    return adv_tx_ring_reclaim(&n->q[qi].tx, cookies, max);
}

#define QUEUE_ENABLE_TIMEOUT_US 10000

static bool queue_disable(struct nic *n, uint32_t xdctl, const char *fail, const char **why)
{
    nic_clear_bits(n, xdctl, NIC_XDCTL_ENABLE);
    if (!nic_wait_reg(n, xdctl, NIC_XDCTL_ENABLE, 0, QUEUE_ENABLE_TIMEOUT_US)) {
        *why = fail;
        return false;
    }
    return true;
}

static void queue_program(struct nic *n, uint32_t block, uint64_t ring_addr)
{
    nic_wr(n, block + NIC_Q_BAL, (uint32_t)ring_addr);
    nic_wr(n, block + NIC_Q_BAH, (uint32_t)(ring_addr >> 32));
    nic_wr(n, block + NIC_Q_LEN, NIC_RING_SIZE * 16);
    nic_wr(n, block + NIC_Q_HEAD, 0);
    nic_wr(n, block + NIC_Q_TAIL, 0);
}

static bool queue_enable(struct nic *n, uint32_t xdctl, uint32_t bits, const char *fail,
                         const char **why)
{
    nic_wr(n, xdctl, bits | NIC_XDCTL_ENABLE);
    if (!nic_wait_reg(n, xdctl, NIC_XDCTL_ENABLE, NIC_XDCTL_ENABLE, QUEUE_ENABLE_TIMEOUT_US)) {
        *why = fail;
        return false;
    }
    return true;
}

bool nic_queue_start(struct nic *n, unsigned qi, const char **why)
{
    const struct nic_chip_regs *r = &n->chip->r;
    struct nic_queue *q = &n->q[qi];
    uint32_t rxq = nic_rxq_reg(n, qi, 0), txq = nic_txq_reg(n, qi, 0);

    /* The 82576 comes out of reset with queue 0 enabled. */
    if (!queue_disable(n, rxq + NIC_Q_XDCTL, "RX queue: RXDCTL.ENABLE did not clear within 10 ms",
                       why))
        return false;
    queue_program(n, rxq, (uint64_t)(uintptr_t)q->rx.desc);
    nic_wr(n, rxq + r->srrctl, nic_srrctl_value(r->srrctl_drop_en));
    if (r->dca_rxctrl)
        nic_clear_bits(n, rxq + r->dca_rxctrl, r->dca_rxctrl_clear);
    if (!queue_enable(n, rxq + NIC_Q_XDCTL, r->rxdctl,
                      "RX queue: RXDCTL.ENABLE did not read back set within 10 ms", why))
        return false;
    if (!queue_disable(n, txq + NIC_Q_XDCTL, "TX queue: TXDCTL.ENABLE did not clear within 10 ms",
                       why))
        return false;
    queue_program(n, txq, (uint64_t)(uintptr_t)q->tx.desc);
    return queue_enable(n, txq + NIC_Q_XDCTL, r->txdctl,
                        "TX queue: TXDCTL.ENABLE did not read back set within 10 ms", why);
}
