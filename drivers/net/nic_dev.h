/* SPDX-License-Identifier: MIT */
/*
 * Inside the NIC drivers: the state of one NIC, the register accessor (an
 * interface so the host tests can put a register-level model of the chip in
 * place of the MMIO BAR, as nic_regs_hw.c does on the machine), and the
 * table of what each chip does differently (struct nic_chip, filled in by
 * igb.c and ixgbe.c). Not for users of the drivers: they have nic.h.
 */
#ifndef SIDECORE_NET_NIC_DEV_H
#define SIDECORE_NET_NIC_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/net/adv_ring.h"
#include "drivers/net/nic.h"

/* Register access. read/write are 32-bit at a byte offset of BAR0;
 * delay_us waits (on the machine: the TSC clock; in a model: advances
 * model time), which is what makes every poll loop bounded. */
struct nic_regs {
    uint32_t (*read)(void *ctx, uint32_t off);
    void (*write)(void *ctx, uint32_t off, uint32_t val);
    void (*delay_us)(void *ctx, unsigned us);
    void *ctx;
};

struct nic_queue {
    struct adv_rx_ring rx;
    struct adv_tx_ring tx;
    uint32_t rdt, tdt; /* tail register offsets */
    struct nic_queue_counters c;
    const char *owner; /* nic_queue_claim's; NULL while unclaimed */
};

/* What differs between the chips, as data. The queue blocks have the same
 * layout on both (NIC_Q_* below) except where SRRCTL and DCA_RXCTRL sit. */
struct nic_chip_regs {
    uint32_t rx_base, tx_base; /* queue 0's block; + 0x40 per queue */
    uint32_t srrctl;           /* offset inside an RX block */
    uint32_t srrctl_drop_en;   /* SRRCTL's DROP_EN bit */
    uint32_t dca_rxctrl;       /* offset inside an RX block; 0: leave it alone */
    uint32_t dca_rxctrl_clear; /* bits cleared there before the queue is enabled */
    uint32_t rxdctl, txdctl;   /* thresholds written with ENABLE */
    uint32_t eicr, eimc;       /* the extended interrupt block */
};

struct nic_chip {
    const char *name;
    unsigned max_queues;
    struct nic_chip_regs r;
    /* Reset and global setup up to, not including, the queues (transmit
     * enabled, so the queues' enables read back); reads the MAC into
     * n->mac. false with *why set on failure. */
    bool (*reset_and_setup)(struct nic *n, const char **why);
    /* After every queue is up (nic_core.c's nic_queue_start): receive on,
     * link start. */
    bool (*finish)(struct nic *n, const char **why);
    bool (*link)(struct nic *n, unsigned *mbps);
    /* Adds the statistics registers' counts (clear on read) to n->hw. */
    void (*stats)(struct nic *n);
};

struct nic {
    unsigned index;
    const struct nic_chip *chip;
    struct nic_regs regs;
    uint16_t segment;
    uint8_t bus, dev, func;
    uint8_t mac[6];
    bool up;
    unsigned queues;
    struct nic_queue q[NIC_MAX_QUEUES];
    struct nic_counters hw;
};

/* A register offset inside queue q's block (off is from queue 0's base). */
static inline uint32_t nic_rxq_reg(const struct nic *n, unsigned q, uint32_t off)
{
    return n->chip->r.rx_base + q * 0x40u + off;
}
static inline uint32_t nic_txq_reg(const struct nic *n, unsigned q, uint32_t off)
{
    return n->chip->r.tx_base + q * 0x40u + off;
}

/* Offsets inside a queue's 0x40 block, common to both chips. */
#define NIC_Q_BAL        0x00
#define NIC_Q_BAH        0x04
#define NIC_Q_LEN        0x08
#define NIC_Q_HEAD       0x10
#define NIC_Q_TAIL       0x18
#define NIC_Q_XDCTL      0x28
#define NIC_XDCTL_ENABLE (1u << 25)

static inline uint32_t nic_rd(struct nic *n, uint32_t off)
{
    return n->regs.read(n->regs.ctx, off);
}
static inline void nic_wr(struct nic *n, uint32_t off, uint32_t v)
{
    n->regs.write(n->regs.ctx, off, v);
}
static inline void nic_set_bits(struct nic *n, uint32_t off, uint32_t bits)
{
    nic_wr(n, off, nic_rd(n, off) | bits);
}
static inline void nic_clear_bits(struct nic *n, uint32_t off, uint32_t bits)
{
    nic_wr(n, off, nic_rd(n, off) & ~bits);
}
static inline void nic_delay_us(struct nic *n, unsigned us)
{
    n->regs.delay_us(n->regs.ctx, us);
}

/* Polls off until (value & mask) == want, at most timeout_us (checked every
 * 10 us). true when it got there. A register reading all ones (the device
 * fell off the bus) fails at once. */
bool nic_wait_reg(struct nic *n, uint32_t off, uint32_t mask, uint32_t want, unsigned timeout_us);

/* SRRCTL for advanced one-buffer descriptors in NIC_RX_BUF_SIZE buffers
 * (BSIZEPKT in 1 KiB units, DESCTYPE 001b), with the chip's DROP_EN bit. */
#define NIC_SRRCTL_DESCTYPE_ADV_ONEBUF (1u << 25)
static inline uint32_t nic_srrctl_value(uint32_t drop_en_bit)
{
    return (NIC_RX_BUF_SIZE / 1024) | NIC_SRRCTL_DESCTYPE_ADV_ONEBUF | drop_en_bit;
}

/* nic_core.c: programs and enables RX and TX queue q, the same on both
 * chips apart from their table: each ring disabled (with read-back), its
 * base, length, head = tail = 0, SRRCTL (advanced one-buffer, DROP_EN),
 * DCA_RXCTRL, then ENABLE with the thresholds, polled until it reads back
 * (10 ms at most). RDT stays 0 (nothing posted) until nic_rx_refill. */
bool nic_queue_start(struct nic *n, unsigned q, const char **why);

/* nic_core.c: brings n up with nqueues pairs: allocates and initialises
 * the rings (nic_dma_alloc), then the chip's reset_and_setup,
 * nic_queue_start for each pair, the chip's finish. false with *why. */
bool nic_bring_up(struct nic *n, unsigned nqueues, const char **why);

/* Zeroed memory the device can reach (identity mapped), aligned to align:
 * nic_regs_hw.c on the machine, the test on the host. NULL if none. */
void *nic_dma_alloc(size_t bytes, size_t align);

/* nic_regs_hw.c: the accessor for a mapped BAR0. */
struct nic_regs nic_regs_mmio(volatile void *bar0);

/* The chips (igb.c, ixgbe.c). */
extern const struct nic_chip nic_chip_82576;
extern const struct nic_chip nic_chip_82599;

/* Reads a MAC from RAL/RAH (0x5400/0x5404 on both chips); false if the
 * address-valid bit is clear or the address is zero/multicast. */
bool nic_read_ral_rah(struct nic *n, uint8_t mac[6]);

#endif
