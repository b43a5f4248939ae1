/* SPDX-License-Identifier: MIT */
/*
 * The walk from the RSDP to the tables the hypervisor uses. It validates the
 * RSDP, picks the root table (XSDT on ACPI 2.0+, the RSDT on 1.0 firmware or
 * when the XSDT is unusable), records every table the root lists, and hands
 * the first valid MADT, SRAT, MCFG and FADT to their parsers. MADT goes before
 * SRAT whatever the root's order, because SRAT affinity is attached to the
 * CPUs the MADT listed. Each table is checked for signature, length and
 * checksum before a byte of its body is read.
 */
#include <stdarg.h>
#include <stddef.h>

#include "kernel/acpi/acpi_internal.h"
#include "kernel/acpi/acpi_rsdp.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"

uint8_t acpi_checksum(const uint8_t *p, uint32_t len)
{
    uint8_t sum = 0;

    for (uint32_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return sum;
}

void acpi_note(struct acpi_info *info, const char *fmt, ...)
{
    va_list ap;

    if (info->error_count >= ACPI_MAX_ERRORS) {
        info->errors_dropped++;
        return;
    }
    va_start(ap, fmt);
    fmt_vsnprintf(info->errors[info->error_count], ACPI_ERROR_LEN, fmt, ap);
    va_end(ap);
    info->error_count++;
}

struct acpi_walk {
    acpi_map_fn map;
    void *ctx;
    struct acpi_info *info;
};

/* Signatures are printed in error notes; firmware may put anything there. */
static void acpi_signature_text(const uint8_t *sig, char out[5])
{
    for (int i = 0; i < 4; i++)
        out[i] = (sig[i] >= 0x20 && sig[i] < 0x7f) ? (char)sig[i] : '?';
    out[4] = '\0';
}

/*
 * Maps the whole table at phys and checks it. what names it in notes (the
 * expected signature, or "table"). Returns NULL, with a note, if the table
 * cannot be used.
 */
static const uint8_t *acpi_map_table(struct acpi_walk *w, uint64_t phys, const char *what,
                                     uint32_t *len_out)
{
    const uint8_t *hdr, *t;
    uint32_t len;

    if (phys == 0) {
        acpi_note(w->info, "%s: address 0", what);
        return NULL;
    }
    hdr = w->map(phys, ACPI_HDR_SIZE, w->ctx);
    if (!hdr) {
        acpi_note(w->info, "%s at %llx: not mapped", what, (unsigned long long)phys);
        return NULL;
    }
    len = acpi_rd32(hdr, ACPI_HDR_LENGTH);
    if (len < ACPI_HDR_SIZE || len > ACPI_MAX_TABLE_LEN) {
        acpi_note(w->info, "%s at %llx: bad length %u", what, (unsigned long long)phys, len);
        return NULL;
    }
    t = w->map(phys, len, w->ctx);
    if (!t) {
        acpi_note(w->info, "%s at %llx: truncated (length %u not mapped)", what,
                  (unsigned long long)phys, len);
        return NULL;
    }
    if (acpi_checksum(t, len) != 0) {
        acpi_note(w->info, "%s at %llx: bad checksum", what, (unsigned long long)phys);
        return NULL;
    }
    *len_out = len;
    return t;
}

/* Maps the root table and checks its signature; NULL (with a note) if bad. */
static const uint8_t *acpi_map_root(struct acpi_walk *w, uint64_t phys, bool xsdt,
                                    uint32_t *len_out)
{
    const char *sig = xsdt ? "XSDT" : "RSDT";
    const uint8_t *t = acpi_map_table(w, phys, sig, len_out);

    if (t && memcmp(t, sig, 4) != 0) {
        char text[5];

        acpi_signature_text(t, text);
        acpi_note(w->info, "%s at %llx: signature is '%s'", sig, (unsigned long long)phys, text);
        return NULL;
    }
    return t;
}

/* Records one table the root lists: its header if it can be read, and
 * whether the whole table passes the checks. */
static void acpi_record_table(struct acpi_walk *w, uint64_t phys)
{
    struct acpi_info *info = w->info;
    struct acpi_table_ref *ref;
    const uint8_t *hdr;
    uint32_t len;

    if (info->table_count >= ACPI_MAX_TABLES) {
        acpi_note(info, "more than %d tables, table at %llx ignored", ACPI_MAX_TABLES,
                  (unsigned long long)phys);
        return;
    }
    ref = &info->tables[info->table_count++];
    memset(ref, 0, sizeof(*ref));
    ref->phys = phys;
    memcpy(ref->signature, "????", 5);
    if (phys == 0) {
        acpi_note(info, "root table entry %u is a null address", info->table_count - 1);
        return;
    }
    hdr = w->map(phys, ACPI_HDR_SIZE, w->ctx);
    if (!hdr) {
        acpi_note(info, "table at %llx: not mapped", (unsigned long long)phys);
        return;
    }
    acpi_signature_text(hdr, ref->signature);
    ref->revision = acpi_rd8(hdr, ACPI_HDR_REVISION);
    ref->length = acpi_rd32(hdr, ACPI_HDR_LENGTH);
    ref->valid = acpi_map_table(w, phys, ref->signature, &len) != NULL;
}

/* Reads the root table's entries (4 or 8 bytes each) into info->tables. */
static void acpi_walk_root(struct acpi_walk *w, const uint8_t *root, uint32_t len, bool xsdt)
{
    uint32_t entry = xsdt ? 8 : 4;
    uint32_t body = len - ACPI_HDR_SIZE;

    if (body % entry != 0)
        acpi_note(w->info, "%s: length %u is not a whole number of entries", xsdt ? "XSDT" : "RSDT",
                  len);
    for (uint32_t off = ACPI_HDR_SIZE; off + entry <= len; off += entry) {
        uint64_t phys = xsdt ? acpi_rd64(root, off) : acpi_rd32(root, off);

        acpi_record_table(w, phys);
    }
}

typedef void (*acpi_table_parser)(const uint8_t *t, uint32_t len, struct acpi_info *info);

/* Parses the first valid table with this signature; notes any later ones,
 * since two MADTs (say) cannot both be right. */
static void acpi_parse_first(struct acpi_walk *w, const char *sig, acpi_table_parser parse)
{
    bool done = false;

    for (uint32_t i = 0; i < w->info->table_count; i++) {
        const struct acpi_table_ref *ref = &w->info->tables[i];
        const uint8_t *t;

        if (!ref->valid || memcmp(ref->signature, sig, 4) != 0)
            continue;
        if (done) {
            acpi_note(w->info, "second %s at %llx ignored", sig, (unsigned long long)ref->phys);
            continue;
        }
        /* Checked when recorded; map again rather than keep pointers. */
        t = w->map(ref->phys, ref->length, w->ctx);
        if (!t)
            continue;
        parse(t, ref->length, w->info);
        done = true;
    }
}

/* Chooses and maps the root table. Returns NULL (with a note) if neither the
 * XSDT nor the RSDT is usable. */
static const uint8_t *acpi_pick_root(struct acpi_walk *w, const struct acpi_rsdp *rsdp,
                                     uint32_t *len)
{
    struct acpi_info *info = w->info;
    const uint8_t *root;

    if (rsdp->xsdt_phys) {
        root = acpi_map_root(w, rsdp->xsdt_phys, true, len);
        if (root) {
            info->root_is_xsdt = true;
            info->root_phys = rsdp->xsdt_phys;
            return root;
        }
        if (!rsdp->rsdt_phys)
            return NULL;
        acpi_note(info, "falling back to the RSDT");
    }
    root = acpi_map_root(w, rsdp->rsdt_phys, false, len);
    if (root)
        info->root_phys = rsdp->rsdt_phys;
    return root;
}

bool acpi_parse(uint64_t rsdp_phys, acpi_map_fn map, void *ctx, struct acpi_info *out)
{
    struct acpi_walk w = {.map = map, .ctx = ctx, .info = out};
    struct acpi_rsdp rsdp;
    const char *why;
    const uint8_t *root;
    uint32_t root_len;

    memset(out, 0, sizeof(*out));
    out->rsdp_phys = rsdp_phys;
    if (!acpi_rsdp_read(rsdp_phys, map, ctx, &rsdp, &why)) {
        acpi_note(out, "RSDP at %llx: %s", (unsigned long long)rsdp_phys, why);
        return false;
    }
    if (why)
        acpi_note(out, "RSDP at %llx: %s", (unsigned long long)rsdp_phys, why);
    memcpy(out->oem_id, rsdp.oem_id, sizeof(out->oem_id));
    out->revision = rsdp.revision;

    root = acpi_pick_root(&w, &rsdp, &root_len);
    if (!root) {
        acpi_note(out, "no usable root table (XSDT/RSDT)");
        return false;
    }
    acpi_walk_root(&w, root, root_len, out->root_is_xsdt);

    acpi_parse_first(&w, "APIC", acpi_parse_madt);
    acpi_parse_first(&w, "SRAT", acpi_parse_srat);
    acpi_parse_first(&w, "MCFG", acpi_parse_mcfg);
    acpi_parse_first(&w, "FACP", acpi_parse_fadt);
    return true;
}

uint32_t acpi_enabled_cpu_count(const struct acpi_info *info)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < info->cpu_count; i++)
        n += info->cpus[i].enabled;
    return n;
}

const struct acpi_cpu *acpi_find_cpu(const struct acpi_info *info, uint32_t apic_id)
{
    for (uint32_t i = 0; i < info->cpu_count; i++)
        if (info->cpus[i].apic_id == apic_id)
            return &info->cpus[i];
    return NULL;
}
