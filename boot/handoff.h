/* SPDX-License-Identifier: MIT */
/*
 * The hand-off structure: what a boot path gives the hypervisor.
 *
 * Both boot paths fill in the same structure so that nothing after entry
 * knows how the machine was booted: the multiboot2 path (GRUB, BIOS or UEFI)
 * converts GRUB's boot information into it (boot/mb2_handoff.c), and our own
 * UEFI loader (boot/efi/) builds it directly before it exits boot services.
 *
 * The loader enters the hypervisor at sidecore_boot_header.entry64 in 64-bit
 * long mode, interrupts disabled, with RDI = physical address of a struct
 * handoff, on page tables that identity-map at least the kernel image and the
 * hand-off structure. The hypervisor copies the structure before it touches
 * any memory it does not own.
 */
#ifndef SIDECORE_BOOT_HANDOFF_H
#define SIDECORE_BOOT_HANDOFF_H

#include <stdint.h>

#define HANDOFF_MAGIC   0x464f4853524f4353ull /* "SCORSHOF" */
#define HANDOFF_VERSION 1

/* How the hypervisor was started. */
enum handoff_boot_path {
    HANDOFF_BOOT_MB2_BIOS = 1, /* GRUB multiboot2 on legacy BIOS */
    HANDOFF_BOOT_MB2_EFI = 2,  /* GRUB multiboot2 on UEFI */
    HANDOFF_BOOT_EFI_DISK = 3, /* our UEFI loader, files from a FAT volume */
    HANDOFF_BOOT_EFI_PXE = 4,  /* our UEFI loader, files over TFTP */
};

/* Memory types: the E820 numbering, which both firmware kinds map onto. */
enum handoff_mem_type {
    HANDOFF_MEM_USABLE = 1,
    HANDOFF_MEM_RESERVED = 2,
    HANDOFF_MEM_ACPI_RECLAIM = 3,
    HANDOFF_MEM_ACPI_NVS = 4,
    HANDOFF_MEM_BAD = 5,
};

#define HANDOFF_MAX_MMAP    512
#define HANDOFF_MAX_FILES   32
#define HANDOFF_NAME_LEN    96
#define HANDOFF_CMDLINE_LEN 512

struct handoff_mmap_entry {
    uint64_t base;
    uint64_t length;
    uint32_t type; /* enum handoff_mem_type */
    uint32_t reserved;
};

/*
 * A file the boot path loaded into memory: the config and every file it
 * names. Memory that holds a file is reported as usable in the memory map;
 * the hypervisor's allocator leaves it out until the file is consumed.
 * name is the path relative to the boot directory, e.g. "sidecore.cfg" or
 * "guests/test.elf" (GRUB: the module's command line).
 */
struct handoff_file {
    uint64_t base; /* physical, page aligned */
    uint64_t size; /* bytes */
    char name[HANDOFF_NAME_LEN];
};

struct handoff {
    uint64_t magic;     /* HANDOFF_MAGIC */
    uint32_t version;   /* HANDOFF_VERSION */
    uint32_t boot_path; /* enum handoff_boot_path */
    /* Physical address of the ACPI RSDP, 0 if none. Multiboot2 passes a copy
     * of the RSDP rather than its address; that copy is kept in rsdp_copy and
     * rsdp points at it. */
    uint64_t rsdp;
    uint64_t efi_system_table; /* physical, 0 on BIOS (informational only) */
    uint8_t rsdp_copy[40];
    char cmdline[HANDOFF_CMDLINE_LEN];
    uint32_t mmap_count;
    uint32_t file_count;
    struct handoff_mmap_entry mmap[HANDOFF_MAX_MMAP];
    struct handoff_file files[HANDOFF_MAX_FILES];
};

/*
 * The header a loader searches for in the first 32 KiB of the loaded image
 * (8-byte aligned), after the multiboot2 header: where 64-bit entry is.
 */
#define SIDECORE_BOOT_HEADER_MAGIC 0x3436454f43454453ull /* "SDECOE64" */

struct sidecore_boot_header {
    uint64_t magic;     /* SIDECORE_BOOT_HEADER_MAGIC */
    uint64_t entry64;   /* physical address of the 64-bit entry point */
    uint64_t load_base; /* physical address the image is linked at */
    uint64_t load_end;  /* end of the image including .bss */
};

#endif
