/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor's table of PCI functions: filled once at boot by
 * pci_init() (enumeration over the hardware access), then read by drivers
 * and the shell. The table is static; PCI_MAX_DEVICES bounds it.
 */
#include "kernel/pci/pci.h"

#include <stddef.h>

#include "kernel/acpi/acpi.h"
#include "kernel/console/log.h"
#include "kernel/pci/pci_config_hw.h"
#include "kernel/pci/pci_describe.h"
#include "kernel/pci/pci_enum.h"
#include "kernel/pci/pci_regs.h"

static struct pci_device devices[PCI_MAX_DEVICES];
static unsigned device_count;

/* The ECAM windows ACPI found (MCFG), unless the caller chose its own. */
static void pci_use_acpi_mcfg(void)
{
    const struct acpi_info *acpi = acpi_info();
    struct pci_ecam_region regions[ACPI_MAX_MCFG];
    unsigned n = acpi->mcfg_count < ACPI_MAX_MCFG ? acpi->mcfg_count : ACPI_MAX_MCFG;

    for (unsigned i = 0; i < n; i++) {
        regions[i].base = acpi->mcfg[i].base;
        regions[i].segment = acpi->mcfg[i].segment;
        regions[i].bus_start = acpi->mcfg[i].bus_start;
        regions[i].bus_end = acpi->mcfg[i].bus_end;
        log_info("PCI: ECAM segment %u buses %02x-%02x at %lx", regions[i].segment,
                 regions[i].bus_start, regions[i].bus_end, (unsigned long)regions[i].base);
    }
    if (n == 0)
        log_info("PCI: no MCFG from ACPI; using ports CF8/CFC (segment 0)");
    pci_use_ecam(regions, n);
}

void pci_init(void)
{
    struct pci_bus_range ranges[PCI_MAX_ECAM_REGIONS];
    char line[256];

    if (!pci_config_hw_ecam_given())
        pci_use_acpi_mcfg();
    pci_config_hw_map();
    unsigned nranges = pci_config_hw_ranges(ranges, PCI_MAX_ECAM_REGIONS);
    struct pci_enum_result r =
        pci_enumerate(&pci_config_hw_ops, ranges, nranges, devices, PCI_MAX_DEVICES);

    device_count = r.count;
    for (unsigned i = 0; i < device_count; i++) {
        pci_format_log_line(line, sizeof(line), &devices[i]);
        log_info("%s", line);
    }
    if (r.dropped)
        log_warn("PCI: %u more functions found than the table holds (%u); they are ignored",
                 r.dropped, PCI_MAX_DEVICES);
    if (r.bad_bridges)
        log_warn("PCI: %u bridge(s) with a secondary bus unset, out of range or seen before; "
                 "not followed",
                 r.bad_bridges);
    log_info("PCI: %u functions on %u segment range(s) via %s", device_count, nranges,
             pci_config_hw_uses_ecam() ? "ECAM" : "CF8/CFC");
}

unsigned pci_device_count(void)
{
    return device_count;
}

struct pci_device *pci_device_at(unsigned index)
{
    return index < device_count ? &devices[index] : NULL;
}

struct pci_device *pci_find_class(uint8_t class_code, uint8_t subclass, uint8_t prog_if, unsigned n)
{
    for (unsigned i = 0; i < device_count; i++) {
        struct pci_device *d = &devices[i];

        if (d->class_code == class_code && d->subclass == subclass && d->prog_if == prog_if &&
            n-- == 0)
            return d;
    }
    return NULL;
}

void pci_enable_mmio_and_dma(const struct pci_device *d)
{
    uint16_t cmd = pci_read16(d, PCI_COMMAND);

    pci_write16(d, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}
