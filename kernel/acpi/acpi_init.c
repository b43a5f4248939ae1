/* SPDX-License-Identifier: MIT */
/*
 * Kernel side of ACPI: finds the RSDP (from the hand-off, else by searching
 * the BIOS areas), runs the parser over identity-mapped memory, logs what it
 * found and keeps the result for the rest of the hypervisor. Every range the
 * parser asks for goes through paging_map_mmio() first: ACPI tables may sit in
 * memory the boot-time map left out. Not built for the host.
 */
#include <stddef.h>

#include "boot/handoff.h"
#include "kernel/acpi/acpi.h"
#include "kernel/console/log.h"
#include "kernel/mm/paging.h"

static struct acpi_info acpi_result;

static const void *acpi_map_identity(uint64_t phys, uint64_t len, void *ctx)
{
    (void)ctx;
    /* The end must not wrap; beyond that the mapper decides. */
    if (len == 0 || phys + len < phys)
        return NULL;
    return paging_map_mmio(phys, len);
}

static void acpi_log_tables(const struct acpi_info *info)
{
    log_info("ACPI: RSDP at %llx, revision %u, OEM '%s', %s at %llx",
             (unsigned long long)info->rsdp_phys, info->revision, info->oem_id,
             info->root_is_xsdt ? "XSDT" : "RSDT", (unsigned long long)info->root_phys);
    for (uint32_t i = 0; i < info->table_count; i++) {
        const struct acpi_table_ref *t = &info->tables[i];

        log_info("ACPI: %s at %llx, %u bytes, revision %u%s", t->signature,
                 (unsigned long long)t->phys, t->length, t->revision, t->valid ? "" : " (invalid)");
    }
}

void acpi_init(const struct handoff *h)
{
    struct acpi_info *info = &acpi_result;
    uint64_t rsdp = h->rsdp;
    bool ok;

    if (!rsdp) {
        rsdp = acpi_find_rsdp(acpi_map_identity, NULL);
        if (!rsdp) {
            log_warn("ACPI: no RSDP from the boot path or in the BIOS areas; no ACPI tables");
            return;
        }
        log_info("ACPI: RSDP found in the BIOS area at %llx", (unsigned long long)rsdp);
    }
    ok = acpi_parse(rsdp, acpi_map_identity, NULL, info);
    for (uint32_t i = 0; i < info->error_count; i++)
        log_warn("ACPI: %s", info->errors[i]);
    if (info->errors_dropped)
        log_warn("ACPI: %u more problems not recorded", info->errors_dropped);
    if (!ok) {
        log_warn("ACPI: tables unusable; continuing without them");
        return;
    }
    acpi_log_tables(info);
    log_info("ACPI: %u CPUs (%u enabled), %u IOAPICs, %u MCFG segments, SRAT %s", info->cpu_count,
             acpi_enabled_cpu_count(info), info->ioapic_count, info->mcfg_count,
             info->have_srat ? "yes" : "no");
    if (info->cpus_dropped)
        log_warn("ACPI: %u CPUs beyond the limit of %d ignored", info->cpus_dropped, ACPI_MAX_CPUS);
}

const struct acpi_info *acpi_info(void)
{
    return &acpi_result;
}
