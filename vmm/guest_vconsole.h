/* SPDX-License-Identifier: MIT */
/*
 * A guest's virtio console (`virtio_console = on`): a virtio console device
 * (virtio/virtio_console.h) on the guest's PCI bus through the shared
 * virtio layer, both queues polled by an I/O sidecore. What the guest
 * writes to it goes into the same console buffer and "[NAME]" lines as
 * its UART's output; operator input (`console NAME attach` / `send`) goes
 * to it instead of the UART while the guest's driver has its receiveq
 * running. The UART stays for early boot and for guests without a driver.
 */
#ifndef SIDECORE_VMM_GUEST_VCONSOLE_H
#define SIDECORE_VMM_GUEST_VCONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest;

/* Builds g's virtio console if its configuration asks for one (after its
 * EPT exists). False, with why. */
bool guest_vconsole_create(struct guest *g, char *why, size_t why_size);

/* Operator input (the producer: the boot CPU). True if the virtio console
 * took c (or dropped it for lack of room, counted); false if g has none,
 * or its driver is not taking input, so c goes to the UART. */
bool guest_vconsole_input(struct guest *g, uint8_t c);

/* Moves what g's virtio console wrote into g's console buffer (the
 * console CPU, from vmm_poll; the sidecore only fills the device's ring). */
void guest_vconsole_drain(struct guest *g);

/* The `stats` line of g's virtio console, if it has one. */
void guest_vconsole_print_stats(struct guest *g);

#endif
