/* SPDX-License-Identifier: MIT */
/*
 * Finds the files a Sidecore config names, so the UEFI loader can load them
 * before it leaves the firmware. Only the three keys that name files matter
 * here (kernel = PATH, initrd = PATH, disk = ram:PATH); everything else in
 * the config is the hypervisor's business, and it reports config errors
 * itself. Pure logic: builds for the host so it can be unit tested.
 */
#ifndef SIDECORE_BOOT_EFI_CONFIG_SCAN_H
#define SIDECORE_BOOT_EFI_CONFIG_SCAN_H

#include <stddef.h>

#include "boot/handoff.h"

/* The config itself takes one hand-off slot. */
#define CONFIG_SCAN_MAX_FILES (HANDOFF_MAX_FILES - 1)

struct config_file_list {
    size_t count;
    char names[CONFIG_SCAN_MAX_FILES][HANDOFF_NAME_LEN];
};

/* Told about each name that is not taken: line is 1-based, why says why. */
typedef void (*config_scan_warn_fn)(void *ctx, unsigned line, const char *why);

/*
 * Scans len bytes of config text (not NUL-terminated; may hold anything) and
 * fills *out with each named path once, in order of first appearance, as
 * written in the config ('/'-separated, relative to the config's directory).
 * Names that are absolute, contain "..", are too long or exceed the slot
 * count are skipped and reported through warn (which may be NULL).
 */
void config_scan_files(const char *text, size_t len, struct config_file_list *out,
                       config_scan_warn_fn warn, void *ctx);

#endif
