/* SPDX-License-Identifier: MIT */
/*
 * Host test of guest-tests/lib/mb2_info.c, the multiboot2 memory parser the
 * isolation guest relies on: a well-formed structure, and every way a length
 * field can lie. Built and run by `make guest-tests-check` with ASan/UBSan.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include "mb2_info.h"

static _Alignas(8) unsigned char buf[512];
static size_t len;

static void put32(uint32_t v)
{
    memcpy(buf + len, &v, 4);
    len += 4;
}

static void put64(uint64_t v)
{
    memcpy(buf + len, &v, 8);
    len += 8;
}

/* info: basic meminfo, a 3-entry memory map, end tag. */
static void build_valid(void)
{
    memset(buf, 0, sizeof(buf));
    len = 0;
    put32(0); /* total, patched below */
    put32(0);
    put32(MB2_TAG_BASIC_MEM);
    put32(16);
    put32(639);
    put32(15 * 1024);
    put32(MB2_TAG_MMAP);
    put32(16 + 3 * 24);
    put32(24);
    put32(0);
    put64(0), put64(0x9fc00), put32(1), put32(0);
    put64(0xf0000), put64(0x10000), put32(2), put32(0);
    put64(0x100000), put64(0xf00000), put32(1), put32(0);
    put32(MB2_TAG_END);
    put32(8);
    uint32_t total = (uint32_t)len;
    memcpy(buf, &total, 4);
}

static const char *parse(struct mb2_memory *m)
{
    return mb2_parse_memory(buf, sizeof(buf), m);
}

static void patch32(size_t off, uint32_t v)
{
    memcpy(buf + off, &v, 4);
}

int main(void)
{
    struct mb2_memory m;

    build_valid();
    assert(parse(&m) == NULL);
    assert(m.has_basic && m.mem_lower_kib == 639 && m.mem_upper_kib == 15 * 1024);
    assert(m.has_mmap && m.regions == 3);
    assert(m.available_end == 0x1000000 && m.available_bytes == 0x9fc00 + 0xf00000);
    assert(mb2_range_available(&m, 0x100000, 0x9000));
    assert(!mb2_range_available(&m, 0xf0000, 0x1000));      /* reserved */
    assert(!mb2_range_available(&m, 0xfff000, 0x2000));     /* runs past the end */
    assert(!mb2_range_available(&m, UINT64_MAX - 1, 0x10)); /* wraps */

    /* A structure that does not fit the readable length. */
    assert(mb2_parse_memory(buf, len - 1, &m) != NULL);
    /* total_size too small, too big. */
    build_valid(), patch32(0, 8);
    assert(parse(&m) != NULL);
    build_valid(), patch32(0, sizeof(buf) + 8);
    assert(parse(&m) != NULL);
    /* A tag size below 8 (would loop forever), one past the total. */
    build_valid(), patch32(12, 4);
    assert(parse(&m) != NULL);
    build_valid(), patch32(12, 0xFFFFFFF9u);
    assert(parse(&m) != NULL);
    /* Memory-map entry size not a multiple of 8, below 24. */
    build_valid(), patch32(32, 28);
    assert(parse(&m) != NULL);
    build_valid(), patch32(32, 16);
    assert(parse(&m) != NULL);
    /* An entry that wraps around the address space. */
    build_valid(), memcpy(buf + 40 + 2 * 24 + 8, &(uint64_t){UINT64_MAX}, 8); /* 3rd length */
    assert(parse(&m) != NULL);
    /* No end tag: total cut just before it. */
    build_valid(), patch32(0, (uint32_t)len - 8);
    assert(parse(&m) != NULL);
    /* Misaligned and missing structures. */
    assert(mb2_parse_memory(buf + 4, sizeof(buf) - 4, &m) != NULL);
    assert(mb2_parse_memory(NULL, sizeof(buf), &m) != NULL);
    /* A basic-meminfo tag too short to hold its fields. */
    build_valid(), patch32(12, 8);
    assert(parse(&m) != NULL);

    puts("test_mb2_info: ok");
    return 0;
}
