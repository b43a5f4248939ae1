/* SPDX-License-Identifier: MIT */
/*
 * The `console` shell command:
 *   console NAME         what the guest wrote recently (its console buffer)
 *   console NAME attach  connects the serial line to the guest's UART until
 *                        the operator types ~. at the start of a line
 *   console NAME send WORD...  types one line (the words, then Enter) into
 *                        the guest's UART: a script's way to drive a guest
 *                        without attaching (tools/bench_net.py)
 *   console NAME state   where typed input is on its way to the guest: the
 *                        input queue, the UART model's registers and
 *                        interrupt line, the IOAPIC pin and vCPU 0's APIC
 *                        bits for its vector (to tell a lost byte from a
 *                        lost interrupt)
 * While attached, the guest's output still appears with its "[NAME] "
 * prefix, and what the operator types goes to the guest's COM1.
 */
#include "kernel/console/console.h"
#include "kernel/lib/string.h"
#include "kernel/shell/shell.h"
#include "vmm/guest.h"
#include "vmm/guest_apic.h"

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

/* A snapshot, read without the vCPU's cooperation: good enough to see where
 * a byte stopped, not a consistent cut. */
static void console_state(struct guest *g)
{
    uint64_t flags = spin_lock_irqsave(&g->dev_lock);
    struct com1 u = g->uart;
    bool line = g->uart_irq;
    spin_unlock_irqrestore(&g->dev_lock, flags);

    uint64_t rte = vioapic_entry(&g->ioapic, GUEST_IRQ_UART);
    uint8_t vector = (uint8_t)rte;
    console_printf("console %s: input head=%u tail=%u dropped=%lu; uart ier=%#x lcr=%#x mcr=%#x "
                   "fcr=%#x rx=%u thre=%u errs=%#x line=%s level_now=%s; ioapic pin %u "
                   "rte=%#lx asserted=%u",
                   g->cfg.name, g->in_head, g->in_tail, (unsigned long)g->in_dropped, u.ier, u.lcr,
                   u.mcr, u.fcr, u.rx_count, u.thre_pending, u.lsr_errs, line ? "high" : "low",
                   com1_irq_level(&u) ? "high" : "low", GUEST_IRQ_UART, (unsigned long)rte,
                   (g->ioapic.asserted >> GUEST_IRQ_UART) & 1);
    if (g->nvcpus && g->vcpus) {
        const struct vlapic *l = &g->vcpus[0].lapic;
        unsigned w = vector / 32, b = vector % 32;
        console_printf("; vcpu0 irr=%u isr=%u tpr=%#x state=%d", (l->irr[w] >> b) & 1,
                       (l->isr[w] >> b) & 1, l->tpr, (int)g->vcpus[0].state);
    }
    console_printf("\n");
}

static int cmd_console(int argc, char **argv)
{
    bool send = argc >= 3 && strcmp(argv[2], "send") == 0;
    bool state = argc == 3 && strcmp(argv[2], "state") == 0;

    if (argc < 2 ||
        (!send && !state && (argc > 3 || (argc == 3 && strcmp(argv[2], "attach") != 0)))) {
        console_printf("usage: console NAME [attach | send WORD... | state]\n");
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
    if (state) {
        console_state(g);
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

SHELL_COMMAND("console", "NAME [attach | send WORD... | state]",
              "show a guest's console output, attach to it (~. detaches), type a line into it, "
              "or show its input path",
              cmd_console);
