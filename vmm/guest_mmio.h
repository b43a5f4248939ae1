/* SPDX-License-Identifier: MIT */
/* The guest's memory-mapped devices: guest-physical ranges with no memory
 * behind them in the EPT, whose accesses the MMIO exit emulates. */
#ifndef SIDECORE_VMM_GUEST_MMIO_H
#define SIDECORE_VMM_GUEST_MMIO_H

#include <stdbool.h>
#include <stdint.h>

struct guest;

#define GUEST_IOAPIC_BASE 0xfec00000ull
#define GUEST_IOAPIC_SIZE 0x1000ull

/* Whether a device answers at gpa. */
bool guest_mmio_claims(struct guest *g, uint64_t gpa);
/* size: 1, 2, 4 or 8 bytes. */
uint64_t guest_mmio_read(struct guest *g, uint64_t gpa, unsigned size);
void guest_mmio_write(struct guest *g, uint64_t gpa, unsigned size, uint64_t value);

#endif
