/* SPDX-License-Identifier: MIT */
/*
 * Test helper: a fake physical memory and a byte-by-byte assembler for ACPI
 * tables (RSDP, XSDT, RSDT, MADT, SRAT, MCFG, FADT) with correct lengths and
 * checksums, so each test states only what it changes. The mapping callback
 * hands the parser a fresh heap copy of exactly the range it asked for: any
 * read past that range is a heap overflow that AddressSanitizer reports, which
 * is how the tests check that the parser stays inside what it mapped.
 */
#ifndef SIDECORE_TESTS_ACPI_FAKE_H
#define SIDECORE_TESTS_ACPI_FAKE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/acpi/acpi.h"

#define FAKE_MAX_COPIES 4096

struct fake_mem {
    uint64_t base; /* physical address of mem[0] */
    uint64_t size;
    uint64_t next; /* allocation cursor, offset into mem */
    uint8_t *mem;
    unsigned copies;
    void *copy[FAKE_MAX_COPIES];
    unsigned maps; /* calls to the callback, for loop checks */
};

static inline struct fake_mem *fake_new(uint64_t base, uint64_t size)
{
    struct fake_mem *f = calloc(1, sizeof(*f));

    f->base = base;
    f->size = size;
    f->mem = calloc(1, size);
    return f;
}

static inline void fake_free(struct fake_mem *f)
{
    for (unsigned i = 0; i < f->copies; i++)
        free(f->copy[i]);
    free(f->mem);
    free(f);
}

static inline const void *fake_map(uint64_t phys, uint64_t len, void *ctx)
{
    struct fake_mem *f = ctx;
    void *copy;

    f->maps++;
    if (phys < f->base || len > f->size || phys - f->base > f->size - len)
        return NULL;
    if (f->copies >= FAKE_MAX_COPIES)
        abort();
    copy = malloc(len ? len : 1);
    memcpy(copy, f->mem + (phys - f->base), len);
    f->copy[f->copies++] = copy;
    return copy;
}

static inline uint8_t *fake_ptr(struct fake_mem *f, uint64_t phys)
{
    return f->mem + (phys - f->base);
}

/* Reserves len bytes (16-byte aligned, as an RSDP must be) and returns the
 * physical address. */
static inline uint64_t fake_alloc(struct fake_mem *f, uint64_t len)
{
    uint64_t off = (f->next + 15) & ~15ull;

    if (off + len > f->size)
        abort();
    f->next = off + len;
    return f->base + off;
}

static inline uint64_t fake_put(struct fake_mem *f, const void *bytes, uint64_t len)
{
    uint64_t phys = fake_alloc(f, len);

    memcpy(fake_ptr(f, phys), bytes, len);
    return phys;
}

