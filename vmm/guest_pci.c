/* SPDX-License-Identifier: MIT */
/*
 * The guest's PCI bus behind vmm/guest_pci.h. Pure code (the caller holds
 * the guest's dev_lock), host-tested in tests/unit/test_guest_pci.c.
 */
#include "vmm/guest_pci.h"

void guest_pci_init(struct guest_pci *bus)
{
    *bus = (struct guest_pci){.next_bar = GUEST_PCI_MMIO_BASE};
    pci_host_init(&bus->host);
}

void guest_pci_reset(struct guest_pci *bus)
{
    pci_host_init(&bus->host);
}

bool guest_pci_place(struct guest_pci *bus, uint64_t bar_size, uint8_t *dev, uint64_t *bar_gpa)
{
    if (bus->ndevices >= GUEST_PCI_MAX_DEVICES || bar_size == 0 || (bar_size & (bar_size - 1)))
        return false;
    uint64_t at = (bus->next_bar + bar_size - 1) & ~(bar_size - 1);
    if (at + bar_size > (uint64_t)GUEST_PCI_MMIO_BASE + GUEST_PCI_MMIO_SIZE)
        return false;
    bus->next_bar = at + bar_size;
    *dev = (uint8_t)(bus->ndevices + 1);
    *bar_gpa = at;
    bus->devices[bus->ndevices++] = (struct guest_pci_device){0};
    return true;
}

bool guest_pci_add_device(struct guest_pci *bus, uint8_t dev, const struct guest_pci_bar_ops *bar,
                          void *ctx, uint64_t bar_size)
{
    if (dev == 0 || dev > bus->ndevices || !bar || !bar->address || !bar->read || !bar->write)
        return false;
    bus->devices[dev - 1] = (struct guest_pci_device){.bar = bar, .ctx = ctx, .bar_size = bar_size};
    return true;
}

bool guest_pci_attach(struct guest_pci *bus, const struct pci_function *f)
{
    return pci_host_add_function(&bus->host, f);
}

bool guest_pci_present(const struct guest_pci *bus)
{
    return bus->ndevices > 0;
}

static bool in_ecam(uint64_t gpa)
{
    return gpa >= GUEST_PCI_ECAM_GPA && gpa - GUEST_PCI_ECAM_GPA < GUEST_PCI_ECAM_SIZE;
}

/* The device whose BAR holds gpa, and the offset in it. The first match
 * wins if the guest made two BARs overlap. */
static struct guest_pci_device *bar_at(struct guest_pci *bus, uint64_t gpa, uint64_t *offset)
{
    for (unsigned i = 0; i < bus->ndevices; i++) {
        struct guest_pci_device *d = &bus->devices[i];
        uint64_t base;
        if (!d->bar || !d->bar->address(d->ctx, &base))
            continue;
        if (gpa >= base && gpa - base < d->bar_size) {
            *offset = gpa - base;
            return d;
        }
    }
    return 0;
}

/* The root bridge's memory window: where no BAR decodes, an access ends
 * in a master abort, which reads all ones (as on a PC) instead of being an
 * access outside the guest's memory. */
static bool in_window(uint64_t gpa)
{
    return gpa >= GUEST_PCI_MMIO_BASE && gpa - GUEST_PCI_MMIO_BASE < GUEST_PCI_MMIO_SIZE;
}

bool guest_pci_mmio_claims(struct guest_pci *bus, uint64_t gpa)
{
    uint64_t off;

    return guest_pci_present(bus) && (in_ecam(gpa) || in_window(gpa) || bar_at(bus, gpa, &off));
}

uint64_t guest_pci_mmio_read(struct guest_pci *bus, uint64_t gpa, unsigned size)
{
    uint64_t off;
    struct guest_pci_device *d;

    if (!guest_pci_present(bus))
        return ~0ull;
    if (in_ecam(gpa))
        return pci_host_ecam_read(&bus->host, gpa - GUEST_PCI_ECAM_GPA, size);
    d = bar_at(bus, gpa, &off);
    return d ? d->bar->read(d->ctx, off, size) : ~0ull;
}

void guest_pci_mmio_write(struct guest_pci *bus, uint64_t gpa, unsigned size, uint64_t value)
{
    uint64_t off;
    struct guest_pci_device *d;

    if (!guest_pci_present(bus))
        return;
    if (in_ecam(gpa)) {
        pci_host_ecam_write(&bus->host, gpa - GUEST_PCI_ECAM_GPA, size, value);
        return;
    }
    d = bar_at(bus, gpa, &off);
    if (d)
        d->bar->write(d->ctx, off, size, value);
}
