/* SPDX-License-Identifier: MIT */
/* Which device answers at a guest-physical address outside RAM. */
#include "vmm/guest_mmio.h"

#include "vmm/guest.h"
#include "vmm/guest_pci.h"

static bool in_ioapic(uint64_t gpa)
{
    return gpa >= GUEST_IOAPIC_BASE && gpa < GUEST_IOAPIC_BASE + GUEST_IOAPIC_SIZE;
}

/* Reads the BARs as the guest last programmed them without the device
 * lock: a stale answer only sends the access to the locked path below,
 * which decides again. */
bool guest_mmio_claims(struct guest *g, uint64_t gpa)
{
    return in_ioapic(gpa) || guest_pci_mmio_claims(&g->pci, gpa);
}

uint64_t guest_mmio_read(struct guest *g, uint64_t gpa, unsigned size)
{
    if (in_ioapic(gpa))
        return vioapic_mmio_read(&g->ioapic, gpa - GUEST_IOAPIC_BASE);
    uint64_t flags = spin_lock_irqsave(&g->dev_lock);
    uint64_t value = guest_pci_mmio_read(&g->pci, gpa, size);
    spin_unlock_irqrestore(&g->dev_lock, flags);
    return value;
}

void guest_mmio_write(struct guest *g, uint64_t gpa, unsigned size, uint64_t value)
{
    if (in_ioapic(gpa)) {
        vioapic_mmio_write(&g->ioapic, gpa - GUEST_IOAPIC_BASE, (uint32_t)value);
        return;
    }
    uint64_t flags = spin_lock_irqsave(&g->dev_lock);
    guest_pci_mmio_write(&g->pci, gpa, size, value);
    spin_unlock_irqrestore(&g->dev_lock, flags);
}
