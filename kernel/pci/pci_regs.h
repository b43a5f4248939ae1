/* SPDX-License-Identifier: MIT */
/*
 * Offsets and bits of the PCI configuration header and of the capabilities
 * PCI looks at (PCI Local Bus 3.0, PCI Express Base). Kept in one place so
 * the enumerator, the hardware access and the tests agree on them.
 */
#ifndef SIDECORE_PCI_PCI_REGS_H
#define SIDECORE_PCI_PCI_REGS_H

#define PCI_VENDOR_ID       0x00
#define PCI_DEVICE_ID       0x02
#define PCI_COMMAND         0x04
#define PCI_STATUS          0x06
#define PCI_REVISION        0x08 /* then prog-if 0x09, subclass 0x0a, class 0x0b */
#define PCI_HEADER_TYPE     0x0e
#define PCI_BAR0            0x10
#define PCI_CAP_PTR         0x34 /* header types 0 and 1 */
#define PCI_CARDBUS_CAP_PTR 0x14 /* header type 2 */

/* Type 1 (PCI-to-PCI bridge) header. */
#define PCI_PRIMARY_BUS     0x18
#define PCI_SECONDARY_BUS   0x19
#define PCI_SUBORDINATE_BUS 0x1a

#define PCI_COMMAND_IO     (1u << 0)
#define PCI_COMMAND_MEMORY (1u << 1)
#define PCI_COMMAND_MASTER (1u << 2)

#define PCI_STATUS_CAP_LIST (1u << 4)

#define PCI_HEADER_TYPE_MASK 0x7f
#define PCI_HEADER_MULTIFUNC 0x80
#define PCI_HEADER_NORMAL    0
#define PCI_HEADER_BRIDGE    1
#define PCI_HEADER_CARDBUS   2

#define PCI_BAR_IO            (1u << 0)
#define PCI_BAR_MEM_TYPE_MASK (3u << 1)
#define PCI_BAR_MEM_TYPE_64   (2u << 1)
#define PCI_BAR_MEM_PREFETCH  (1u << 3)
#define PCI_BAR_IO_MASK       0xfffffffcu
#define PCI_BAR_MEM_MASK      0xfffffff0u

#define PCI_CAP_ID_MSI  0x05
#define PCI_CAP_ID_PCIE 0x10
#define PCI_CAP_ID_MSIX 0x11

/* MSI-X message control (capability + 2): table size - 1 in bits 10:0. */
#define PCI_MSIX_FLAGS      2
#define PCI_MSIX_TABLE_SIZE 0x7ffu

/* Capabilities live after the 64-byte header and inside the 256-byte
 * conventional space, on dword boundaries. */
#define PCI_CAP_MIN 0x40
#define PCI_CAP_END 0x100

#define PCI_CONFIG_SIZE_LEGACY 256
#define PCI_CONFIG_SIZE_ECAM   4096

#endif
