/* SPDX-License-Identifier: MIT */
/*
 * Register-level models of the Intel 82599 (ixgbe) and 82576 (igb) for the
 * host tests of drivers/net: a register file with the side effects and
 * ordering rules of the datasheets (as shared/notes/hardware-facts.md and
 * the 82576/82599 datasheets state them), model time that only moves when
 * the driver delays, and the descriptor data path: frames from the "wire"
 * are written into posted RX buffers with DD/EOP/length write-back, and a
 * TX tail write sends every descriptor up to the tail (captured here) and
 * writes DD back. Every rule the driver breaks is recorded as a violation
 * with the first one's text; tests assert there are none.
 *
 * Written from the datasheet facts, not from the driver: offsets are the
 * model's own literals, so a wrong offset in the driver shows up as an
 * access to an unknown register.
 */
#ifndef SIDECORE_TESTS_NIC_MODEL_H
#define SIDECORE_TESTS_NIC_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/net/nic_dev.h"

enum nic_model_chip { NIC_MODEL_82599, NIC_MODEL_82576 };

#define NIC_MODEL_REGS      (0x20000 / 4)
#define NIC_MODEL_QUEUES    4
#define NIC_MODEL_MAX_TX    64
#define NIC_MODEL_FRAME_MAX 2048

struct nic_model_frame {
    uint8_t data[NIC_MODEL_FRAME_MAX];
    uint16_t len;
};

struct nic_model {
    enum nic_model_chip chip;
    uint32_t reg[NIC_MODEL_REGS];
    uint64_t now_us;
    /* Knobs a test sets before bring-up. */
    uint8_t perm_mac[6];
    bool no_eeprom;           /* 82576: AUTO_RD never set (as QEMU's model) */
    bool cable;               /* link partner present */
    bool stuck_reset;         /* CTRL.RST never clears */
    bool dma_init_stuck;      /* 82599: DMAIDONE never set */
    bool rxdctl_stuck;        /* RXDCTL.ENABLE never reads back */
    bool echo;                /* the peer on the wire sends each frame back, MACs swapped */
    unsigned echo_corrupt_at; /* non-zero: flips a bit of that byte in the 3rd echo */
    /* Internal timing. */
    bool in_reset;
    uint64_t reset_end_us, ard_at_us, dmainit_at_us, link_at_us, mdic_at_us;
    uint64_t rx_enable_at[NIC_MODEL_QUEUES], tx_enable_at[NIC_MODEL_QUEUES];
    bool rx_enable_pending[NIC_MODEL_QUEUES], tx_enable_pending[NIC_MODEL_QUEUES];
    bool masked_after_reset;
    bool resets_seen;
    /* What came out of the "wire" side. */
    struct nic_model_frame tx[NIC_MODEL_MAX_TX];
    unsigned tx_count;
    /* Counters behind the clear-on-read statistics registers. */
    uint64_t gprc, gptc, gorc, gotc, missed;
    /* Rules broken. */
    unsigned violations;
    char first_violation[200];
    unsigned reg_reads, reg_writes, tail_writes;
};

void nic_model_init(struct nic_model *m, enum nic_model_chip chip);
/* The accessor to put in struct nic (ctx = m). */
struct nic_regs nic_model_regs(struct nic_model *m);
/* A frame arrives from the wire on queue q. Returns true if it was written
 * to a posted buffer, false if it was dropped (and counted). */
bool nic_model_deliver(struct nic_model *m, unsigned q, const void *frame, uint16_t len);
/* Register value as the device holds it (no read side effects). */
uint32_t nic_model_peek(const struct nic_model *m, uint32_t off);

#endif
