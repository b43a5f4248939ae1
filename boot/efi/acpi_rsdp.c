/* SPDX-License-Identifier: MIT */
/*
 * Finds the ACPI RSDP among the firmware's configuration tables. The ACPI 2.0
 * entry is preferred because its RSDP carries the XSDT (64-bit table
 * addresses); firmware with only ACPI 1.0 lists the old GUID.
 */
#include "boot/efi/loader.h"

static UINT64 find_table(EFI_SYSTEM_TABLE *st, EFI_GUID *guid)
{
    for (UINTN i = 0; i < st->NumberOfTableEntries; i++) {
        EFI_CONFIGURATION_TABLE *t = &st->ConfigurationTable[i];
        if (CompareMem(&t->VendorGuid, guid, sizeof(*guid)) == 0)
            return (UINT64)(UINTN)t->VendorTable;
    }
    return 0;
}

UINT64 acpi_find_rsdp(EFI_SYSTEM_TABLE *st)
{
    EFI_GUID acpi20 = ACPI_20_TABLE_GUID;
    EFI_GUID acpi10 = ACPI_TABLE_GUID;
    UINT64 rsdp = find_table(st, &acpi20);

    if (rsdp == 0)
        rsdp = find_table(st, &acpi10);
    return rsdp;
}
