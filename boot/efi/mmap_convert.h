/* SPDX-License-Identifier: MIT */
/*
 * Reads the UEFI memory map: converts it into the hand-off's E820-style map,
 * and checks where the hypervisor may be copied after boot services end. Kept
 * apart from the code that calls GetMemoryMap() because the conversion runs
 * after ExitBootServices(), where nothing can be printed or retried, so it
 * must be right by construction; as pure logic it builds for the host and is
 * unit tested there.
 */
#ifndef SIDECORE_BOOT_EFI_MMAP_CONVERT_H
#define SIDECORE_BOOT_EFI_MMAP_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/handoff.h"

/* UEFI memory types (UEFI spec, EFI_MEMORY_TYPE). */
enum efi_memory_type {
    EFI_MEM_RESERVED = 0,
    EFI_MEM_LOADER_CODE = 1,
    EFI_MEM_LOADER_DATA = 2,
    EFI_MEM_BOOT_SERVICES_CODE = 3,
    EFI_MEM_BOOT_SERVICES_DATA = 4,
    EFI_MEM_RUNTIME_SERVICES_CODE = 5,
    EFI_MEM_RUNTIME_SERVICES_DATA = 6,
    EFI_MEM_CONVENTIONAL = 7,
    EFI_MEM_UNUSABLE = 8,
    EFI_MEM_ACPI_RECLAIM = 9,
    EFI_MEM_ACPI_NVS = 10,
};

/* Size of the UEFI spec's EFI_MEMORY_DESCRIPTOR; firmware may use a larger stride. */
#define EFI_MEMORY_DESCRIPTOR_MIN_SIZE 40

/* The hand-off type for a UEFI memory type. */
uint32_t mmap_type_from_efi(uint32_t efi_type);

/*
 * Replaces h->mmap with the map in [map, map + map_size), whose descriptors
 * are desc_size bytes apart (as GetMemoryMap() reports). The result is sorted
 * by base, adjacent ranges of the same type are merged, empty ones dropped.
 * Returns how many descriptors were left out (they did not fit in
 * HANDOFF_MAX_MMAP, or ran past 2^64), 0 when none was; -1 when desc_size is
 * too small to hold a descriptor.
 */
int mmap_convert_efi(const void *map, size_t map_size, size_t desc_size, struct handoff *h);

/*
 * True when every byte of [start, end) lies in memory that is free once boot
 * services end (conventional memory, boot services code and data) and in no
 * other kind: the hypervisor may be copied there after ExitBootServices().
 */
bool mmap_range_reclaimable(const void *map, size_t map_size, size_t desc_size, uint64_t start,
                            uint64_t end);

#endif
