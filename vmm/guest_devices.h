/* SPDX-License-Identifier: MIT */
/*
 * The guest's virtual platform: the devices behind its I/O ports (COM1, the
 * RTC, the i8042, the PCI host bridge, the ACPI PM block). Each call takes
 * the guest's device lock, so any of its vCPUs may call.
 */
#ifndef SIDECORE_VMM_GUEST_DEVICES_H
#define SIDECORE_VMM_GUEST_DEVICES_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/io_policy.h"

struct guest;
struct vcpu;

/* Puts every device in its power-on state (guest creation and restart). */
void guest_devices_reset(struct guest *g);

/* A port read/write the policy routes to a device. Returns false when the
 * access ended the guest's run (a reset or power-off request). */
bool guest_device_in(struct vcpu *v, const struct io_policy_entry *p, uint16_t port, unsigned size,
                     uint32_t *value);
bool guest_device_out(struct vcpu *v, const struct io_policy_entry *p, uint16_t port, unsigned size,
                      uint32_t value);

/* Moves queued operator input into the UART (vCPU 0, after a kick). */
void guest_devices_poll_input(struct guest *g);

#endif
