/* SPDX-License-Identifier: MIT */
/*
 * Intel 82599 (ixgbe) registers the driver uses, from the 82599 datasheet
 * (section numbers in ixgbe.c) as shared/notes/hardware-facts.md lists
 * them and ixy and Linux's ixgbe name them.
 */
#ifndef SIDECORE_NET_IXGBE_REGS_H
#define SIDECORE_NET_IXGBE_REGS_H

#define IXGBE_CTRL                 0x00000
#define IXGBE_CTRL_GIO_DIS         (1u << 2)
#define IXGBE_CTRL_LNK_RST         (1u << 3)
#define IXGBE_CTRL_RST             (1u << 26)
#define IXGBE_STATUS               0x00008
#define IXGBE_STATUS_GIO           (1u << 19) /* master requests pending */
#define IXGBE_CTRL_EXT             0x00018
#define IXGBE_CTRL_EXT_NS_DIS      (1u << 16)
#define IXGBE_EICR                 0x00800
#define IXGBE_EIMC                 0x00888
#define IXGBE_EEC                  0x10010
#define IXGBE_EEC_ARD              (1u << 9)
#define IXGBE_RDRXCTL              0x02F00
#define IXGBE_RDRXCTL_CRCSTRIP     (1u << 1)
#define IXGBE_RDRXCTL_DMAIDONE     (1u << 3)
#define IXGBE_RXCTRL               0x03000
#define IXGBE_RXCTRL_RXEN          (1u << 0)
#define IXGBE_RXPBSIZE(n)          (0x03C00 + 4u * (n))
#define IXGBE_TXPBSIZE(n)          (0x0CC00 + 4u * (n))
#define IXGBE_HLREG0               0x04240
#define IXGBE_HLREG0_TXCRCEN       (1u << 0)
#define IXGBE_HLREG0_RXCRCSTRP     (1u << 1)
#define IXGBE_HLREG0_TXPADEN       (1u << 10)
#define IXGBE_AUTOC                0x042A0
#define IXGBE_AUTOC_LMS_MASK       (7u << 13)
#define IXGBE_AUTOC_LMS_10G_SERIAL (3u << 13)
#define IXGBE_AUTOC_PMA_PMD_MASK   (3u << 7)
#define IXGBE_AUTOC_AN_RESTART     (1u << 12)
#define IXGBE_LINKS                0x042A4
#define IXGBE_LINKS_UP             (1u << 30)
#define IXGBE_LINKS_SPEED_SHIFT    28
#define IXGBE_RTTDCS               0x04900
#define IXGBE_RTTDCS_ARBDIS        (1u << 6)
#define IXGBE_DMATXCTL             0x04A80
#define IXGBE_DMATXCTL_TE          (1u << 0)
#define IXGBE_FCTRL                0x05080
#define IXGBE_FCTRL_MPE            (1u << 8)
#define IXGBE_FCTRL_UPE            (1u << 9)
#define IXGBE_FCTRL_BAM            (1u << 10)
#define IXGBE_DTXMXSZRQ            0x08100
#define IXGBE_RXQ_BASE             0x01000 /* RDBAL(0); + 0x40 per queue (queues 0-63) */
#define IXGBE_TXQ_BASE             0x06000
#define IXGBE_Q_DCA_RXCTRL         0x0C /* inside an RX queue block */
#define IXGBE_Q_SRRCTL             0x14
#define IXGBE_DCA_RXCTRL_RSVD12    (1u << 12) /* reserved, 1 after reset, must be 0 (ixy) */
#define IXGBE_SRRCTL_DROP_EN       (1u << 28)
#define IXGBE_MAX_QUEUES           64

#define IXGBE_RXPBSIZE_128K 0x00020000u
#define IXGBE_TXPBSIZE_40K  0x0000A000u

/* Statistics (clear on read). */
#define IXGBE_CRCERRS  0x04000
#define IXGBE_MPC0     0x03FA0
#define IXGBE_GPRC     0x04074
#define IXGBE_GPTC     0x04080
#define IXGBE_GORCL    0x04088
#define IXGBE_GORCH    0x0408C
#define IXGBE_GOTCL    0x04090
#define IXGBE_GOTCH    0x04094
#define IXGBE_QPRDC(q) (0x01430 + 0x40u * (q))

#endif
