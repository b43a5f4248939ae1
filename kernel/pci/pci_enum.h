/* SPDX-License-Identifier: MIT */
/*
 * The PCI enumerator, separated from the hardware: it sees configuration
 * space only through struct pci_config_ops, so the host unit tests can hand
 * it a fake config space and the kernel hands it ECAM or CF8/CFC.
 */
#ifndef SIDECORE_PCI_PCI_ENUM_H
#define SIDECORE_PCI_PCI_ENUM_H

#include <stdint.h>

#include "kernel/pci/pci.h"

struct pci_address {
    uint16_t segment;
    uint8_t bus, dev, func;
};

/* Configuration access for one function. Offsets are dword aligned for
 * read32/write32 and word aligned for write16. A read of a function that does
 * not exist returns 0xffffffff, as the hardware does. */
struct pci_config_ops {
    uint32_t (*read32)(void *ctx, struct pci_address a, uint16_t offset);
    void (*write32)(void *ctx, struct pci_address a, uint16_t offset, uint32_t value);
    void (*write16)(void *ctx, struct pci_address a, uint16_t offset, uint16_t value);
    void *ctx;
};

/* Buses [bus_start, bus_end] of one segment; enumeration starts at bus_start
 * and follows bridges whose secondary bus lies inside the range. */
struct pci_bus_range {
    uint16_t segment;
    uint8_t bus_start, bus_end;
};

struct pci_enum_result {
    unsigned count;       /* devices written to the caller's array */
    unsigned dropped;     /* devices found after the array was full */
    unsigned bad_bridges; /* bridges whose secondary bus was out of range or seen before */
};

/*
 * Finds every function reachable from each range's first bus, sizes its BARs
 * (decoding off while sizing, then the command register restored) and walks
 * its capability list. Devices come out sorted by segment/bus/dev/func.
 */
struct pci_enum_result pci_enumerate(const struct pci_config_ops *ops,
                                     const struct pci_bus_range *ranges, unsigned nranges,
                                     struct pci_device *out, unsigned max);

/* Decodes one function (which must exist) into *d. Exposed for the tests. */
void pci_probe_function(const struct pci_config_ops *ops, struct pci_address a,
                        struct pci_device *d);

#endif
