/* SPDX-License-Identifier: MIT */
/* The `mem` shell command: the firmware's memory map and the allocator. */
#include "kernel/console/console.h"
#include "kernel/lib/str.h"
#include "kernel/boot_info.h"
#include "kernel/mm/pmm.h"
#include "kernel/shell/shell.h"

static const char *type_name(uint32_t type)
{
    switch (type) {
    case HANDOFF_MEM_USABLE: return "usable";
    case HANDOFF_MEM_ACPI_RECLAIM: return "acpi-reclaim";
    case HANDOFF_MEM_ACPI_NVS: return "acpi-nvs";
    case HANDOFF_MEM_BAD: return "bad";
    default: return "reserved";
    }
}

static int cmd_mem(int argc, char **argv)
{
    const struct handoff *h = boot_info();
    char size[16], free[16];

    if (argc > 1) {
        console_printf("mem: takes no arguments\n");
        return 1;
    }
    for (uint32_t i = 0; i < h->mmap_count; i++) {
        const struct handoff_mmap_entry *e = &h->mmap[i];
        str_format_size(size, sizeof(size), e->length);
        console_printf("%016lx-%016lx %-12s %s\n", (unsigned long)e->base,
                       (unsigned long)(e->base + e->length), type_name(e->type), size);
    }
    str_format_size(size, sizeof(size), pmm_total_bytes());
    str_format_size(free, sizeof(free), pmm_free_bytes());
    console_printf("allocator: total=%s free=%s\n", size, free);
    /* Exact, for a soak that must see no page go missing over hours. */
    console_printf("allocator_bytes: total=%lu free=%lu\n", (unsigned long)pmm_total_bytes(),
                   (unsigned long)pmm_free_bytes());
    return 0;
}

SHELL_COMMAND("mem", "", "show the memory map and allocator totals", cmd_mem);
