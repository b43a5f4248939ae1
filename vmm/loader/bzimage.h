/* SPDX-License-Identifier: MIT */
/*
 * The Linux x86 boot protocol's setup header, read from a bzImage file:
 * bzimage_parse() checks the file is a bzImage this loader can start (magic,
 * protocol 2.12 or later, a 64-bit entry point, the file long enough for the
 * setup sectors and the protected-mode kernel it declares) and returns the
 * fields the 64-bit boot protocol needs. Nothing in the file is trusted:
 * every field is range-checked before it is used. Pure: no hardware, no
 * allocation, built for the host too. Offsets are those of
 * Documentation/arch/x86/boot.rst.
 */
#ifndef SIDECORE_VMM_LOADER_BZIMAGE_H
#define SIDECORE_VMM_LOADER_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Setup header field offsets in the file (and in boot_params, which holds a
 * copy of the header at the same offsets). */
#define BZ_HDR_START          0x1f1 /* setup_sects, the first header byte */
#define BZ_SETUP_SECTS        0x1f1
#define BZ_SYSSIZE            0x1f4
#define BZ_BOOT_FLAG          0x1fe /* 0xaa55 */
#define BZ_JUMP               0x200 /* byte 0x201 + 0x202: end of the header */
#define BZ_HEADER_MAGIC       0x202 /* "HdrS" */
#define BZ_VERSION            0x206
#define BZ_TYPE_OF_LOADER     0x210
#define BZ_LOADFLAGS          0x211
#define BZ_CODE32_START       0x214
#define BZ_RAMDISK_IMAGE      0x218
#define BZ_RAMDISK_SIZE       0x21c
#define BZ_HEAP_END_PTR       0x224
#define BZ_EXT_LOADER_VER     0x226
#define BZ_EXT_LOADER_TYPE    0x227
#define BZ_CMD_LINE_PTR       0x228
#define BZ_INITRD_ADDR_MAX    0x22c
#define BZ_KERNEL_ALIGNMENT   0x230
#define BZ_RELOCATABLE_KERNEL 0x234
#define BZ_XLOADFLAGS         0x236
#define BZ_CMDLINE_SIZE       0x238
#define BZ_HARDWARE_SUBARCH   0x23c
#define BZ_HW_SUBARCH_DATA    0x240
#define BZ_SETUP_DATA         0x250
#define BZ_PREF_ADDRESS       0x258
#define BZ_INIT_SIZE          0x260
#define BZ_HDR_MIN_END        0x264 /* a 2.12 header reaches at least past init_size */
#define BZ_HDR_MAX_END        0x290 /* where boot_params' next field starts */

#define BZ_BOOT_FLAG_VALUE 0xaa55
#define BZ_MIN_VERSION     0x020c /* 2.12: xloadflags, the 64-bit entry */

/* loadflags */
#define BZ_LOADED_HIGH  0x01
#define BZ_CAN_USE_HEAP 0x80
/* xloadflags */
#define BZ_XLF_KERNEL_64              0x01
#define BZ_XLF_CAN_BE_LOADED_ABOVE_4G 0x02

#define BZ_ENTRY64_OFFSET 0x200 /* 64-bit entry: load address + 0x200 */
#define BZ_SECTOR         512
#define BZ_ERROR_LEN      160

struct bzimage_header {
    uint16_t version; /* 0x020f for 2.15 */
    uint8_t setup_sects;
    uint64_t setup_size;  /* (setup_sects + 1) * 512: file offset of the kernel */
    uint64_t kernel_size; /* syssize * 16: protected-mode kernel bytes in the file */
    uint16_t header_end;  /* 0x202 + byte 0x201, clamped to BZ_HDR_MAX_END */
    uint8_t loadflags;
    uint16_t xloadflags;
    uint32_t initrd_addr_max; /* highest address the initrd's last byte may have */
    uint32_t kernel_alignment;
    bool relocatable;
    uint32_t cmdline_size; /* longest command line, without its NUL */
    uint64_t pref_address;
    uint32_t init_size; /* memory the kernel needs from its load address */
};

/* Reads and checks the setup header of the size-byte file at data. false:
 * err (err_size bytes) says why, naming the field and its value. */
bool bzimage_parse(const uint8_t *data, uint64_t size, struct bzimage_header *hdr, char *err,
                   size_t err_size);

/* Whether the file carries the setup header magic, i.e. should be read as a
 * bzImage (and refused as one if anything else is wrong). */
bool bzimage_has_magic(const uint8_t *data, uint64_t size);

#endif
