/* SPDX-License-Identifier: MIT */
/*
 * The register-level models of the 82599 and 82576 (see nic_model.h). One
 * register file and data path; the chips differ in a table of offsets and
 * in their global registers, as the datasheets' difference table says.
 */
#include "tests/unit/nic_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Per chip: where the queue blocks are and what sits inside them. */
struct model_layout {
    uint32_t rxq, txq;    /* queue 0's block */
    uint32_t srrctl, dca; /* inside an RX block */
    uint32_t drop_en;     /* SRRCTL bit */
    uint32_t eicr, eimc;
};

static const struct model_layout layout_82599 = {.rxq = 0x1000,
                                                 .txq = 0x6000,
                                                 .srrctl = 0x14,
                                                 .dca = 0x0c,
                                                 .drop_en = 1u << 28,
                                                 .eicr = 0x800,
                                                 .eimc = 0x888};
static const struct model_layout layout_82576 = {.rxq = 0xc000,
                                                 .txq = 0xe000,
                                                 .srrctl = 0x0c,
                                                 .dca = 0x14,
                                                 .drop_en = 1u << 31,
                                                 .eicr = 0x1580,
                                                 .eimc = 0x1528};

#define ENABLE_BIT   (1u << 25)
#define ENABLE_DELAY 50 /* us until XDCTL.ENABLE reads back */
#define RESET_US     1000

static const struct model_layout *lay(const struct nic_model *m)
{
    return m->chip == NIC_MODEL_82599 ? &layout_82599 : &layout_82576;
}

static void violation(struct nic_model *m, const char *fmt, ...)
{
    va_list ap;

    if (m->violations++ == 0) {
        va_start(ap, fmt);
        vsnprintf(m->first_violation, sizeof(m->first_violation), fmt, ap);
        va_end(ap);
    }
}

static uint32_t *R(struct nic_model *m, uint32_t off)
{
    return &m->reg[off / 4];
}

/* Which queue block (and offset in it) off falls in; -1 if none. */
static int rx_queue_of(const struct nic_model *m, uint32_t off, uint32_t *in)
{
    uint32_t base = lay(m)->rxq;

    if (off < base || off >= base + NIC_MODEL_QUEUES * 0x40)
        return -1;
    *in = (off - base) % 0x40;
    return (int)((off - base) / 0x40);
}

static int tx_queue_of(const struct nic_model *m, uint32_t off, uint32_t *in)
{
    uint32_t base = lay(m)->txq;

    if (off < base || off >= base + NIC_MODEL_QUEUES * 0x40)
        return -1;
    *in = (off - base) % 0x40;
    return (int)((off - base) / 0x40);
}

static bool known_queue_reg(const struct nic_model *m, uint32_t off)
{
    uint32_t in;

    if (rx_queue_of(m, off, &in) >= 0)
        return in == 0x00 || in == 0x04 || in == 0x08 || in == 0x10 || in == 0x18 || in == 0x28 ||
               in == lay(m)->srrctl || in == lay(m)->dca;
    if (tx_queue_of(m, off, &in) >= 0)
        return in == 0x00 || in == 0x04 || in == 0x08 || in == 0x10 || in == 0x18 || in == 0x28;
    return false;
}

static bool known_reg(const struct nic_model *m, uint32_t off)
{
    static const uint32_t common[] = {0x0,    0x8,    0x18,   0x5400, 0x5404, 0x4000,
                                      0x4074, 0x4080, 0x4088, 0x408c, 0x4090, 0x4094};
    static const uint32_t r82599[] = {0x800,  0x888,  0x10010, 0x2f00, 0x3000, 0x4240, 0x42a0,
                                      0x42a4, 0x4900, 0x4a80,  0x5080, 0x8100, 0x3fa0};
    static const uint32_t r82576[] = {0x10, 0x20, 0xc0, 0xd8, 0x100, 0x400, 0x1580, 0x1528, 0x4010};

    if (off % 4)
        return false;
    for (unsigned i = 0; i < sizeof(common) / 4; i++)
        if (off == common[i])
            return true;
    if (m->chip == NIC_MODEL_82599) {
        for (unsigned i = 0; i < sizeof(r82599) / 4; i++)
            if (off == r82599[i])
                return true;
        if ((off >= 0x3c00 && off < 0x3c20) || (off >= 0xcc00 && off < 0xcc20))
            return true; /* RXPBSIZE / TXPBSIZE */
        if (off >= 0x1430 && off < 0x1430 + 16 * 0x40 && (off - 0x1430) % 0x40 == 0)
            return true; /* QPRDC(0..15), interleaved with the blocks of queues 16 and up */
    } else {
        for (unsigned i = 0; i < sizeof(r82576) / 4; i++)
            if (off == r82576[i])
                return true;
    }
    return known_queue_reg(m, off);
}

