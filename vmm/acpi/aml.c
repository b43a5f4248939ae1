/* SPDX-License-Identifier: MIT */
/*
 * The AML encoder of aml.h. Every store goes through aml_byte(), which
 * refuses to write past the buffer; once full, the encoder only counts
 * down to the end and the caller discards the result.
 */
#include "vmm/acpi/aml.h"

#include "kernel/lib/string.h"

/* Resource descriptor tags and flags. */
#define RES_IO           0x47
#define RES_END          0x79
#define RES_MEM32_FIXED  0x86
#define RES_DWORD_SPACE  0x87
#define RES_WORD_SPACE   0x88
#define SPACE_MEMORY     0
#define SPACE_IO         1
#define SPACE_BUS        2
#define GEN_FIXED_RANGE  0x0c /* _MAF and _MIF set, positive decode, producer */
#define IO_ENTIRE_RANGE  0x03 /* ISA and non-ISA ranges */
#define MEM_RW_UNCACHED  0x01
#define IO_DECODE16      0x01
#define MEM32_READ_WRITE 0x01

void aml_init(struct aml *a, uint8_t *buf, size_t size)
{
    a->buf = buf;
    a->size = size;
    a->len = 0;
    a->full = false;
    a->depth = 0;
}

void aml_byte(struct aml *a, uint8_t v)
{
    if (a->len >= a->size) {
        a->full = true;
        return;
    }
    a->buf[a->len++] = v;
}

void aml_word(struct aml *a, uint16_t v)
{
    aml_byte(a, (uint8_t)v);
    aml_byte(a, (uint8_t)(v >> 8));
}

void aml_dword(struct aml *a, uint32_t v)
{
    aml_word(a, (uint16_t)v);
    aml_word(a, (uint16_t)(v >> 16));
}

void aml_bytes(struct aml *a, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        aml_byte(a, p[i]);
}

void aml_name_seg(struct aml *a, const char *seg)
{
    aml_bytes(a, (const uint8_t *)seg, 4);
}

void aml_integer(struct aml *a, uint64_t v)
{
    if (v == 0) {
        aml_byte(a, AML_ZERO);
    } else if (v == 1) {
        aml_byte(a, AML_ONE);
    } else if (v <= 0xff) {
        aml_byte(a, AML_BYTE);
        aml_byte(a, (uint8_t)v);
    } else if (v <= 0xffff) {
        aml_byte(a, AML_WORD);
        aml_word(a, (uint16_t)v);
    } else if (v <= 0xffffffffu) {
        aml_byte(a, AML_DWORD);
        aml_dword(a, (uint32_t)v);
    } else {
        aml_byte(a, AML_QWORD);
        aml_dword(a, (uint32_t)v);
        aml_dword(a, (uint32_t)(v >> 32));
    }
}

static uint8_t hex_value(char c)
{
    return (uint8_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
}

void aml_eisaid(struct aml *a, const char *id)
{
    /* Three letters in 5 bits each ('A' = 1), then four hex digits, stored
     * most significant byte first. */
    uint8_t c1 = (uint8_t)(id[0] - 0x40), c2 = (uint8_t)(id[1] - 0x40),
            c3 = (uint8_t)(id[2] - 0x40);
    aml_byte(a, AML_DWORD);
    aml_byte(a, (uint8_t)((c1 << 2) | (c2 >> 3)));
    aml_byte(a, (uint8_t)(((c2 & 7) << 5) | c3));
    aml_byte(a, (uint8_t)(hex_value(id[3]) << 4 | hex_value(id[4])));
    aml_byte(a, (uint8_t)(hex_value(id[5]) << 4 | hex_value(id[6])));
}

void aml_name(struct aml *a, const char *seg)
{
    aml_byte(a, AML_NAME);
    aml_name_seg(a, seg);
}

void aml_pkg_begin(struct aml *a)
{
    if (a->depth == AML_MAX_DEPTH) {
        a->full = true;
        return;
    }
    a->open[a->depth++] = a->len;
    for (int i = 0; i < 4; i++)
        aml_byte(a, 0);
}

void aml_pkg_end(struct aml *a)
{
    if (a->depth == 0 || a->full) {
        a->full = true;
        return;
    }
    size_t at = a->open[--a->depth], body = a->len - at - 4;
    /* PkgLength counts its own bytes: 1 byte up to 63, then 2, 3 or 4
     * bytes holding 12, 20 or 28 bits. */
    size_t n = body + 1 <= 0x3f ? 1 : body + 2 <= 0xfff ? 2 : body + 3 <= 0xfffff ? 3 : 4;
    size_t total = body + n;
    if (total > 0xfffffff) {
        a->full = true;
        return;
    }
    uint8_t *p = a->buf + at;
    if (n == 1) {
        p[0] = (uint8_t)total;
    } else {
        p[0] = (uint8_t)((n - 1) << 6 | (total & 0xf));
        for (size_t i = 1; i < n; i++)
            p[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
    }
    memmove(p + n, p + 4, body);
    a->len -= 4 - n;
}

static void word_space(struct aml *a, uint8_t type, uint8_t type_flags, uint16_t min, uint16_t max)
{
    aml_byte(a, RES_WORD_SPACE);
    aml_word(a, 13);
    aml_byte(a, type);
    aml_byte(a, GEN_FIXED_RANGE);
    aml_byte(a, type_flags);
    aml_word(a, 0); /* granularity */
    aml_word(a, min);
    aml_word(a, max);
    aml_word(a, 0); /* translation */
    aml_word(a, (uint16_t)(max - min + 1));
}

void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
    word_space(a, SPACE_BUS, 0, min, max);
}

void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max)
{
    word_space(a, SPACE_IO, IO_ENTIRE_RANGE, min, max);
}

void aml_res_dword_mem(struct aml *a, uint32_t min, uint32_t max)
{
    aml_byte(a, RES_DWORD_SPACE);
    aml_word(a, 23);
    aml_byte(a, SPACE_MEMORY);
    aml_byte(a, GEN_FIXED_RANGE);
    aml_byte(a, MEM_RW_UNCACHED);
    aml_dword(a, 0); /* granularity */
    aml_dword(a, min);
    aml_dword(a, max);
    aml_dword(a, 0); /* translation */
    aml_dword(a, max - min + 1);
}

void aml_res_io(struct aml *a, uint16_t port, uint8_t length)
{
    aml_byte(a, RES_IO);
    aml_byte(a, IO_DECODE16);
    aml_word(a, port);
    aml_word(a, port);
    aml_byte(a, 1); /* alignment */
    aml_byte(a, length);
}

void aml_res_mem32_fixed(struct aml *a, uint32_t base, uint32_t length)
{
    aml_byte(a, RES_MEM32_FIXED);
    aml_word(a, 9);
    aml_byte(a, MEM32_READ_WRITE);
    aml_dword(a, base);
    aml_dword(a, length);
}

void aml_res_end(struct aml *a)
{
    aml_byte(a, RES_END);
    aml_byte(a, 0); /* checksum 0: "treated as correct" */
}
