/* SPDX-License-Identifier: MIT */
/*
 * The shell's `blktest` command: the guest block path (virtqueue,
 * virtio-blk device, block backend, NVMe) exercised and measured without a
 * guest and without VT-x. It opens the disk (an NVMe namespace or a window
 * of one), builds a virtio-blk device on it in a block of identity-mapped
 * memory, and hands the run (drivers/block/blktest_run.c: driver and device
 * on one core, alternately) to a spare CPU, while the console CPU waits.
 * The wait is bounded: a run that completes nothing for BLKTEST_STALL_NS is
 * asked to stop, and one that does not stop is left behind with its
 * memory, with a message, so a hung controller never hangs the console.
 * Ctrl-C asks the run to stop too.
 *
 * Output: what will be written (before anything is), the run's settings,
 * `blktest: pass ...` or `blktest: FAIL ...`, and always last one line for
 * scripts:
 *   blktest: result=pass|fail op=verify|randread|pastend qd=N requests=N
 *            iops=N mean_us=N.N p99_us=N.N max_us=N.N
 * (one line; iops from the run's wall time on the TSC).
 */
#include "drivers/block/blktest_cpu.h"
#include "drivers/block/blktest_run.h"
#include "drivers/nvme/nvme_blk.h"
#include "kernel/console/console.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/str.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pmm.h"
#include "kernel/shell/shell.h"
#include "kernel/time/clock.h"
#include "kernel/time/tsc.h"
#include "kernel/x86/cpu.h"
#include "vmm/disk_spec.h"

#define BLKTEST_REQUEST_TIMEOUT_S 30 /* NVMe's own timeout and reset come first */
#define BLKTEST_STALL_NS          (45ull * 1000000000ull)
#define BLKTEST_STOP_GRACE_NS     (10ull * 1000000000ull)
#define CTRL_C                    3

static const char usage[] =
    "usage: blktest nvme:CTRL:NSID[:START+LENGTH] [verify|randread|pastend] "
    "[qd=N] [count=N] [bs=SIZE] [seed=N] [align=N]\n";

static const char *op_name(enum blktest_op op)
{
    switch (op) {
    case BLKTEST_VERIFY: return "verify";
    case BLKTEST_RANDREAD: return "randread";
    case BLKTEST_PASTEND: return "pastend";
    }
    return "?";
}

static uint64_t tsc_now(void)
{
    return rdtsc();
}

struct blktest_args {
    struct disk_spec disk;
    struct blktest_params p;
    bool bs_given;
};

static bool parse_option(const char *arg, struct blktest_args *a)
{
    const char *eq = strchr(arg, '=');
    uint64_t v;

    if (strcmp(arg, "verify") == 0 || strcmp(arg, "randread") == 0 || strcmp(arg, "pastend") == 0) {
        a->p.op = arg[0] == 'v'   ? BLKTEST_VERIFY
                  : arg[0] == 'r' ? BLKTEST_RANDREAD
                                  : BLKTEST_PASTEND;
        return true;
    }
    if (!eq)
        return false;
    if (strncmp(arg, "qd=", 3) == 0 && str_to_u64(eq + 1, &v) && v >= 1 && v <= BLKTEST_MAX_QD) {
        a->p.qd = (unsigned)v;
        return true;
    }
    if (strncmp(arg, "count=", 6) == 0 && str_to_u64(eq + 1, &v) && v >= 1) {
        a->p.count = v;
        return true;
    }
    if (strncmp(arg, "bs=", 3) == 0 && str_to_size(eq + 1, &v) && v >= BLK_SECTOR_SIZE &&
        v <= BLKTEST_MAX_BS && v % BLK_SECTOR_SIZE == 0) {
        a->p.bs = (uint32_t)v;
        a->bs_given = true;
        return true;
    }
    if (strncmp(arg, "align=", 6) == 0 && str_to_u64(eq + 1, &v) && v < 4096) {
        a->p.misalign = (uint32_t)v;
        return true;
    }
    if (strncmp(arg, "seed=", 5) == 0 && str_to_u64(eq + 1, &v)) {
        a->p.seed = v;
        return true;
    }
    return false;
}

