/* SPDX-License-Identifier: MIT */
/*
 * The `console` shell command:
 *   console NAME         what the guest wrote recently (its console buffer)
 *   console NAME attach  connects the serial line to the guest's UART until
 *                        the operator types ~. at the start of a line
 *   console NAME send WORD...  types one line (the words, then Enter) into
 *                        the guest's UART: a script's way to drive a guest
 *                        without attaching (tools/bench_net.py)
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

/* The words joined by single spaces, then a carriage return (what Enter
 * sends on a serial line); what does not fit the guest's input ring is
 * dropped and counted there, as typed input would be. */
static void send_line(struct guest *g, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (i)
            guest_console_input(g, ' ');
        for (const char *c = argv[i]; *c; c++)
            guest_console_input(g, (uint8_t)*c);
    }
    guest_console_input(g, '\r');
}

static int cmd_console(int argc, char **argv)
{
    bool send = argc >= 3 && strcmp(argv[2], "send") == 0;

    if (argc < 2 || (!send && (argc > 3 || (argc == 3 && strcmp(argv[2], "attach") != 0)))) {
        console_printf("usage: console NAME [attach | send WORD...]\n");
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
    if (send) {
        send_line(g, argc - 3, argv + 3);
        return 0;
    }
    attach = (struct attach_state){.guest = g, .line_start = true};
    console_printf("attached to %s's console; type ~. at the start of a line to detach\n",
                   g->cfg.name);
    shell_divert_input(attached_input, &attach);
    return 0;
}

SHELL_COMMAND("console", "NAME [attach | send WORD...]",
              "show a guest's console output, attach to it (~. detaches), or type a line into it",
              cmd_console);
