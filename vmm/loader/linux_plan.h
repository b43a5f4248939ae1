/* SPDX-License-Identifier: MIT */
/*
 * How a Linux bzImage is laid out in a guest and started through the
 * 64-bit boot protocol: the fixed low-memory layout (page tables, GDT,
 * boot_params, command line, the BIOS area with the ACPI tables), the e820
 * map the guest is given, the boot_params ("zero page") it receives in RSI,
 * and the planner guest_boot_plan_build() hands bzImages to. Guests larger
 * than LINUX_MEM_MAX (3 GiB) are refused rather than split around the
 * 3-4 GiB device hole, so guest RAM is always one range from GPA 0 and the
 * LAPIC, IOAPIC and PCI windows above 3 GiB never overlap it. Pure: built
 * for the host too.
 */
#ifndef SIDECORE_VMM_LOADER_LINUX_PLAN_H
#define SIDECORE_VMM_LOADER_LINUX_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/loader/boot_plan.h"
#include "vmm/loader/bzimage.h"

/*
 * Guest-physical layout. Everything below 1 MiB is fixed; the kernel goes
 * to its pref_address (16 MiB for distribution kernels), the initrd as high
 * as the guest's memory and the kernel's initrd_addr_max allow.
 *   0x01000  identity page tables: PML4, PDPT, one PD per GiB (<= 0x6000)
 *   0x06000  GDT (__BOOT_CS 0x10, __BOOT_DS 0x18)
 *   0x07000  boot_params (4 KiB)
 *   0x08000  boot stack (BOOT_STACK_SIZE, unused by Linux itself)
 *   0x20000  command line (at most LINUX_CMDLINE_MAX bytes + NUL)
 *   0x9fc00  reserved (EBDA) up to 0xa0000; 0xa0000-0xe0000 is not RAM
 *   0xe0000  ACPI tables (LINUX_ACPI_SIZE), RSDP first: Linux finds it
 *            through boot_params and by scanning 0xe0000-0xfffff
 *   0xf0000  reserved (BIOS ROM area) up to 1 MiB
 */
#define LINUX_PAGE_TABLES_GPA 0x1000ull
#define LINUX_GDT_GPA         0x6000ull
#define LINUX_BOOT_PARAMS_GPA 0x7000ull
#define LINUX_STACK_GPA       0x8000ull
#define LINUX_CMDLINE_GPA     0x20000ull
#define LINUX_CMDLINE_MAX     4095u
#define LINUX_LOW_RAM_END     0x9fc00ull
#define LINUX_EBDA_END        0xa0000ull
#define LINUX_ACPI_GPA        0xe0000ull
#define LINUX_ACPI_SIZE       0x10000ull
#define LINUX_BIOS_END        0x100000ull
#define LINUX_KERNEL_MIN_GPA  0x100000ull
#define LINUX_MEM_MAX         (3ull << 30)

/* Selectors the 64-bit boot protocol requires. */
#define LINUX_BOOT_CS 0x10
#define LINUX_BOOT_DS 0x18

/* boot_params ("zero page", Documentation/arch/x86/zero-page.rst). */
#define LINUX_BOOT_PARAMS_SIZE 4096u
#define BP_ACPI_RSDP_ADDR      0x070
#define BP_EXT_RAMDISK_IMAGE   0x0c0
#define BP_EXT_RAMDISK_SIZE    0x0c4
#define BP_EXT_CMD_LINE_PTR    0x0c8
#define BP_E820_ENTRIES        0x1e8
#define BP_E820_TABLE          0x2d0
#define BP_E820_MAX            128
#define BP_E820_ENTRY_SIZE     20

#define LINUX_LOADER_TYPE  0xff   /* "undefined" boot loader */
#define LINUX_HEAP_END_PTR 0xfe00 /* the usual top of a 64 KiB setup segment - 0x200 */

enum e820_type { E820_RAM = 1, E820_RESERVED = 2, E820_ACPI = 3 };

struct linux_e820_entry {
    uint64_t addr, size;
    uint32_t type; /* enum e820_type */
};

#define LINUX_E820_BUILT_MAX 5 /* entries linux_e820_build() writes at most */

/*
 * The memory map of a guest with mem_size bytes of RAM from GPA 0:
 * [0, 0x9fc00) RAM, [0x9fc00, 0xa0000) reserved, [0xe0000, 0xf0000) ACPI,
 * [0xf0000, 0x100000) reserved, [0x100000, mem_size) RAM, in address order.
 * Returns the number of entries written to out (at most max), 0 if mem_size
 * is below 1 MiB or above LINUX_MEM_MAX or max is too small.
 */