/* The state after a reset (or power-on). */
static void reset_state(struct nic_model *m)
{
    memset(m->reg, 0, sizeof(m->reg));
    const uint8_t *a = m->perm_mac;
    *R(m, 0x5400) = a[0] | a[1] << 8 | a[2] << 16 | (uint32_t)a[3] << 24;
    *R(m, 0x5404) = a[4] | a[5] << 8 | 1u << 31;
    *R(m, 0x8) = 1u << 19; /* master enabled */
    if (m->chip == NIC_MODEL_82576) {
        *R(m, 0x0) = 1u << 3 | 1u << 0; /* LRST, FD */
        /* Queue 0 comes out of reset enabled (e1000 compatibility). */
        *R(m, lay(m)->rxq + 0x28) = ENABLE_BIT | 1u << 16;
        *R(m, lay(m)->txq + 0x28) = ENABLE_BIT;
        *R(m, 0x400) = 1u << 3;
    } else {
        /* DCA_RXCTRL bit 12: reserved, set by reset, must be cleared. */
        for (unsigned q = 0; q < NIC_MODEL_QUEUES; q++)
            *R(m, lay(m)->rxq + 0x40 * q + lay(m)->dca) = 1u << 12;
    }
    for (unsigned q = 0; q < NIC_MODEL_QUEUES; q++)
        m->rx_enable_pending[q] = m->tx_enable_pending[q] = false;
    m->link_at_us = UINT64_MAX;
    m->mdic_at_us = UINT64_MAX;
    m->gprc = m->gptc = m->gorc = m->gotc = m->missed = 0;
}

void nic_model_init(struct nic_model *m, enum nic_model_chip chip)
{
    static const uint8_t mac[6] = {0x02, 0x00, 0x5c, 0x11, 0x22, 0x33};

    memset(m, 0, sizeof(*m));
    m->chip = chip;
    memcpy(m->perm_mac, mac, 6);
    m->cable = true;
    reset_state(m);
    m->ard_at_us = m->dmainit_at_us = 0;
}

/* Time-driven state, brought up to date before every access. */
static void advance(struct nic_model *m)
{
    if (m->in_reset && !m->stuck_reset && m->now_us >= m->reset_end_us) {
        m->in_reset = false;
        reset_state(m);
    }
    if (m->in_reset)
        return;
    if (m->chip == NIC_MODEL_82599) {
        if (m->now_us >= m->ard_at_us)
            *R(m, 0x10010) |= 1u << 9;
        if (!m->dma_init_stuck && m->now_us >= m->dmainit_at_us)
            *R(m, 0x2f00) |= 1u << 3;
    } else if (!m->no_eeprom && m->now_us >= m->ard_at_us) {
        *R(m, 0x10) |= 1u << 9;
    }
    if (m->now_us >= m->mdic_at_us)
        *R(m, 0x20) |= 1u << 28;
    for (unsigned q = 0; q < NIC_MODEL_QUEUES; q++) {
        if (m->rx_enable_pending[q] && m->now_us >= m->rx_enable_at[q]) {
            m->rx_enable_pending[q] = false;
            *R(m, lay(m)->rxq + 0x40 * q + 0x28) |= ENABLE_BIT;
        }
        if (m->tx_enable_pending[q] && m->now_us >= m->tx_enable_at[q]) {
            m->tx_enable_pending[q] = false;
            *R(m, lay(m)->txq + 0x40 * q + 0x28) |= ENABLE_BIT;
        }
    }
}

static bool link_up(struct nic_model *m)
{
    if (!m->cable || m->now_us < m->link_at_us)
        return false;
    if (m->chip == NIC_MODEL_82576) {
        uint32_t ctrl = *R(m, 0x0);
        return (ctrl & (1u << 6)) && !(ctrl & (1u << 3)); /* SLU, not LRST */
    }
    return true;
}

static uint32_t clear_on_read(uint64_t *v)
{
    uint32_t r = (uint32_t)*v;

    *v = 0;
    return r;
}