static inline uint8_t fake_sum(const uint8_t *p, uint64_t len)
{
    uint8_t s = 0;

    for (uint64_t i = 0; i < len; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

/* ---- a table under construction ---- */

struct tbl {
    uint32_t len;
    uint8_t b[16384];
};

static inline void tbl_u8(struct tbl *t, uint8_t v)
{
    if (t->len >= sizeof(t->b))
        abort();
    t->b[t->len++] = v;
}

static inline void tbl_u16(struct tbl *t, uint16_t v)
{
    tbl_u8(t, (uint8_t)v);
    tbl_u8(t, (uint8_t)(v >> 8));
}

static inline void tbl_u32(struct tbl *t, uint32_t v)
{
    tbl_u16(t, (uint16_t)v);
    tbl_u16(t, (uint16_t)(v >> 16));
}

static inline void tbl_u64(struct tbl *t, uint64_t v)
{
    tbl_u32(t, (uint32_t)v);
    tbl_u32(t, (uint32_t)(v >> 32));
}

static inline void tbl_bytes(struct tbl *t, const char *s, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        tbl_u8(t, (uint8_t)s[i]);
}

/* Starts a table: the 36-byte header with length and checksum left 0. */
static inline void tbl_begin(struct tbl *t, const char *sig, uint8_t rev)
{
    t->len = 0;
    tbl_bytes(t, sig, 4);
    tbl_u32(t, 0); /* length, set by tbl_finish */
    tbl_u8(t, rev);
    tbl_u8(t, 0); /* checksum */
    tbl_bytes(t, "SCTEST", 6);
    tbl_bytes(t, "SIDECORE", 8);
    tbl_u32(t, 1);
    tbl_bytes(t, "SCTC", 4);
    tbl_u32(t, 1);
}

/* Sets the length field and the checksum. */
static inline void tbl_finish(struct tbl *t)
{
    t->b[4] = (uint8_t)t->len;
    t->b[5] = (uint8_t)(t->len >> 8);
    t->b[6] = (uint8_t)(t->len >> 16);
    t->b[7] = (uint8_t)(t->len >> 24);
    t->b[9] = 0;
    t->b[9] = (uint8_t)(0x100 - fake_sum(t->b, t->len));
}

static inline uint64_t tbl_place(struct fake_mem *f, struct tbl *t)
{
    tbl_finish(t);
    return fake_put(f, t->b, t->len);
}

/* ---- MADT ---- */

static inline void madt_begin(struct tbl *t, uint32_t lapic_addr, uint32_t flags)
{
    tbl_begin(t, "APIC", 5);
    tbl_u32(t, lapic_addr);
    tbl_u32(t, flags);
}

static inline void madt_lapic(struct tbl *t, uint8_t uid, uint8_t apic_id, uint32_t flags)
{
    tbl_u8(t, 0);
    tbl_u8(t, 8);
    tbl_u8(t, uid);
    tbl_u8(t, apic_id);
    tbl_u32(t, flags);
}

static inline void madt_x2apic(struct tbl *t, uint32_t apic_id, uint32_t flags, uint32_t uid)
{
    tbl_u8(t, 9);
    tbl_u8(t, 16);
    tbl_u16(t, 0);
    tbl_u32(t, apic_id);
    tbl_u32(t, flags);
    tbl_u32(t, uid);
}

static inline void madt_ioapic(struct tbl *t, uint8_t id, uint32_t addr, uint32_t gsi_base)
{
    tbl_u8(t, 1);
    tbl_u8(t, 12);
    tbl_u8(t, id);
    tbl_u8(t, 0);
    tbl_u32(t, addr);
    tbl_u32(t, gsi_base);
}

static inline void madt_override(struct tbl *t, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    tbl_u8(t, 2);
    tbl_u8(t, 10);
    tbl_u8(t, 0); /* ISA */
    tbl_u8(t, irq);
    tbl_u32(t, gsi);
    tbl_u16(t, flags);
}

static inline void madt_lapic_nmi(struct tbl *t, uint8_t uid, uint8_t lint)
{
    tbl_u8(t, 4);
    tbl_u8(t, 6);
    tbl_u8(t, uid);
    tbl_u16(t, 5);
    tbl_u8(t, lint);
}

static inline void madt_lapic_addr_override(struct tbl *t, uint64_t addr)
{
    tbl_u8(t, 5);
    tbl_u8(t, 12);
    tbl_u16(t, 0);
    tbl_u64(t, addr);
}

/* ---- SRAT ---- */

static inline void srat_begin(struct tbl *t)
{
    tbl_begin(t, "SRAT", 3);
    tbl_u32(t, 1);
    tbl_u64(t, 0);
}

static inline void srat_cpu(struct tbl *t, uint8_t apic_id, uint32_t domain, uint32_t flags)
{
    tbl_u8(t, 0);
    tbl_u8(t, 16);
    tbl_u8(t, (uint8_t)domain);
    tbl_u8(t, apic_id);
    tbl_u32(t, flags);
    tbl_u8(t, 0); /* SAPIC EID */
    tbl_u8(t, (uint8_t)(domain >> 8));
    tbl_u8(t, (uint8_t)(domain >> 16));
    tbl_u8(t, (uint8_t)(domain >> 24));
    tbl_u32(t, 0); /* clock domain */
}

static inline void srat_x2apic_cpu(struct tbl *t, uint32_t apic_id, uint32_t domain, uint32_t flags)
{
    tbl_u8(t, 2);
    tbl_u8(t, 24);
    tbl_u16(t, 0);
    tbl_u32(t, domain);
    tbl_u32(t, apic_id);
    tbl_u32(t, flags);
    tbl_u32(t, 0);
    tbl_u32(t, 0);
}

static inline void srat_memory(struct tbl *t, uint32_t domain, uint64_t base, uint64_t len,
                               uint32_t flags)
{
    tbl_u8(t, 1);
    tbl_u8(t, 40);
    tbl_u32(t, domain);
    tbl_u16(t, 0);
    tbl_u64(t, base);
    tbl_u64(t, len);
    tbl_u32(t, 0);
    tbl_u32(t, flags);
    tbl_u64(t, 0);
}

/* ---- MCFG ---- */

static inline void mcfg_begin(struct tbl *t)
{
    tbl_begin(t, "MCFG", 1);
    tbl_u64(t, 0);
}

static inline void mcfg_entry(struct tbl *t, uint64_t base, uint16_t seg, uint8_t start,
                              uint8_t end)
{
    tbl_u64(t, base);
    tbl_u16(t, seg);
    tbl_u8(t, start);
    tbl_u8(t, end);
    tbl_u32(t, 0);
}

/* ---- FADT (ACPI 6 layout, 276 bytes) ---- */

static inline void fadt_build(struct tbl *t, uint8_t century, uint16_t boot_arch, uint32_t flags,
                              uint8_t reset_space, uint64_t reset_addr, uint8_t reset_value)
{
    tbl_begin(t, "FACP", 6);
    while (t->len < 276)
        tbl_u8(t, 0);
    t->b[108] = century;
    t->b[109] = (uint8_t)boot_arch;
    t->b[110] = (uint8_t)(boot_arch >> 8);
    for (int i = 0; i < 4; i++)
        t->b[112 + i] = (uint8_t)(flags >> (8 * i));
    t->b[116] = reset_space;
    t->b[117] = 8; /* bit width */
    t->b[118] = 0;
    t->b[119] = 1; /* byte access */
    for (int i = 0; i < 8; i++)
        t->b[120 + i] = (uint8_t)(reset_addr >> (8 * i));
    t->b[128] = reset_value;
}

/* ---- root tables and RSDP ---- */

static inline uint64_t fake_put_xsdt(struct fake_mem *f, const uint64_t *tables, unsigned n)
{
    struct tbl *t = calloc(1, sizeof(*t));
    uint64_t phys;

    tbl_begin(t, "XSDT", 1);
    for (unsigned i = 0; i < n; i++)
        tbl_u64(t, tables[i]);
    phys = tbl_place(f, t);
    free(t);
    return phys;
}

static inline uint64_t fake_put_rsdt(struct fake_mem *f, const uint64_t *tables, unsigned n)
{
    struct tbl *t = calloc(1, sizeof(*t));
    uint64_t phys;

    tbl_begin(t, "RSDT", 1);
    for (unsigned i = 0; i < n; i++)
        tbl_u32(t, (uint32_t)tables[i]);
    phys = tbl_place(f, t);
    free(t);
    return phys;
}

/* An RSDP of revision 0 (20 bytes) or 2 (36 bytes) with both checksums. */
static inline uint64_t fake_put_rsdp(struct fake_mem *f, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
    uint8_t r[36] = {0};
    unsigned len = rev >= 2 ? 36 : 20;

    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "SCOEM ", 6);
    r[15] = rev;
    for (int i = 0; i < 4; i++)
        r[16 + i] = (uint8_t)(rsdt >> (8 * i));
    if (rev >= 2) {
        r[20] = 36;
        for (int i = 0; i < 8; i++)
            r[24 + i] = (uint8_t)(xsdt >> (8 * i));
    }
    r[8] = (uint8_t)(0x100 - fake_sum(r, 20));
    if (rev >= 2)
        r[32] = (uint8_t)(0x100 - fake_sum(r, 36));
    return fake_put(f, r, len);
}

#endif
