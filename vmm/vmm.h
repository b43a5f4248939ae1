/* SPDX-License-Identifier: MIT */
/* Starting the partitions at boot. */
#ifndef SIDECORE_VMM_VMM_H
#define SIDECORE_VMM_VMM_H

#include "boot/handoff.h"

/* Boot CPU, after SMP and the drivers: probes VT-x (printing what it has),
 * reads the guests from sidecore.cfg, gives each its cores and memory and
 * starts it. Without usable VT-x it says why and returns: the console and
 * drivers keep running without guests. */
void vmm_init(const struct handoff *h);

/* The boot file with this name, or NULL. */
const struct handoff_file *vmm_boot_file(const char *name);

#endif
