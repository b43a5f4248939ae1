/* SPDX-License-Identifier: MIT */
/*
 * The commands that belong to the shell itself rather than to a subsystem:
 * `help` (every command, sorted by name), `uptime` and `reboot`.
 */
#include "kernel/console/console.h"
#include "kernel/lib/string.h"
#include "kernel/power/reboot.h"
#include "kernel/shell/shell.h"
#include "kernel/shell/shell_parse.h"
#include "kernel/shell/shell_table.h"
#include "kernel/time/clock.h"

#define HELP_COLUMN_MAX 28

static size_t synopsis_len(const struct shell_cmd *c)
{
    size_t n = strlen(c->name);

    if (c->usage && *c->usage)
        n += 1 + strlen(c->usage);
    return n;
}

static void help_line(const struct shell_cmd *c, int width)
{
    const char *usage = c->usage ? c->usage : "";
    int pad = width - (int)synopsis_len(c);

    console_printf("  %s%s%s%*s  %s\n", c->name, *usage ? " " : "", usage, pad > 0 ? pad : 0, "",
                   c->help ? c->help : "");
}

static int help_command(int argc, char **argv)
{
    size_t n;
    const struct shell_cmd *table = shell_commands(&n);
    int width = 0;

    if (argc > 2) {
        console_printf("usage: help [COMMAND]\n");
        return 1;
    }
    if (argc == 2) {
        const struct shell_cmd *c = shell_find_command(table, n, argv[1]);
        if (!c) {
            console_printf("unknown command '%s' (type help)\n", argv[1]);
            return 1;
        }
        help_line(c, (int)synopsis_len(c));
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        int len = (int)synopsis_len(&table[i]);
        if (len > width)
            width = len;
    }
    if (width > HELP_COLUMN_MAX)
        width = HELP_COLUMN_MAX;
    for (const struct shell_cmd *c = shell_next_by_name(table, n, NULL); c;
         c = shell_next_by_name(table, n, c))
        help_line(c, width);
    return 0;
}

static int uptime_command(int argc, char **argv)
{
    if (argc != 1) {
        console_printf("usage: uptime\n");
        return 1;
    }
    uint64_t ms = clock_uptime_ns() / 1000000;
    console_printf("up %lu.%03lu s\n", (unsigned long)(ms / 1000), (unsigned long)(ms % 1000));
    return 0;
}

static int reboot_command(int argc, char **argv)
{
    if (argc != 1) {
        console_printf("usage: reboot\n");
        return 1;
    }
    reboot_machine();
}

SHELL_COMMAND("help", "[COMMAND]", "list the commands, or show one", help_command);
SHELL_COMMAND("uptime", "", "time since boot", uptime_command);
SHELL_COMMAND("reboot", "", "reset the machine", reboot_command);
