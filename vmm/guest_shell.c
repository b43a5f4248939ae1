/* SPDX-License-Identifier: MIT */
/*
 * Shell commands for guests:
 *   guests                   one row per guest: name, state, cores, memory
 *   stats [watch SECONDS]    key=value lines, one per vCPU, disk queue and
 *                            sidecore; with watch, again every SECONDS, each
 *                            block after a "stats at=UPTIME" line, until a key
 *   guest restart|stop NAME  restart from its image, or stop it
 */
#include "kernel/console/console.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/str.h"
#include "kernel/lib/string.h"
#include "kernel/shell/shell.h"
#include "kernel/shell/shell_watch.h"
#include "kernel/time/clock.h"
#include "kernel/time/tsc.h"
#include "vmm/guest.h"
#include "vmm/guest_disk.h"
#include "vmm/guest_net.h"
#include "vmm/guest_vconsole.h"
#include "vmm/net/switches.h"
#include "vmm/sidecore/sidecore.h"

static const char *vcpu_state_name(enum vcpu_state s)
{
    switch (s) {
    case VCPU_IDLE: return "idle";
    case VCPU_RUNNING: return "running";
    case VCPU_HALTED: return "halted";
    case VCPU_WAIT_SIPI: return "wait-sipi";
    case VCPU_STOPPED: return "stopped";
    }
    return "?";
}

static void format_cores(const struct guest *g, char *buf, size_t size)
{
    size_t n = 0;

    buf[0] = '\0';
    for (uint32_t i = 0; i < g->nvcpus && n < size; i++)
        n += (size_t)fmt_snprintf(buf + n, size - n, "%s%u", i ? "," : "", g->cpus[i]);
}

static int cmd_guests(int argc, char **argv)
{
    char cores[64], size[16];

    if (argc > 1) {
        console_printf("guests: takes no arguments\n");
        return 1;
    }
    if (guest_count() == 0) {
        console_printf("no guests\n");
        return 0;
    }
    console_printf("%-16s %-9s %-12s %-8s %s\n", "NAME", "STATE", "CORES", "MEMORY", "NOTE");
    for (unsigned i = 0; i < guest_count(); i++) {
        struct guest *g = guest_at(i);
        format_cores(g, cores, sizeof(cores));
        str_format_size(size, sizeof(size), g->mem_size);
        console_printf("%-16s %-9s %-12s %-8s %s\n", g->cfg.name, guest_state_name(g->state), cores,
                       size, g->stop_reason);
    }
    return 0;
}

static uint64_t tsc_to_us(uint64_t ticks)
{
    uint64_t khz = tsc_hz() / 1000;

    return khz ? ticks / khz * 1000 + ticks % khz * 1000 / khz : 0;
}

static void print_vcpu_stats(struct vcpu *v)
{
    const struct vcpu_ops *ops = vcpu_backend();
    const struct vcpu_stats *s = &v->stats;
    /* Read once: the vCPU's core may count another exit meanwhile, and the
     * two figures printed must add up to exits. */
    uint64_t exits_io = __atomic_load_n(&s->exits_io, __ATOMIC_RELAXED);

    /* One console write per line, so guest output from other CPUs lands
     * between lines, never inside one a script is parsing. */
    char line[1536];
    size_t n = (size_t)fmt_snprintf(
        line, sizeof(line),
        "guest=%s vcpu=%u cpu=%u state=%s exits=%lu exits_io=%lu exits_other=%lu "
        "guest_us=%lu hv_us=%lu "
        "injected=%lu hc_refused=%lu posted_halted=%lu posted_reentry=%lu rip=%#lx",
        v->guest->cfg.name, v->index, v->cpu, vcpu_state_name(v->state),
        (unsigned long)s->exits_total, (unsigned long)exits_io,
        (unsigned long)(s->exits_total - exits_io), (unsigned long)tsc_to_us(s->guest_tsc),
        (unsigned long)tsc_to_us(s->hv_tsc), (unsigned long)s->injected,
        (unsigned long)s->hc_refused, (unsigned long)s->posted_halted,
        (unsigned long)s->posted_reentry, (unsigned long)s->last_rip);
    for (unsigned r = 0; r < VCPU_EXIT_SLOTS && n < sizeof(line); r++) {
        if (s->exits[r])
            n += (size_t)fmt_snprintf(line + n, sizeof(line) - n, " exit_%s=%lu",
                                      ops->exit_name(ops->slot_reason(r)),
                                      (unsigned long)s->exits[r]);
    }
    console_printf("%s\n", line);
}

