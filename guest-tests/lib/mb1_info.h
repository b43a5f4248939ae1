/* SPDX-License-Identifier: MIT */
/*
 * Reading a multiboot (v1) information block: flags, mem_lower/mem_upper,
 * the memory map, the command line, the boot loader name and the module
 * list. Pure logic with no hardware access (memory is read through the
 * caller's window), so it also builds on the host. Nothing in the block is
 * trusted: every address and length is checked against the window before
 * anything is read, and strings must end inside it.
 */
#ifndef GUEST_TESTS_MB1_INFO_H
#define GUEST_TESTS_MB1_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB1_BOOTLOADER_MAGIC 0x2badb002u
#define MB1_INFO_MEM         (1u << 0)
#define MB1_INFO_CMDLINE     (1u << 2)
#define MB1_INFO_MODS        (1u << 3)
#define MB1_INFO_MMAP        (1u << 6)
#define MB1_INFO_LOADER      (1u << 9)
#define MB1_MEMORY_AVAILABLE 1
#define MB1_MAX_REGIONS      16
#define MB1_MAX_MODULES      4

struct mb1_region {
    uint64_t base, length;
    uint32_t type;
};

struct mb1_module {
    uint32_t start, end; /* [start, end) */
    const char *name;    /* inside the window */
};

struct mb1_info {
    uint32_t flags;
    uint32_t mem_lower_kib, mem_upper_kib;
    const char *cmdline, *loader; /* NULL when absent */
    unsigned regions;             /* entries in the map (first MB1_MAX_REGIONS kept) */
    struct mb1_region region[MB1_MAX_REGIONS];
    unsigned modules; /* count (first MB1_MAX_MODULES kept) */
    struct mb1_module module[MB1_MAX_MODULES];
};

/* Parses the block at guest-physical info_addr; the guest's memory is
 * readable at window[0, window_len) for physical addresses [0, window_len).
 * NULL on success, or a message saying what is wrong. */
const char *mb1_parse(const uint8_t *window, uint64_t window_len, uint32_t info_addr,
                      struct mb1_info *out);

/* Whether [base, base + len) lies inside one available region. */
bool mb1_range_available(const struct mb1_info *m, uint64_t base, uint64_t len);

#endif
