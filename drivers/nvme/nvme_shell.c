/* SPDX-License-Identifier: MIT */
/*
 * The shell's `nvme` command: every controller (index, PCI address, model,
 * serial, firmware, I/O queues, state) with its namespaces (NSID, size, LBA
 * size); `nvme rw` runs the exerciser, `nvme lose` arms the lost-command
 * fault so the timeout and reset path can be shown in an emulator, and
 * `nvme shutdown` runs the orderly shutdown the reboot path uses.
 */
#include "drivers/block/blk_range.h"
#include "drivers/nvme/nvme.h"
#include "drivers/nvme/nvme_dev.h"
#include "drivers/nvme/nvme_exercise.h"
#include "kernel/console/console.h"
#include "kernel/lib/str.h"
#include "kernel/lib/string.h"
#include "kernel/pci/pci.h"
#include "kernel/shell/shell.h"

static void list_controller(struct nvme_ctrl *c)
{
    char xfer[16];
    unsigned in_use = 0;

    for (unsigned i = 0; i < c->io_queues; i++)
        in_use += c->io[i].in_use;
    str_format_size(xfer, sizeof(xfer), c->max_transfer);
    console_printf("nvme%u pci=%04x:%02x:%02x.%u state=%s model=\"%s\" serial=\"%s\" fw=\"%s\" "
                   "ioqueues=%u inuse=%u maxxfer=%s resets=%u\n",
                   c->index, c->pci->segment, c->pci->bus, c->pci->dev, c->pci->func,
                   nvme_ctrl_state_name(c->state), c->info.model, c->info.serial, c->info.firmware,
                   c->io_queues, in_use, xfer, c->resets);
    for (unsigned i = 0; i < c->ns_count; i++) {
        const struct nvme_ns *ns = &c->ns[i];
        char size[16];

        if (!ns->usable) {
            console_printf("  nvme%un%u nsid=%u unusable: %s\n", c->index, ns->nsid, ns->nsid,
                           nvme_identify_error_name(ns->error));
            continue;
        }
        str_format_size(size, sizeof(size), ns->info.nsze << ns->info.lba_shift);
        console_printf("  nvme%un%u nsid=%u size=%s blocks=%llu lba=%u\n", c->index, ns->nsid,
                       ns->nsid, size, (unsigned long long)ns->info.nsze, 1u << ns->info.lba_shift);
    }
}

static bool parse_u32(const char *s, uint32_t *out)
{
    uint64_t v;

    if (!str_to_u64(s, &v) || v > 0xffffffffu)
        return false;
    *out = (uint32_t)v;
    return true;
}

static int nvme_command(int argc, char **argv)
{
    uint32_t ci, nsid;
    uint64_t start, length;

    if (argc == 1) {
        if (nvme_ctrl_count() == 0)
            console_printf("no NVMe controllers\n");
        for (unsigned i = 0; i < nvme_ctrl_count(); i++)
            list_controller(nvme_ctrl_get(i));
        return 0;
    }
    if (strcmp(argv[1], "rw") == 0) {
        if (argc != 5 || !parse_u32(argv[2], &ci) || !parse_u32(argv[3], &nsid)) {
            console_printf("usage: nvme rw CTRL NSID START+LENGTH (e.g. nvme rw 0 1 1M+4M)\n");
            return 1;
        }
        if (!blk_parse_extent(argv[4], &start, &length)) {
            console_printf("nvme rw: bad range '%s' (want START+LENGTH, e.g. 1M+4M)\n", argv[4]);
            return 1;
        }
        return nvme_exercise_rw(ci, nsid, start, length);
    }
    if (strcmp(argv[1], "lose") == 0) {
        struct nvme_ctrl *c;
        if (argc != 3 || !parse_u32(argv[2], &ci) || !(c = nvme_ctrl_get(ci))) {
            console_printf("usage: nvme lose CTRL (an existing controller)\n");
            return 1;
        }
        nvme_inject_lost_command(c);
        console_printf("nvme%u: the next I/O command will be lost (test of timeout and reset)\n",
                       ci);
        return 0;
    }
    if (strcmp(argv[1], "shutdown") == 0 && argc == 2) {
        nvme_shutdown_all();
        return 0;
    }
    console_printf("usage: nvme [rw CTRL NSID START+LENGTH | lose CTRL | shutdown]\n");
    return 1;
}

SHELL_COMMAND("nvme", "[rw CTRL NSID START+LENGTH | lose CTRL | shutdown]",
              "list NVMe controllers and namespaces; rw: write/read/verify a range", nvme_command);
