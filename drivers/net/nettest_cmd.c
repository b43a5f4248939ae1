/* SPDX-License-Identifier: MIT */
/*
 * The shell's `nettest NIC [count=N] [size=BYTES] [burst=N]`: frames from a
 * spare core through NIC's queue pair 0 to an echo peer outside the machine
 * and back (nettest_run.c), every frame verified, while the console CPU
 * waits. The wait is bounded: a run whose frame count stops moving for
 * NETTEST_STALL_NS is given up (and its port kept out of further runs).
 * The first run claims queue pair 0 for good (nic_queue_claim: its receive
 * buffers stay posted); a NIC whose pair 0 is a switch's uplink, polled by
 * that switch's sidecore, is refused.
 *
 * Output: the run's settings, a line saying why when it fails, and always
 * last one line for scripts:
 *   nettest: result=pass|fail frames=N pps=N mean_us=N.N p99_us=N.N
 */
#include "drivers/block/blktest_cpu.h"
#include "drivers/net/nettest_frame.h"
#include "drivers/net/nettest_run.h"
#include "drivers/net/nic.h"
#include "kernel/console/console.h"
#include "kernel/lib/str.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pmm.h"
#include "kernel/shell/shell.h"
#include "kernel/time/clock.h"
#include "kernel/time/tsc.h"
#include "kernel/x86/cpu.h"

#define NETTEST_TIMEOUT_MS 2000
#define NETTEST_STALL_NS   (10ull * 1000000000ull)

static const char usage[] = "usage: nettest NIC [count=N] [size=60..1514] [burst=1..32]\n";

struct nettest_job {
    struct nettest_port *port;
    struct nettest_params p;
    struct nettest_result res;
    volatile bool go, done;
};

static struct nettest_port ports[NIC_MAX_NICS];
static struct nettest_job job;
/* A run that never finished keeps job (and its NIC queue): no more runs. */
static bool job_abandoned;

static uint64_t tsc_now(void)
{
    return rdtsc();
}

static void nettest_on_cpu(void *arg)
{
    struct nettest_job *j = arg;

    while (!__atomic_load_n(&j->go, __ATOMIC_ACQUIRE))
        cpu_relax();
    nettest_run(j->port, &j->p, &j->res);
    __atomic_store_n(&j->done, true, __ATOMIC_RELEASE);
}

static void print_result(bool pass, const struct nettest_result *r, uint64_t hz)
{
    char mean[24], p99[24];
    uint64_t frames = r ? r->frames : 0;
    uint64_t pps = r && r->ticks ? frames * hz / r->ticks : 0;

    latency_format_us(mean, sizeof(mean), r ? latency_stats_mean(&r->lat) : 0);
    latency_format_us(p99, sizeof(p99), r ? latency_stats_quantile(&r->lat, 99, 100) : 0);
    console_printf("nettest: result=%s frames=%llu pps=%llu mean_us=%s p99_us=%s\n",
                   pass ? "pass" : "fail", (unsigned long long)frames, (unsigned long long)pps,
                   mean, p99);
}

static bool parse(int argc, char **argv, unsigned *nic, struct nettest_params *p)
{
    uint64_t v;

    if (argc < 2 || !str_to_u64(argv[1], &v) || v >= nic_count())
        return false;
    *nic = (unsigned)v;
    p->count = 1000;
    p->len = 128;
    p->burst = 8;
    for (int i = 2; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');

        if (!eq || !str_to_u64(eq + 1, &v))
            return false;
        if (strncmp(argv[i], "count=", 6) == 0 && v >= 1 && v <= 100000000)
            p->count = v;
        else if (strncmp(argv[i], "size=", 5) == 0 && v >= NETTEST_MIN_LEN && v <= NETTEST_MAX_LEN)
            p->len = (uint16_t)v;
        else if (strncmp(argv[i], "burst=", 6) == 0 && v >= 1 && v <= NETTEST_MAX_BURST)
            p->burst = (unsigned)v;
        else
            return false;
    }
    return true;
}

