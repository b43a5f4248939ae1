/* SPDX-License-Identifier: MIT */
/*
 * The notify gate under threads (vmm/guest_virtio_gate.c): the real
 * virtio-blk device on a RAM disk behind the real virtio-pci transport, on
 * the real guest PCI bus, with one thread per CPU of a guest:
 *  - vCPU 0 (the driver) resets and sets the device up again and again,
 *    writes and reads back data on both queues, and notifies each request
 *    through a different path: the BAR's notify region, the PCI_CFG window
 *    through ECAM, the same window through ports 0xCF8/0xCFC, and the BAR
 *    after moving it;
 *  - vCPU 1 notifies both queues in a loop through the same paths, as a
 *    hostile guest would, while vCPU 0 works;
 *  - in sidecore mode a sidecore thread polls both queues all along.
 * Every access a vCPU makes holds the guest's device lock (a mutex here),
 * as in the hypervisor; in trap mode a vCPU services what it notified
 * after letting go of it, as guest_virtio_after_exit() does. The invariant
 * of the issue: no queue is ever serviced by two threads at once, and in
 * sidecore mode by nobody but the sidecore; the data reads back intact; and
 * the threads did overlap (a race never run is a failure).
 *
 * test-sources: vmm/guest_virtio_gate.c vmm/guest_pci.c vmm/dev/pci_host.c virtio/virtio_pci.c virtio/virtio_blk.c vmm/sidecore/coalesce.c virtio/virtio_blk_driver.c virtio/virtqueue.c virtio/virtq_driver.c drivers/block/ramdisk.c drivers/block/blk_names.c kernel/lib/fmt.c
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "drivers/block/ramdisk.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_blk_driver.h"
#include "virtio/virtio_pci.h"
#include "vmm/guest_pci.h"
#include "vmm/guest_virtio_gate.h"

#define NQ          2
#define QSIZE       64
#define MEM_BYTES   (4u << 20)
#define DISK_BYTES  (1u << 20)
#define AREA_GPA(q) (0x100000u + (q)*0x40000u)
#define DATA_GPA    0x200000u
#define ROUNDS      40
#define REQUESTS    24 /* per round */
#define MOVED_BAR   (GUEST_PCI_MMIO_BASE + 0x100000u)

/* The common configuration structure (virtio 1.x, 4.1.4.3). */
#define C_STATUS   0x14
#define C_QSELECT  0x16
#define C_QSIZE    0x18
#define C_QENABLE  0x1c
#define C_QDESC    0x20
#define C_QDRIVER  0x28
#define C_QDEVICE  0x30
#define C_GFSELECT 0x08
#define C_GF       0x0c

enum path { PATH_BAR, PATH_ECAM_WINDOW, PATH_PORT_WINDOW, PATH_MOVED_BAR, PATHS };

struct rig {
    bool polled;
    struct vmem mem;
    struct ramdisk rd;
    uint8_t *disk;
    struct virtio_blk blk;
    struct virtio_pci pci;
    struct guest_pci bus;
    uint8_t dev;
    uint64_t bar;
    unsigned window; /* the PCI_CFG capability's offset */
    pthread_mutex_t dev_lock;
    struct virtio_gate_queue gate[NQ];
    volatile uint32_t any_notified;
    /* Who is servicing each queue right now, and what was seen. */
    volatile uint32_t in_service[NQ];
    volatile uint32_t overlaps;       /* a queue serviced by two threads at once */
    volatile uint64_t by_vcpu;        /* service calls made on vCPU threads */
    volatile uint64_t by_sidecore;    /* ... on the sidecore thread */
    volatile uint64_t noisy_notifies; /* vCPU 1's notifies */
    volatile bool stop;
    volatile bool setting_up; /* vCPU 0 is between reset and DRIVER_OK */
    unsigned rounds, rounds_overlapped, sidecore_rounds_overlapped;
    unsigned mismatches;
};

static struct rig R;
static __thread bool on_sidecore;

/* ---- servicing, with the invariant checked ---- */

