/* SPDX-License-Identifier: MIT */
/*
 * PCI: enumeration over ECAM (from ACPI MCFG) or the legacy CF8/CFC ports,
 * and configuration access for drivers.
 */
#ifndef SIDECORE_PCI_PCI_H
#define SIDECORE_PCI_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_MAX_DEVICES 256

struct pci_bar {
    uint64_t base; /* physical address (memory) or port (I/O); 0 if unused */
    uint64_t size; /* bytes */
    bool is_io;
    bool is_64bit;
    bool prefetchable;
};

struct pci_device {
    uint16_t segment;
    uint8_t bus, dev, func;
    uint16_t vendor_id, device_id;
    uint8_t class_code, subclass, prog_if, revision;
    uint8_t header_type;
    struct pci_bar bar[6];
    uint8_t cap_msi;   /* config offset of the MSI capability, 0 if none */
    uint8_t cap_msix;  /* config offset of the MSI-X capability, 0 if none */
    uint8_t cap_pcie;  /* config offset of the PCI Express capability, 0 if none */
    uint16_t msix_table_size; /* vectors, when cap_msix */
};

/* Enumerates every bus; call once on the boot CPU after ACPI. */
void pci_init(void);

unsigned pci_device_count(void);
struct pci_device *pci_device_at(unsigned index);
/* The n-th device (from 0) with this class/subclass/prog_if, or NULL. */
struct pci_device *pci_find_class(uint8_t class_code, uint8_t subclass, uint8_t prog_if,
                                  unsigned n);

uint32_t pci_read32(const struct pci_device *d, uint16_t offset);
uint16_t pci_read16(const struct pci_device *d, uint16_t offset);
uint8_t pci_read8(const struct pci_device *d, uint16_t offset);
void pci_write32(const struct pci_device *d, uint16_t offset, uint32_t value);
void pci_write16(const struct pci_device *d, uint16_t offset, uint16_t value);

/* Turns on memory decoding and bus mastering in the command register. */
void pci_enable_mmio_and_dma(const struct pci_device *d);

#endif
