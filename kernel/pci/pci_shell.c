/* SPDX-License-Identifier: MIT */
/*
 * The shell's `pci` command: one row per function from the table pci_init()
 * built (BDF, IDs, class, memory BARs); `pci -v` adds I/O BARs, bridge bus
 * ranges and capabilities under each row.
 */
#include "kernel/console/console.h"
#include "kernel/lib/string.h"
#include "kernel/pci/pci.h"
#include "kernel/pci/pci_describe.h"
#include "kernel/shell/shell.h"

static int pci_command(int argc, char **argv)
{
    bool verbose = false;
    char text[512];

    if (argc == 2 && strcmp(argv[1], "-v") == 0)
        verbose = true;
    else if (argc != 1) {
        console_printf("usage: pci [-v]\n");
        return 1;
    }
    console_printf("%s\n", pci_table_header());
    for (unsigned i = 0; i < pci_device_count(); i++) {
        const struct pci_device *d = pci_device_at(i);

        pci_format_row(text, sizeof(text), d);
        console_printf("%s\n", text);
        if (verbose) {
            pci_format_details(text, sizeof(text), d);
            console_printf("%s", text);
        }
    }
    console_printf("%u functions\n", pci_device_count());
    return 0;
}

SHELL_COMMAND("pci", "[-v]", "list PCI functions; -v adds I/O BARs and capabilities", pci_command);
