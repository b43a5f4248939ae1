/* SPDX-License-Identifier: MIT */
/*
 * Reading, checking and finding the RSDP. The ACPI 1.0 part (first 20 bytes)
 * has its own checksum and must be valid; the 2.0 extension (length, XSDT
 * address, extended checksum) is used only when it checks out too, so that a
 * damaged extension still leaves the RSDT usable. The BIOS-area search is
 * here, not in the kernel glue, because it is as much parsing as the rest and
 * the tests can run it over a fake low-memory image.
 */
#include <stddef.h>

#include "kernel/acpi/acpi_internal.h"
#include "kernel/acpi/acpi_rsdp.h"
#include "kernel/lib/string.h"

#define RSDP_SIGNATURE "RSD PTR "
#define RSDP_OEM_ID    9
#define RSDP_REVISION  15
#define RSDP_RSDT      16
#define RSDP_LENGTH    20
#define RSDP_XSDT      24
/* Extensions of the 2.0 structure are allowed, a page of them is not. */
#define RSDP_MAX_LENGTH 4096

#define BDA_EBDA_SEGMENT 0x40e
#define EBDA_SCAN_LEN    1024
#define BIOS_AREA_START  0xe0000
#define BIOS_AREA_LEN    0x20000

bool acpi_rsdp_read(uint64_t phys, acpi_map_fn map, void *ctx, struct acpi_rsdp *out,
                    const char **why)
{
    const uint8_t *p;
    uint32_t len;

    memset(out, 0, sizeof(*out));
    *why = NULL;
    p = map(phys, ACPI_RSDP_V1_SIZE, ctx);
    if (!p) {
        *why = "not mapped";
        return false;
    }
    if (memcmp(p, RSDP_SIGNATURE, 8) != 0) {
        *why = "bad signature";
        return false;
    }
    if (acpi_checksum(p, ACPI_RSDP_V1_SIZE) != 0) {
        *why = "bad checksum";
        return false;
    }
    memcpy(out->oem_id, p + RSDP_OEM_ID, 6);
    for (int i = 0; i < 6; i++)
        if (out->oem_id[i] < 0x20 || out->oem_id[i] > 0x7e)
            out->oem_id[i] = '?';
    out->revision = acpi_rd8(p, RSDP_REVISION);
    out->rsdt_phys = acpi_rd32(p, RSDP_RSDT);
    if (out->revision < 2)
        goto check_root;

    p = map(phys, ACPI_RSDP_V2_SIZE, ctx);
    if (!p) {
        *why = "2.0 part not mapped, using the RSDT";
        goto check_root;
    }
    len = acpi_rd32(p, RSDP_LENGTH);
    if (len < ACPI_RSDP_V2_SIZE || len > RSDP_MAX_LENGTH) {
        *why = "bad 2.0 length, using the RSDT";
        goto check_root;
    }
    p = map(phys, len, ctx);
    if (!p) {
        *why = "2.0 part not mapped, using the RSDT";
        goto check_root;
    }
    if (acpi_checksum(p, len) != 0) {
        *why = "bad extended checksum, using the RSDT";
        goto check_root;
    }
    out->xsdt_phys = acpi_rd64(p, RSDP_XSDT);

check_root:
    if (out->rsdt_phys == 0 && out->xsdt_phys == 0) {
        *why = "neither an RSDT nor an XSDT address";
        return false;
    }
    return true;
}

/* First valid RSDP in [base, base+len) on 16-byte boundaries, or 0. */
static uint64_t acpi_scan_rsdp(uint64_t base, uint32_t len, acpi_map_fn map, void *ctx)
{
    const uint8_t *area = map(base, len, ctx);

    if (!area)
        return 0;
    for (uint32_t off = 0; off + ACPI_RSDP_V1_SIZE <= len; off += 16) {
        struct acpi_rsdp rsdp;
        const char *why;

        if (memcmp(area + off, RSDP_SIGNATURE, 8) != 0)
            continue;
        if (acpi_rsdp_read(base + off, map, ctx, &rsdp, &why))
            return base + off;
    }
    return 0;
}

uint64_t acpi_find_rsdp(acpi_map_fn map, void *ctx)
{
    const uint8_t *bda = map(BDA_EBDA_SEGMENT, 2, ctx);
    uint64_t found;

    if (bda) {
        uint64_t ebda = (uint64_t)acpi_rd16(bda, 0) << 4;

        /* The EBDA sits just below 640 KiB; anything else is not an EBDA
         * pointer (0 on machines without one). */
        if (ebda >= 0x80000 && ebda < 0xa0000) {
            uint32_t len =
                0xa0000 - ebda < EBDA_SCAN_LEN ? (uint32_t)(0xa0000 - ebda) : EBDA_SCAN_LEN;

            found = acpi_scan_rsdp(ebda, len, map, ctx);
            if (found)
                return found;
        }
    }
    return acpi_scan_rsdp(BIOS_AREA_START, BIOS_AREA_LEN, map, ctx);
}
