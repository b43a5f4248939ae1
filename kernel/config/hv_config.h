/* SPDX-License-Identifier: MIT */
/* The [hypervisor] section of sidecore.cfg: settings for the hypervisor
 * itself, applied early in boot. */
#ifndef SIDECORE_CONFIG_HV_CONFIG_H
#define SIDECORE_CONFIG_HV_CONFIG_H

#include <stdbool.h>

#include "boot/handoff.h"

#define CONFIG_FILE_NAME "sidecore.cfg"

/* Finds sidecore.cfg among the boot files and applies its [hypervisor]
 * settings; every problem is reported as file:line: message and skipped. */
void hv_config_apply(const struct handoff *h);

/* [hypervisor] apic_virtualization = auto | off: whether guests' local APICs
 * may use the CPU's APIC virtualization (auto, the default) or always the
 * software model (off). */
bool hv_config_apicv_allowed(void);

#endif
