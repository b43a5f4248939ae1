/* SPDX-License-Identifier: MIT */
/* Unit tests for the virtio-pci modern transport: the PCI header and BAR
 * sizing through the guest's PCI host, the capability list parsed the way
 * Linux's virtio_pci_modern does, feature negotiation, queue setup, reset,
 * ISR, notifications, device configuration, MSI-X delivery and masking
 * (including a two-thread race of signal against unmask), and odd accesses.
 * test-sources: virtio/virtio_pci.c vmm/dev/pci_host.c
 */
#define _GNU_SOURCE /* pthread_setaffinity_np */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <pthread.h>
#include <unistd.h>
#include <sched.h>

#include "virtio/virtio_pci.h"

#define DEV           3
#define NQ            4
#define NVEC          (NQ + 1)
#define BAR_GPA       0xc0000000ull
#define FEAT_SIZE_MAX (1ull << 1)
#define FEATURES                                                                                   \
    (FEAT_SIZE_MAX | 1ull << VIRTIO_F_RING_INDIRECT_DESC | 1ull << VIRTIO_F_RING_EVENT_IDX)
#define V1 (1ull << VIRTIO_F_VERSION_1)

/* Common configuration offsets (virtio 1.x, 4.1.4.3). */
#define C_DFSELECT 0x00
#define C_DF       0x04
#define C_GFSELECT 0x08
#define C_GF       0x0c
#define C_MSIX     0x10
#define C_NUMQ     0x12
#define C_STATUS   0x14
#define C_GEN      0x15
#define C_QSELECT  0x16
#define C_QSIZE    0x18
#define C_QVECTOR  0x1a
#define C_QENABLE  0x1c
#define C_QNOTIFY  0x1e
#define C_QDESC    0x20
#define C_QDRIVER  0x28
#define C_QDEVICE  0x30

#define MSIX_ENABLE  0x8000
#define MSIX_MASKALL 0x4000

struct msi_record {
    uint64_t address;
    uint32_t data;
};

/* The device behind the transport, and the interrupt sinks. */
struct fake {
    unsigned resets, driver_oks, notifies[NQ], enables;
    unsigned last_enable_q;
    uint64_t last_enable_features;
    struct virtq at_enable; /* the queue as the device saw it when enabled */
    bool refuse_enable;
    uint8_t config[64];
    unsigned config_reads, config_writes, last_cfg_offset, last_cfg_size;
    unsigned msis, msis_main_thread;
    struct msi_record msi[64];
    int intx; /* -1: never called */
};

static struct fake F;
static pthread_t main_thread;
static struct virtq vqs[NQ];
static struct virtio_pci T;
static struct pci_host H;

static uint32_t fake_config_read(void *dev, unsigned offset, unsigned size)
{
    struct fake *f = dev;
    uint32_t v = 0;

    f->config_reads++;
    f->last_cfg_offset = offset;
    f->last_cfg_size = size;
    assert_true(offset + size <= sizeof(f->config)); /* the transport bounds it */
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)f->config[offset + i] << (8 * i);
    return v;
}

static void fake_config_write(void *dev, unsigned offset, unsigned size, uint32_t value)
{
    struct fake *f = dev;

    f->config_writes++;
    f->last_cfg_offset = offset;
    f->last_cfg_size = size;
    assert_true(offset + size <= sizeof(f->config));
    for (unsigned i = 0; i < size; i++)
        f->config[offset + i] = (uint8_t)(value >> (8 * i));
}

static bool fake_queue_enable(void *dev, unsigned q, uint64_t features)
{
    struct fake *f = dev;

    assert_true(q < NQ);
    f->enables++;
    f->last_enable_q = q;
    f->last_enable_features = features;
    f->at_enable = vqs[q];
    return !f->refuse_enable;
}

static void fake_driver_ok(void *dev)
{
    ((struct fake *)dev)->driver_oks++;
}

static void fake_reset(void *dev)
{
    ((struct fake *)dev)->resets++;
}

static void fake_notify(void *dev, unsigned q)
{
    assert_true(q < NQ);
    ((struct fake *)dev)->notifies[q]++;
}

static const struct virtio_pci_ops fake_ops = {
    .config_read = fake_config_read,
    .config_write = fake_config_write,
    .queue_enable = fake_queue_enable,
    .driver_ok = fake_driver_ok,
    .reset = fake_reset,
};

static void fake_msi(void *ctx, uint64_t address, uint32_t data)
{
    struct fake *f = ctx;
    unsigned n = __atomic_fetch_add(&f->msis, 1, __ATOMIC_SEQ_CST);

    if (pthread_equal(pthread_self(), main_thread))
        __atomic_fetch_add(&f->msis_main_thread, 1, __ATOMIC_SEQ_CST);

    if (n < 64)
        f->msi[n] = (struct msi_record){address, data};
}

static void fake_intx(void *ctx, bool asserted)
{
    ((struct fake *)ctx)->intx = asserted;
}

static struct virtio_pci_params params(void)
{
    return (struct virtio_pci_params){
        .device_type = 2,
        .class_code = 0x010000,
        .features = FEATURES,
        .num_queues = NQ,
        .queue_size = 256,
        .config_size = 64,
        .bar_gpa = BAR_GPA,
        .pci_dev = DEV,
        .queues = vqs,
        .ops = &fake_ops,
        .dev_ctx = &F,
        .notify = fake_notify,
        .notify_ctx = &F,
        .msi = fake_msi,
        .msi_ctx = &F,
        .intx = fake_intx,
    };
}

static int setup(void **state)
{
    memset(&F, 0, sizeof(F));
    main_thread = pthread_self();
    F.intx = -1;
    memset(vqs, 0, sizeof(vqs));
    for (unsigned i = 0; i < sizeof(F.config); i++)
        F.config[i] = (uint8_t)(0x40 + i);
    struct virtio_pci_params p = params();
    pci_host_init(&H);
    virtio_pci_init(&T, &p);
    assert_true(virtio_pci_attach(&T, &H));
    return 0;
}

/* Configuration space through the host's ECAM window, as the guest sees it. */
static uint32_t cfg_rd(unsigned reg, unsigned size)
{
    return (uint32_t)pci_host_ecam_read(&H, (uint64_t)DEV << 15 | reg, size);
}

static void cfg_wr(unsigned reg, unsigned size, uint32_t value)
{
    pci_host_ecam_write(&H, (uint64_t)DEV << 15 | reg, size, value);
}

static uint64_t rd(uint64_t off, unsigned size)
{
    return virtio_pci_bar_read(&T, off, size);
}

static void wr(uint64_t off, unsigned size, uint64_t value)
{
    virtio_pci_bar_write(&T, off, size, value);
}

static uint8_t status(void)
{
    return (uint8_t)rd(C_STATUS, 1);
}

static void set_driver_features(uint64_t f)
{
    wr(C_GFSELECT, 4, 0);
    wr(C_GF, 4, (uint32_t)f);
    wr(C_GFSELECT, 4, 1);
    wr(C_GF, 4, f >> 32);
}

