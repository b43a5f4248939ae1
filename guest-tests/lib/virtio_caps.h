/* SPDX-License-Identifier: MIT */
/*
 * Finding a virtio-pci modern device's register blocks the way a real driver
 * does (virtio 1.x, 4.1.4): by walking the PCI capability list of its
 * configuration space for the vendor-specific virtio capabilities (common,
 * notify, ISR, device configuration, PCI-config access) and the MSI-X
 * capability. Pure logic over a 256-byte snapshot of configuration space,
 * so it builds on the host too (guest-tests/tools/test_virtio_lib.c). The
 * device is what is under test: every pointer and length in the list is
 * checked, and a list that loops, points outside the header area or has a
 * capability too short for its type is refused with a reason.
 */
#ifndef GUEST_TESTS_VIRTIO_CAPS_H
#define GUEST_TESTS_VIRTIO_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCI_CFG_VENDOR     0x00
#define PCI_CFG_DEVICE     0x02
#define PCI_CFG_COMMAND    0x04
#define PCI_CFG_STATUS     0x06
#define PCI_CFG_REVISION   0x08
#define PCI_CFG_CLASS      0x09 /* prog-if, subclass, class */
#define PCI_CFG_HEADER     0x0e
#define PCI_CFG_BAR0       0x10
#define PCI_CFG_CAP_PTR    0x34
#define PCI_COMMAND_MEM    (1u << 1)
#define PCI_COMMAND_MASTER (1u << 2)
#define PCI_STATUS_CAPS    (1u << 4)
#define PCI_CAP_ID_MSIX    0x11
#define PCI_CAP_ID_VENDOR  0x09
#define PCI_MSIX_ENABLE    (1u << 15)
#define PCI_MSIX_MASKALL   (1u << 14)

/* virtio_pci_cap.cfg_type (virtio 1.x, 4.1.4). */
#define VIRTIO_CAP_COMMON 1
#define VIRTIO_CAP_NOTIFY 2
#define VIRTIO_CAP_ISR    3
#define VIRTIO_CAP_DEVICE 4
#define VIRTIO_CAP_PCI    5
#define VIRTIO_CAP_TYPES  6

#define VIRTIO_CAPS_MAX_WALK 48 /* (256 - 64) / 4: more entries means a loop */

struct virtio_cap_region {
    bool found;
    uint8_t cap_offset; /* where the capability sits in configuration space */
    uint8_t bar;
    uint32_t offset, length; /* within the BAR */
};

struct virtio_caps {
    struct virtio_cap_region region[VIRTIO_CAP_TYPES]; /* indexed by VIRTIO_CAP_* */
    uint32_t notify_multiplier;
    bool has_msix;
    uint8_t msix_cap; /* offset of the MSI-X capability */
    unsigned msix_entries;
    uint8_t msix_table_bar, msix_pba_bar;
    uint32_t msix_table_offset, msix_pba_offset;
    unsigned caps_walked;
};

/* Parses the capability list of the configuration space snapshot cfg.
 * Returns NULL on success, otherwise what is wrong. The first capability of
 * each virtio type wins, as the spec asks of drivers; a missing common,
 * notify, ISR or device capability is an error. */
const char *virtio_caps_parse(const uint8_t cfg[256], struct virtio_caps *out);

#endif
