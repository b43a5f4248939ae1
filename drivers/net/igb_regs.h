/* SPDX-License-Identifier: MIT */
/*
 * Intel 82576 (igb) registers the driver uses, from the 82576 datasheet as
 * QEMU's hw/net/igb_regs.h and Linux's igb driver name them. The e1000-style
 * global registers (CTRL, STATUS, RCTL, TCTL, MDIC) are the 82576's own;
 * the queue blocks follow the advanced-descriptor layout shared with the
 * 82599 (nic_dev.h).
 */
#ifndef SIDECORE_NET_IGB_REGS_H
#define SIDECORE_NET_IGB_REGS_H

#define IGB_CTRL                 0x00000
#define IGB_CTRL_FD              (1u << 0)
#define IGB_CTRL_GIO_MASTER_DIS  (1u << 2)
#define IGB_CTRL_LRST            (1u << 3)
#define IGB_CTRL_SLU             (1u << 6)
#define IGB_CTRL_FRCSPD          (1u << 11)
#define IGB_CTRL_FRCDPX          (1u << 12)
#define IGB_CTRL_RST             (1u << 26)
#define IGB_STATUS               0x00008
#define IGB_STATUS_LU            (1u << 1)
#define IGB_STATUS_SPEED_SHIFT   6
#define IGB_STATUS_GIO_MASTER_EN (1u << 19)
#define IGB_EECD                 0x00010
#define IGB_EECD_AUTO_RD         (1u << 9)
#define IGB_CTRL_EXT             0x00018
#define IGB_MDIC                 0x00020
#define IGB_MDIC_OP_WRITE        (1u << 26)
#define IGB_MDIC_READY           (1u << 28)
#define IGB_MDIC_ERROR           (1u << 30)
#define IGB_ICR                  0x000C0
#define IGB_IMC                  0x000D8
#define IGB_RCTL                 0x00100
#define IGB_RCTL_EN              (1u << 1)
#define IGB_RCTL_UPE             (1u << 3)
#define IGB_RCTL_MPE             (1u << 4)
#define IGB_RCTL_BAM             (1u << 15)
#define IGB_RCTL_SECRC           (1u << 26)
#define IGB_TCTL                 0x00400
#define IGB_TCTL_EN              (1u << 1)
#define IGB_TCTL_PSP             (1u << 3)
#define IGB_TCTL_CT              (0xfu << 4)
#define IGB_TCTL_COLD            (0x3fu << 12)
#define IGB_EICR                 0x01580
#define IGB_EIMC                 0x01528
#define IGB_RXQ_BASE             0x0C000 /* RDBAL(0); + 0x40 per queue */
#define IGB_TXQ_BASE             0x0E000
#define IGB_Q_SRRCTL             0x0C /* inside an RX queue block */
#define IGB_Q_DCA_RXCTRL         0x14
#define IGB_SRRCTL_DROP_EN       (1u << 31)
#define IGB_MAX_QUEUES           16

/* PHY (through MDIC, PHY address 1): the control register. */
#define IGB_PHY_ADDR       1
#define IGB_PHY_BMCR       0
#define IGB_BMCR_SPEED1000 (1u << 6)
#define IGB_BMCR_FD        (1u << 8)
#define IGB_BMCR_ANRESTART (1u << 9)
#define IGB_BMCR_AUTOEN    (1u << 12)

/* Statistics (clear on read; GORC/GOTC low then high). */
#define IGB_CRCERRS 0x04000
#define IGB_MPC     0x04010
#define IGB_GPRC    0x04074
#define IGB_GPTC    0x04080
#define IGB_GORCL   0x04088
#define IGB_GORCH   0x0408C
#define IGB_GOTCL   0x04090
#define IGB_GOTCH   0x04094

#endif