static void print_stats(void)
{
    if (!vcpu_backend()) {
        console_printf("stats: no guests (virtualization unavailable)\n");
        return;
    }
    /* A kick makes each running vCPU exit once and record its RIP, so rip=
     * is where it is now (a vCPU spinning in the guest would otherwise show
     * an old one). Halted vCPUs recorded theirs when they halted. */
    unsigned kicked = 0;
    for (unsigned i = 0; i < guest_count(); i++) {
        struct guest *g = guest_at(i);
        for (uint32_t j = 0; g->vcpus && j < g->nvcpus; j++) {
            if (g->vcpus[j].state != VCPU_RUNNING)
                continue;
            g->vcpus[j].stats.rip_wanted = true;
            vcpu_kick(&g->vcpus[j]);
            kicked++;
        }
    }
    if (kicked)
        tsc_delay_us(1000);
    for (unsigned i = 0; i < guest_count(); i++) {
        struct guest *g = guest_at(i);
        for (uint32_t j = 0; g->vcpus && j < g->nvcpus; j++)
            print_vcpu_stats(&g->vcpus[j]);
        guest_disks_print_stats(g);
        guest_nets_print_stats(g);
        guest_vconsole_print_stats(g);
    }
    net_switches_print_stats();
    sidecore_print_stats();
}

static struct shell_watch stats_watch;

/* Runs from the console CPU's idle loop (shell_poll()) while the watch has
 * the console's input, so queued guest output is still printed between
 * blocks and no CPU waits for the period. */
static void stats_watch_tick(void *ctx)
{
    struct shell_watch *w = ctx;
    uint64_t now = clock_uptime_ns();

    if (!shell_watch_due(w, now))
        return;
    console_printf("stats at=%lu.%03lu\n", (unsigned long)(now / 1000000000ull),
                   (unsigned long)(now % 1000000000ull / 1000000ull));
    print_stats();
}

static bool stats_watch_input(void *ctx, uint8_t c)
{
    if (!shell_watch_key_stops(ctx, c))
        return true;
    console_printf("stats watch: stopped\n");
    return false;
}

static int cmd_stats(int argc, char **argv)
{
    uint32_t seconds;

    if (argc == 1) {
        print_stats();
        return 0;
    }
    if (argc != 3 || strcmp(argv[1], "watch") != 0) {
        console_printf("usage: stats [watch SECONDS]\n");
        return 1;
    }
    if (!shell_watch_parse_seconds(argv[2], &seconds)) {
        console_printf("stats watch: SECONDS must be a whole number from %u to %u, not '%s'\n",
                       SHELL_WATCH_MIN_S, SHELL_WATCH_MAX_S, argv[2]);
        return 1;
    }
    console_printf("stats watch: every %u s; press any key to stop\n", seconds);
    shell_watch_start(&stats_watch, seconds, clock_uptime_ns());
    stats_watch_tick(&stats_watch); /* the first block now, not at the next idle pass */
    shell_divert_input_ticking(stats_watch_input, stats_watch_tick, &stats_watch);
    return 0;
}

static int cmd_guest(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "restart") != 0 && strcmp(argv[1], "stop") != 0)) {
        console_printf("usage: guest restart|stop NAME\n");
        return 1;
    }
    struct guest *g = guest_find(argv[2]);
    if (!g) {
        console_printf("guest: no guest named '%s' (see guests)\n", argv[2]);
        return 1;
    }
    if (strcmp(argv[1], "stop") == 0) {
        if (g->state != GUEST_RUNNING) {
            console_printf("guest: %s is not running\n", g->cfg.name);
            return 1;
        }
        guest_stop(g, "stopped by the operator");
        return 0;
    }
    return guest_restart(g) ? 0 : 1;
}

SHELL_COMMAND("guests", "", "list the guests: state, cores, memory", cmd_guests);
SHELL_COMMAND("stats", "[watch SECONDS]",
              "per-vCPU exits, disk and network queues, switches and sidecores, key=value; watch "
              "repeats until a key",
              cmd_stats);
SHELL_COMMAND("guest", "restart|stop NAME", "restart a guest from its image, or stop it",
              cmd_guest);
