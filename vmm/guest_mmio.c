/* SPDX-License-Identifier: MIT */
/* Which device answers at a guest-physical address outside RAM. */
#include "vmm/guest_mmio.h"

#include "vmm/guest.h"
#include "vmm/guest_disk.h"

static bool in_ioapic(uint64_t gpa)
{
    return gpa >= GUEST_IOAPIC_BASE && gpa < GUEST_IOAPIC_BASE + GUEST_IOAPIC_SIZE;
}

bool guest_mmio_claims(struct guest *g, uint64_t gpa)
{
    return in_ioapic(gpa) || guest_disk_mmio_claims(g, gpa);
}

uint64_t guest_mmio_read(struct guest *g, uint64_t gpa, unsigned size)
{
    if (in_ioapic(gpa))
        return vioapic_mmio_read(&g->ioapic, gpa - GUEST_IOAPIC_BASE);
    if (guest_disk_mmio_claims(g, gpa))
        return guest_disk_mmio_read(g, gpa, size);
    return ~0ull;
}

void guest_mmio_write(struct guest *g, uint64_t gpa, unsigned size, uint64_t value)
{
    if (in_ioapic(gpa))
        vioapic_mmio_write(&g->ioapic, gpa - GUEST_IOAPIC_BASE, (uint32_t)value);
    else if (guest_disk_mmio_claims(g, gpa))
        guest_disk_mmio_write(g, gpa, size, value);
}
