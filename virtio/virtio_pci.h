/* SPDX-License-Identifier: MIT */
/*
 * The virtio-pci modern (1.x) transport (virtio 1.x, 4.1): a PCI function
 * with vendor 0x1af4, device 0x1040 + the virtio device type, revision 1,
 * and one 64-bit memory BAR (BAR 0) laid out in pages:
 *   0x0000 common configuration   (VIRTIO_PCI_CAP_COMMON_CFG)
 *   0x1000 ISR status             (VIRTIO_PCI_CAP_ISR_CFG)
 *   0x2000 device configuration   (VIRTIO_PCI_CAP_DEVICE_CFG)
 *   0x3000 notifications          (VIRTIO_PCI_CAP_NOTIFY_CFG, multiplier 4)
 *   0x4000 MSI-X table, 0x5000 MSI-X PBA
 * plus a VIRTIO_PCI_CAP_PCI_CFG window and an MSI-X capability in its
 * configuration space. The notification page is alone in its page so the
 * hypervisor can leave it as ordinary memory in the guest's EPT (the
 * sidecore polls, nothing traps) or unmapped (io = trap: every notify
 * write exits and reaches virtio_pci_bar_write).
 *
 * The transport owns feature negotiation, device status, queue
 * configuration (into the device's struct virtq array) and MSI-X; the
 * device behind it (virtio-blk, later virtio-net) sees only struct
 * virtio_pci_ops. Configuration and BAR accesses come from the guest's
 * vCPUs and must be serialized by the caller (the guest's device lock).
 * Notifications, whichever way they arrive, leave through the one
 * params.notify callback (the caller's gate: vmm/guest_virtio.c), never to
 * the device directly. virtio_pci_signal_queue(), virtio_pci_set_needs_reset()
 * and virtio_pci_config_changed() come from the queue's owner (a sidecore)
 * at any time and take no lock: MSI-X masking is made race-free by the
 * pending bits (virtio_pci.c explains it). Pure code, host-tested.
 */
#ifndef SIDECORE_VIRTIO_VIRTIO_PCI_H
#define SIDECORE_VIRTIO_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtqueue.h"
#include "vmm/dev/pci_host.h"

#define VIRTIO_PCI_VENDOR        0x1af4
#define VIRTIO_PCI_DEVICE_BASE   0x1040 /* + virtio device type */
#define VIRTIO_PCI_BAR_SIZE      0x8000
#define VIRTIO_PCI_COMMON_OFFSET 0x0000
#define VIRTIO_PCI_ISR_OFFSET    0x1000
#define VIRTIO_PCI_DEVCFG_OFFSET 0x2000
#define VIRTIO_PCI_NOTIFY_OFFSET 0x3000
#define VIRTIO_PCI_NOTIFY_SIZE   0x1000
#define VIRTIO_PCI_NOTIFY_MULT   4
#define VIRTIO_PCI_MSIX_OFFSET   0x4000
#define VIRTIO_PCI_PBA_OFFSET    0x5000
#define VIRTIO_PCI_MAX_QUEUES    16
#define VIRTIO_PCI_NO_VECTOR     0xffff

/* virtio_pci_cap.cfg_type (virtio 1.x, 4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG    5

/* Device status bits (virtio 1.x, 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE        1
#define VIRTIO_STATUS_DRIVER             2
#define VIRTIO_STATUS_DRIVER_OK          4
#define VIRTIO_STATUS_FEATURES_OK        8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED             128

/* Transport feature bits (virtio 1.x, 6). */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX     29
#define VIRTIO_F_VERSION_1          32

/* What the device behind the transport does. dev is params.dev_ctx. */
struct virtio_pci_ops {
    /* The device-specific configuration structure (offset within it). */
    uint32_t (*config_read)(void *dev, unsigned offset, unsigned size);
    void (*config_write)(void *dev, unsigned offset, unsigned size, uint32_t value);
    /* The driver enabled queue q: its struct virtq holds the size, ring
     * addresses and negotiated ring features. False refuses it (the
     * transport then sets DEVICE_NEEDS_RESET). */
    bool (*queue_enable)(void *dev, unsigned q, uint64_t driver_features);
    /* DRIVER_OK was set. */
    void (*driver_ok)(void *dev);
    /* The driver reset the device (status 0 written): stop using every queue;
     * return only when nothing touches the rings or buffers any more. */
    void (*reset)(void *dev);
};

/* A notification for queue q reached the transport: a trapped write to the
 * notify region of BAR 0, wherever the guest put the BAR, or through the
 * VIRTIO_PCI_CAP_PCI_CFG window. The only way a notify leaves the
 * transport (the caller's gate decides who services the queue). */
typedef void (*virtio_pci_notify_fn)(void *ctx, unsigned q);

/* Delivers an MSI: address and data as the guest programmed the MSI-X
 * table entry. */
