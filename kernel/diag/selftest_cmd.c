/* SPDX-License-Identifier: MIT */
/*
 * The `selftest` shell command: checks an operator (or a system test) can
 * run on the live machine.
 *   selftest wx         no page is both writable and executable, page 0 unmapped
 *   selftest fault CPU  makes that CPU take a page fault: it must report it and
 *                       stop, and every other CPU must go on
 */
#include "kernel/console/console.h"
#include "kernel/cpu/cpu_call.h"
#include "kernel/cpu/percpu.h"
#include "kernel/lib/str.h"
#include "kernel/lib/string.h"
#include "kernel/mm/paging.h"
#include "kernel/shell/shell.h"
#include "kernel/time/tsc.h"

/* A distinctive address in the unmapped page 0, so CR2 identifies the test. */
#define FAULT_ADDRESS 0xbad

static int selftest_wx(void)
{
    struct paging_audit a;
    char mapped[16], exec[16];

    paging_audit(&a);
    str_format_size(mapped, sizeof(mapped), a.mapped_bytes);
    str_format_size(exec, sizeof(exec), a.exec_bytes);
    bool ok = a.writable_exec_bytes == 0 && !a.null_page_mapped;
    console_printf(
        "selftest wx: mapped=%s executable=%s writable+executable=%lu null-page=%s: %s\n", mapped,
        exec, (unsigned long)a.writable_exec_bytes, a.null_page_mapped ? "mapped" : "unmapped",
        ok ? "ok" : "FAIL");
    return ok ? 0 : 1;
}

static void fault_here(void *arg)
{
    /* Through a variable the compiler cannot see through: it would reject
     * (rightly) a constant pointer into page 0. */
    uintptr_t volatile address = FAULT_ADDRESS;

    *(volatile uint64_t *)address = 1;
}

static int selftest_fault(const char *which)
{
    uint64_t index;

    if (!str_to_u64(which, &index) || index >= cpu_count()) {
        console_printf("selftest fault: no CPU '%s' (see cpus)\n", which);
        return 1;
    }
    if (index == this_cpu()->index) {
        console_printf("selftest fault: CPU %lu runs this console; pick another\n",
                       (unsigned long)index);
        return 1;
    }
    if (!cpu_call((uint32_t)index, fault_here, NULL, false, 0)) {
        console_printf("selftest fault: CPU %lu is not online\n", (unsigned long)index);
        return 1;
    }
    struct percpu *cpu = cpu_by_index((uint32_t)index);
    for (int i = 0; i < 1000 && cpu->state != CPU_FAILED; i++)
        tsc_delay_us(1000);
    bool ok = cpu->state == CPU_FAILED;
    console_printf("selftest fault: CPU %lu %s; %u CPUs online: %s\n", (unsigned long)index,
                   ok ? "stopped" : "did not stop", cpu_online_count(), ok ? "ok" : "FAIL");
    return ok ? 0 : 1;
}

static int cmd_selftest(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "wx") == 0)
        return selftest_wx();
    if (argc == 3 && strcmp(argv[1], "fault") == 0)
        return selftest_fault(argv[2]);
    console_printf("usage: selftest wx | selftest fault CPU\n");
    return 1;
}

SHELL_COMMAND("selftest", "wx | fault CPU", "check W^X page tables, or fault a CPU on purpose",
              cmd_selftest);
