/* SPDX-License-Identifier: MIT */
/*
 * Intel 82599 (ixgbe, 8086:10FB and its siblings), from the 82599 datasheet
 * as shared/notes/hardware-facts.md and ixy (emmericp/ixy) give it:
 * interrupts masked (4.6.3.1); master disable and wait for the GIO bit;
 * CTRL.RST | LNK_RST with a poll until clear and 10 ms (4.6.3.2); masked
 * again; EEC auto-read done and RDRXCTL.DMAIDONE; link through AUTOC (10G
 * serial, restart negotiation, 4.6.4); RX: packet buffer 0 of 128 KiB, CRC
 * strip in HLREG0 and RDRXCTL, FCTRL broadcast accept with unicast and
 * multicast promiscuous for the switch's uplink (4.6.7); TX: CRC and padding
 * in HLREG0, 40 KiB packet buffer, DTXMXSZRQ, RTTDCS.ARBDIS around the
 * packet-buffer setup, DMATXCTL.TE before any queue (4.6.8); each queue with
 * advanced one-buffer SRRCTL (DROP_EN bit 28) and RXDCTL/TXDCTL.ENABLE read
 * back; then CTRL_EXT.NS_DIS and RXCTRL.RXEN.
 *
 * NOT VERIFIED ON HARDWARE: no 82599 can run here (QEMU has no model of it).
 * This driver is tested only against the register-level model in
 * tests/unit/nic_model.c, written from the same datasheet facts.
 */
#include "drivers/net/ixgbe_regs.h"
#include "drivers/net/nic_dev.h"

#define MASTER_TIMEOUT_US  100000
#define RESET_TIMEOUT_US   100000
#define EEPROM_TIMEOUT_US  100000
#define DMAINIT_TIMEOUT_US 100000
#define LINK_WAIT_US       1000000

static void mask_interrupts(struct nic *n)
{
    nic_wr(n, n->chip->r.eimc, 0x7fffffffu);
    (void)nic_rd(n, n->chip->r.eicr); /* clear on read */
}

static bool ixgbe_reset_and_setup(struct nic *n, const char **why)
{
    mask_interrupts(n);
    nic_set_bits(n, IXGBE_CTRL, IXGBE_CTRL_GIO_DIS);
    if (!nic_wait_reg(n, IXGBE_STATUS, IXGBE_STATUS_GIO, 0, MASTER_TIMEOUT_US)) {
        *why = "master disable: STATUS.GIO did not clear within 100 ms";
        return false;
    }
    nic_set_bits(n, IXGBE_CTRL, IXGBE_CTRL_RST | IXGBE_CTRL_LNK_RST);
    if (!nic_wait_reg(n, IXGBE_CTRL, IXGBE_CTRL_RST | IXGBE_CTRL_LNK_RST, 0, RESET_TIMEOUT_US)) {
        *why = "reset: CTRL.RST/LNK_RST did not clear within 100 ms";
        return false;
    }
    nic_delay_us(n, 10000);
    mask_interrupts(n);
    if (!nic_wait_reg(n, IXGBE_EEC, IXGBE_EEC_ARD, IXGBE_EEC_ARD, EEPROM_TIMEOUT_US)) {
        *why = "EEPROM auto-read (EEC.ARD) not done within 100 ms";
        return false;
    }
    if (!nic_wait_reg(n, IXGBE_RDRXCTL, IXGBE_RDRXCTL_DMAIDONE, IXGBE_RDRXCTL_DMAIDONE,
                      DMAINIT_TIMEOUT_US)) {
        *why = "DMA init (RDRXCTL.DMAIDONE) not done within 100 ms";
        return false;
    }
    if (!nic_read_ral_rah(n, n->mac)) {
        *why = "no valid MAC address in RAL/RAH(0)";
        return false;
    }

    /* Link: 10G serial, PMA/PMD XAUI, restart negotiation. */
    uint32_t autoc = nic_rd(n, IXGBE_AUTOC);
    autoc =
        (autoc & ~(IXGBE_AUTOC_LMS_MASK | IXGBE_AUTOC_PMA_PMD_MASK)) | IXGBE_AUTOC_LMS_10G_SERIAL;
    nic_wr(n, IXGBE_AUTOC, autoc);
    nic_wr(n, IXGBE_AUTOC, autoc | IXGBE_AUTOC_AN_RESTART);

    /* Receive, globally (queues come later). */
    nic_clear_bits(n, IXGBE_RXCTRL, IXGBE_RXCTRL_RXEN);
    nic_wr(n, IXGBE_RXPBSIZE(0), IXGBE_RXPBSIZE_128K);
    for (unsigned i = 1; i < 8; i++)
        nic_wr(n, IXGBE_RXPBSIZE(i), 0);
    nic_set_bits(n, IXGBE_HLREG0, IXGBE_HLREG0_RXCRCSTRP);
    nic_set_bits(n, IXGBE_RDRXCTL, IXGBE_RDRXCTL_CRCSTRIP);
    nic_set_bits(n, IXGBE_FCTRL, IXGBE_FCTRL_BAM | IXGBE_FCTRL_UPE | IXGBE_FCTRL_MPE);

    /* Transmit, globally: the packet buffers are set with arbitration off. */
    nic_set_bits(n, IXGBE_HLREG0, IXGBE_HLREG0_TXCRCEN | IXGBE_HLREG0_TXPADEN);
    nic_set_bits(n, IXGBE_RTTDCS, IXGBE_RTTDCS_ARBDIS);
    nic_wr(n, IXGBE_TXPBSIZE(0), IXGBE_TXPBSIZE_40K);
    for (unsigned i = 1; i < 8; i++)
        nic_wr(n, IXGBE_TXPBSIZE(i), 0);
    nic_wr(n, IXGBE_DTXMXSZRQ, 0xffff);
    nic_clear_bits(n, IXGBE_RTTDCS, IXGBE_RTTDCS_ARBDIS);
    nic_set_bits(n, IXGBE_DMATXCTL, IXGBE_DMATXCTL_TE);
    return true;
}

