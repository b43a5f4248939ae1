/* SPDX-License-Identifier: MIT */
/*
 * Reading the memory a multiboot2 loader describes: the memory map (tag 6)
 * and basic meminfo (tag 4). Pure logic with no hardware access, so it also
 * builds on the host (guest-tests/tools/test_mb2_info.c). Nothing in the
 * structure is trusted: sizes are checked against the stated total and a
 * caller-given maximum before anything is read.
 */
#ifndef GUEST_TESTS_MB2_INFO_H
#define GUEST_TESTS_MB2_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB2_TAG_END          0
#define MB2_TAG_BASIC_MEM    4
#define MB2_TAG_MMAP         6
#define MB2_MEMORY_AVAILABLE 1
#define MB2_MAX_REGIONS      32

struct mb2_region {
    uint64_t base, length;
    uint32_t type;
};

struct mb2_memory {
    bool has_basic;
    uint32_t mem_lower_kib, mem_upper_kib;
    bool has_mmap;
    unsigned regions; /* entries in the map (only the first MB2_MAX_REGIONS kept) */
    struct mb2_region region[MB2_MAX_REGIONS];
    uint64_t available_end; /* highest end of an available region */
    uint64_t available_bytes;
};

/* Parses the information structure at info, which the caller can read for
 * at most max_len bytes. Returns NULL on success or a message saying what is
 * wrong with the structure. */
const char *mb2_parse_memory(const void *info, size_t max_len, struct mb2_memory *out);

/* Whether [base, base + len) lies inside one available region. */
bool mb2_range_available(const struct mb2_memory *m, uint64_t base, uint64_t len);

#endif
