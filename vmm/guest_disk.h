/* SPDX-License-Identifier: MIT */
/*
 * A guest's disks: for each `disk =` line, the configured block backend (a
 * RAM disk loaded from the boot medium, or an NVMe namespace or a window of
 * one) behind a virtio-blk device, its own function on the guest's PCI bus
 * with its own queues. Everything that is not specific to a block device
 * (the PCI function and BAR, the notify gate, who services the queues,
 * interrupts, reset) is the shared virtio layer's (vmm/guest_virtio.h).
 */
#ifndef SIDECORE_VMM_GUEST_DISK_H
#define SIDECORE_VMM_GUEST_DISK_H

#include <stdbool.h>
#include <stddef.h>

struct guest;

/* Builds every disk of g's configuration (after its EPT exists). False,
 * with why, when a backend or device cannot be set up. */
bool guest_disks_create(struct guest *g, char *why, size_t why_size);

/* The `stats` lines of g's disks and their queues. */
void guest_disks_print_stats(struct guest *g);

#endif
