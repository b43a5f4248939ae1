/* SPDX-License-Identifier: MIT */
/*
 * Intel 82576 (igb): QEMU's `-device igb` (QEMU 8.0 and later), the NIC our
 * system tests drive. Its bring-up, after the 82576 datasheet (4.5 and 4.6)
 * and what QEMU's model checks: interrupts masked, master disable, software
 * reset (CTRL.RST, self-clearing) and 10 ms, masked again, the EEPROM
 * auto-read, the MAC from RAL/RAH(0), link through CTRL.SLU and a PHY
 * auto-negotiation restart over MDIC; TCTL.EN before the queues (QEMU
 * transmits only while TCTL.EN and TXDCTL.ENABLE are both set); each queue
 * disabled, programmed at 0xC000/0xE000 + 0x40 n with advanced one-buffer
 * SRRCTL (DROP_EN is bit 31 here), enabled with read-back; then RCTL with
 * CRC strip, broadcast accept and unicast/multicast promiscuous for the
 * switch's uplink. Host-tested against tests/unit/nic_model.c and run under
 * QEMU by tests/system/test_nic.py.
 */
#include "drivers/net/igb_regs.h"
#include "drivers/net/nic_dev.h"

#define RESET_TIMEOUT_US   100000
#define MASTER_TIMEOUT_US  100000
#define AUTO_RD_TIMEOUT_US 10000
#define MDIC_TIMEOUT_US    10000
#define LINK_WAIT_US       2000000

static void mask_interrupts(struct nic *n)
{
    nic_wr(n, IGB_IMC, 0xffffffffu); /* the e1000-style block, then the extended one */
    nic_wr(n, n->chip->r.eimc, 0xffffffffu);
    (void)nic_rd(n, IGB_ICR); /* clears the causes */
}

static bool phy_write(struct nic *n, unsigned reg, uint16_t val, const char **why)
{
    nic_wr(n, IGB_MDIC, val | (reg << 16) | (IGB_PHY_ADDR << 21) | IGB_MDIC_OP_WRITE);
    if (!nic_wait_reg(n, IGB_MDIC, IGB_MDIC_READY, IGB_MDIC_READY, MDIC_TIMEOUT_US)) {
        *why = "PHY write through MDIC did not complete within 10 ms";
        return false;
    }
    if (nic_rd(n, IGB_MDIC) & IGB_MDIC_ERROR) {
        *why = "PHY write through MDIC failed (MDIC.ERROR)";
        return false;
    }
    return true;
}

static bool igb_reset_and_setup(struct nic *n, const char **why)
{
    mask_interrupts(n);
    nic_wr(n, IGB_RCTL, 0);
    nic_wr(n, IGB_TCTL, IGB_TCTL_PSP);
    /* Master disable: no DMA may be in flight across the reset. */
    nic_set_bits(n, IGB_CTRL, IGB_CTRL_GIO_MASTER_DIS);
    if (!nic_wait_reg(n, IGB_STATUS, IGB_STATUS_GIO_MASTER_EN, 0, MASTER_TIMEOUT_US)) {
        *why = "master disable: STATUS.GIO_MASTER_ENABLE did not clear within 100 ms";
        return false;
    }
    nic_set_bits(n, IGB_CTRL, IGB_CTRL_RST);
    if (!nic_wait_reg(n, IGB_CTRL, IGB_CTRL_RST, 0, RESET_TIMEOUT_US)) {
        *why = "reset: CTRL.RST did not clear within 100 ms";
        return false;
    }
    nic_delay_us(n, 10000);
    mask_interrupts(n);
    /* Without an EEPROM (QEMU's model) AUTO_RD never comes; like Linux's
     * igb, wait the bounded time and go on with the defaults. */
    (void)nic_wait_reg(n, IGB_EECD, IGB_EECD_AUTO_RD, IGB_EECD_AUTO_RD, AUTO_RD_TIMEOUT_US);
    if (!nic_read_ral_rah(n, n->mac)) {
        *why = "no valid MAC address in RAL/RAH(0)";
        return false;
    }
    /* Link: out of link reset, set link up, let the PHY negotiate. */
    uint32_t ctrl = nic_rd(n, IGB_CTRL);
    ctrl &= ~(IGB_CTRL_LRST | IGB_CTRL_FRCSPD | IGB_CTRL_FRCDPX | IGB_CTRL_GIO_MASTER_DIS);
    nic_wr(n, IGB_CTRL, ctrl | IGB_CTRL_SLU);
    if (!phy_write(n, IGB_PHY_BMCR,
                   IGB_BMCR_AUTOEN | IGB_BMCR_ANRESTART | IGB_BMCR_SPEED1000 | IGB_BMCR_FD, why))
        return false;
    /* Transmit on before the queues are enabled. */
    nic_wr(n, IGB_TCTL, IGB_TCTL_EN | IGB_TCTL_PSP | IGB_TCTL_CT | IGB_TCTL_COLD);
    return true;
}

static bool igb_link(struct nic *n, unsigned *mbps)
{
    uint32_t st = nic_rd(n, IGB_STATUS);
    static const unsigned speeds[4] = {10, 100, 1000, 1000};

    if (st == 0xffffffffu || !(st & IGB_STATUS_LU))
        return false;
    *mbps = speeds[(st >> IGB_STATUS_SPEED_SHIFT) & 3];
    return true;
}

static bool igb_finish(struct nic *n, const char **why)
{
    unsigned mbps;

    nic_wr(n, IGB_RCTL, IGB_RCTL_EN | IGB_RCTL_UPE | IGB_RCTL_MPE | IGB_RCTL_BAM | IGB_RCTL_SECRC);
    /* Give auto-negotiation its time (QEMU: 500 ms); a link still down is
     * reported, not an error. */
    for (unsigned waited = 0; waited < LINK_WAIT_US && !igb_link(n, &mbps); waited += 10000)
        nic_delay_us(n, 10000);
    return true;
}

static void igb_stats(struct nic *n)
{
    uint64_t gorc = nic_rd(n, IGB_GORCL);
    gorc |= (uint64_t)nic_rd(n, IGB_GORCH) << 32;
    uint64_t gotc = nic_rd(n, IGB_GOTCL);
    gotc |= (uint64_t)nic_rd(n, IGB_GOTCH) << 32;

    n->hw.rx_packets += nic_rd(n, IGB_GPRC);
    n->hw.tx_packets += nic_rd(n, IGB_GPTC);
    n->hw.rx_bytes += gorc;
    n->hw.tx_bytes += gotc;
    n->hw.rx_missed += nic_rd(n, IGB_MPC);
    n->hw.rx_crc_errors += nic_rd(n, IGB_CRCERRS);
}

const struct nic_chip nic_chip_82576 = {
    .name = "82576",
    .max_queues = IGB_MAX_QUEUES,
    .r = {.rx_base = IGB_RXQ_BASE,
          .tx_base = IGB_TXQ_BASE,
          .srrctl = IGB_Q_SRRCTL,
          .srrctl_drop_en = IGB_SRRCTL_DROP_EN,
          .dca_rxctrl = 0,
          /* PTHRESH 8, HTHRESH 8 / 1, WTHRESH 1: every descriptor written back. */
          .rxdctl = 8 | 8u << 8 | 1u << 16,
          .txdctl = 8 | 1u << 8 | 1u << 16,
          .eicr = IGB_EICR,
          .eimc = IGB_EIMC},
    .reset_and_setup = igb_reset_and_setup,
    .finish = igb_finish,
    .link = igb_link,
    .stats = igb_stats,
};
