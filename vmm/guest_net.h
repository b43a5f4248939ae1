/* SPDX-License-Identifier: MIT */
/*
 * A guest's network devices: for each `net =` line, a virtio-net device
 * (virtio/virtio_net.h) that is a port of the named switch
 * (vmm/net/switches.h), its own function on the guest's PCI bus. The PCI
 * function, notify gate and interrupts are the shared virtio layer's
 * (vmm/guest_virtio.h); what differs from a disk is who services the
 * queues: never a queue on its own, always the whole switch (in sidecore
 * mode the switch's sidecore, in trap mode the notifying vCPU under the
 * switch's lock), because one frame touches two guests' queues.
 */
#ifndef SIDECORE_VMM_GUEST_NET_H
#define SIDECORE_VMM_GUEST_NET_H

#include <stdbool.h>
#include <stddef.h>

struct guest;

/* Builds every network device of g's configuration (after its EPT exists,
 * after net_switches_create()). False, with why. */
bool guest_nets_create(struct guest *g, char *why, size_t why_size);

/* The `stats` lines of g's network devices and their queue pairs. */
void guest_nets_print_stats(struct guest *g);

#endif
