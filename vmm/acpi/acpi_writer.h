/* SPDX-License-Identifier: MIT */
/*
 * Shared by the guest table writers (internal to vmm/acpi/): a cursor that
 * hands out aligned pieces of the output buffer together with the
 * guest-physical address each will have, the common 36-byte table header,
 * checksums, and little-endian stores. Fields are stored by offset, never
 * through packed structures, so every write is a plain byte store.
 */
#ifndef SIDECORE_VMM_ACPI_ACPI_WRITER_H
#define SIDECORE_VMM_ACPI_ACPI_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/acpi/guest_acpi.h"

#define ACPI_HEADER_SIZE 36
#define ACPI_CHECKSUM    9 /* header byte that makes the table sum to 0 */

struct acpi_writer {
    uint8_t *buf;
    size_t size, used;
    uint64_t base_gpa;
    bool full; /* a piece did not fit: the result is unusable */
};

/* The next len bytes (zeroed) aligned to align (a power of two) from the
 * buffer's base GPA; *gpa is their guest address. NULL when out of room. */
uint8_t *acpi_writer_alloc(struct acpi_writer *w, size_t len, size_t align, uint64_t *gpa);

/* Fills a table header (length, revision, OEM fields); the checksum is
 * set by acpi_writer_finish() once the body is complete. */
void acpi_writer_header(uint8_t *t, const char sig[4], uint32_t length, uint8_t revision);

/* Sets the header checksum so the length bytes of the table sum to 0. */
void acpi_writer_finish(uint8_t *t);

/* The byte that makes the len bytes at p (with it at p[len] included)
 * sum to 0 when stored: -(sum of p[0..len)). */
uint8_t acpi_writer_checksum(const uint8_t *p, size_t len);

static inline void acpi_store16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}

static inline void acpi_store32(uint8_t *b, uint32_t v)
{
    acpi_store16(b, (uint16_t)v);
    acpi_store16(b + 2, (uint16_t)(v >> 16));
}

static inline void acpi_store64(uint8_t *b, uint64_t v)
{
    acpi_store32(b, (uint32_t)v);
    acpi_store32(b + 4, (uint32_t)(v >> 32));
}

/* Generic Address Structure (12 bytes). */
#define ACPI_GAS_IO       1
#define ACPI_ACCESS_BYTE  1
#define ACPI_ACCESS_WORD  2
#define ACPI_ACCESS_DWORD 3
void acpi_store_gas(uint8_t *b, uint8_t space, uint8_t bit_width, uint8_t access, uint64_t addr);

/* The table writers: each returns the table's GPA, or 0 when out of room. */
uint64_t guest_facs_write(struct acpi_writer *w);
uint64_t guest_fadt_write(struct acpi_writer *w, uint64_t facs_gpa, uint64_t dsdt_gpa);
uint64_t guest_dsdt_write(struct acpi_writer *w, const struct guest_acpi_config *cfg);
uint64_t guest_madt_write(struct acpi_writer *w, const struct guest_acpi_config *cfg);
uint64_t guest_mcfg_write(struct acpi_writer *w, const struct guest_acpi_pci *pci);

#endif