static bool ixgbe_link(struct nic *n, unsigned *mbps)
{
    uint32_t links = nic_rd(n, IXGBE_LINKS);
    static const unsigned speeds[4] = {0, 100, 1000, 10000};

    if (links == 0xffffffffu || !(links & IXGBE_LINKS_UP))
        return false;
    *mbps = speeds[(links >> IXGBE_LINKS_SPEED_SHIFT) & 3];
    return true;
}

static bool ixgbe_finish(struct nic *n, const char **why)
{
    unsigned mbps;

    /* No snoop off (4.6.7), then receive on. */
    nic_set_bits(n, IXGBE_CTRL_EXT, IXGBE_CTRL_EXT_NS_DIS);
    nic_set_bits(n, IXGBE_RXCTRL, IXGBE_RXCTRL_RXEN);
    for (unsigned waited = 0; waited < LINK_WAIT_US && !ixgbe_link(n, &mbps); waited += 10000)
        nic_delay_us(n, 10000);
    return true;
}

static void ixgbe_stats(struct nic *n)
{
    uint64_t gorc = nic_rd(n, IXGBE_GORCL);
    gorc |= (uint64_t)nic_rd(n, IXGBE_GORCH) << 32;
    uint64_t gotc = nic_rd(n, IXGBE_GOTCL);
    gotc |= (uint64_t)nic_rd(n, IXGBE_GOTCH) << 32;

    n->hw.rx_packets += nic_rd(n, IXGBE_GPRC);
    n->hw.tx_packets += nic_rd(n, IXGBE_GPTC);
    n->hw.rx_bytes += gorc;
    n->hw.tx_bytes += gotc;
    n->hw.rx_missed += nic_rd(n, IXGBE_MPC0);
    for (unsigned i = 0; i < n->queues; i++)
        n->hw.rx_missed += nic_rd(n, IXGBE_QPRDC(i));
    n->hw.rx_crc_errors += nic_rd(n, IXGBE_CRCERRS);
}

const struct nic_chip nic_chip_82599 = {
    .name = "82599",
    .max_queues = IXGBE_MAX_QUEUES,
    .r = {.rx_base = IXGBE_RXQ_BASE,
          .tx_base = IXGBE_TXQ_BASE,
          .srrctl = IXGBE_Q_SRRCTL,
          .srrctl_drop_en = IXGBE_SRRCTL_DROP_EN,
          .dca_rxctrl = IXGBE_Q_DCA_RXCTRL,
          .dca_rxctrl_clear = IXGBE_DCA_RXCTRL_RSVD12,
          .rxdctl = 0,
          /* PTHRESH 36, HTHRESH 8 (as ixy); WTHRESH 0: DD written back for
           * every descriptor with RS, so a lone frame is reclaimed at once. */
          .txdctl = 36 | 8u << 8,
          .eicr = IXGBE_EICR,
          .eimc = IXGBE_EIMC},
    .reset_and_setup = ixgbe_reset_and_setup,
    .finish = ixgbe_finish,
    .link = ixgbe_link,
    .stats = ixgbe_stats,
};