typedef void (*virtio_pci_msi_fn)(void *ctx, uint64_t address, uint32_t data);
/* Drives the function's INTA# line (level: asserted while the ISR is not 0,
 * MSI-X is off and the command register's INTx disable bit is clear).
 * Called from vCPUs and from the signalling CPU (no lock held), often with
 * the same level more than once; may briefly assert with an ISR
 * that a concurrent read just cleared (the guest sees one spurious
 * interrupt, reads ISR 0, and the read deasserts). */
typedef void (*virtio_pci_intx_fn)(void *ctx, bool asserted);

struct virtio_pci_params {
    uint16_t device_type; /* virtio device ID: 2 = block, 1 = network */
    uint32_t class_code;  /* class << 16 | subclass << 8 | prog-if */
    uint64_t features;    /* device features; VERSION_1 is added */
    unsigned num_queues;  /* 1..VIRTIO_PCI_MAX_QUEUES */
    uint16_t queue_size;  /* maximum (and initial) size, power of 2 */
    unsigned config_size; /* bytes of device configuration */
    uint64_t bar_gpa;     /* where BAR 0 starts (the firmware's assignment) */
    uint8_t pci_dev;      /* device number on bus 0, function 0 */
    struct virtq *queues; /* num_queues of them, owned by the device */
    const struct virtio_pci_ops *ops;
    void *dev_ctx;
    virtio_pci_notify_fn notify; /* optional (NULL: notifies are dropped) */
    void *notify_ctx;
    /* Optional: the guest wrote BAR 0 or the command register (the BAR
     * may have moved, or memory decoding changed); ctx is notify_ctx. From
     * the configuration write, with the caller's lock held. */
    void (*bar_changed)(void *ctx);
    virtio_pci_msi_fn msi;
    void *msi_ctx;
    virtio_pci_intx_fn intx; /* optional (NULL: no INTx, interrupt pin 0); ctx is msi_ctx */
};

struct virtio_pci_msix_entry {
    uint32_t addr_lo, addr_hi, data, ctrl; /* ctrl bit 0: masked */
};

struct virtio_pci {
    struct virtio_pci_params p;
    struct pci_cfg_regs cfg;
    /* Common configuration. */
    uint32_t device_feature_select, driver_feature_select;
    uint64_t driver_features;
    uint16_t msix_config;
    volatile uint8_t status;
    uint8_t config_generation;
    uint16_t queue_select;
    /* The driver's queue configuration, copied into p.queues[q] when it
     * enables the queue (the device's struct virtq is not touched before). */
    uint16_t queue_size[VIRTIO_PCI_MAX_QUEUES];
    uint64_t queue_desc[VIRTIO_PCI_MAX_QUEUES];
    uint64_t queue_driver[VIRTIO_PCI_MAX_QUEUES];
    uint64_t queue_device[VIRTIO_PCI_MAX_QUEUES];
    uint16_t queue_vector[VIRTIO_PCI_MAX_QUEUES];
    bool queue_enabled[VIRTIO_PCI_MAX_QUEUES];
    volatile uint8_t isr;
    /* MSI-X: one vector per queue plus one for configuration changes. */
    struct virtio_pci_msix_entry msix[VIRTIO_PCI_MAX_QUEUES + 1];
    volatile uint64_t pba;
    /* Copies of the MSI-X message control and command registers for the
     * lock-free signalling path (configuration space is vCPU-only). */
    volatile uint16_t msix_control;
    volatile bool intx_disabled;
};

/* Builds the function: configuration space with its capabilities, BAR 0
 * at params->bar_gpa (memory decoding off until the guest turns it on, as
 * after firmware), status 0. */
void virtio_pci_init(struct virtio_pci *t, const struct virtio_pci_params *params);
/* Adds the function to the guest's PCI host at 00:pci_dev.0. */
bool virtio_pci_attach(struct virtio_pci *t, struct pci_host *host);

/* The BAR's current address; false while memory decoding is off or the BAR
 * is being sized (all ones written). */
bool virtio_pci_bar_address(const struct virtio_pci *t, uint64_t *gpa);
/* Accesses to BAR 0 (offset within it; size 1, 2, 4 or 8). */
uint64_t virtio_pci_bar_read(struct virtio_pci *t, uint64_t offset, unsigned size);
void virtio_pci_bar_write(struct virtio_pci *t, uint64_t offset, unsigned size, uint64_t value);

/* Queue q has used entries the driver wants an interrupt for: sends its
 * MSI-X vector, or sets the PBA bit if the vector is masked (sent when
 * the guest unmasks it), or without MSI-X sets ISR bit 0. Owner CPU, no
 * lock. */
void virtio_pci_signal_queue(struct virtio_pci *t, unsigned q);
/* Something went wrong that only a reset can cure: sets
 * DEVICE_NEEDS_RESET and sends a configuration-change interrupt. Any CPU,
 * no lock. */
void virtio_pci_set_needs_reset(struct virtio_pci *t);
/* The device changed its configuration structure (e.g. a new capacity):
 * bumps config_generation and sends a configuration-change interrupt. Any
 * CPU, no lock. */
void virtio_pci_config_changed(struct virtio_pci *t);

#endif