static uint32_t model_read(void *ctx, uint32_t off)
{
    struct nic_model *m = ctx;

    advance(m);
    m->reg_reads++;
    if (!known_reg(m, off)) {
        violation(m, "read of unknown register %#x", off);
        return 0;
    }
    if (m->in_reset) {
        if (off == 0x0)
            return *R(m, 0) | (m->chip == NIC_MODEL_82599 ? (1u << 26 | 1u << 3) : 1u << 26);
        if (off != 0x8)
            violation(m, "register %#x read during reset", off);
        return 0;
    }
    switch (off) {
    case 0x8: {
        uint32_t st = *R(m, 0x8);
        if (m->chip == NIC_MODEL_82576 && link_up(m))
            st |= 1u << 1 | 2u << 6; /* LU, 1000 Mb/s */
        return st;
    }
    case 0x4074: return clear_on_read(&m->gprc);
    case 0x4080: return clear_on_read(&m->gptc);
    case 0x4088: return (uint32_t)m->gorc;
    case 0x408c: {
        uint32_t hi = (uint32_t)(m->gorc >> 32);
        m->gorc = 0;
        return hi;
    }
    case 0x4090: return (uint32_t)m->gotc;
    case 0x4094: {
        uint32_t hi = (uint32_t)(m->gotc >> 32);
        m->gotc = 0;
        return hi;
    }
    case 0x4010: return clear_on_read(&m->missed); /* 82576 MPC */
    }
    if (m->chip == NIC_MODEL_82599) {
        if (off == 0x42a4)
            return link_up(m) ? (1u << 30 | 3u << 28) : 0;
        if (off == 0x1430)
            return clear_on_read(&m->missed); /* QPRDC(0) */
    }
    if (off == lay(m)->eicr || (m->chip == NIC_MODEL_82576 && off == 0xc0)) {
        uint32_t v = *R(m, off);
        *R(m, off) = 0;
        return v;
    }
    return *R(m, off);
}

/* Registers written as part of the configuration (not the reset/mask
 * handshake), which must wait for the reset rules. */
static bool is_setup_reg(const struct nic_model *m, uint32_t off)
{
    return !(off == 0x0 || off == lay(m)->eimc || off == 0xd8);
}

static void check_setup_order(struct nic_model *m, uint32_t off)
{
    if (!m->resets_seen || !is_setup_reg(m, off))
        return;
    if (m->now_us < m->reset_end_us + 10000)
        violation(m, "register %#x written within 10 ms of the reset", off);
    if (!m->masked_after_reset)
        violation(m, "register %#x written before interrupts were masked again after reset", off);
    if (m->chip == NIC_MODEL_82599 && m->now_us < m->dmainit_at_us)
        violation(m, "register %#x written before EEC.ARD and RDRXCTL.DMAIDONE", off);
}

static void transmit(struct nic_model *m, unsigned q);

static void write_rx_queue(struct nic_model *m, unsigned q, uint32_t in, uint32_t off, uint32_t v)
{
    uint32_t *xdctl = R(m, lay(m)->rxq + 0x40 * q + 0x28);
    bool enabled = (*xdctl & ENABLE_BIT) || m->rx_enable_pending[q];

    if (in == 0x28) {
        if ((v & ENABLE_BIT) && !(*xdctl & ENABLE_BIT)) {
            uint32_t srr = *R(m, lay(m)->rxq + 0x40 * q + lay(m)->srrctl);
            bool ready = *R(m, lay(m)->rxq + 0x40 * q + 8) != 0 &&
                         (*R(m, lay(m)->rxq + 0x40 * q) | *R(m, lay(m)->rxq + 0x40 * q + 4)) &&
                         ((srr >> 25) & 7) == 1 && (srr & 0x1f) != 0;
            if (m->chip == NIC_MODEL_82599 &&
                (*R(m, lay(m)->rxq + 0x40 * q + lay(m)->dca) & (1u << 12)))
                violation(m, "RX queue %u enabled with DCA_RXCTRL bit 12 still set", q);
            /* The enable takes a while to show, and never shows for a ring that is not set up. */
            *xdctl = v & ~ENABLE_BIT;
            if (ready && !m->rxdctl_stuck) {
                m->rx_enable_pending[q] = true;
                m->rx_enable_at[q] = m->now_us + ENABLE_DELAY;
            }
            return;
        }
        if (!(v & ENABLE_BIT))
            m->rx_enable_pending[q] = false;
        *xdctl = v;
        return;
    }
    if (in == 0x18) { /* RDT */
        if (!(*xdctl & ENABLE_BIT) && v != *R(m, off - 8))
            violation(m, "RDT(%u) moved before RXDCTL.ENABLE read back set", q);
        *R(m, off) = v & 0xffff;
        return;
    }
    if ((in <= 0x10 || in == lay(m)->srrctl) && enabled)
        violation(m, "RX queue %u register +%#x programmed while the queue is enabled", q, in);
    if (in == 0x08 && (v % 128 || v == 0))
        violation(m, "RDLEN(%u) = %u is not a non-zero multiple of 128", q, v);
    if (in == 0x00 && (v & 0x7f))
        violation(m, "RDBAL(%u) = %#x not 128-byte aligned", q, v);
    *R(m, off) = v;
}

