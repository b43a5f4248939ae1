/* SPDX-License-Identifier: MIT */
/*
 * Checks the hypervisor's ELF file and says where its PT_LOAD segments go,
 * and finds the Sidecore boot header in the loaded image. The loader trusts
 * nothing in the file: every offset and size is checked against the file's
 * length before anything is copied. Pure logic: builds for the host so it
 * can be unit tested.
 */
#ifndef SIDECORE_BOOT_EFI_ELF_IMAGE_H
#define SIDECORE_BOOT_EFI_ELF_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "boot/handoff.h"

#define ELF_IMAGE_MAX_SEGMENTS 16
/* The hypervisor's boot page tables map the first 4 GiB, so it must load there. */
#define ELF_IMAGE_LIMIT (4ull << 30)
/* How far into the loaded image the boot header may sit. */
#define ELF_BOOT_HEADER_WINDOW (32u * 1024)

struct elf_segment {
    uint64_t paddr;
    uint64_t offset; /* in the file */
    uint64_t filesz;
    uint64_t memsz;
};

struct elf_image {
    uint64_t lo; /* lowest paddr of any PT_LOAD segment */
    uint64_t hi; /* end of the highest one */
    unsigned count;
    struct elf_segment seg[ELF_IMAGE_MAX_SEGMENTS];
};

/*
 * Checks that file[0..size) is an ELF64 little-endian x86-64 executable whose
 * PT_LOAD segments lie inside the file, below ELF_IMAGE_LIMIT and do not
 * overlap, and fills *img. Returns NULL on success, else why not.
 */
const char *elf_image_parse(const void *file, uint64_t size, struct elf_image *img);

/*
 * Looks for struct sidecore_boot_header at 8-byte aligned offsets in the
 * first ELF_BOOT_HEADER_WINDOW bytes of the image loaded at img->lo (mem
 * points at it, mem_size bytes long). Its entry point must lie inside the
 * image. Returns NULL and fills *hdr on success, else why not.
 */
const char *elf_find_boot_header(const void *mem, uint64_t mem_size, const struct elf_image *img,
                                 struct sidecore_boot_header *hdr);

#endif
