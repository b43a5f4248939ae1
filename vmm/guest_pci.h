/* SPDX-License-Identifier: MIT */
/*
 * A guest's PCI bus: the host bridge and configuration space (ports
 * 0xCF8/0xCFC and ECAM for bus 0, vmm/dev/pci_host.c) plus the memory BARs
 * of the functions on it. Devices (virtio-blk, virtio-net, ...) are added
 * at guest creation: each gets the next device number and a BAR placed in
 * the root bridge's memory window, as firmware would assign it; the guest
 * may move a BAR later and accesses follow it. Guest-physical accesses to
 * ECAM or to any BAR are dispatched here (vmm/guest_mmio.c asks), and the
 * guest's ACPI tables describe the bus (MCFG, \_SB.PCI0) only when a
 * device is on it.
 *
 * Configuration space and BAR accesses come from any of the guest's vCPUs
 * and are serialized by the guest's dev_lock (the caller holds it).
 */
#ifndef SIDECORE_VMM_GUEST_PCI_H
#define SIDECORE_VMM_GUEST_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/dev/pci_host.h"

#define GUEST_PCI_ECAM_GPA  0xe0000000ull /* bus 0 only: 1 MiB */
#define GUEST_PCI_ECAM_SIZE (1ull << 20)
#define GUEST_PCI_MMIO_BASE 0xc0000000u /* the root bridge's window for BARs */
#define GUEST_PCI_MMIO_SIZE 0x20000000u
/* Functions besides the host bridge (device numbers 1..). */
#define GUEST_PCI_MAX_DEVICES (PCI_HOST_MAX_FUNCTIONS - 1)

/* What a function's memory BAR answers. address() gives where the guest
 * put the BAR, false while memory decoding is off or the BAR is being
 * sized; read and write take the offset within it. */
struct guest_pci_bar_ops {
    bool (*address)(void *ctx, uint64_t *gpa);
    uint64_t (*read)(void *ctx, uint64_t offset, unsigned size);
    void (*write)(void *ctx, uint64_t offset, unsigned size, uint64_t value);
};

struct guest_pci_device {
    const struct guest_pci_bar_ops *bar;
    void *ctx;
    uint64_t bar_size;
};

struct guest_pci {
    struct pci_host host;
    unsigned ndevices;
    struct guest_pci_device devices[GUEST_PCI_MAX_DEVICES];
    uint64_t next_bar; /* placement cursor in the memory window */
};

/* An empty bus (the host bridge only). */
void guest_pci_init(struct guest_pci *bus);
/* Back to power-on: configuration space rebuilt with only the host
 * bridge; the devices stay registered and re-attach their functions
 * (guest_pci_attach) after their own reset. */
void guest_pci_reset(struct guest_pci *bus);

/* Reserves the next device number and a naturally aligned BAR of
 * bar_size bytes (a power of two) in the memory window. False when the
 * bus or the window is full. */
bool guest_pci_place(struct guest_pci *bus, uint64_t bar_size, uint8_t *dev, uint64_t *bar_gpa);
/* Registers the BAR handlers of the device placed at number dev. */
bool guest_pci_add_device(struct guest_pci *bus, uint8_t dev, const struct guest_pci_bar_ops *bar,
                          void *ctx, uint64_t bar_size);
/* Adds a function's configuration space to the host (at reset too). */
bool guest_pci_attach(struct guest_pci *bus, const struct pci_function *f);

/* Whether anything besides the host bridge is on the bus (the guest's
 * ACPI tables then describe it). */
bool guest_pci_present(const struct guest_pci *bus);

/* Guest-physical accesses: ECAM, a BAR where the guest last put it, or
 * the rest of the memory window, which reads all ones and ignores writes
 * (nothing decodes there). */
bool guest_pci_mmio_claims(struct guest_pci *bus, uint64_t gpa);
uint64_t guest_pci_mmio_read(struct guest_pci *bus, uint64_t gpa, unsigned size);
void guest_pci_mmio_write(struct guest_pci *bus, uint64_t gpa, unsigned size, uint64_t value);

#endif