/* ACKNOWLEDGE, DRIVER, features, FEATURES_OK: true if the device took them. */
static bool negotiate(uint64_t f)
{
    wr(C_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
    wr(C_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    set_driver_features(f);
    wr(C_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    return status() & VIRTIO_STATUS_FEATURES_OK;
}

static void setup_queue(unsigned q, uint16_t size, uint64_t desc, uint64_t drv, uint64_t dev)
{
    wr(C_QSELECT, 2, q);
    wr(C_QSIZE, 2, size);
    wr(C_QDESC, 4, (uint32_t)desc);
    wr(C_QDESC + 4, 4, desc >> 32);
    wr(C_QDRIVER, 8, drv);
    wr(C_QDEVICE + 4, 4, dev >> 32); /* high half first: order does not matter */
    wr(C_QDEVICE, 4, (uint32_t)dev);
}

static void msix_program(unsigned v, uint64_t address, uint32_t data, bool masked)
{
    uint64_t e = VIRTIO_PCI_MSIX_OFFSET + 16 * v;
    wr(e, 4, (uint32_t)address);
    wr(e + 4, 4, address >> 32);
    wr(e + 8, 4, data);
    wr(e + 12, 4, masked);
}

/* Finds the MSI-X capability: its offset, or 0. */
static unsigned find_cap(uint8_t id)
{
    unsigned pos = cfg_rd(0x34, 1) & ~3u;

    for (int ttl = 48; pos >= 0x40 && ttl > 0; ttl--) {
        if (cfg_rd(pos, 1) == id)
            return pos;
        pos = cfg_rd(pos + 1, 1) & ~3u;
    }
    return 0;
}

static void msix_enable(uint16_t extra)
{
    unsigned cap = find_cap(0x11);
    assert_int_not_equal(cap, 0);
    cfg_wr(cap + 2, 2, MSIX_ENABLE | extra);
}

/* ---- header and BAR ---- */

static void test_header(void **state)
{
    assert_int_equal(cfg_rd(0x00, 4), 0x10421af4u); /* 1af4:1042 (block) */
    assert_int_equal(cfg_rd(0x08, 1), 1);           /* revision */
    assert_int_equal(cfg_rd(0x08, 4) >> 8, 0x010000);
    assert_int_equal(cfg_rd(0x0e, 1), 0x00); /* header type 0, single function */
    assert_int_equal(cfg_rd(0x2c, 2), 0x1af4);
    assert_int_equal(cfg_rd(0x2e, 2), 2);
    assert_int_equal(cfg_rd(0x3d, 1), 1);  /* INTA# */
    assert_true(cfg_rd(0x06, 2) & 0x0010); /* capabilities list */
    assert_int_equal(cfg_rd(0x04, 2), 0);  /* decoding off */
    assert_int_equal(cfg_rd(0x18, 4), 0);  /* BARs 2..5 absent: one 64-bit BAR */
    assert_int_equal(cfg_rd(0x30, 4), 0);  /* no expansion ROM */
    assert_int_equal(cfg_rd(0x100, 4), 0); /* no extended capabilities */

    cfg_wr(0x00, 4, 0x12345678);
    cfg_wr(0x08, 4, 0xffffffff);
    cfg_wr(0x2c, 4, 0);
    cfg_wr(0x3d, 1, 4);
    assert_int_equal(cfg_rd(0x00, 4), 0x10421af4u);
    assert_int_equal(cfg_rd(0x08, 4), 0x01000001u);
    assert_int_equal(cfg_rd(0x2c, 4), 0x00021af4u);
    assert_int_equal(cfg_rd(0x3d, 1), 1);
    cfg_wr(0x04, 2, 0xffff);
    assert_int_equal(cfg_rd(0x04, 2), 0x0406); /* memory, bus master, INTx disable */
    cfg_wr(0x3c, 1, 0x0b);
    assert_int_equal(cfg_rd(0x3c, 2), 0x010b);

    /* A function without an INTx line says so: interrupt pin 0. */
    struct virtio_pci_params pn = params();
    struct virtio_pci no_intx;
    pn.intx = NULL;
    virtio_pci_init(&no_intx, &pn);
    assert_int_equal(pci_cfg_regs_read(&no_intx.cfg, 0x3d, 1), 0);

    /* Another type and class. */
    struct virtio_pci_params p = params();
    p.device_type = 1;
    p.class_code = 0x020000;
    struct virtio_pci t2;
    virtio_pci_init(&t2, &p);
    assert_false(virtio_pci_attach(&t2, &H)); /* 00:03.0 is taken */
    p.pci_dev = 4;
    virtio_pci_init(&t2, &p);
    assert_true(virtio_pci_attach(&t2, &H));
    assert_int_equal(pci_host_ecam_read(&H, 4u << 15, 4), 0x10411af4u);
    assert_int_equal(pci_host_ecam_read(&H, 4u << 15 | 0x0a, 2), 0x0200);
}

static void test_bar_sizing(void **state)
{
    uint64_t gpa;

    assert_int_equal(cfg_rd(0x10, 4), 0xc0000004u); /* 64-bit memory, not prefetchable */
    assert_int_equal(cfg_rd(0x14, 4), 0);
    assert_false(virtio_pci_bar_address(&T, &gpa)); /* decoding off */
    cfg_wr(0x04, 2, 0x0002);
    assert_true(virtio_pci_bar_address(&T, &gpa));
    assert_true(gpa == BAR_GPA);

    /* Linux's __pci_read_base(): decoding off, each half sized and restored. */
    cfg_wr(0x04, 2, 0x0000);
    uint32_t lo = cfg_rd(0x10, 4), hi = cfg_rd(0x14, 4);
    cfg_wr(0x10, 4, 0xffffffff);
    uint32_t lo_mask = cfg_rd(0x10, 4);
    cfg_wr(0x10, 4, lo);
    cfg_wr(0x14, 4, 0xffffffff);
    uint32_t hi_mask = cfg_rd(0x14, 4);
    cfg_wr(0x14, 4, hi);
    assert_int_equal(lo_mask, 0xffff8004u);
    assert_int_equal(hi_mask, 0xffffffffu);
    uint64_t mask = (uint64_t)hi_mask << 32 | (lo_mask & ~0xfu);
    assert_true(~mask + 1 == VIRTIO_PCI_BAR_SIZE);
    assert_int_equal(cfg_rd(0x10, 4), 0xc0000004u);

    /* A probe seen while decoding is on is not an address. */
    cfg_wr(0x04, 2, 0x0002);
    cfg_wr(0x10, 4, 0xffffffff);
    assert_false(virtio_pci_bar_address(&T, &gpa));
    cfg_wr(0x10, 4, lo);
    cfg_wr(0x14, 4, 0xffffffff);
    assert_false(virtio_pci_bar_address(&T, &gpa));
    cfg_wr(0x14, 4, 0);

    /* Moved above 4 GiB; address bits below the size are hardwired to 0. */
    cfg_wr(0x10, 4, 0x80001234);
    cfg_wr(0x14, 4, 0x2);
    assert_int_equal(cfg_rd(0x10, 4), 0x80000004u);
    assert_true(virtio_pci_bar_address(&T, &gpa));
    assert_true(gpa == 0x280000000ull);
    assert_true(pci_host_ecam_read(&H, (uint64_t)DEV << 15 | 0x10, 8) == 0x280000004ull);

    /* An unaligned params.bar_gpa is aligned down, not trusted. */
    struct virtio_pci_params p = params();
    p.bar_gpa = 0xc0001000;
    struct virtio_pci t2;
    virtio_pci_init(&t2, &p);
    assert_int_equal(pci_cfg_regs_read(&t2.cfg, 0x10, 4), 0xc0000004u);
}

/* ---- capabilities, parsed as Linux's virtio_pci_modern does ---- */

struct vcap {
    unsigned pos;
    uint8_t bar;
    uint32_t offset, length;
};

/* virtio_pci_find_capability(): the first vendor capability of cfg_type. */
static bool find_virtio_cap(uint8_t cfg_type, struct vcap *c)
{
    unsigned pos = cfg_rd(0x34, 1) & ~3u;

    for (int ttl = 48; pos >= 0x40 && ttl > 0; ttl--) {
        if (cfg_rd(pos, 1) == 0x09 && cfg_rd(pos + 3, 1) == cfg_type) {
            c->pos = pos;
            c->bar = (uint8_t)cfg_rd(pos + 4, 1);
            c->offset = cfg_rd(pos + 8, 4);
            c->length = cfg_rd(pos + 12, 4);
            return c->bar < 6;
        }
        pos = cfg_rd(pos + 1, 1) & ~3u;
    }
    return false;
}

/* vp_modern_map_capability()'s checks: the region fits the BAR, is aligned
 * and at least minlen long. */
static void check_region(const struct vcap *c, uint32_t minlen, uint32_t align)
{
    assert_int_equal(c->bar, 0);
    assert_true(c->length >= minlen);
    assert_int_equal(c->offset % align, 0);
    assert_true((uint64_t)c->offset + minlen <= VIRTIO_PCI_BAR_SIZE);
    assert_true((uint64_t)c->offset + c->length <= VIRTIO_PCI_BAR_SIZE);
}

static void test_capability_chain(void **state)
{
    struct vcap common, notify, isr, device, pcicfg;

    /* The chain is well formed: dword aligned, inside the header's
     * capability area, ends, and every capability's bytes fit. */
    unsigned pos = cfg_rd(0x34, 1), count = 0;
    while (pos) {
        assert_true(pos >= 0x40 && pos <= 0xfc && pos % 4 == 0);
        unsigned len = cfg_rd(pos, 1) == 0x09 ? cfg_rd(pos + 2, 1) : 12;
        assert_true(pos + len <= 0x100);
        pos = cfg_rd(pos + 1, 1);
        assert_true(++count <= 8);
    }
    assert_int_equal(count, 6);

    assert_true(find_virtio_cap(VIRTIO_PCI_CAP_COMMON_CFG, &common));
    assert_true(find_virtio_cap(VIRTIO_PCI_CAP_NOTIFY_CFG, &notify));
    assert_true(find_virtio_cap(VIRTIO_PCI_CAP_ISR_CFG, &isr));
    assert_true(find_virtio_cap(VIRTIO_PCI_CAP_DEVICE_CFG, &device));
    assert_true(find_virtio_cap(VIRTIO_PCI_CAP_PCI_CFG, &pcicfg));
    check_region(&common, 56, 4);
    check_region(&isr, 1, 1);
    check_region(&device, 0, 4);
    check_region(&notify, 2, 2);
    assert_int_equal(common.offset, VIRTIO_PCI_COMMON_OFFSET);
    assert_int_equal(isr.offset, VIRTIO_PCI_ISR_OFFSET);
    assert_int_equal(device.offset, VIRTIO_PCI_DEVCFG_OFFSET);
    assert_int_equal(device.length, 64);
    assert_int_equal(notify.offset, VIRTIO_PCI_NOTIFY_OFFSET);
    assert_int_equal(cfg_rd(common.pos + 2, 1), 16);
    assert_int_equal(cfg_rd(notify.pos + 2, 1), 20);
    assert_int_equal(cfg_rd(pcicfg.pos + 2, 1), 20);
    uint32_t mult = cfg_rd(notify.pos + 16, 4);
    assert_int_equal(mult, VIRTIO_PCI_NOTIFY_MULT);

    /* The regions are where the caps say: num_queues through "common",
     * and each queue's notify address inside the notify region. */
    assert_int_equal(rd(common.offset + C_NUMQ, 2), NQ);
    for (unsigned q = 0; q < NQ; q++) {
        wr(common.offset + C_QSELECT, 2, q);
        uint32_t off = (uint32_t)rd(common.offset + C_QNOTIFY, 2) * mult;
        assert_true(off + 2 <= notify.length);
        assert_int_equal(off, 4 * q);
    }

    /* MSI-X: table size NVEC, table and PBA in BAR 0 where promised. */
    unsigned msix = find_cap(0x11);
    assert_int_not_equal(msix, 0);
    assert_int_equal(cfg_rd(msix + 2, 2), NVEC - 1);
    assert_int_equal(cfg_rd(msix + 4, 4), VIRTIO_PCI_MSIX_OFFSET); /* BIR 0 */
    assert_int_equal(cfg_rd(msix + 8, 4), VIRTIO_PCI_PBA_OFFSET);
    cfg_wr(msix + 2, 2, 0xffff);
    assert_int_equal(cfg_rd(msix + 2, 2), 0xc000 | (NVEC - 1)); /* size read-only */
    cfg_wr(msix + 4, 4, 0);
    assert_int_equal(cfg_rd(msix + 4, 4), VIRTIO_PCI_MSIX_OFFSET);
    /* Capability bytes are read-only. */
    cfg_wr(common.pos, 4, 0);
    cfg_wr(common.pos + 8, 4, 0x1234);
    assert_true(find_virtio_cap(VIRTIO_PCI_CAP_COMMON_CFG, &common));
    assert_int_equal(common.offset, 0);

    /* Without device configuration there is no DEVICE cap. */
    struct virtio_pci_params p = params();
    p.config_size = 0;
    p.pci_dev = 5;
    struct virtio_pci t2;
    virtio_pci_init(&t2, &p);
    assert_true(virtio_pci_attach(&t2, &H));
    unsigned n = 0;
    for (pos = pci_cfg_regs_read(&t2.cfg, 0x34, 1); pos;
         pos = pci_cfg_regs_read(&t2.cfg, pos + 1, 1)) {
        if (pci_cfg_regs_read(&t2.cfg, pos, 1) == 0x09)
            assert_int_not_equal(pci_cfg_regs_read(&t2.cfg, pos + 3, 1), VIRTIO_PCI_CAP_DEVICE_CFG);
        assert_true(++n <= 8);
    }
    assert_int_equal(n, 5);
}

static void test_pci_cfg_window(void **state)
{
    struct vcap c;

    assert_true(find_virtio_cap(VIRTIO_PCI_CAP_PCI_CFG, &c));
    unsigned data = c.pos + 16;
    /* Read num_queues through the window (BAR decoding stays off). */
    cfg_wr(c.pos + 4, 1, 0);
    cfg_wr(c.pos + 8, 4, VIRTIO_PCI_COMMON_OFFSET + C_NUMQ);
    cfg_wr(c.pos + 12, 4, 2);
    assert_int_equal(cfg_rd(data, 2), NQ);
    /* Write device_feature_select = 1, then read device_feature. */
    cfg_wr(c.pos + 8, 4, C_DFSELECT);
    cfg_wr(c.pos + 12, 4, 4);
    cfg_wr(data, 4, 1);
    assert_int_equal(rd(C_DFSELECT, 4), 1);
    cfg_wr(c.pos + 8, 4, C_DF);
    assert_int_equal(cfg_rd(data, 4), 1); /* VERSION_1 is bit 32 */
    /* A byte of device configuration. */
    cfg_wr(c.pos + 8, 4, VIRTIO_PCI_DEVCFG_OFFSET + 5);
    cfg_wr(c.pos + 12, 4, 1);
    assert_int_equal(cfg_rd(data, 1), 0x45);
    cfg_wr(data, 1, 0x99);
    assert_int_equal(F.config[5], 0x99);

    /* Invalid windows do nothing: misaligned, bad length, other BAR, out. */
    unsigned writes = F.config_writes;
    cfg_wr(c.pos + 8, 4, VIRTIO_PCI_DEVCFG_OFFSET + 1);
    cfg_wr(c.pos + 12, 4, 2);
    cfg_wr(data, 2, 0x1111);
    cfg_wr(c.pos + 12, 4, 3);
    cfg_wr(data, 4, 0x2222);
    cfg_wr(c.pos + 8, 4, VIRTIO_PCI_DEVCFG_OFFSET);
    cfg_wr(c.pos + 12, 4, 4);
    cfg_wr(c.pos + 4, 1, 1);
    cfg_wr(data, 4, 0x3333);
    cfg_wr(c.pos + 4, 1, 0);
    cfg_wr(c.pos + 8, 4, 0xfffffffc);
    cfg_wr(data, 4, 0x4444);
    assert_int_equal(F.config_writes, writes);
    assert_int_equal(rd(C_DFSELECT, 4), 1);
}

/* A notify through the PCI_CFG window leaves the transport the way a BAR
 * notify does: through params.notify, the caller's gate, and nowhere else
 * (the device's operations have no notify). */
/* The caller hears of every write that may move BAR 0 or change memory
 * decoding (it moves the notify page after it), and of no other. */
static unsigned bar_changes;

static void count_bar_change(void *ctx)
{
    assert_ptr_equal(ctx, &F);
    bar_changes++;
}

static void test_bar_changed_callback(void **state)
{
    struct virtio_pci_params p = params();

    p.bar_changed = count_bar_change;
    virtio_pci_init(&T, &p);
    pci_host_init(&H);
    assert_true(virtio_pci_attach(&T, &H));
    bar_changes = 0;
    cfg_wr(0x10, 4, 0xd0000000);
    cfg_wr(0x14, 4, 0);
    cfg_wr(0x04, 2, 0x2);
    assert_int_equal(bar_changes, 3);
    cfg_wr(0x3c, 1, 5);  /* interrupt line */
    cfg_wr(0x0c, 1, 16); /* cache line size */
    assert_int_equal(bar_changes, 3);
    uint64_t base;
    assert_true(virtio_pci_bar_address(&T, &base));
    assert_int_equal(base, 0xd0000000);
}

static void test_pci_cfg_window_notify(void **state)
{
    struct vcap c;

    assert_true(negotiate(V1));
    setup_queue(1, 256, 0x1000, 0x2000, 0x3000);
    wr(C_QENABLE, 2, 1);
    assert_true(find_virtio_cap(VIRTIO_PCI_CAP_PCI_CFG, &c));
    cfg_wr(c.pos + 4, 1, 0);
    cfg_wr(c.pos + 8, 4, VIRTIO_PCI_NOTIFY_OFFSET + 1 * VIRTIO_PCI_NOTIFY_MULT);
    cfg_wr(c.pos + 12, 4, 2);
    cfg_wr(c.pos + 16, 2, 1);
    assert_int_equal(F.notifies[1], 1);
    /* A queue that is not enabled, and a window into the middle of a
     * queue's notify address: nothing. */
    cfg_wr(c.pos + 8, 4, VIRTIO_PCI_NOTIFY_OFFSET + 2 * VIRTIO_PCI_NOTIFY_MULT);
    cfg_wr(c.pos + 16, 2, 2);
    cfg_wr(c.pos + 8, 4, VIRTIO_PCI_NOTIFY_OFFSET + 1 * VIRTIO_PCI_NOTIFY_MULT + 2);
    cfg_wr(c.pos + 16, 2, 1);
    assert_int_equal(F.notifies[0] + F.notifies[1] + F.notifies[2] + F.notifies[3], 1);
}

/* ---- negotiation, queues, reset ---- */

static void test_feature_negotiation(void **state)
{
    wr(C_DFSELECT, 4, 0);
    assert_int_equal(rd(C_DF, 4), (uint32_t)FEATURES);
    wr(C_DFSELECT, 4, 1);
    assert_int_equal(rd(C_DF, 4), 1);
    wr(C_DFSELECT, 4, 2);
    assert_int_equal(rd(C_DF, 4), 0);
    wr(C_DF, 4, 0xffffffff); /* read-only */
    wr(C_DFSELECT, 4, 0);
    assert_int_equal(rd(C_DF, 4), (uint32_t)FEATURES);
    assert_true(rd(C_DFSELECT, 8) == (uint64_t)(uint32_t)FEATURES << 32);

    /* Without VERSION_1: refused. */
    assert_false(negotiate(FEAT_SIZE_MAX));
    assert_int_equal(status(), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(C_STATUS, 1, 0);
    /* A feature the device does not offer: refused. */
    assert_false(negotiate(V1 | 1ull << 5));
    wr(C_STATUS, 1, 0);
    assert_false(negotiate(V1 | 1ull << 40));
    wr(C_STATUS, 1, 0);
    /* A subset with VERSION_1: accepted, and then fixed. */
    assert_true(negotiate(V1 | 1ull << VIRTIO_F_RING_EVENT_IDX));
    wr(C_GFSELECT, 4, 0);
    assert_int_equal(rd(C_GF, 4), 1u << VIRTIO_F_RING_EVENT_IDX);
    wr(C_GF, 4, 0);
    assert_int_equal(rd(C_GF, 4), 1u << VIRTIO_F_RING_EVENT_IDX);
    wr(C_GFSELECT, 4, 1);
    assert_int_equal(rd(C_GF, 4), 1);
    assert_int_equal(F.driver_oks, 0);
    /* The driver cannot clear bits or set NEEDS_RESET itself. */
    wr(C_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    assert_int_equal(status(),
                     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    wr(C_STATUS, 1, 0x0f);
    assert_int_equal(status(), 0x0f);
    assert_int_equal(F.driver_oks, 1);
    wr(C_STATUS, 1, 0x0f); /* not again */
    assert_int_equal(F.driver_oks, 1);
}

static void test_driver_ok_without_features(void **state)
{
    wr(C_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
    assert_int_equal(F.driver_oks, 0);
    assert_true(status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

static void test_queue_setup_and_enable(void **state)
{
    assert_true(negotiate(V1 | 1ull << VIRTIO_F_RING_EVENT_IDX | FEAT_SIZE_MAX));
    wr(C_QSELECT, 2, 1);
    assert_int_equal(rd(C_QSIZE, 2), 256);
    assert_int_equal(rd(C_QNOTIFY, 2), 1);
    assert_int_equal(rd(C_QVECTOR, 2), VIRTIO_PCI_NO_VECTOR);
    assert_int_equal(rd(C_QENABLE, 2), 0);
    setup_queue(1, 128, 0x123456000ull, 0x10000, 0x7fff0000ull);
    assert_true(rd(C_QDESC, 8) == 0x123456000ull);
    assert_int_equal(rd(C_QDESC + 4, 4), 0x1);
    assert_true(rd(C_QDRIVER, 8) == 0x10000);
    assert_true(rd(C_QDEVICE, 8) == 0x7fff0000ull);
    assert_int_equal(vqs[1].size, 0); /* nothing reaches the device before enable */
    assert_int_equal(F.enables, 0);

    wr(C_QENABLE, 2, 1);
    assert_int_equal(F.enables, 1);
    assert_int_equal(F.last_enable_q, 1);
    assert_true(F.last_enable_features == (V1 | 1ull << VIRTIO_F_RING_EVENT_IDX | FEAT_SIZE_MAX));
    assert_int_equal(F.at_enable.size, 128);
    assert_true(F.at_enable.desc_gpa == 0x123456000ull);
    assert_true(F.at_enable.avail_gpa == 0x10000);
    assert_true(F.at_enable.used_gpa == 0x7fff0000ull);
    assert_true(F.at_enable.event_idx);
    assert_false(F.at_enable.indirect);
    assert_int_equal(rd(C_QENABLE, 2), 1);
    assert_int_equal(status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);

    /* Enabled: the configuration is fixed, enable is not called again. */
    wr(C_QSIZE, 2, 64);
    wr(C_QDESC, 8, 0);
    wr(C_QENABLE, 2, 1);
    assert_int_equal(rd(C_QSIZE, 2), 128);
    assert_true(rd(C_QDESC, 8) == 0x123456000ull);
    assert_int_equal(F.enables, 1);

    /* An absent queue reads 0 and takes nothing. */
    wr(C_QSELECT, 2, NQ);
    assert_int_equal(rd(C_QSIZE, 2), 0);
    assert_int_equal(rd(C_QVECTOR, 2), VIRTIO_PCI_NO_VECTOR);
    wr(C_QSIZE, 2, 8);
    wr(C_QENABLE, 2, 1);
    assert_int_equal(rd(C_QSIZE, 2), 0);
    assert_int_equal(F.enables, 1);

    /* Indirect negotiated shows in the queue. */
    wr(C_STATUS, 1, 0);
    assert_true(negotiate(V1 | 1ull << VIRTIO_F_RING_INDIRECT_DESC));
    setup_queue(0, 256, 0x1000, 0x2000, 0x3000);
    wr(C_QENABLE, 2, 1);
    assert_true(F.at_enable.indirect);
    assert_false(F.at_enable.event_idx);
    assert_int_equal(F.last_enable_q, 0);
}

static void test_queue_enable_refused(void **state)
{
    /* Before FEATURES_OK. */
    setup_queue(0, 256, 0x1000, 0x2000, 0x3000);
    wr(C_QENABLE, 2, 1);
    assert_int_equal(F.enables, 0);
    assert_true(status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    assert_int_equal(rd(C_QENABLE, 2), 0);

    /* Sizes that are not a power of two, or above the maximum. */
    const uint16_t bad[] = {100, 512, 0, 3};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wr(C_STATUS, 1, 0);
        assert_true(negotiate(V1));
        setup_queue(2, bad[i], 0x1000, 0x2000, 0x3000);
        assert_int_equal(rd(C_QSIZE, 2), bad[i]);
        wr(C_QENABLE, 2, 1);
        assert_int_equal(F.enables, 0);
        assert_int_equal(rd(C_QENABLE, 2), 0);
        assert_true(status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    }

    /* The device refuses. */
    wr(C_STATUS, 1, 0);
    assert_true(negotiate(V1));
    F.refuse_enable = true;
    setup_queue(3, 16, 0x1000, 0x2000, 0x3000);
    wr(C_QENABLE, 2, 1);
    assert_int_equal(F.enables, 1);
    assert_int_equal(rd(C_QENABLE, 2), 0);
    assert_true(status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    /* DRIVER_OK on a broken device does not start it. */
    wr(C_STATUS, 1, 0x0f);
    assert_int_equal(F.driver_oks, 0);
}

static void test_reset(void **state)
{
    assert_true(negotiate(V1 | FEAT_SIZE_MAX));
    setup_queue(1, 64, 0x1000, 0x2000, 0x3000);
    wr(C_QVECTOR, 2, 2);
    wr(C_QENABLE, 2, 1);
    wr(C_MSIX, 2, 0);
    wr(C_DFSELECT, 4, 1);
    wr(C_STATUS, 1, 0x0f);
    virtio_pci_signal_queue(&T, 1); /* MSI-X off: ISR */
    virtio_pci_set_needs_reset(&T);
    assert_int_equal(F.resets, 0);

    wr(C_STATUS, 1, 0);
    assert_int_equal(F.resets, 1);
    assert_int_equal(status(), 0);
    assert_int_equal(rd(C_DFSELECT, 4), 0);
    assert_int_equal(rd(C_MSIX, 2), VIRTIO_PCI_NO_VECTOR);
    wr(C_GFSELECT, 4, 0);
    assert_int_equal(rd(C_GF, 4), 0);
    wr(C_GFSELECT, 4, 1);
    assert_int_equal(rd(C_GF, 4), 0);
    assert_int_equal(rd(C_QSELECT, 2), 0);
    for (unsigned q = 0; q < NQ; q++) {
        wr(C_QSELECT, 2, q);
        assert_int_equal(rd(C_QSIZE, 2), 256);
        assert_int_equal(rd(C_QVECTOR, 2), VIRTIO_PCI_NO_VECTOR);
        assert_int_equal(rd(C_QENABLE, 2), 0);
        assert_true(rd(C_QDESC, 8) == 0 && rd(C_QDRIVER, 8) == 0 && rd(C_QDEVICE, 8) == 0);
    }
    assert_int_equal(rd(VIRTIO_PCI_ISR_OFFSET, 1), 0);
    assert_int_equal(F.intx, 0);
    /* A disabled queue takes no notifications any more. */
    wr(VIRTIO_PCI_NOTIFY_OFFSET + 4, 2, 1);
    assert_int_equal(F.notifies[1], 0);
    /* And it can be set up again. */
    assert_true(negotiate(V1));
    setup_queue(1, 32, 0x1000, 0x2000, 0x3000);
    wr(C_QENABLE, 2, 1);
    assert_int_equal(rd(C_QENABLE, 2), 1);
    assert_int_equal(F.enables, 2);
}

/* ---- ISR, notify, device configuration ---- */

static void test_isr_read_to_clear(void **state)
{
    assert_true(negotiate(V1));
    setup_queue(0, 256, 0x1000, 0x2000, 0x3000);
    wr(C_QVECTOR, 2, 1); /* ignored while MSI-X is off */
    wr(C_QENABLE, 2, 1);
    assert_int_equal(rd(VIRTIO_PCI_ISR_OFFSET, 1), 0);
    virtio_pci_signal_queue(&T, 0);
    assert_int_equal(F.msis, 0);
    assert_int_equal(F.intx, 1);
    assert_int_equal(rd(VIRTIO_PCI_ISR_OFFSET + 1, 1), 0); /* only byte 0 */
    assert_int_equal(rd(VIRTIO_PCI_ISR_OFFSET, 1), 1);
    assert_int_equal(F.intx, 0);
    assert_int_equal(rd(VIRTIO_PCI_ISR_OFFSET, 1), 0);
    wr(VIRTIO_PCI_ISR_OFFSET, 1, 0xff); /* read-only */
    assert_int_equal(rd(VIRTIO_PCI_ISR_OFFSET, 4), 0);

    virtio_pci_signal_queue(&T, 0);
    virtio_pci_config_changed(&T);
    assert_int_equal(rd(C_GEN, 1), 1);
    assert_int_equal(rd(VIRTIO_PCI_ISR_OFFSET, 4), 3);
    assert_int_equal(rd(VIRTIO_PCI_ISR_OFFSET, 1), 0);

    /* INTx disable keeps the line low; the ISR still records. */
    cfg_wr(0x04, 2, 0x0400);
    virtio_pci_signal_queue(&T, 0);
    assert_int_equal(F.intx, 0);
    cfg_wr(0x04, 2, 0x0000);
    assert_int_equal(F.intx, 1);
    assert_int_equal(rd(VIRTIO_PCI_ISR_OFFSET, 1), 1);
    virtio_pci_signal_queue(&T, NQ); /* no such queue */
    assert_int_equal(rd(VIRTIO_PCI_ISR_OFFSET, 1), 0);
}

static void test_notify(void **state)
{
    assert_true(negotiate(V1));
    setup_queue(0, 256, 0x1000, 0x2000, 0x3000);
    wr(C_QENABLE, 2, 1);
    setup_queue(2, 256, 0x1000, 0x2000, 0x3000);
    wr(C_QENABLE, 2, 1);

    wr(VIRTIO_PCI_NOTIFY_OFFSET + 8, 2, 2);
    assert_int_equal(F.notifies[2], 1);
    wr(VIRTIO_PCI_NOTIFY_OFFSET + 0, 4, 0);
    assert_int_equal(F.notifies[0], 1);
    wr(VIRTIO_PCI_NOTIFY_OFFSET + 4, 2, 1);      /* queue 1 is not enabled */
    wr(VIRTIO_PCI_NOTIFY_OFFSET + 2, 2, 0);      /* not a queue's address */
    wr(VIRTIO_PCI_NOTIFY_OFFSET + 4 * NQ, 2, 0); /* past the queues */
    wr(VIRTIO_PCI_NOTIFY_OFFSET + 0xffc, 4, 0);
    assert_int_equal(F.notifies[0] + F.notifies[1] + F.notifies[2] + F.notifies[3], 2);
    assert_int_equal(rd(VIRTIO_PCI_NOTIFY_OFFSET + 8, 2), 0);
}

static void test_device_config(void **state)
{
    assert_int_equal(rd(VIRTIO_PCI_DEVCFG_OFFSET, 4), 0x43424140u);
    assert_int_equal(F.last_cfg_offset, 0);
    assert_int_equal(F.last_cfg_size, 4);
    assert_int_equal(rd(VIRTIO_PCI_DEVCFG_OFFSET + 10, 2), 0x4b4a);
    assert_true(rd(VIRTIO_PCI_DEVCFG_OFFSET + 8, 8) == 0x4f4e4d4c4b4a4948ull);
    wr(VIRTIO_PCI_DEVCFG_OFFSET + 20, 1, 0xaa);
    assert_int_equal(F.config[20], 0xaa);
    wr(VIRTIO_PCI_DEVCFG_OFFSET + 24, 8, 0x0102030405060708ull);
    assert_int_equal(F.config[24], 0x08);
    assert_int_equal(F.config[31], 0x01);

    /* Outside config_size: nothing reaches the device. */
    unsigned r = F.config_reads, w = F.config_writes;
    assert_int_equal(rd(VIRTIO_PCI_DEVCFG_OFFSET + 62, 4), 0);
    assert_int_equal(rd(VIRTIO_PCI_DEVCFG_OFFSET + 64, 1), 0);
    assert_true(rd(VIRTIO_PCI_DEVCFG_OFFSET + 60, 8) == 0);
    wr(VIRTIO_PCI_DEVCFG_OFFSET + 63, 2, 0);
    wr(VIRTIO_PCI_DEVCFG_OFFSET + 0xffc, 4, 0);
    assert_int_equal(F.config_reads, r);
    assert_int_equal(F.config_writes, w);
}

/* ---- MSI-X ---- */

static void test_msix_delivery(void **state)
{
    assert_true(negotiate(V1));
    msix_enable(0);
    msix_program(0, 0xfee00000, 0x4030, false);
    msix_program(2, 0xfee01000, 0x4042, false);
    wr(C_MSIX, 2, 0);
    setup_queue(1, 256, 0x1000, 0x2000, 0x3000);
    wr(C_QVECTOR, 2, 2);
    assert_int_equal(rd(C_QVECTOR, 2), 2);
    wr(C_QENABLE, 2, 1);

    virtio_pci_signal_queue(&T, 1);
    assert_int_equal(F.msis, 1);
    assert_true(F.msi[0].address == 0xfee01000ull);
    assert_int_equal(F.msi[0].data, 0x4042);
    assert_int_equal(rd(VIRTIO_PCI_PBA_OFFSET, 8), 0);
    assert_int_equal(rd(VIRTIO_PCI_ISR_OFFSET, 1), 0); /* ISR unused with MSI-X */
    assert_int_equal(F.intx, 0);

    virtio_pci_config_changed(&T);
    assert_int_equal(F.msis, 2);
    assert_int_equal(F.msi[1].data, 0x4030);

    /* A queue without a vector sends nothing and leaves nothing pending. */
    wr(C_QSELECT, 2, 1);
    wr(C_QVECTOR, 2, VIRTIO_PCI_NO_VECTOR);
    virtio_pci_signal_queue(&T, 1);
    assert_int_equal(F.msis, 2);
    assert_int_equal(rd(VIRTIO_PCI_PBA_OFFSET, 8), 0);
    /* Vectors past the table read back NO_VECTOR. */
    wr(C_QVECTOR, 2, NVEC);
    assert_int_equal(rd(C_QVECTOR, 2), VIRTIO_PCI_NO_VECTOR);
    wr(C_QVECTOR, 2, NVEC - 1);
    assert_int_equal(rd(C_QVECTOR, 2), NVEC - 1);
    wr(C_MSIX, 2, 0x1234);
    assert_int_equal(rd(C_MSIX, 2), VIRTIO_PCI_NO_VECTOR);

    /* 64-bit accesses to the table; ctrl keeps only the mask bit. */
    uint64_t e3 = VIRTIO_PCI_MSIX_OFFSET + 3 * 16;
    wr(e3, 8, 0x00000001fee02000ull);
    wr(e3 + 8, 8, 0xffffffff00004051ull);
    assert_true(rd(e3, 8) == 0x00000001fee02000ull);
    assert_true(rd(e3 + 8, 8) == 0x0000000100004051ull);
    assert_int_equal(rd(e3 + 12, 4), 1);
    wr(e3 + 12, 4, 0);
    assert_int_equal(rd(e3 + 12, 4), 0);
    /* Past the table: reads 0, writes go nowhere. */
    assert_int_equal(rd(VIRTIO_PCI_MSIX_OFFSET + NVEC * 16, 4), 0);
    wr(VIRTIO_PCI_MSIX_OFFSET + NVEC * 16, 4, 0x1234);
    assert_int_equal(rd(VIRTIO_PCI_MSIX_OFFSET + NVEC * 16, 4), 0);
    /* Entries start masked. */
    assert_int_equal(rd(VIRTIO_PCI_MSIX_OFFSET + 4 * 16 + 12, 4), 1);
}

static void test_msix_masked_vector_pends(void **state)
{
    assert_true(negotiate(V1));
    msix_enable(0);
    msix_program(1, 0xfee00000, 0x4055, true);
    setup_queue(0, 256, 0x1000, 0x2000, 0x3000);
    wr(C_QVECTOR, 2, 1);
    wr(C_QENABLE, 2, 1);

    virtio_pci_signal_queue(&T, 0);
    virtio_pci_signal_queue(&T, 0);
    assert_int_equal(F.msis, 0);
    assert_int_equal(rd(VIRTIO_PCI_PBA_OFFSET, 4), 1u << 1);
    assert_int_equal(rd(VIRTIO_PCI_PBA_OFFSET, 1), 2);
    assert_int_equal(rd(VIRTIO_PCI_PBA_OFFSET + 4, 4), 0);
    wr(VIRTIO_PCI_PBA_OFFSET, 8, 0); /* read-only */
    assert_int_equal(rd(VIRTIO_PCI_PBA_OFFSET, 8), 2);

    wr(VIRTIO_PCI_MSIX_OFFSET + 16 + 12, 4, 0); /* unmask */
    assert_int_equal(F.msis, 1);
    assert_int_equal(F.msi[0].data, 0x4055);
    assert_int_equal(rd(VIRTIO_PCI_PBA_OFFSET, 8), 0);
    wr(VIRTIO_PCI_MSIX_OFFSET + 16 + 12, 4, 0); /* unmasking again sends nothing */
    assert_int_equal(F.msis, 1);
    virtio_pci_signal_queue(&T, 0);
    assert_int_equal(F.msis, 2);
    /* A new address written while masked is the one used at unmask. */
    wr(VIRTIO_PCI_MSIX_OFFSET + 16 + 12, 4, 1);
    virtio_pci_signal_queue(&T, 0);
    wr(VIRTIO_PCI_MSIX_OFFSET + 16 + 8, 4, 0x4066);
    /* data and ctrl in one 64-bit store: data lands first, then unmask. */
    wr(VIRTIO_PCI_MSIX_OFFSET + 16 + 8, 8, 0x4077);
    assert_int_equal(F.msis, 3);
    assert_int_equal(F.msi[2].data, 0x4077);
}

static void test_msix_function_mask_and_enable(void **state)
{
    unsigned cap = find_cap(0x11);

    assert_true(negotiate(V1));
    msix_program(0, 0xfee00000, 0x4031, false);
    wr(C_MSIX, 2, 0);
    msix_enable(MSIX_MASKALL);
    virtio_pci_set_needs_reset(&T);
    assert_int_equal(F.msis, 0);
    assert_int_equal(rd(VIRTIO_PCI_PBA_OFFSET, 8), 1);
    assert_int_equal(rd(VIRTIO_PCI_ISR_OFFSET, 1), 0);
    cfg_wr(cap + 2, 2, MSIX_ENABLE); /* function mask off */
    assert_int_equal(F.msis, 1);
    assert_int_equal(F.msi[0].data, 0x4031);
    assert_int_equal(rd(VIRTIO_PCI_PBA_OFFSET, 8), 0);
    cfg_wr(cap + 2, 2, MSIX_ENABLE);
    assert_int_equal(F.msis, 1);

    /* MSI-X off: the ISR and INTx, no message. */
    cfg_wr(cap + 2, 2, 0);
    virtio_pci_config_changed(&T);
    assert_int_equal(F.msis, 1);
    assert_int_equal(F.intx, 1);
    assert_int_equal(rd(VIRTIO_PCI_ISR_OFFSET, 1), 2);
    /* The event also pends, so it is not lost if MSI-X comes on now. */
    cfg_wr(cap + 2, 2, MSIX_ENABLE);
    assert_int_equal(F.msis, 2);
    assert_int_equal(F.intx, 0);
}

static void test_needs_reset_signals_config_vector(void **state)
{
    assert_true(negotiate(V1));
    msix_enable(0);
    msix_program(3, 0xfee00000, 0x40aa, false);
    wr(C_MSIX, 2, 3);
    assert_int_equal(rd(C_MSIX, 2), 3);
    wr(C_STATUS, 1, 0x0f);
    virtio_pci_set_needs_reset(&T);
    assert_int_equal(status(), 0x4f);
    assert_int_equal(F.msis, 1);
    assert_int_equal(F.msi[0].data, 0x40aa);
    /* Writing status back (as Linux does when adding a bit) keeps it. */
    wr(C_STATUS, 1, 0x8f);
    assert_int_equal(status(), 0xcf);
    wr(C_STATUS, 1, 0);
    assert_int_equal(status(), 0);
    /* Without a config vector nothing is sent. */
    virtio_pci_set_needs_reset(&T);
    assert_int_equal(status(), VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    assert_int_equal(F.msis, 1);
}

/* ---- robustness ---- */

static void test_odd_accesses(void **state)
{
    static const unsigned sizes[] = {0, 1, 2, 3, 4, 5, 7, 8, 16};

    assert_true(negotiate(V1));
    /* Reads of every size at every offset, and past the BAR. */
    for (uint64_t off = 0; off < VIRTIO_PCI_BAR_SIZE + 64; off++)
        for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
            (void)rd(off, sizes[i]);
    assert_true(rd(~0ull - 3, 8) == 0);
    assert_true(rd(VIRTIO_PCI_BAR_SIZE - 4, 8) == 0);
    assert_true(rd(VIRTIO_PCI_ISR_OFFSET - 4, 8) == 0); /* crosses regions */

    /* Odd-sized pieces of common configuration fields. */
    wr(C_QSELECT + 1, 1, 0);
    wr(C_QSELECT, 1, 2);
    assert_int_equal(rd(C_QSELECT, 2), 2);
    wr(C_QSIZE + 1, 1, 0);
    assert_int_equal(rd(C_QSIZE, 2), 0);
    wr(C_QSIZE, 1, 64);
    assert_int_equal(rd(C_QSIZE, 2), 64);
    wr(C_QDESC + 2, 4, 0xabcd1234);
    assert_true(rd(C_QDESC, 8) == 0xabcd12340000ull);
    assert_int_equal(rd(C_QDESC + 3, 2), 0xcd12);
    assert_int_equal(rd(C_NUMQ, 1), NQ);
    assert_int_equal(rd(C_MSIX, 4), (uint32_t)NQ << 16 | VIRTIO_PCI_NO_VECTOR);
    assert_int_equal(rd(0x38, 8), 0); /* past the structure */
    wr(C_QENABLE + 1, 1, 1);          /* 0x0100 is not 1 */
    assert_int_equal(F.enables, 0);

    /* Garbage writes everywhere must not crash or corrupt the header. */
    for (uint64_t off = 0; off < VIRTIO_PCI_BAR_SIZE + 64; off += 3)
        for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
            wr(off, sizes[i], 0xa5a5a5a5a5a5a5a5ull ^ off);
    for (unsigned reg = 0; reg < 4096; reg++) {
        (void)cfg_rd(reg & ~3u, 4);
        if (reg < 0x10 || reg >= 0x18) /* keep the BAR to check the header after */
            cfg_wr(reg & ~1u, 2, 0x5a5a ^ reg);
    }
    assert_int_equal(cfg_rd(0x00, 4), 0x10421af4u);
    assert_int_equal(cfg_rd(0x34, 1), 0x40);
    struct vcap c;
    assert_true(find_virtio_cap(VIRTIO_PCI_CAP_COMMON_CFG, &c));
    assert_int_equal(c.offset, 0);
    assert_true(find_virtio_cap(VIRTIO_PCI_CAP_NOTIFY_CFG, &c));
    assert_int_equal(c.offset, VIRTIO_PCI_NOTIFY_OFFSET);
    assert_int_equal(rd(C_NUMQ, 2), NQ);

    /* Bad parameters are clamped, not trusted. */
    static struct virtq many[VIRTIO_PCI_MAX_QUEUES];
    struct virtio_pci_params p = params();
    p.queues = many;
    p.num_queues = 100;
    p.queue_size = 1000;
    p.config_size = 100000;
    struct virtio_pci t2;
    virtio_pci_init(&t2, &p);
    assert_int_equal(virtio_pci_bar_read(&t2, C_NUMQ, 2), VIRTIO_PCI_MAX_QUEUES);
    assert_int_equal(virtio_pci_bar_read(&t2, C_QSIZE, 2), 256);
    virtio_pci_signal_queue(&t2, VIRTIO_PCI_MAX_QUEUES - 1);
    virtio_pci_signal_queue(&t2, 1000);
    p.queues = NULL;
    virtio_pci_init(&t2, &p);
    assert_int_equal(virtio_pci_bar_read(&t2, C_NUMQ, 2), 0);
    virtio_pci_bar_write(&t2, C_QENABLE, 2, 1);
}

/* ---- the race: signal on one CPU, unmask on another ---- */

/* Rounds are started and finished through spinning flags rather than
 * pthread barriers: a barrier wakes its sleeper tens of microseconds late,
 * so the two sides would never overlap. Each side waits a different,
 * varying time after the start so either may go first. The two threads
 * only overlap when both have a CPU; on a loaded machine the test runs
 * more rounds (up to a time limit) until each side has delivered often
 * enough to have raced the other, and fails if either side never did. */
#define RACE_MAX_ROUNDS  400000u
#define RACE_WANT_EACH   4000u
#define RACE_MAX_SECONDS 30.0

struct race {
    volatile unsigned start, done;
    volatile bool stop;
};

static void spin_until(volatile unsigned *flag, unsigned value)
{
    for (unsigned n = 0; __atomic_load_n(flag, __ATOMIC_ACQUIRE) != value; n++) {
        if (n % 4096 == 4095)
            sched_yield(); /* the other side was descheduled */
    }
}

static void delay(unsigned n)
{
    for (volatile unsigned i = 0; i < n; i++)
        ;
}

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The two sides on different CPUs where there are two: they then overlap
 * whenever both are scheduled, rather than only when the scheduler happens
 * to spread them. */
static void pin_apart(pthread_t other)
{
    cpu_set_t mine, theirs;

    if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
        return;
    CPU_ZERO(&mine);
    CPU_ZERO(&theirs);
    CPU_SET(0, &mine);
    CPU_SET(1, &theirs);
    pthread_setaffinity_np(pthread_self(), sizeof(mine), &mine);
    pthread_setaffinity_np(other, sizeof(theirs), &theirs);
}

static void unpin(void)
{
    cpu_set_t all;

    CPU_ZERO(&all);
    for (long i = 0; i < sysconf(_SC_NPROCESSORS_ONLN) && i < CPU_SETSIZE; i++)
        CPU_SET(i, &all);
    pthread_setaffinity_np(pthread_self(), sizeof(all), &all);
}

static void *race_signaller(void *arg)
{
    struct race *r = arg;

    for (unsigned i = 1;; i++) {
        for (unsigned n = 0; __atomic_load_n(&r->start, __ATOMIC_ACQUIRE) != i; n++) {
            if (__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
                return NULL;
            if (n % 4096 == 4095)
                sched_yield();
        }
        delay((i * 7) % 50);
        virtio_pci_signal_queue(&T, 0);
        __atomic_store_n(&r->done, i, __ATOMIC_RELEASE);
    }
}

static void test_race_signal_against_unmask(void **state)
{
    struct race r = {0};
    pthread_t th;
    uint64_t ctrl = VIRTIO_PCI_MSIX_OFFSET + 16 + 12;
    unsigned rounds = 0, lost = 0, twice = 0, stranded = 0;

    assert_true(negotiate(V1));
    msix_enable(0);
    msix_program(1, 0xfee00000, 0x4061, true);
    setup_queue(0, 256, 0x1000, 0x2000, 0x3000);
    wr(C_QVECTOR, 2, 1);
    wr(C_QENABLE, 2, 1);
    assert_int_equal(pthread_create(&th, NULL, race_signaller, &r), 0);
    pin_apart(th);
    double end = now_seconds() + RACE_MAX_SECONDS;
    while (rounds < RACE_MAX_ROUNDS) {
        unsigned by_main = __atomic_load_n(&F.msis_main_thread, __ATOMIC_SEQ_CST);
        unsigned total = __atomic_load_n(&F.msis, __ATOMIC_SEQ_CST);
        if ((by_main >= RACE_WANT_EACH && total - by_main >= RACE_WANT_EACH) ||
            (rounds % 1024 == 0 && now_seconds() > end))
            break;
        unsigned i = ++rounds;
        wr(ctrl, 4, 1); /* masked before the round starts */
        unsigned before = __atomic_load_n(&F.msis, __ATOMIC_SEQ_CST);
        __atomic_store_n(&r.start, i, __ATOMIC_RELEASE);
        delay((i * 37) % 600);
        wr(ctrl, 4, 0);
        spin_until(&r.done, i);
        /* Exactly one message per round, nothing left pending. */
        unsigned sent = __atomic_load_n(&F.msis, __ATOMIC_SEQ_CST) - before;
        lost += sent == 0;
        twice += sent > 1;
        bool pending = rd(VIRTIO_PCI_PBA_OFFSET, 8) != 0;
        stranded += pending;
        if (pending) { /* recover so later rounds stay independent */
            wr(ctrl, 4, 1);
            wr(ctrl, 4, 0);
        }
    }
    __atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    unpin();
    print_message("race: %u rounds, %u lost, %u sent twice, %u left pending; sent by the "
                  "signaller %u, by the unmasker %u\n",
                  rounds, lost, twice, stranded, F.msis - F.msis_main_thread, F.msis_main_thread);
    /* Each side delivered some: in those rounds the signaller found the
     * vector unmasked, in the others the unmasker found it pending, so the
     * two threads did overlap. A race never run is a failure, not a pass. */
    if (F.msis_main_thread == 0 || F.msis == F.msis_main_thread)
        fail_msg("race: the threads never overlapped in %.0f s (machine busy?): nothing was raced",
                 RACE_MAX_SECONDS);
    assert_int_equal(lost, 0);
    assert_int_equal(twice, 0);
    assert_int_equal(stranded, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_header, setup),
        cmocka_unit_test_setup(test_bar_sizing, setup),
        cmocka_unit_test_setup(test_capability_chain, setup),
        cmocka_unit_test_setup(test_pci_cfg_window, setup),
        cmocka_unit_test_setup(test_feature_negotiation, setup),
        cmocka_unit_test_setup(test_driver_ok_without_features, setup),
        cmocka_unit_test_setup(test_queue_setup_and_enable, setup),
        cmocka_unit_test_setup(test_queue_enable_refused, setup),
        cmocka_unit_test_setup(test_reset, setup),
        cmocka_unit_test_setup(test_isr_read_to_clear, setup),
        cmocka_unit_test_setup(test_notify, setup),
        cmocka_unit_test_setup(test_pci_cfg_window_notify, setup),
        cmocka_unit_test_setup(test_bar_changed_callback, setup),
        cmocka_unit_test_setup(test_device_config, setup),
        cmocka_unit_test_setup(test_msix_delivery, setup),
        cmocka_unit_test_setup(test_msix_masked_vector_pends, setup),
        cmocka_unit_test_setup(test_msix_function_mask_and_enable, setup),
        cmocka_unit_test_setup(test_needs_reset_signals_config_vector, setup),
        cmocka_unit_test_setup(test_odd_accesses, setup),
        cmocka_unit_test_setup(test_race_signal_against_unmask, setup),
    };
    return cmocka_run_group_tests_name("virtio_pci", tests, NULL, NULL);
}