unsigned linux_e820_build(uint64_t mem_size, struct linux_e820_entry *out, unsigned max);

/* What boot_params points the kernel at. */
struct linux_boot_info {
    uint64_t mem_size;
    uint64_t cmdline_gpa;
    uint64_t initrd_gpa, initrd_size; /* 0, 0: no initrd */
    uint64_t rsdp_gpa;                /* 0: none given */
};

/*
 * Fills the 4 KiB boot_params at bp: zeroes it, copies the setup header from
 * the image (bytes 0x1f1 up to hdr->header_end), then sets what a boot
 * loader writes: type_of_loader, loadflags (LOADED_HIGH, CAN_USE_HEAP),
 * heap_end_ptr, the command line and initrd pointers (with their ext_ high
 * halves), acpi_rsdp_addr and the e820 table. Fields the image could have
 * left non-zero that would send the kernel elsewhere (setup_data,
 * hardware_subarch) are cleared. image must be a file hdr was parsed from.
 */
void linux_boot_params_build(uint8_t *bp, const uint8_t *image, const struct bzimage_header *hdr,
                             const struct linux_boot_info *info);

/*
 * Plans a bzImage (used by guest_boot_plan_build): 1 planned, 0 the image
 * is not a bzImage (no "HdrS"), -1 refused (plan->error says why).
 */
int bzimage_plan(struct guest_boot_plan *p, const struct guest_image *img);

/*
 * Reserves the fixed low-memory pieces both Linux boot paths use (GDT,
 * boot_params or start info page, boot stack, command line, the EBDA,
 * VGA and BIOS areas, the ACPI tables, whose place it records in
 * acpi_gpa/acpi_size) and, with page_tables, the identity page tables.
 */
bool linux_reserve_low(struct guest_boot_plan *p, uint64_t cmdline_bytes, bool page_tables);

/* Whether the guest's memory is within LINUX_MEM_MAX (else plan->error says
 * why). */
bool linux_mem_fits(struct guest_boot_plan *p);

/* The command line (len bytes, then a NUL) at LINUX_CMDLINE_GPA. */
bool linux_plan_cmdline(struct guest_boot_plan *p, const char *cmdline, uint64_t len);

/* Plans the initrd as high as possible below limit (and the guest's
 * memory), at or above 1 MiB and clear of everything reserved. */
bool linux_place_initrd(struct guest_boot_plan *p, const struct guest_image *img, uint64_t limit,
                        uint64_t *gpa);

/*
 * PVH boot (pvh_plan.c): Xen's direct-boot ABI, which Linux (CONFIG_PVH)
 * also accepts without Xen. The uncompressed vmlinux ELF is loaded at its
 * physical addresses and entered in 32-bit protected mode without paging
 * at the address of its XEN_ELFNOTE_PHYS32_ENTRY note, with EBX pointing
 * at a struct hvm_start_info (version 1: command line, the initrd as the
 * first module, the RSDP and the e820-style memory map). It skips the
 * bzImage's self-decompression, which costs minutes in an emulator.
 */
#define PVH_NOTE_NAME          "Xen"
#define PVH_NOTE_PHYS32_ENTRY  18u
#define PVH_START_MAGIC        0x336ec578u
#define PVH_START_INFO_GPA     LINUX_BOOT_PARAMS_GPA
#define PVH_START_INFO_SIZE    56u /* struct hvm_start_info, version 1 */
#define PVH_MODLIST_OFFSET     64u /* from the start info: one hvm_modlist_entry */
#define PVH_MODLIST_ENTRY_SIZE 32u
#define PVH_MEMMAP_OFFSET      128u /* from the start info: hvm_memmap_table_entry[] */
#define PVH_MEMMAP_ENTRY_SIZE  24u
#define PVH_CMDLINE_MAX        2047u /* Linux's COMMAND_LINE_SIZE on x86, less the NUL */

/* hvm_start_info field offsets. */
#define PVH_SI_MAGIC          0
#define PVH_SI_VERSION        4
#define PVH_SI_NR_MODULES     12
#define PVH_SI_MODLIST_PADDR  16
#define PVH_SI_CMDLINE_PADDR  24
#define PVH_SI_RSDP_PADDR     32
#define PVH_SI_MEMMAP_PADDR   40
#define PVH_SI_MEMMAP_ENTRIES 48

/* 1 planned, 0 not a PVH image (no ELF with that note), -1 refused. */
int pvh_plan(struct guest_boot_plan *p, const struct guest_image *img);

#endif
