/* SPDX-License-Identifier: MIT */
/*
 * The `selftest` shell command: checks an operator (or a system test) can
 * run on the live machine.
 *   selftest wx         no page is both writable and executable, page 0 unmapped
 *   selftest fault CPU  makes that CPU take a page fault: it must report it and
 *                       stop, and every other CPU must go on
 *   selftest logflood CPU
 *                       that CPU floods the console as a broken device or guest
 *                       would: rate-limited warnings and more queued lines than
 *                       the console queue holds. It must finish without waiting
 *                       for the UART; the console shows 5 warnings, later a
 *                       "(suppressed N similar messages)" line, and how many
 *                       queued lines were dropped.
 */
#include "kernel/console/console.h"
#include "kernel/console/log.h"
#include "kernel/cpu/cpu_call.h"
#include "kernel/cpu/percpu.h"
#include "kernel/lib/str.h"
#include "kernel/lib/string.h"
#include "kernel/mm/paging.h"
#include "kernel/shell/shell.h"
#include "kernel/time/tsc.h"
#include "kernel/x86/cpu.h"

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

#define FLOOD_WARNINGS 20000
#define FLOOD_LINES    4000

struct flood {
    uint32_t warnings, lines;
    uint64_t total_tsc, slowest_tsc;
};

/* One call site, so the flood and the later single warning share a limiter. */
static void flood_warning(uint32_t i)
{
    log_warn_ratelimited("selftest logflood: rate-limited warning %u", i);
}

static void flood_here(void *arg)
{
    struct flood *f = arg;
    uint64_t start = rdtsc();

    for (uint32_t i = 0; i < f->warnings + f->lines; i++) {
        uint64_t t0 = rdtsc();
        if (i < f->warnings)
            flood_warning(i);
        else
            console_async_printf("selftest logflood: queued line %u of %u, padded to look like "
                                 "a guest's console line ..........\n",
                                 i - f->warnings + 1, f->lines);
        uint64_t took = rdtsc() - t0;
        if (took > f->slowest_tsc)
            f->slowest_tsc = took;
    }
    f->total_tsc = rdtsc() - start;
}

static uint64_t ticks_to_us(uint64_t ticks)
{
    uint64_t mhz = tsc_hz() / 1000000;

    return mhz ? ticks / mhz : 0;
}

static int selftest_logflood(const char *which)
{
    uint64_t index;
    struct flood f = {.warnings = FLOOD_WARNINGS, .lines = FLOOD_LINES};

    if (!str_to_u64(which, &index) || index >= cpu_count() || index == this_cpu()->index) {
        console_printf("selftest logflood: no CPU '%s' other than this one (see cpus)\n", which);
        return 1;
    }
    if (!cpu_call((uint32_t)index, flood_here, &f, true, 10000)) {
        console_printf("selftest logflood: CPU %lu is not online or did not finish in 10 s\n",
                       (unsigned long)index);
        return 1;
    }
    /* A second window: its first warning reports what the flood suppressed.
     * Meanwhile this (the console) CPU prints the queue, as its idle loop
     * would, so that warning finds room. */
    uint64_t until = rdtsc() + tsc_from_ns(1100000000ull);
    while (rdtsc() < until) {
        if (!console_drain(64))
            tsc_delay_us(1000);
    }
    struct flood one = {.warnings = 1};
    cpu_call((uint32_t)index, flood_here, &one, true, 1000);
    console_printf("selftest logflood: cpu %lu: %u warnings and %u queued lines in %lu us, "
                   "slowest call %lu us\n",
                   (unsigned long)index, f.warnings, f.lines,
                   (unsigned long)ticks_to_us(f.total_tsc),
                   (unsigned long)ticks_to_us(f.slowest_tsc));
    return 0;
}

static int cmd_selftest(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "wx") == 0)
        return selftest_wx();
    if (argc == 3 && strcmp(argv[1], "fault") == 0)
        return selftest_fault(argv[2]);
    if (argc == 3 && strcmp(argv[1], "logflood") == 0)
        return selftest_logflood(argv[2]);
    console_printf("usage: selftest wx | selftest fault CPU | selftest logflood CPU\n");
    return 1;
}

SHELL_COMMAND("selftest", "wx | fault CPU | logflood CPU",
              "check W^X page tables, fault a CPU on purpose, or flood the console from a CPU",
              cmd_selftest);