static bool parse_args(int argc, char **argv, struct blktest_args *a)
{
    char why[120];

    memset(a, 0, sizeof(*a));
    a->p.op = BLKTEST_VERIFY;
    a->p.qd = 8;
    a->p.count = 1000;
    a->p.seed = rdtsc() & 0xffffffffu;
    if (argc < 2) {
        console_printf("%s", usage);
        return false;
    }
    if (!disk_spec_parse(argv[1], &a->disk, why, sizeof(why))) {
        console_printf("blktest: disk '%s': %s\n", argv[1], why);
        return false;
    }
    if (a->disk.kind != DISK_NVME) {
        console_printf("blktest: only NVMe disks can be tested (nvme:CTRL:NSID[:START+LENGTH]); "
                       "a ram: disk exists only as a guest's copy\n");
        return false;
    }
    for (int i = 2; i < argc; i++) {
        if (!parse_option(argv[i], a)) {
            console_printf("blktest: bad argument '%s' (qd 1..%u, bs a multiple of 512 up to "
                           "%uK, count >= 1, align 0..4095)\n%s",
                           argv[i], BLKTEST_MAX_QD, BLKTEST_MAX_BS / 1024, usage);
            return false;
        }
    }
    if (!a->bs_given)
        a->p.bs = a->p.op == BLKTEST_VERIFY ? 64 * 1024 : 4096;
    return true;
}

static void announce(const struct blktest_args *a, const struct blk_device *dev, uint64_t start,
                     uint32_t cpu)
{
    uint64_t bytes = dev->sectors * BLK_SECTOR_SIZE;
    char size[16], bs[16];

    str_format_size(size, sizeof(size), bytes);
    str_format_size(bs, sizeof(bs), a->p.bs);
    char align[24] = "";
    if (a->p.misalign)
        fmt_snprintf(align, sizeof(align), " align=%u", a->p.misalign);
    if (a->p.op == BLKTEST_VERIFY)
        console_printf("blktest: writing only bytes 0x%llx..0x%llx of nvme%un%u (%s)\n",
                       (unsigned long long)start, (unsigned long long)(start + bytes - 1),
                       a->disk.ctrl, a->disk.nsid, size);
    else
        console_printf("blktest: reading only (nothing is written): bytes 0x%llx..0x%llx of "
                       "nvme%un%u (%s)%s\n",
                       (unsigned long long)start, (unsigned long long)(start + bytes - 1),
                       a->disk.ctrl, a->disk.nsid, size,
                       a->p.op == BLKTEST_PASTEND ? " and reads just past them" : "");
    if (a->p.op == BLKTEST_RANDREAD)
        console_printf("blktest: randread %s on cpu %u through virtio-blk: qd=%u bs=%s%s "
                       "count=%llu seed=%#llx\n",
                       dev->name, cpu, a->p.qd, bs, align, (unsigned long long)a->p.count,
                       (unsigned long long)a->p.seed);
    else
        console_printf("blktest: %s %s on cpu %u through virtio-blk: qd=%u bs=%s%s seed=%#llx\n",
                       op_name(a->p.op), dev->name, cpu, a->p.qd, bs, align,
                       (unsigned long long)a->p.seed);
}

/* Waits for the run; false if the core never finished (even when asked
 * to stop). */
static bool wait_for_run(struct blktest_job *j, uint32_t cpu)
{
    uint64_t seen = 0, last_change = clock_uptime_ns(), asked = 0;

    while (!__atomic_load_n(&j->done, __ATOMIC_ACQUIRE)) {
        uint64_t now = clock_uptime_ns(),
                 progress = __atomic_load_n(&j->progress, __ATOMIC_ACQUIRE);

        if (progress != seen) {
            seen = progress;
            last_change = now;
        }
        if (!asked && console_getc() == CTRL_C) {
            console_printf("blktest: interrupted: stopping the run on cpu %u\n", cpu);
            __atomic_store_n(&j->abort, true, __ATOMIC_RELEASE);
            asked = now;
        }
        if (!asked && now - last_change > BLKTEST_STALL_NS) {
            console_printf("blktest: no request completed for %llu s: stopping the run on "
                           "cpu %u\n",
                           (unsigned long long)(BLKTEST_STALL_NS / 1000000000ull), cpu);
            __atomic_store_n(&j->abort, true, __ATOMIC_RELEASE);
            asked = now;
        }
        if (asked && now - asked > BLKTEST_STOP_GRACE_NS)
            return false;
        cpu_relax();
    }
    return true;
}

