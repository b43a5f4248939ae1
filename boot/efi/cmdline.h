/* SPDX-License-Identifier: MIT */
/*
 * Turns the loaded image's LoadOptions into the hypervisor's command line.
 * LoadOptions is whatever the starter put there: a UCS-2 command line from
 * the UEFI shell (which puts the image's own name first), or opaque binary
 * data from a boot manager entry. Pure logic: builds for the host so it can
 * be unit tested.
 */
#ifndef SIDECORE_BOOT_EFI_CMDLINE_H
#define SIDECORE_BOOT_EFI_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Converts size bytes of load options at opts into a NUL-terminated ASCII
 * string in out[0..out_size), dropping a leading image name (a first word
 * ending in ".efi"). Returns false, with out empty, when the options are not
 * a printable UCS-2 string; a too-long command line is cut at out_size - 1.
 */
bool cmdline_from_load_options(const void *opts, size_t size, char *out, size_t out_size);

#endif
