/* SPDX-License-Identifier: MIT */
/*
 * Finding the NICs at boot: every PCI function whose vendor:device is in the
 * table below is mapped (BAR0, uncached), given memory decoding and bus
 * mastering with the legacy interrupt off (the drivers poll), and brought up
 * with NIC_BOOT_QUEUES queue pairs. A NIC that fails is logged with the
 * reason and left out; the rest of the system carries on.
 */
#include "drivers/net/nic_dev.h"
#include "kernel/console/log.h"
#include "kernel/lib/string.h"
#include "kernel/mm/paging.h"
#include "kernel/pci/pci.h"
#include "kernel/pci/pci_regs.h"

/* One pair until RSS is set up: without it every frame lands in queue 0. */
#define NIC_BOOT_QUEUES          1
#define PCI_COMMAND_INTX_DISABLE (1u << 10)

struct nic_pci_id {
    uint16_t vendor, device;
    const struct nic_chip *chip;
};

static const struct nic_pci_id nic_pci_ids[] = {
    /* 82576 (igb); 10C9 is QEMU's -device igb. */
    {0x8086, 0x10c9, &nic_chip_82576}, /* copper */
    {0x8086, 0x10e6, &nic_chip_82576}, /* fiber */
    {0x8086, 0x10e7, &nic_chip_82576}, /* serdes */
    {0x8086, 0x10e8, &nic_chip_82576}, /* quad copper */
    {0x8086, 0x1526, &nic_chip_82576}, /* quad copper ET2 */
    {0x8086, 0x150a, &nic_chip_82576}, /* NS */
    {0x8086, 0x1518, &nic_chip_82576}, /* NS serdes */
    {0x8086, 0x150d, &nic_chip_82576}, /* serdes quad */
    /* 82599 (ixgbe); not the virtual function 10ED. */
    {0x8086, 0x10fb, &nic_chip_82599}, /* SFP+ */
    {0x8086, 0x10f7, &nic_chip_82599}, /* KX4 */
    {0x8086, 0x10f8, &nic_chip_82599}, /* combo backplane */
    {0x8086, 0x10f9, &nic_chip_82599}, /* CX4 */
    {0x8086, 0x10fc, &nic_chip_82599}, /* XAUI LOM */
    {0x8086, 0x1514, &nic_chip_82599}, /* KX4 mezzanine */
    {0x8086, 0x1517, &nic_chip_82599}, /* KR */
    {0x8086, 0x151c, &nic_chip_82599}, /* 10GBASE-T LOM */
    {0x8086, 0x1529, &nic_chip_82599}, /* SFP+ FCoE */
    {0x8086, 0x152a, &nic_chip_82599}, /* backplane FCoE */
    {0x8086, 0x154d, &nic_chip_82599}, /* SFP+ EM */
    {0x8086, 0x1557, &nic_chip_82599}, /* 82599EN SFP+ */
};

static struct nic nics[NIC_MAX_NICS];
static unsigned nic_total;

unsigned nic_count(void)
{
    return nic_total;
}

struct nic *nic_get(unsigned index)
{
    return index < nic_total ? &nics[index] : NULL;
}

static const struct nic_chip *match(const struct pci_device *d)
{
    for (unsigned i = 0; i < sizeof(nic_pci_ids) / sizeof(nic_pci_ids[0]); i++)
        if (nic_pci_ids[i].vendor == d->vendor_id && nic_pci_ids[i].device == d->device_id)
            return nic_pci_ids[i].chip;
    return NULL;
}

static bool nic_probe_one(struct nic *n, struct pci_device *d, const char **why)
{
    const struct pci_bar *bar = &d->bar[0];

    /* The highest register used is EEC at 0x10010 (82599) / 0xE000 + queues. */
    if (bar->is_io || bar->base == 0 || bar->size < 0x20000) {
        *why = "BAR0 is not a memory BAR of at least 128 KiB";
        return false;
    }
    volatile void *regs = paging_map_mmio(bar->base, bar->size);
    pci_enable_mmio_and_dma(d);
    pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_COMMAND_INTX_DISABLE);
    n->regs = nic_regs_mmio(regs);
    if (nic_rd(n, 0x8) == 0xffffffffu) {
        *why = "registers read all ones";
        return false;
    }
    return nic_bring_up(n, NIC_BOOT_QUEUES, why);
}

void nic_init(void)
{
    for (unsigned i = 0; i < pci_device_count(); i++) {
        struct pci_device *d = pci_device_at(i);
        const struct nic_chip *chip = match(d);
        const char *why = NULL;

        if (!chip)
            continue;
        if (nic_total == NIC_MAX_NICS) {
            log_warn("nic: more than %u NICs; %02x:%02x.%u and later ignored", NIC_MAX_NICS, d->bus,
                     d->dev, d->func);
            break;
        }
        struct nic *n = &nics[nic_total];

        memset(n, 0, sizeof(*n));
        n->chip = chip;
        n->segment = d->segment;
        n->bus = d->bus;
        n->dev = d->dev;
        n->func = d->func;
        if (!nic_probe_one(n, d, &why)) {
            log_error("nic: %04x:%02x:%02x.%u (%s): %s; NIC left out", d->segment, d->bus, d->dev,
                      d->func, chip->name, why);
            uint16_t cmd = pci_read16(d, PCI_COMMAND);
            pci_write16(d, PCI_COMMAND, cmd & ~PCI_COMMAND_MASTER);
            continue;
        }
        n->index = nic_total++;
        unsigned mbps;
        bool link = nic_link(n, &mbps);
        log_info("nic%u: %04x:%02x:%02x.%u Intel %s, MAC %02x:%02x:%02x:%02x:%02x:%02x, "
                 "%u queue pairs, link %s %u Mb/s",
                 n->index, d->segment, d->bus, d->dev, d->func, chip->name, n->mac[0], n->mac[1],
                 n->mac[2], n->mac[3], n->mac[4], n->mac[5], n->queues, link ? "up" : "down", mbps);
    }
    if (nic_total == 0)
        log_info("nic: no supported NICs");
}
