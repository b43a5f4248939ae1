/* SPDX-License-Identifier: MIT */
/*
 * The cursor, header and checksum helpers of acpi_writer.h. Allocation
 * checks for room before it moves: a writer that ran out keeps `full` set
 * and returns NULL from then on, so table code can write straight through
 * and the builder checks once at the end.
 */
#include "vmm/acpi/acpi_writer.h"

#include "kernel/lib/string.h"

uint8_t *acpi_writer_alloc(struct acpi_writer *w, size_t len, size_t align, uint64_t *gpa)
{
    if (w->full)
        return NULL;
    size_t off = (w->used + align - 1) & ~(align - 1);
    if (off < w->used || off > w->size || len > w->size - off) {
        w->full = true;
        return NULL;
    }
    memset(w->buf + w->used, 0, off + len - w->used);
    w->used = off + len;
    *gpa = w->base_gpa + off;
    return w->buf + off;
}

void acpi_writer_header(uint8_t *t, const char sig[4], uint32_t length, uint8_t revision)
{
    memcpy(t, sig, 4);
    acpi_store32(t + 4, length);
    t[8] = revision;
    t[ACPI_CHECKSUM] = 0;
    memcpy(t + 10, GUEST_ACPI_OEM_ID, 6);
    memcpy(t + 16, GUEST_ACPI_OEM_TABLE_ID, 8);
    acpi_store32(t + 24, 1);   /* OEM revision */
    memcpy(t + 28, "SDCR", 4); /* creator ID */
    acpi_store32(t + 32, 1);   /* creator revision */
}

uint8_t acpi_writer_checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return (uint8_t)-sum;
}

void acpi_writer_finish(uint8_t *t)
{
    uint32_t len =
        (uint32_t)t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16 | (uint32_t)t[7] << 24;
    t[ACPI_CHECKSUM] = 0;
    t[ACPI_CHECKSUM] = acpi_writer_checksum(t, len);
}

void acpi_store_gas(uint8_t *b, uint8_t space, uint8_t bit_width, uint8_t access, uint64_t addr)
{
    b[0] = space;
    b[1] = bit_width;
    b[2] = 0; /* bit offset */
    b[3] = access;
    acpi_store64(b + 4, addr);
}
