/* SPDX-License-Identifier: MIT */
/*
 * The hardware side of PCI configuration access (ECAM windows or the legacy
 * CF8/CFC ports), as seen by the rest of kernel/pci.
 */
#ifndef SIDECORE_PCI_PCI_CONFIG_HW_H
#define SIDECORE_PCI_PCI_CONFIG_HW_H

#include "kernel/pci/pci_enum.h"

/* Maps the ECAM windows given to pci_use_ecam(); a window that cannot be
 * mapped is dropped with an error. Call once, after paging is up. */
void pci_config_hw_map(void);

/* The buses to enumerate: one range per usable ECAM window, or segment 0
 * buses 0-255 over CF8/CFC when there is none. Returns how many. */
unsigned pci_config_hw_ranges(struct pci_bus_range *out, unsigned max);

/* True once pci_use_ecam() has been called (with or without usable entries). */
bool pci_config_hw_ecam_given(void);

/* True when configuration access goes through ECAM rather than CF8/CFC. */
bool pci_config_hw_uses_ecam(void);

extern const struct pci_config_ops pci_config_hw_ops;

#endif
