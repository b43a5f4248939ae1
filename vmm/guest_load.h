/* SPDX-License-Identifier: MIT */
/* Putting a guest's image into its memory and deciding how vCPU 0 starts. */
#ifndef SIDECORE_VMM_GUEST_LOAD_H
#define SIDECORE_VMM_GUEST_LOAD_H

#include <stdbool.h>
#include <stddef.h>

struct guest;

/* Clears the guest's memory, loads its kernel (and initrd) from the boot
 * files as the image format asks and fills g->boot. False with the reason
 * (a truncated or corrupt image, one too large for the guest) in why. Boot
 * CPU only. */
bool guest_load(struct guest *g, char *why, size_t why_size);

#endif