static void write_tx_queue(struct nic_model *m, unsigned q, uint32_t in, uint32_t off, uint32_t v)
{
    uint32_t *xdctl = R(m, lay(m)->txq + 0x40 * q + 0x28);
    bool enabled = (*xdctl & ENABLE_BIT) || m->tx_enable_pending[q];

    if (in == 0x28) {
        if ((v & ENABLE_BIT) && !(*xdctl & ENABLE_BIT)) {
            bool te = m->chip == NIC_MODEL_82599 ? (*R(m, 0x4a80) & 1) : true;
            *xdctl = v & ~ENABLE_BIT;
            if (!te) {
                violation(m, "TXDCTL(%u).ENABLE set before DMATXCTL.TE", q);
                return; /* the datasheet: the queue does not enable */
            }
            if (*R(m, lay(m)->txq + 0x40 * q + 8) != 0) {
                m->tx_enable_pending[q] = true;
                m->tx_enable_at[q] = m->now_us + ENABLE_DELAY;
            }
            return;
        }
        if (!(v & ENABLE_BIT))
            m->tx_enable_pending[q] = false;
        *xdctl = v;
        return;
    }
    if (in == 0x18) { /* TDT */
        if (!(*xdctl & ENABLE_BIT) && v != *R(m, off - 8))
            violation(m, "TDT(%u) moved before TXDCTL.ENABLE read back set", q);
        *R(m, off) = v & 0xffff;
        m->tail_writes++;
        transmit(m, q);
        return;
    }
    if (in <= 0x10 && enabled)
        violation(m, "TX queue %u register +%#x programmed while the queue is enabled", q, in);
    if (in == 0x08 && (v % 128 || v == 0))
        violation(m, "TDLEN(%u) = %u is not a non-zero multiple of 128", q, v);
    *R(m, off) = v;
}

static void write_ctrl(struct nic_model *m, uint32_t v)
{
    uint32_t master_dis = 1u << 2;

    if (v & (1u << 26)) {
        if (!(*R(m, 0) & master_dis) && !(v & master_dis))
            violation(m, "reset (CTRL.RST) without master disable first");
        else if (*R(m, 0x8) & (1u << 19))
            violation(m, "reset (CTRL.RST) before STATUS showed the master disabled");
        m->in_reset = true;
        m->resets_seen = true;
        m->masked_after_reset = false;
        m->reset_end_us = m->now_us + RESET_US;
        m->ard_at_us = m->reset_end_us + 2000;
        m->dmainit_at_us = m->reset_end_us + 3000;
        return;
    }
    *R(m, 0) = v;
    if (v & master_dis)
        *R(m, 0x8) &= ~(1u << 19);
    else
        *R(m, 0x8) |= 1u << 19;
}

