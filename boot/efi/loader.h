/* SPDX-License-Identifier: MIT */
/*
 * Sidecore's UEFI loader: what its parts share. The loader finds the device
 * it was started from, loads the hypervisor and the files its config names
 * from that device (a FAT volume or the PXE server's TFTP), fills a struct
 * handoff, exits boot services, copies the hypervisor to its link address
 * and jumps to its 64-bit entry.
 * Firmware calls are made directly: the build defines GNU_EFI_USE_MS_ABI, so
 * GNU-EFI declares every protocol function with the Microsoft calling
 * convention and the compiler checks the arguments.
 */
#ifndef SIDECORE_BOOT_EFI_LOADER_H
#define SIDECORE_BOOT_EFI_LOADER_H

#include <efi.h>
#include <efilib.h>

#include "boot/handoff.h"

/* Progress and error lines on the firmware console. */
#define loader_print(fmt, ...) Print(L"sidecore-efi: " fmt L"\n", ##__VA_ARGS__)

#define TFTP_DIR_LEN 128

/*
 * Where files come from. Names are '/'-separated and relative to the boot
 * directory (the volume root, or the directory of the TFTP boot file).
 */
struct file_source {
    const char *kind;   /* "disk" or "tftp", for messages */
    uint32_t boot_path; /* enum handoff_boot_path */
    EFI_STATUS (*file_size)(struct file_source *src, const char *name, UINT64 *size);
    /* Reads exactly size bytes of the file into buf. */
    EFI_STATUS (*read_file)(struct file_source *src, const char *name, void *buf, UINT64 size);
    union {
        struct {
            EFI_FILE_HANDLE root;
        } fat;
        struct {
            EFI_PXE_BASE_CODE_PROTOCOL *pxe;
            EFI_IP_ADDRESS server;
            char dir[TFTP_DIR_LEN]; /* "" or "some/dir/" */
        } tftp;
    };
};

/* A file in page-aligned memory from file_load(). */
struct loaded_file {
    EFI_PHYSICAL_ADDRESS base;
    UINT64 size;
};

/* The hypervisor, laid out in a staging buffer until it is copied to dest. */
struct hypervisor_image {
    EFI_PHYSICAL_ADDRESS staged; /* below 4 GiB */
    UINT64 dest;                 /* page aligned physical address it runs at */
    UINT64 size;                 /* bytes, a page multiple */
    UINT64 entry64;
};

/* What the hand-over stub needs, all below 4 GiB. */
struct handover {
    UINT64 stub;
    UINT64 cr3;
    UINT64 stack_top;
};

/* boot_source.c: picks the source from the device the loader came from. */
EFI_STATUS boot_source_open(EFI_LOADED_IMAGE *image, struct file_source *src);

/* fat_source.c / tftp_source.c: the two kinds of source. */
EFI_STATUS fat_source_open(EFI_HANDLE device, struct file_source *src);
EFI_STATUS tftp_source_open(EFI_PXE_BASE_CODE_PROTOCOL *pxe, struct file_source *src);

/* file_load.c: page allocation below 4 GiB and whole-file loading. */
EFI_STATUS pages_alloc_below_4g(UINT64 bytes, EFI_PHYSICAL_ADDRESS *addr);
void pages_free(EFI_PHYSICAL_ADDRESS addr, UINT64 bytes);
EFI_STATUS file_load(struct file_source *src, const char *name, struct loaded_file *out);
EFI_STATUS file_load_into_handoff(struct file_source *src, const char *name, struct handoff *h);

/* elf_load.c: stages the hypervisor and claims its destination. */
EFI_STATUS elf_load_hypervisor(const struct loaded_file *file, struct hypervisor_image *out);

/* acpi_rsdp.c */
UINT64 acpi_find_rsdp(EFI_SYSTEM_TABLE *st);

/* exit_boot.c: final memory map and ExitBootServices(). */
EFI_STATUS exit_boot_services_with_map(EFI_HANDLE image, const struct hypervisor_image *hv,
                                       struct handoff *h);

/* handover.c: after ExitBootServices(), copy the hypervisor in place and enter it. */
EFI_STATUS handover_prepare(struct handover *ho);
__attribute__((noreturn)) void handover_jump(const struct handover *ho,
                                             const struct hypervisor_image *hv, struct handoff *h);

#endif
