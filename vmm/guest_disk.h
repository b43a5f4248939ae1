/* SPDX-License-Identifier: MIT */
/*
 * A guest's disk: the configured block backend (a RAM disk loaded from the
 * boot medium; NVMe later) behind a virtio-blk device on the guest's PCI
 * bus, and how its queues are served. With io = sidecore (the default)
 * each queue is polled by an I/O sidecore, the notification page is
 * ordinary memory in the guest's EPT so notifications never exit, and
 * completions reach the guest by posted interrupts or, where the CPU has
 * none, by one kick per vCPU per sidecore round. With io = trap (the
 * baseline a conventional hypervisor gives) the notification page is not
 * mapped: each notify write exits and the request is served on the
 * guest's own core, with an interrupt per completion.
 *
 * The guest's PCI layout: ECAM for bus 0 at GUEST_PCI_ECAM_GPA, the
 * virtio-blk function at 00:01.0 with its BAR at GUEST_DISK_BAR_GPA inside
 * the root bridge's window, above the guest's RAM (at most 3 GiB).
 */
#ifndef SIDECORE_VMM_GUEST_DISK_H
#define SIDECORE_VMM_GUEST_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest;

#define GUEST_PCI_ECAM_GPA  0xe0000000ull /* bus 0 only: 1 MiB */
#define GUEST_PCI_ECAM_SIZE (1ull << 20)
#define GUEST_PCI_MMIO_BASE 0xc0000000u
#define GUEST_PCI_MMIO_SIZE 0x20000000u
#define GUEST_DISK_BAR_GPA  0xc0000000ull
#define GUEST_DISK_PCI_DEV  1

/* Whether the guest's configuration gives it a PCI bus. */
bool guest_has_pci(const struct guest *g);

/* Builds g's disk from its configuration (after its EPT exists). False,
 * with why, when the backend or device cannot be set up. */
bool guest_disk_create(struct guest *g, char *why, size_t why_size);
/* Back to power-on state (the guest's devices are being reset, dev_lock
 * held): the device stops using every queue, the PCI function is rebuilt
 * and attached to g->pci again. The disk's contents stay. */
void guest_disk_reset(struct guest *g);

/* The disk's and the PCI bus's memory-mapped ranges (vmm/guest_mmio.c). */
bool guest_disk_mmio_claims(struct guest *g, uint64_t gpa);
uint64_t guest_disk_mmio_read(struct guest *g, uint64_t gpa, unsigned size);
void guest_disk_mmio_write(struct guest *g, uint64_t gpa, unsigned size, uint64_t value);

/* The `stats` lines of g's disk and its queues. */
void guest_disk_print_stats(struct guest *g);

#endif