static void model_write(void *ctx, uint32_t off, uint32_t v)
{
    struct nic_model *m = ctx;
    uint32_t in;
    int q;

    advance(m);
    m->reg_writes++;
    if (!known_reg(m, off)) {
        violation(m, "write of unknown register %#x", off);
        return;
    }
    if (m->in_reset) {
        violation(m, "register %#x written during reset", off);
        return;
    }
    check_setup_order(m, off);
    if (off == 0x0) {
        write_ctrl(m, v);
        return;
    }
    if (off == lay(m)->eimc || off == 0xd8) {
        if (m->resets_seen && m->now_us >= m->reset_end_us)
            m->masked_after_reset = true;
        return;
    }
    if ((q = rx_queue_of(m, off, &in)) >= 0) {
        write_rx_queue(m, (unsigned)q, in, off, v);
        return;
    }
    if ((q = tx_queue_of(m, off, &in)) >= 0) {
        write_tx_queue(m, (unsigned)q, in, off, v);
        return;
    }
    if (m->chip == NIC_MODEL_82599) {
        if ((off >= 0xcc00 && off < 0xcc20) || off == 0x8100) {
            if (!(*R(m, 0x4900) & (1u << 6)))
                violation(m, "TX packet buffer register %#x written without RTTDCS.ARBDIS", off);
        }
        if (off == 0x42a0 && (v & (1u << 12))) {
            if (((v >> 13) & 7) != 3)
                violation(m, "AUTOC restart with link mode %u, not 10G serial", (v >> 13) & 7);
            m->link_at_us = m->now_us + 100000;
            v &= ~(1u << 12); /* self-clearing */
        }
        if (off == 0x10010 || off == 0x2f00) {
            uint32_t ro = off == 0x10010 ? 1u << 9 : 1u << 3;
            v = (v & ~ro) | (*R(m, off) & ro);
        }
    } else {
        if (off == 0x20) { /* MDIC */
            unsigned reg = (v >> 16) & 0x1f, phy = (v >> 21) & 0x1f;
            if (phy != 1) {
                v |= 1u << 30;
            } else if ((v >> 26 & 3) == 1 && reg == 0 && (v & (1u << 9))) {
                m->link_at_us = m->now_us + 500000; /* auto-negotiation */
            }
            v &= ~(1u << 28);
            m->mdic_at_us = m->now_us + 20;
        }
        if (off == 0x10)
            v = (v & ~(1u << 9)) | (*R(m, 0x10) & (1u << 9));
    }
    *R(m, off) = v;
}

static void model_delay(void *ctx, unsigned us)
{
    struct nic_model *m = ctx;

    m->now_us += us;
    advance(m);
}

struct nic_regs nic_model_regs(struct nic_model *m)
{
    return (struct nic_regs){
        .read = model_read, .write = model_write, .delay_us = model_delay, .ctx = m};
}

uint32_t nic_model_peek(const struct nic_model *m, uint32_t off)
{
    return m->reg[off / 4];
}

static uint64_t ring_base(struct nic_model *m, uint32_t block)
{
    return (uint64_t)*R(m, block + 4) << 32 | *R(m, block);
}

static bool rx_enabled(struct nic_model *m)
{
    if (m->chip == NIC_MODEL_82599)
        return *R(m, 0x3000) & 1;
    return (*R(m, 0x100) & (1u << 1)) && link_up(m);
}

static bool accept(struct nic_model *m, const uint8_t *dst)
{
    uint32_t f = m->chip == NIC_MODEL_82599 ? *R(m, 0x5080) : *R(m, 0x100);
    bool bam = m->chip == NIC_MODEL_82599 ? f & (1u << 10) : f & (1u << 15);
    bool upe = m->chip == NIC_MODEL_82599 ? f & (1u << 9) : f & (1u << 3);
    bool mpe = m->chip == NIC_MODEL_82599 ? f & (1u << 8) : f & (1u << 4);
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t own[6];
    uint32_t lo = *R(m, 0x5400), hi = *R(m, 0x5404);

    if (!memcmp(dst, bcast, 6))
        return bam;
    if (dst[0] & 1)
        return mpe;
    for (int i = 0; i < 4; i++)
        own[i] = (uint8_t)(lo >> (8 * i));
    own[4] = (uint8_t)hi;
    own[5] = (uint8_t)(hi >> 8);
    return upe || ((hi & (1u << 31)) && !memcmp(dst, own, 6));
}

