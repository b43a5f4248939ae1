/* SPDX-License-Identifier: MIT */
/*
 * The `console` shell command:
 *   console NAME         what the guest wrote recently (its console buffer)
 *   console NAME attach  connects the serial line to the guest's UART until
 *                        the operator types ~. at the start of a line
 * While attached, the guest's output still appears with its "[NAME] "
 * prefix, and what the operator types goes to the guest's COM1.
 */
#include "kernel/console/console.h"
#include "kernel/lib/string.h"
#include "kernel/shell/shell.h"
#include "vmm/guest.h"

/* The escape: '~' then '.' at the start of a line (as in ssh). "~~" sends one
 * '~'. */
struct attach_state {
    struct guest *guest;
    bool line_start;
    bool tilde;
};

static struct attach_state attach;

static bool attached_input(void *ctx, uint8_t c)
{
    struct attach_state *a = ctx;

    if (a->tilde) {
        a->tilde = false;
        if (c == '.') {
            console_printf("\ndetached from %s\n", a->guest->cfg.name);
            return false;
        }
        guest_console_input(a->guest, '~');
        if (c == '~')
            return true;
    } else if (c == '~' && a->line_start) {
        a->tilde = true;
        return true;
    }
    guest_console_input(a->guest, c);
    a->line_start = c == '\r' || c == '\n';
    return true;
}

static int cmd_console(int argc, char **argv)
{
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "attach") != 0)) {
        console_printf("usage: console NAME [attach]\n");
        return 1;
    }
    struct guest *g = guest_find(argv[1]);
    if (!g) {
        console_printf("console: no guest named '%s' (see guests)\n", argv[1]);
        return 1;
    }
    if (argc == 2) {
        guest_console_dump(g);
        return 0;
    }
    if (g->state != GUEST_RUNNING) {
        console_printf("console: %s is not running\n", g->cfg.name);
        return 1;
    }
    attach = (struct attach_state){.guest = g, .line_start = true};
    console_printf("attached to %s's console; type ~. at the start of a line to detach\n",
                   g->cfg.name);
    shell_divert_input(attached_input, &attach);
    return 0;
}

SHELL_COMMAND("console", "NAME [attach]",
              "show a guest's console output, or attach to it (~. detaches)", cmd_console);