/* The line scripts read; lat NULL when nothing ran. */
static void print_result(const struct blktest_params *p, bool pass, uint64_t requests,
                         uint64_t ticks, const struct latency_stats *lat)
{
    char mean[24], p99[24], max[24];
    uint64_t iops = ticks && p->ticks_per_sec ? requests * p->ticks_per_sec / ticks : 0;

    latency_format_us(mean, sizeof(mean), lat ? latency_stats_mean(lat) : 0);
    latency_format_us(p99, sizeof(p99), lat ? latency_stats_quantile(lat, 99, 100) : 0);
    latency_format_us(max, sizeof(max), lat ? lat->max_ns : 0);
    console_printf("blktest: result=%s op=%s qd=%u requests=%llu iops=%llu mean_us=%s "
                   "p99_us=%s max_us=%s\n",
                   pass ? "pass" : "fail", op_name(p->op), p->qd, (unsigned long long)requests,
                   (unsigned long long)iops, mean, p99, max);
}

static void report(const struct blktest_job *j, const char *disk)
{
    const struct blktest_result *r = &j->res;
    char bytes[16];

    str_format_size(bytes, sizeof(bytes), r->bytes);
    if (r->pass) {
        switch (j->p.op) {
        case BLKTEST_VERIFY:
            console_printf("blktest: pass: every byte written, flushed, read back and verified "
                           "(%llu requests, %s moved)\n",
                           (unsigned long long)r->requests, bytes);
            break;
        case BLKTEST_RANDREAD:
            console_printf("blktest: pass: %llu random reads, all OK (%s read)\n",
                           (unsigned long long)r->requests, bytes);
            break;
        case BLKTEST_PASTEND:
            console_printf("blktest: pass: reads across and past the end came back to the "
                           "requester as IOERR\n");
            break;
        }
    } else if (r->mismatch) {
        console_printf("blktest: FAIL: data mismatch at byte %#llx of %s: read %#llx, expected "
                       "%#llx (that sector is tagged offset %#llx seed %#llx)\n",
                       (unsigned long long)r->m.offset, disk, (unsigned long long)r->m.got,
                       (unsigned long long)r->m.want, (unsigned long long)r->m.tag_offset,
                       (unsigned long long)r->m.tag_seed);
    } else {
        console_printf("blktest: FAIL: %s\n", r->why);
    }
    print_result(&j->p, r->pass, r->requests, r->ticks, &j->lat);
}

/* The spare core is claimed before anything is announced, and starts
 * only once it has been: it waits at this gate. */
static struct blktest_gate {
    struct blktest_job *job;
    volatile bool go;
} gate;

static void blktest_on_cpu(void *arg)
{
    struct blktest_gate *g = arg;
    struct blktest_job *j = g->job;

    while (!__atomic_load_n(&g->go, __ATOMIC_ACQUIRE))
        cpu_relax();
    blktest_run(j);
}

/* Runs the set-up job on a spare core. False if it could not run or never
 * finished; then *abandoned says whether its memory must stay. */
static bool run_on_spare_core(struct blktest_args *a, struct blktest_job *j, struct blk_device *dev,
                              uint64_t start, bool *abandoned)
{
    uint32_t cpu;

    *abandoned = false;
    gate.job = j;
    gate.go = false;
    if (!blktest_post_on_spare_cpu(blktest_on_cpu, &gate, &cpu)) {
        console_printf("blktest: no spare CPU: every CPU but the boot CPU runs a guest or an "
                       "I/O sidecore (or there is only one)\n");
        print_result(&a->p, false, 0, 0, NULL);
        return false;
    }
    announce(a, dev, start, cpu);
    __atomic_store_n(&gate.go, true, __ATOMIC_RELEASE);
    if (!wait_for_run(j, cpu)) {
        console_printf("blktest: FAIL: cpu %u did not stop within %llu s; it keeps the test's "
                       "memory, virtio-blk queue and NVMe queue\n",
                       cpu, (unsigned long long)(BLKTEST_STOP_GRACE_NS / 1000000000ull));
        print_result(&j->p, false, __atomic_load_n(&j->progress, __ATOMIC_ACQUIRE), 0, NULL);
        *abandoned = true;
        return false;
    }
    return true;
}