static unsigned tracked_service(void *ctx, unsigned budget)
{
    struct virtio_blk_queue *q = ctx;

    if (__atomic_fetch_add(&R.in_service[q->index], 1, __ATOMIC_SEQ_CST) != 0)
        __atomic_fetch_add(&R.overlaps, 1, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(on_sidecore ? &R.by_sidecore : &R.by_vcpu, 1, __ATOMIC_RELAXED);
    unsigned n = virtio_blk_queue_service(q, budget);
    __atomic_fetch_sub(&R.in_service[q->index], 1, __ATOMIC_SEQ_CST);
    return n;
}

/* ---- the hypervisor's side: the gate, as vmm/guest_virtio.c wires it ---- */

static void gate_notify(void *ctx, unsigned q)
{
    if (q < NQ && virtio_gate_notify(&R.gate[q]))
        __atomic_store_n(&R.any_notified, 1, __ATOMIC_RELEASE);
}

static void after_exit(void)
{
    if (!__atomic_exchange_n(&R.any_notified, 0, __ATOMIC_ACQ_REL))
        return;
    for (unsigned q = 0; q < NQ; q++)
        virtio_gate_service(&R.gate[q], true, true);
}

static void signal_queue(void *ctx, unsigned q)
{
    virtio_pci_signal_queue(&R.pci, q);
}

static void broken(void *ctx)
{
    virtio_pci_set_needs_reset(&R.pci);
}

static bool bar_address(void *ctx, uint64_t *gpa)
{
    return virtio_pci_bar_address(&R.pci, gpa);
}

static uint64_t bar_read(void *ctx, uint64_t off, unsigned size)
{
    return virtio_pci_bar_read(&R.pci, off, size);
}

static void bar_write(void *ctx, uint64_t off, unsigned size, uint64_t value)
{
    virtio_pci_bar_write(&R.pci, off, size, value);
}

static const struct guest_pci_bar_ops bar_ops = {bar_address, bar_read, bar_write};

/* ---- a vCPU's accesses: each one an exit holding the device lock ---- */

static uint32_t cfg_read(unsigned reg, unsigned size)
{
    pthread_mutex_lock(&R.dev_lock);
    uint32_t v =
        (uint32_t)guest_pci_mmio_read(&R.bus, GUEST_PCI_ECAM_GPA + (R.dev << 15) + reg, size);
    pthread_mutex_unlock(&R.dev_lock);
    return v;
}

static void cfg_write(unsigned reg, unsigned size, uint32_t value)
{
    pthread_mutex_lock(&R.dev_lock);
    guest_pci_mmio_write(&R.bus, GUEST_PCI_ECAM_GPA + (R.dev << 15) + reg, size, value);
    pthread_mutex_unlock(&R.dev_lock);
    if (!R.polled)
        after_exit();
}

static void mmio_write(uint64_t gpa, unsigned size, uint64_t value)
{
    pthread_mutex_lock(&R.dev_lock);
    guest_pci_mmio_write(&R.bus, gpa, size, value);
    pthread_mutex_unlock(&R.dev_lock);
    if (!R.polled)
        after_exit();
}

static uint64_t mmio_read(uint64_t gpa, unsigned size)
{
    pthread_mutex_lock(&R.dev_lock);
    uint64_t v = guest_pci_mmio_read(&R.bus, gpa, size);
    pthread_mutex_unlock(&R.dev_lock);
    return v;
}

/* One notify of queue q through path p. The PCI_CFG window is one
 * configuration write sequence under one lock hold (bar, offset, length,
 * data), so the two vCPUs' windows cannot interleave. */
static void notify(unsigned q, enum path p)
{
    unsigned w = R.window;
    uint32_t at = VIRTIO_PCI_NOTIFY_OFFSET + q * VIRTIO_PCI_NOTIFY_MULT;

    switch (p) {
    case PATH_BAR:
    case PATH_MOVED_BAR: {
        uint64_t base;
        pthread_mutex_lock(&R.dev_lock);
        bool on = virtio_pci_bar_address(&R.pci, &base);
        pthread_mutex_unlock(&R.dev_lock);
        if (on)
            mmio_write(base + at, 2, q);
        return;
    }
    case PATH_ECAM_WINDOW:
        pthread_mutex_lock(&R.dev_lock);
        pci_host_ecam_write(&R.bus.host, (uint64_t)R.dev << 15 | (w + 4), 1, 0);
        pci_host_ecam_write(&R.bus.host, (uint64_t)R.dev << 15 | (w + 8), 4, at);
        pci_host_ecam_write(&R.bus.host, (uint64_t)R.dev << 15 | (w + 12), 4, 2);
        pci_host_ecam_write(&R.bus.host, (uint64_t)R.dev << 15 | (w + 16), 2, q);
        pthread_mutex_unlock(&R.dev_lock);
        break;
    case PATH_PORT_WINDOW: {
        uint32_t addr = 0x80000000u | (uint32_t)R.dev << 11;
        pthread_mutex_lock(&R.dev_lock);
        pci_host_io_write(&R.bus.host, 0xcf8, 4, addr | (w + 4));
        pci_host_io_write(&R.bus.host, 0xcfc, 1, 0);
        pci_host_io_write(&R.bus.host, 0xcf8, 4, addr | (w + 8));
        pci_host_io_write(&R.bus.host, 0xcfc, 4, at);
        pci_host_io_write(&R.bus.host, 0xcf8, 4, addr | (w + 12));
        pci_host_io_write(&R.bus.host, 0xcfc, 4, 2);
        pci_host_io_write(&R.bus.host, 0xcf8, 4, addr | (w + 16));
        pci_host_io_write(&R.bus.host, 0xcfc, 2, q);
        pthread_mutex_unlock(&R.dev_lock);
        break;
    }
    case PATHS: return;
    }
    if (!R.polled)
        after_exit();
}

/* BAR 0 at base, memory decoding on (the guest's own sequence: decoding
 * off, both halves, decoding on). */
static void move_bar(uint64_t base)
{
    cfg_write(0x04, 2, 0);
    cfg_write(0x10, 4, (uint32_t)base | 4);
    cfg_write(0x14, 4, (uint32_t)(base >> 32));
    cfg_write(0x04, 2, 0x6); /* memory, bus master */
}

static void bar_wr(uint64_t off, unsigned size, uint64_t value)
{
    mmio_write(R.bar + off, size, value);
}

/* ---- vCPU 0: the driver ---- */

static struct virtio_blk_driver drv[NQ];

static void device_setup(void)
{
    bar_wr(C_STATUS, 1, 0); /* reset, while the others go on */
    bar_wr(C_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    uint64_t f = virtio_blk_driver_features(R.blk.features | 1ull << VIRTIO_F_VERSION_1);
    bar_wr(C_GFSELECT, 4, 0);
    bar_wr(C_GF, 4, (uint32_t)f);
    bar_wr(C_GFSELECT, 4, 1);
    bar_wr(C_GF, 4, f >> 32);
    bar_wr(C_STATUS, 1,
           VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    for (unsigned q = 0; q < NQ; q++) {
        struct virtq cfg = {0};
        assert_true(virtio_blk_driver_init(&drv[q], &R.mem, AREA_GPA(q), QSIZE,
                                           f & (1ull << VIRTIO_F_RING_INDIRECT_DESC)));
        virtio_blk_driver_queue_config(&drv[q], &cfg);
        bar_wr(C_QSELECT, 2, q);
        bar_wr(C_QSIZE, 2, cfg.size);
        bar_wr(C_QDESC, 8, cfg.desc_gpa);
        bar_wr(C_QDRIVER, 8, cfg.avail_gpa);
        bar_wr(C_QDEVICE, 8, cfg.used_gpa);
        bar_wr(C_QENABLE, 2, 1);
    }
    bar_wr(C_STATUS, 1,
           VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
               VIRTIO_STATUS_DRIVER_OK);
    assert_int_equal(mmio_read(R.bar + C_STATUS, 1) & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
}

/* Waits for one completion on queue q: trap mode services it itself (the
 * backend owes it, as guest_virtio_poll does); sidecore mode waits. */
static void reap_one(unsigned q)
{
    struct virtio_blk_completion c;
    time_t give_up = time(NULL) + 20;

    for (;;) {
        int r = virtio_blk_driver_reap(&drv[q], &c);
        assert_true(r >= 0);
        if (r == 1) {
            assert_int_equal(c.status, VIRTIO_BLK_S_OK);
            return;
        }
        if (!R.polled)
            virtio_gate_service(&R.gate[q], false, true);
        else
            sched_yield();
        if (time(NULL) > give_up)
            fail_msg("queue %u: no completion in 20 s", q);
    }
}

/* Enough rounds ran with the other threads at work. On a loaded machine a
 * thread may not get a CPU for a while: vCPU 0 then goes on past ROUNDS,
 * up to a time limit. */
static bool overlapped_enough(void)
{
    return R.rounds_overlapped >= 4 && (!R.polled || R.sidecore_rounds_overlapped >= 4);
}

static void *driver_vcpu(void *arg)
{
    unsigned req = 0;
    time_t limit = time(NULL) + 30;

    for (unsigned round = 0; round < ROUNDS || (!overlapped_enough() && time(NULL) < limit);
         round++, R.rounds++) {
        uint64_t noisy0 = R.noisy_notifies, side0 = R.by_sidecore;
        bool moved = round % 2;

        R.bar = moved ? MOVED_BAR : GUEST_PCI_MMIO_BASE;
        move_bar(R.bar);
        device_setup();
        for (unsigned i = 0; i < REQUESTS; i++, req++) {
            unsigned q = i % NQ;
            uint64_t sector = (uint64_t)(req % (DISK_BYTES / 4096)) * 8;
            uint8_t *buf = R.mem.base + DATA_GPA + q * 0x2000;
            enum path p = moved ? PATH_MOVED_BAR : (enum path)(i % 3);

            memset(buf, (int)(req * 7 + 1), 4096);
            assert_int_equal(
                virtio_blk_driver_write(&drv[q], sector, DATA_GPA + q * 0x2000, 4096, NULL),
                VIRTIO_BLK_DRIVER_OK);
            notify(q, p);
            reap_one(q);
            memset(buf, 0, 4096);
            assert_int_equal(
                virtio_blk_driver_read(&drv[q], sector, DATA_GPA + q * 0x2000, 4096, NULL),
                VIRTIO_BLK_DRIVER_OK);
            notify(q, (enum path)((p + 1) % PATHS == PATH_MOVED_BAR ? PATH_BAR : (p + 1) % PATHS));
            reap_one(q);
            for (unsigned k = 0; k < 4096; k++) {
                if (buf[k] != (uint8_t)(req * 7 + 1)) {
                    R.mismatches++;
                    break;
                }
            }
        }
        R.rounds_overlapped += R.noisy_notifies != noisy0;
        R.sidecore_rounds_overlapped += R.by_sidecore != side0;
    }
    __atomic_store_n(&R.stop, true, __ATOMIC_RELEASE);
    return NULL;
}

/* ---- vCPU 1: notifies for ever ---- */

static void *noisy_vcpu(void *arg)
{
    for (unsigned i = 0; !__atomic_load_n(&R.stop, __ATOMIC_ACQUIRE); i++) {
        notify(i % NQ, (enum path)(i % 3));
        __atomic_fetch_add(&R.noisy_notifies, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

/* ---- the sidecore ---- */

static void *sidecore(void *arg)
{
    on_sidecore = true;
    while (!__atomic_load_n(&R.stop, __ATOMIC_ACQUIRE)) {
        unsigned work = 0;
        for (unsigned q = 0; q < NQ; q++)
            work += tracked_service(virtio_blk_queue(&R.blk, q), 32);
        if (!work)
            sched_yield();
    }
    return NULL;
}

/* ---- the rig ---- */

static unsigned find_pci_cfg_cap(void)
{
    unsigned pos = cfg_read(0x34, 1);

    for (unsigned n = 0; pos && n < 16; n++) {
        if (cfg_read(pos, 1) == 0x09 && cfg_read(pos + 3, 1) == VIRTIO_PCI_CAP_PCI_CFG)
            return pos;
        pos = cfg_read(pos + 1, 1);
    }
    fail_msg("no VIRTIO_PCI_CAP_PCI_CFG capability");
    return 0;
}

static void rig_build(bool polled)
{
    memset(&R, 0, sizeof(R));
    R.polled = polled;
    R.mem.base = aligned_alloc(4096, MEM_BYTES);
    R.mem.size = MEM_BYTES;
    R.disk = aligned_alloc(4096, DISK_BYTES);
    assert_non_null(R.mem.base);
    assert_non_null(R.disk);
    memset(R.mem.base, 0, MEM_BYTES);
    memset(R.disk, 0, DISK_BYTES);
    assert_true(ramdisk_init(&R.rd, R.disk, DISK_BYTES, "ram0"));
    pthread_mutex_init(&R.dev_lock, NULL);

    struct virtio_blk_params bp = {
        .backend = &R.rd.dev,
        .num_queues = NQ,
        .name = "stress",
        .mem = &R.mem,
        .polled = polled,
        .signal = signal_queue,
        .broken = broken,
    };
    char why[160];
    assert_true(virtio_blk_init(&R.blk, &bp, why, sizeof(why)));
    for (unsigned q = 0; q < NQ; q++)
        virtio_gate_init(&R.gate[q], tracked_service, virtio_blk_queue(&R.blk, q), QSIZE, polled);

    guest_pci_init(&R.bus);
    assert_true(guest_pci_place(&R.bus, VIRTIO_PCI_BAR_SIZE, &R.dev, &R.bar));
    assert_true(guest_pci_add_device(&R.bus, R.dev, &bar_ops, NULL, VIRTIO_PCI_BAR_SIZE));
    struct virtio_pci_params p = {
        .device_type = VIRTIO_ID_BLOCK,
        .class_code = 0x010000,
        .features = R.blk.features,
        .num_queues = NQ,
        .queue_size = QSIZE,
        .config_size = VIRTIO_BLK_CONFIG_SIZE,
        .bar_gpa = R.bar,
        .pci_dev = R.dev,
        .queues = R.blk.vqs,
        .ops = &virtio_blk_pci_ops,
        .dev_ctx = &R.blk,
        .notify = gate_notify,
    };
    virtio_pci_init(&R.pci, &p);
    assert_true(virtio_pci_attach(&R.pci, &R.bus.host));
    R.window = find_pci_cfg_cap();
}

static void rig_free(void)
{
    free(R.mem.base);
    free(R.disk);
    pthread_mutex_destroy(&R.dev_lock);
}

static void run_stress(bool polled)
{
    pthread_t t0, t1, ts;

    rig_build(polled);
    assert_int_equal(pthread_create(&t1, NULL, noisy_vcpu, NULL), 0);
    if (polled)
        assert_int_equal(pthread_create(&ts, NULL, sidecore, NULL), 0);
    assert_int_equal(pthread_create(&t0, NULL, driver_vcpu, NULL), 0);
    pthread_join(t0, NULL);
    pthread_join(t1, NULL);
    if (polled)
        pthread_join(ts, NULL);
    uint64_t exits = 0, traps = 0;
    for (unsigned q = 0; q < NQ; q++) {
        exits += R.gate[q].io_exits;
        traps += R.gate[q].trap_services;
    }
    print_message("%s: %u rounds (%u with vCPU 1 notifying, %u with the sidecore polling), "
                  "notify exits %llu, vCPU services %llu (gate rounds %llu), sidecore services "
                  "%llu, vCPU 1 notifies %llu\n",
                  polled ? "sidecore" : "trap", R.rounds, R.rounds_overlapped,
                  R.sidecore_rounds_overlapped, (unsigned long long)exits,
                  (unsigned long long)R.by_vcpu, (unsigned long long)traps,
                  (unsigned long long)R.by_sidecore, (unsigned long long)R.noisy_notifies);
    assert_int_equal(R.overlaps, 0);
    assert_int_equal(R.mismatches, 0);
    assert_true(exits > 0);
    /* The threads did overlap: vCPU 1 notified during vCPU 0's rounds. */
    assert_true(R.rounds_overlapped > 0);
    if (polled) {
        assert_int_equal(R.by_vcpu, 0); /* no vCPU ever serviced a queue */
        assert_int_equal(traps, 0);
        assert_true(R.sidecore_rounds_overlapped > 0);
    } else {
        assert_true(R.by_vcpu > 0 && traps > 0);
        assert_int_equal(R.by_sidecore, 0);
    }
    rig_free();
}

static void test_sidecore_mode_only_the_sidecore_services(void **state)
{
    run_stress(true);
}

static void test_trap_mode_vcpus_take_turns(void **state)
{
    run_stress(false);
}

/* A trap-mode vCPU does bounded work per exit, however much the guest
 * queued: the gate gives up after VIRTIO_GATE_TRAP_ROUNDS rounds. */
static unsigned always_busy(void *ctx, unsigned budget)
{
    ++*(unsigned *)ctx;
    return budget;
}

static void test_trap_service_is_bounded(void **state)
{
    struct virtio_gate_queue q;
    unsigned calls = 0;

    virtio_gate_init(&q, always_busy, &calls, 256, false);
    assert_true(virtio_gate_notify(&q));
    virtio_gate_service(&q, true, true);
    assert_int_equal(calls, VIRTIO_GATE_TRAP_ROUNDS);
    /* Not notified since: nothing. */
    virtio_gate_service(&q, true, true);
    assert_int_equal(calls, VIRTIO_GATE_TRAP_ROUNDS);
    /* Polled queues are never serviced by a vCPU, notified or not. */
    virtio_gate_init(&q, always_busy, &calls, 256, true);
    assert_false(virtio_gate_notify(&q));
    virtio_gate_service(&q, false, true);
    assert_int_equal(calls, VIRTIO_GATE_TRAP_ROUNDS);
    assert_int_equal(q.io_exits, 1);
    /* Another vCPU holds the lock: a poller gives up at once. */
    virtio_gate_init(&q, always_busy, &calls, 256, false);
    spin_lock(&q.lock);
    virtio_gate_service(&q, false, false);
    spin_unlock(&q.lock);
    assert_int_equal(calls, VIRTIO_GATE_TRAP_ROUNDS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trap_service_is_bounded),
        cmocka_unit_test(test_sidecore_mode_only_the_sidecore_services),
        cmocka_unit_test(test_trap_mode_vcpus_take_turns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