bool nic_model_deliver(struct nic_model *m, unsigned q, const void *frame, uint16_t len)
{
    uint32_t block = lay(m)->rxq + 0x40 * q;
    uint32_t *rdh = R(m, block + 0x10), rdt = *R(m, block + 0x18);
    uint32_t slots = *R(m, block + 8) / 16;
    uint32_t srr = *R(m, block + lay(m)->srrctl);
    uint32_t bufsize = (srr & 0x1f) * 1024;
    bool strip = m->chip == NIC_MODEL_82599 ? (*R(m, 0x4240) & 2) && (*R(m, 0x2f00) & 2)
                                            : *R(m, 0x100) & (1u << 26);
    uint8_t data[NIC_MODEL_FRAME_MAX + 4];
    uint32_t total = len + (strip ? 0 : 4), done = 0;

    advance(m);
    if (!rx_enabled(m) || !(*R(m, block + 0x28) & ENABLE_BIT) || slots == 0 || bufsize == 0 ||
        len < 14 || len > NIC_MODEL_FRAME_MAX)
        return false;
    if (!accept(m, frame))
        return false;
    /* Room for the whole frame, or it is dropped (DROP_EN) and counted. */
    uint32_t free_slots = (rdt + slots - *rdh) % slots;
    if (free_slots * bufsize < total) {
        m->missed++;
        return false;
    }
    memcpy(data, frame, len);
    memset(data + len, 0, 4); /* the CRC, when not stripped */
    while (done < total) {
        volatile union adv_rx_desc *d =
            (volatile union adv_rx_desc *)(uintptr_t)(ring_base(m, block) + 16ull * *rdh);
        uint64_t buf = d->read.pkt_addr;
        uint32_t chunk = total - done < bufsize ? total - done : bufsize;

        memcpy((void *)(uintptr_t)buf, data + done, chunk);
        done += chunk;
        d->wb.info = 0;
        d->wb.rss = 0;
        d->wb.length = (uint16_t)chunk;
        d->wb.vlan = 0;
        __atomic_thread_fence(__ATOMIC_RELEASE);
        d->wb.status_error = 1u | (done == total ? 2u : 0u); /* DD, EOP; status last */
        *rdh = (*rdh + 1) % slots;
    }
    m->gprc++;
    m->gorc += len + 4u;
    return true;
}

static void transmit(struct nic_model *m, unsigned q)
{
    uint32_t block = lay(m)->txq + 0x40 * q;
    uint32_t *tdh = R(m, block + 0x10), tdt = *R(m, block + 0x18);
    uint32_t slots = *R(m, block + 8) / 16;
    bool on = m->chip == NIC_MODEL_82599 ? (*R(m, 0x4a80) & 1) : (*R(m, 0x400) & (1u << 1));
    struct nic_model_frame cur = {0};
    uint32_t first_paylen = 0;
    bool first = true;

    if (!on || !(*R(m, block + 0x28) & ENABLE_BIT) || slots == 0)
        return;
    if (tdt >= slots) {
        violation(m, "TDT(%u) = %u beyond the ring of %u", q, tdt, slots);
        return;
    }
    while (*tdh != tdt) {
        volatile union adv_tx_desc *d =
            (volatile union adv_tx_desc *)(uintptr_t)(ring_base(m, block) + 16ull * *tdh);
        uint32_t cmd = d->read.cmd_type_len, len = cmd & 0xffff;

        if (!(cmd & (1u << 29)) || ((cmd >> 20) & 0xf) != 3)
            violation(m, "TX descriptor %u of queue %u is not an advanced data descriptor", *tdh,
                      q);
        if (!(cmd & (1u << 25)))
            violation(m, "TX descriptor %u without IFCS (no CRC would be added)", *tdh);
        if (first)
            first_paylen = d->read.olinfo_status >> 14;
        first = false;
        if (cur.len + len <= NIC_MODEL_FRAME_MAX) {
            memcpy(cur.data + cur.len, (const void *)(uintptr_t)d->read.buffer_addr, len);
            cur.len = (uint16_t)(cur.len + len);
        }
        if (cmd & (1u << 24)) { /* EOP */
            if (first_paylen != cur.len)
                violation(m, "PAYLEN %u but the frame has %u bytes", first_paylen, cur.len);
            if (m->tx_count < NIC_MODEL_MAX_TX)
                m->tx[m->tx_count] = cur;
            m->tx_count++;
            if (m->echo && cur.len >= 14) {
                uint8_t tmp[6];
                memcpy(tmp, cur.data, 6);
                memcpy(cur.data, cur.data + 6, 6);
                memcpy(cur.data + 6, tmp, 6);
                if (m->echo_corrupt_at && m->tx_count == 3 && m->echo_corrupt_at < cur.len)
                    cur.data[m->echo_corrupt_at] ^= 0x10;
                nic_model_deliver(m, q, cur.data, cur.len);
            }
            m->gptc++;
            m->gotc += cur.len + 4u;
            cur.len = 0;
            first = true;
        }
        if (cmd & (1u << 27)) /* RS: write DD back */
            d->wb.status = 1;
        *tdh = (*tdh + 1) % slots;
    }
}