static int blktest_command(int argc, char **argv)
{
    struct blktest_args a;
    struct blk_device *dev;
    struct blktest_job *j;
    char why[200], disk[24];
    uint64_t start, mem_bytes, job_pages, mem_pages, mem;
    bool ran, abandoned = false;
    int err;

    if (!parse_args(argc, argv, &a))
        return 1;
    start = a.disk.whole ? 0 : a.disk.start;
    err = nvme_blk_open(a.disk.ctrl, a.disk.nsid, start, a.disk.whole ? 0 : a.disk.length, &dev,
                        why, sizeof(why));
    if (err) {
        console_printf("blktest: cannot open the disk: %s\n", why);
        print_result(&a.p, false, 0, 0, NULL);
        return 1;
    }
    /* pastend reads two blocks across the end. */
    if (!a.bs_given && a.p.op == BLKTEST_PASTEND && a.p.bs < 2 * dev->block_size)
        a.p.bs = 2 * dev->block_size;
    fmt_snprintf(disk, sizeof(disk), "nvme%un%u", a.disk.ctrl, a.disk.nsid);

    mem_bytes = blktest_mem_bytes(a.p.qd, a.p.bs);
    if (!mem_bytes) {
        console_printf("blktest: qd=%u with bs=%u needs more than %uM of buffers\n", a.p.qd, a.p.bs,
                       BLKTEST_MAX_BUFFERS >> 20);
        nvme_blk_close(dev);
        return 1;
    }
    job_pages = (sizeof(*j) + PAGE_SIZE - 1) / PAGE_SIZE;
    mem_pages = (mem_bytes + PAGE_SIZE - 1) / PAGE_SIZE;
    j = (struct blktest_job *)(uintptr_t)pmm_alloc_pages(job_pages);
    mem = pmm_alloc_pages(mem_pages);
    if (!j || !mem) {
        console_printf("blktest: out of memory (%llu KiB)\n",
                       (unsigned long long)((job_pages + mem_pages) * 4));
        if (j)
            pmm_free_pages((uint64_t)(uintptr_t)j, job_pages);
        if (mem)
            pmm_free_pages(mem, mem_pages);
        print_result(&a.p, false, 0, 0, NULL);
        nvme_blk_close(dev);
        return 1;
    }

    a.p.origin = start;
    a.p.now = tsc_now;
    a.p.ticks_per_sec = tsc_hz();
    a.p.request_timeout_ticks = BLKTEST_REQUEST_TIMEOUT_S * a.p.ticks_per_sec;
    if (!blktest_setup(j, dev, (void *)(uintptr_t)mem, mem_pages * PAGE_SIZE, &a.p, why,
                       sizeof(why))) {
        console_printf("blktest: %s\n", why);
        print_result(&a.p, false, 0, 0, NULL);
        ran = false;
    } else {
        ran = run_on_spare_core(&a, j, dev, start, &abandoned);
        if (ran)
            report(j, disk);
        if (ran && j->res.stuck) {
            console_printf("blktest: %llu request(s) never completed; the test's memory and "
                           "queues stay allocated\n",
                           (unsigned long long)j->res.stuck);
            abandoned = true;
        }
    }
    if (abandoned)
        return 1;
    if (!blktest_teardown(j)) {
        console_printf("blktest: %s; the test's memory stays allocated\n", j->dev.error);
        return 1;
    }
    nvme_blk_close(dev);
    pmm_free_pages(mem, mem_pages);
    pmm_free_pages((uint64_t)(uintptr_t)j, job_pages);
    return ran && j->res.pass ? 0 : 1;
}

SHELL_COMMAND("blktest",
              "nvme:CTRL:NSID[:START+LENGTH] [verify|randread|pastend] [qd=N] [count=N] "
              "[bs=SIZE] [seed=N] [align=N]",
              "drive a disk through virtio-blk on a spare core; verify (default) writes and "
              "checks a pattern, randread measures, pastend reads past the end; align=N "
              "starts buffers N bytes into a page and cuts requests into odd segments",
              blktest_command);
