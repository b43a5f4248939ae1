/* SPDX-License-Identifier: MIT */
/* The `cpus` shell command: one row per CPU with its place in the machine. */
#include "kernel/console/console.h"
#include "kernel/cpu/percpu.h"
#include "kernel/shell/shell.h"

static const char *state_name(enum cpu_state s)
{
    switch (s) {
    case CPU_ONLINE: return "online";
    case CPU_FAILED: return "failed";
    case CPU_STARTING: return "starting";
    default: return "offline";
    }
}

static int cmd_cpus(int argc, char **argv)
{
    if (argc > 1) {
        console_printf("cpus: takes no arguments\n");
        return 1;
    }
    console_printf("CPU  APIC  SOCKET  CORE  THREAD  STATE\n");
    for (uint32_t i = 0; i < cpu_count(); i++) {
        struct percpu *p = cpu_by_index(i);
        if (!p)
            continue;
        console_printf("%3u  %4u  %6u  %4u  %6u  %s\n", p->index, p->apic_id, p->topo.socket,
                       p->topo.core, p->topo.thread, state_name(p->state));
    }
    return 0;
}

SHELL_COMMAND("cpus", "", "list the CPUs: APIC ID, socket, core, thread, state", cmd_cpus);
