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
#define PCI_MAX_CAPS    16 /* capabilities remembered per function */

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
    uint8_t cap_msi;          /* config offset of the MSI capability, 0 if none */
    uint8_t cap_msix;         /* config offset of the MSI-X capability, 0 if none */
    uint8_t cap_pcie;         /* config offset of the PCI Express capability, 0 if none */
    uint16_t msix_table_size; /* vectors, when cap_msix */
    /* Every capability in list order (the first PCI_MAX_CAPS of them). */
    struct {
        uint8_t id, offset;
    } cap[PCI_MAX_CAPS];
    uint8_t cap_count;
    bool cap_list_bad;     /* the list looped or pointed outside 0x40-0xff */
    uint8_t secondary_bus; /* bridges (header type 1) only */
    uint8_t subordinate_bus;
};

/* One ECAM window, as an ACPI MCFG entry describes it: base is the address
 * of bus 0's configuration space even when bus_start is not 0. */
struct pci_ecam_region {
    uint64_t base;
    uint16_t segment;
    uint8_t bus_start, bus_end;
};

#define PCI_MAX_ECAM_REGIONS 16

/*
 * Overrides the ECAM windows pci_init() would take from ACPI; call before
 * pci_init(). With n == 0 PCI uses the legacy CF8/CFC ports, segment 0
 * only. Entries that are misaligned, have bus_end < bus_start, base 0, or
 * overlap an earlier one are refused with a warning.
 */
void pci_use_ecam(const struct pci_ecam_region *regions, unsigned n);

/* Enumerates every bus; call once on the boot CPU after acpi_init() and
 * paging_init(). Takes the ECAM windows from acpi_info() unless
 * pci_use_ecam() was called first. */
void pci_init(void);

unsigned pci_device_count(void);
struct pci_device *pci_device_at(unsigned index);
/* The n-th device (from 0) with this class/subclass/prog_if, or NULL. */
struct pci_device *pci_find_class(uint8_t class_code, uint8_t subclass, uint8_t prog_if,
                                  unsigned n);

/* Configuration access. With ECAM the whole 4 KiB is reachable; over CF8/CFC
 * only the first 256 bytes (reads beyond return all ones, writes are
 * dropped). Offsets are rounded down to the access size. */
uint32_t pci_read32(const struct pci_device *d, uint16_t offset);
uint16_t pci_read16(const struct pci_device *d, uint16_t offset);
uint8_t pci_read8(const struct pci_device *d, uint16_t offset);
void pci_write32(const struct pci_device *d, uint16_t offset, uint32_t value);
void pci_write16(const struct pci_device *d, uint16_t offset, uint16_t value);

/* Turns on memory decoding and bus mastering in the command register. */
void pci_enable_mmio_and_dma(const struct pci_device *d);

#endif
