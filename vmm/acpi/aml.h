/* SPDX-License-Identifier: MIT */
/*
 * A small AML (ACPI Machine Language) encoder for the guest's DSDT: names,
 * integers, EISA IDs and the PkgLength-prefixed constructs (Scope, Device,
 * Package, Buffer), plus the resource descriptors a PCI root bridge's _CRS
 * needs. A construct's length is only known at its end, so aml_pkg_begin()
 * keeps room for the longest PkgLength (4 bytes) and aml_pkg_end() encodes
 * the real one and moves the body down. Internal to vmm/acpi/.
 */
#ifndef SIDECORE_VMM_ACPI_AML_H
#define SIDECORE_VMM_ACPI_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 8

/* Opcodes */
#define AML_ZERO    0x00
#define AML_ONE     0x01
#define AML_NAME    0x08
#define AML_BYTE    0x0a
#define AML_WORD    0x0b
#define AML_DWORD   0x0c
#define AML_QWORD   0x0e
#define AML_SCOPE   0x10
#define AML_BUFFER  0x11
#define AML_PACKAGE 0x12
#define AML_EXT     0x5b
#define AML_EXT_DEV 0x82

struct aml {
    uint8_t *buf;
    size_t size, len;
    bool full; /* ran out of room or nesting: the result is unusable */
    size_t open[AML_MAX_DEPTH];
    unsigned depth;
};

void aml_init(struct aml *a, uint8_t *buf, size_t size);
void aml_byte(struct aml *a, uint8_t v);
void aml_word(struct aml *a, uint16_t v);
void aml_dword(struct aml *a, uint32_t v);
void aml_bytes(struct aml *a, const uint8_t *p, size_t n);

/* A NameSeg: exactly four characters ("_S5_", "PCI0"). */
void aml_name_seg(struct aml *a, const char *seg);

/* An integer in the shortest encoding (Zero, One, Byte/Word/DWord/QWord). */
void aml_integer(struct aml *a, uint64_t v);

/* EisaId("PNP0A08"): the compressed 32-bit ID, as a DWord constant. */
void aml_eisaid(struct aml *a, const char *id);

/* Name(seg, ...) up to the value, which the caller writes next. */
void aml_name(struct aml *a, const char *seg);

/* Brackets a PkgLength-prefixed body; the caller writes the opcode first. */
void aml_pkg_begin(struct aml *a);
void aml_pkg_end(struct aml *a);

/* Resource descriptors (ACPI 6.x section 6.4), written as raw bytes, e.g.
 * into a Buffer's body. Producer ranges with fixed minimum and maximum. */
void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max);
void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max);
void aml_res_dword_mem(struct aml *a, uint32_t min, uint32_t max);
void aml_res_io(struct aml *a, uint16_t port, uint8_t length); /* Decode16, fixed */
void aml_res_mem32_fixed(struct aml *a, uint32_t base, uint32_t length);
void aml_res_end(struct aml *a);

#endif
