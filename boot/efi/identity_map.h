/* SPDX-License-Identifier: MIT */
/*
 * The page tables the loader switches to after ExitBootServices(): the first
 * 4 GiB identity mapped with 2 MiB pages, which is what the hypervisor's
 * entry expects (handoff.h). The firmware's own tables sit in boot services
 * memory, which the hypervisor image may be copied over, so they cannot be
 * kept. Pure logic: builds for the host so it can be unit tested.
 */
#ifndef SIDECORE_BOOT_EFI_IDENTITY_MAP_H
#define SIDECORE_BOOT_EFI_IDENTITY_MAP_H

#include <stdint.h>

/* PML4 + PDPT + 4 page directories. */
#define IDENTITY_MAP_PAGES 6
#define IDENTITY_MAP_LIMIT (4ull << 30)

/*
 * Fills the IDENTITY_MAP_PAGES 4 KiB pages at tables (physical address
 * tables_phys, page aligned) and returns the value to load into CR3.
 */
uint64_t identity_map_4g(uint64_t *tables, uint64_t tables_phys);

#endif
