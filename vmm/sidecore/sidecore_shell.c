/* SPDX-License-Identifier: MIT */
/*
 * The shell's `sidecore` command, the operator's view of and hand on the
 * I/O sidecores:
 *   sidecore                         every sidecore (active or parked), its
 *                                    busy share and its queues with their load
 *   sidecore add                     makes a parked sidecore active and
 *                                    spreads the queues by load
 *   sidecore remove N                moves sidecore N's queues away and parks it
 *   sidecore move GUEST:DEVICE:QUEUE N   moves one queue to sidecore N
 *   sidecore policy auto|manual      whether the monitor changes things itself
 * The changes go through vmm/sidecore/monitor.h, so they are logged and
 * moved with the handoff protocol like the monitor's own.
 */
#include "kernel/console/console.h"
#include "kernel/lib/str.h"
#include "kernel/lib/string.h"
#include "kernel/shell/shell.h"
#include "vmm/sidecore/monitor.h"
#include "vmm/sidecore/queue_id.h"
#include "vmm/sidecore/sidecore.h"

static void list(void)
{
    const struct iocm *m = sidecore_monitor_state();
    char id[64];

    console_printf("policy=%s epoch_ms=%lu epochs=%lu adds=%lu removes=%lu undos=%lu\n",
                   sidecore_monitor_auto() ? "auto" : "manual",
                   (unsigned long)sidecore_monitor_epoch_ms(), (unsigned long)m->epoch,
                   (unsigned long)m->adds, (unsigned long)m->removes, (unsigned long)m->undos);
    for (unsigned k = 0; k < sidecore_count(); k++) {
        const struct sidecore *s = sidecore_at(k);
        unsigned n = 0;
        for (unsigned i = 0; i < sidecore_queue_count(); i++)
            n += handoff_owner(&sidecore_queue_at(i)->h) == k;
        console_printf(
            "sidecore=%u cpu=%u socket=%u state=%s busy_pct=%u queues=%u busy_rounds_pct=%u\n", k,
            s->cpu, s->socket, sidecore_state_name(s), sidecore_monitor_busy_pct(k), n,
            sidecore_monitor_round_pct(k));
        for (unsigned i = 0; i < sidecore_queue_count(); i++) {
            const struct sidecore_queue *q = sidecore_queue_at(i);
            if (handoff_owner(&q->h) != k)
                continue;
            queue_id_from_label(q->label, id, sizeof(id));
            console_printf("  queue=%s sidecore=%u socket=%u load_per_s=%lu moves=%lu%s\n", id, k,
                           q->socket, (unsigned long)sidecore_monitor_queue_rate(i),
                           (unsigned long)q->h.moves, handoff_pending(&q->h) ? " moving" : "");
        }
    }
}

static bool core_arg(const char *s, unsigned *core)
{
    uint64_t v;

    if (!str_to_u64(s, &v) || v >= sidecore_count())
        return false;
    *core = (unsigned)v;
    return true;
}

static int cmd_sidecore(int argc, char **argv)
{
    char why[120];
    unsigned core;

    if (!sidecore_count()) {
        console_printf("sidecore: no I/O sidecores\n");
        return argc > 1;
    }
    if (argc == 1) {
        list();
        return 0;
    }
    if (strcmp(argv[1], "add") == 0 && argc == 2) {
        if (!sidecore_monitor_add(why, sizeof(why))) {
            console_printf("sidecore add: %s\n", why);
            return 1;
        }
        console_printf("sidecore add: done\n");
        return 0;
    }
    if (strcmp(argv[1], "remove") == 0 && argc == 3) {
        if (!core_arg(argv[2], &core)) {
            console_printf("sidecore remove: '%s' is not a sidecore (0 to %u)\n", argv[2],
                           sidecore_count() - 1);
            return 1;
        }
        if (!sidecore_monitor_remove(core, why, sizeof(why))) {
            console_printf("sidecore remove: %s\n", why);
            return 1;
        }
        console_printf("sidecore remove: sidecore %u parks once its queues have moved\n", core);
        return 0;
    }
    if (strcmp(argv[1], "move") == 0 && argc == 4) {
        struct sidecore_queue *q = NULL;
        for (unsigned i = 0; i < sidecore_queue_count() && !q; i++)
            if (queue_id_matches(argv[2], sidecore_queue_at(i)->label))
                q = sidecore_queue_at(i);
        if (!q) {
            console_printf("sidecore move: no queue '%s' (GUEST:DEVICE:QUEUE as `sidecore` "
                           "lists them)\n",
                           argv[2]);
            return 1;
        }
        if (!core_arg(argv[3], &core)) {
            console_printf("sidecore move: '%s' is not a sidecore (0 to %u)\n", argv[3],
                           sidecore_count() - 1);
            return 1;
        }
        if (!sidecore_monitor_move(q, core, why, sizeof(why))) {
            console_printf("sidecore move: %s\n", why);
            return 1;
        }
        console_printf("sidecore move: %s to sidecore %u\n", argv[2], core);
        return 0;
    }
    if (strcmp(argv[1], "policy") == 0 && argc == 3 &&
        (strcmp(argv[2], "auto") == 0 || strcmp(argv[2], "manual") == 0)) {
        sidecore_monitor_set_auto(strcmp(argv[2], "auto") == 0);
        console_printf("sidecore policy: %s\n", argv[2]);
        return 0;
    }
    console_printf("usage: sidecore [add | remove N | move GUEST:DEVICE:QUEUE N | policy "
                   "auto|manual]\n");
    return 1;
}

SHELL_COMMAND("sidecore", "[add | remove N | move GUEST:DEVICE:QUEUE N | policy auto|manual]",
              "list the I/O sidecores and their queues, or change them", cmd_sidecore);
