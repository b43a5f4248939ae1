/* SPDX-License-Identifier: MIT */
/* Converts GRUB's multiboot2 boot information into the hand-off structure. */
#ifndef SIDECORE_BOOT_MB2_HANDOFF_H
#define SIDECORE_BOOT_MB2_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/handoff.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289u

/*
 * Fills *h from the boot information at info (its first u32 is its total
 * size; at most max_size bytes are read). Every tag is bounds-checked; a
 * malformed structure yields false with a reason in *err. rsdp is set to the
 * address of h->rsdp_copy when GRUB passed an RSDP.
 */
bool mb2_to_handoff(const uint8_t *info, size_t max_size, struct handoff *h, const char **err);

#endif
