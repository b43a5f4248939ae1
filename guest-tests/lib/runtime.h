/* SPDX-License-Identifier: MIT */
/*
 * What a test guest provides to the runtime and what the runtime tells it.
 * A guest source defines test_main (its checks) and guest_name (set by the
 * Makefile as GUEST_NAME, the image's name); the runtime prints the entry
 * checks before test_main and the RESULT line after it.
 */
#ifndef GUEST_TESTS_RUNTIME_H
#define GUEST_TESTS_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#define MB2_BOOTLOADER_MAGIC 0x36d76289u

#define GDT_CODE        0x08
#define GDT_DATA        0x10
#define GDT_NOT_PRESENT 0x18 /* a data descriptor with P = 0 */
#define GDT_ENTRIES     4

void test_main(void);
extern const char guest_name[];

/* Whether this image carries a multiboot2 header (and was entered as one). */
bool runtime_is_multiboot2(void);
/* The multiboot2 information address from EBX (0 in other formats). */
uintptr_t runtime_mb2_info(void);
/* The same for a multiboot v1 header (mb1_header.asm) and its EBX. */
bool runtime_is_multiboot1(void);
uintptr_t runtime_mb1_info(void);

/* Linker-script symbols: the image's extent. */
extern char __image_start[], __image_end[];

#endif