/* Waits for the run; false if its frame count stopped moving for too long. */
static bool wait_for_run(struct nettest_job *j)
{
    uint64_t seen = 0, last_change = clock_uptime_ns();

    while (!__atomic_load_n(&j->done, __ATOMIC_ACQUIRE)) {
        uint64_t now = clock_uptime_ns(),
                 frames = __atomic_load_n(&j->res.frames, __ATOMIC_RELAXED);

        if (frames != seen) {
            seen = frames;
            last_change = now;
        }
        if (now - last_change > NETTEST_STALL_NS)
            return false;
        cpu_relax();
    }
    return true;
}

static int nettest_command(int argc, char **argv)
{
    struct nettest_params p;
    unsigned ni;
    uint32_t cpu;

    if (!parse(argc, argv, &ni, &p)) {
        console_printf(nic_count() ? "nettest: bad arguments\n%s" : "nettest: no NICs\n%s", usage);
        print_result(false, NULL, 0);
        return 1;
    }
    struct nic *n = nic_get(ni);
    struct nettest_port *port = &ports[ni];

    if (job_abandoned) {
        console_printf("nettest: an earlier run never finished and still holds its NIC queue\n");
        print_result(false, NULL, 0);
        return 1;
    }
    if (nic_queue_count(n) == 0) {
        console_printf("nettest: nic%u is not up\n", ni);
        print_result(false, NULL, 0);
        return 1;
    }
    const char *holder = NULL;
    if (!nic_queue_claim(n, 0, "nettest", &holder)) {
        console_printf("nettest: nic%u queue 0 belongs to %s\n", ni, holder);
        print_result(false, NULL, 0);
        return 1;
    }
    if (!port->pool) {
        /* Kept for good: its receive buffers stay posted to the NIC. */
        port->pool = (uint8_t *)(uintptr_t)pmm_alloc_pages((NETTEST_POOL_BYTES + 4095) / 4096);
        if (!port->pool) {
            console_printf("nettest: out of memory for %u KiB of buffers\n",
                           NETTEST_POOL_BYTES / 1024);
            print_result(false, NULL, 0);
            return 1;
        }
        port->nic = n;
        port->queue = 0;
    }
    p.now = tsc_now;
    p.ticks_per_sec = tsc_hz();
    p.timeout_ticks = p.ticks_per_sec / 1000 * NETTEST_TIMEOUT_MS;
    memset(&job, 0, sizeof(job));
    job.port = port;
    job.p = p;
    if (!blktest_post_on_spare_cpu(nettest_on_cpu, &job, &cpu)) {
        console_printf("nettest: no spare CPU: every CPU but the boot CPU runs a guest or an I/O "
                       "sidecore (or there is only one)\n");
        print_result(false, NULL, 0);
        return 1;
    }
    const uint8_t *m = nic_mac(n);
    console_printf("nettest: nic%u queue 0 on cpu %u: %llu frames of %u bytes, %u in flight, "
                   "%02x:%02x:%02x:%02x:%02x:%02x -> %02x:%02x:%02x:%02x:%02x:%02x (echoed back)\n",
                   ni, cpu, (unsigned long long)p.count, p.len, p.burst, m[0], m[1], m[2], m[3],
                   m[4], m[5], nettest_peer_mac[0], nettest_peer_mac[1], nettest_peer_mac[2],
                   nettest_peer_mac[3], nettest_peer_mac[4], nettest_peer_mac[5]);
    __atomic_store_n(&job.go, true, __ATOMIC_RELEASE);
    if (!wait_for_run(&job)) {
        console_printf("nettest: FAIL: cpu %u made no progress for %llu s; it keeps nic%u's "
                       "queue pair 0\n",
                       cpu, (unsigned long long)(NETTEST_STALL_NS / 1000000000ull), ni);
        job_abandoned = true;
        print_result(false, NULL, 0);
        return 1;
    }
    if (!job.res.pass)
        console_printf("nettest: FAIL: %s\n", job.res.why);
    else
        console_printf("nettest: pass: %llu frames sent, echoed and verified byte for byte\n",
                       (unsigned long long)job.res.frames);
    print_result(job.res.pass, &job.res, p.ticks_per_sec);
    return job.res.pass ? 0 : 1;
}

SHELL_COMMAND("nettest", "NIC [count=N] [size=60..1514] [burst=1..32]",
              "send frames through a NIC to an echo peer and verify what comes back",
              nettest_command);
