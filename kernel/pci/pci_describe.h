/* SPDX-License-Identifier: MIT */
/*
 * Text for people about PCI functions: class names, the boot log line and
 * the rows of the shell's `pci` table. Pure code, also built for the host.
 */
#ifndef SIDECORE_PCI_PCI_DESCRIBE_H
#define SIDECORE_PCI_PCI_DESCRIBE_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/pci/pci.h"

/* "host bridge", "SATA", "NVMe", "Ethernet", "VGA", ...; never NULL. */
const char *pci_class_name(uint8_t class_code, uint8_t subclass, uint8_t prog_if);
/* "MSI", "MSI-X", "PCIe", "PM", ...; "cap" for unknown IDs. */
const char *pci_cap_name(uint8_t id);

/* Header line of the `pci` table (no newline). */
const char *pci_table_header(void);
/* "ssss:bb:dd.f  vvvv:dddd  cc.ss.pp  <class name>  <memory BARs>" (no newline). */
void pci_format_row(char *buf, size_t size, const struct pci_device *d);
/* The extra lines of `pci -v`: I/O BARs, bridge buses, capabilities. Each
 * line is indented and ends with '\n'; empty when there is nothing to add. */
void pci_format_details(char *buf, size_t size, const struct pci_device *d);
/* The boot log line: "PCI 00:1f.2 8086:2922 class 01.06.01 SATA rev 02 ...". */
void pci_format_log_line(char *buf, size_t size, const struct pci_device *d);

#endif
