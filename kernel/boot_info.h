/* SPDX-License-Identifier: MIT */
/* The hand-off the hypervisor was booted with (its own copy), for code that
 * needs the memory map or the boot files after bring-up. */
#ifndef SIDECORE_BOOT_INFO_H
#define SIDECORE_BOOT_INFO_H

#include "boot/handoff.h"

const struct handoff *boot_info(void);

#endif
