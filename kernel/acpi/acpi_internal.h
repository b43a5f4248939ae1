/* SPDX-License-Identifier: MIT */
/*
 * Shared between the parser's files, not for the rest of the kernel: byte
 * readers for the little-endian, unaligned fields of ACPI tables, the layout
 * of the common table header, and the per-table parsers that acpi_parse.c
 * dispatches to. Fields are read by offset rather than through packed
 * structures so that no read can be unaligned or reach past a checked bound.
 */
#ifndef SIDECORE_ACPI_ACPI_INTERNAL_H
#define SIDECORE_ACPI_ACPI_INTERNAL_H

#include <stdint.h>

#include "kernel/acpi/acpi.h"

/* Common header of every System Description Table. */
#define ACPI_HDR_SIGNATURE 0
#define ACPI_HDR_LENGTH    4
#define ACPI_HDR_REVISION  8
#define ACPI_HDR_CHECKSUM  9
#define ACPI_HDR_OEM_ID    10
#define ACPI_HDR_SIZE      36

/* Larger than any MADT/SRAT/MCFG/FADT seen (a 4096-CPU MADT is ~64 KiB), and
 * small enough that a corrupt length cannot make us map half the machine. */
#define ACPI_MAX_TABLE_LEN (1u << 20)

static inline uint8_t acpi_rd8(const uint8_t *p, uint32_t off)
{
    return p[off];
}

static inline uint16_t acpi_rd16(const uint8_t *p, uint32_t off)
{
    return (uint16_t)(p[off] | (p[off + 1] << 8));
}

static inline uint32_t acpi_rd32(const uint8_t *p, uint32_t off)
{
    return (uint32_t)p[off] | ((uint32_t)p[off + 1] << 8) | ((uint32_t)p[off + 2] << 16) |
           ((uint32_t)p[off + 3] << 24);
}

static inline uint64_t acpi_rd64(const uint8_t *p, uint32_t off)
{
    return (uint64_t)acpi_rd32(p, off) | ((uint64_t)acpi_rd32(p, off + 4) << 32);
}

/* Sum of len bytes modulo 256; a valid table sums to 0. */
uint8_t acpi_checksum(const uint8_t *p, uint32_t len);

/* Appends a formatted note to info->errors (counts it if the list is full). */
void acpi_note(struct acpi_info *info, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Per-table parsers: t points at a whole table whose length and checksum have
 * been checked (len >= ACPI_HDR_SIZE). */
void acpi_parse_madt(const uint8_t *t, uint32_t len, struct acpi_info *info);
void acpi_parse_srat(const uint8_t *t, uint32_t len, struct acpi_info *info);
void acpi_parse_mcfg(const uint8_t *t, uint32_t len, struct acpi_info *info);
void acpi_parse_fadt(const uint8_t *t, uint32_t len, struct acpi_info *info);

#endif
