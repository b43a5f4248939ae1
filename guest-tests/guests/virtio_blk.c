/* SPDX-License-Identifier: MIT */
/*
 * vblk-good / vblk-bad: a minimal virtio 1.x block driver written from the
 * spec, driving the guest's virtio-blk device (00:01.0 on the PCI bus whose
 * ECAM is at 0xE0000000) the way a real driver would: PCI scan, BAR and
 * capability checks, reset, feature negotiation (VERSION_1 only),
 * FEATURES_OK, queue 0 with its rings in this image's memory, MSI-X, then
 * requests. The disk holds the pattern of lib/disk_pattern.h (tag
 * VBLK_DISK_TAG), made by tools/mkdisk.py.
 *
 * Completions are found by polling the used ring (interrupts on meanwhile);
 * the MSI-X vectors are checked separately: queue 0's must arrive for
 * completions, the configuration vector when the device breaks.
 *
 * vblk-good (default) runs verified write/read cycles for VBLK_RUN_US of TSC
 * time, printing "vblk: cycle N ok ..." every VBLK_PROGRESS_EVERY cycles: the
 * neighbour whose disk must be unaffected. vblk-bad (VBLK_MODE_BAD) reads
 * the disk once, then posts a descriptor chain that loops (0 -> 1 -> 0),
 * expects DEVICE_NEEDS_RESET, resets the device and checks that it can be
 * set up again and reads correctly: a broken disk is the guest's own
 * problem and a reset cures it.
 *
 * vbench-qdN (VBLK_MODE_BENCH, the ELVIS scaling benchmark,
 * tools/bench_elvis.py): after the set-up it prints "vbench: ready", waits
 * VBENCH_START_DELAY_US (so the harness can read `stats` before any
 * request), then keeps VBENCH_QD 4 KiB reads in flight for VBENCH_RUN_US,
 * lets the last ones finish and prints one "vbench: done" line with its
 * counts. Nothing is verified (a null disk returns zeroes); it measures.
 */
#include "disk_pattern.h"
#include "expect.h"
#include "hypercall.h"
#include "mmio.h"
#include "printf.h"
#include "runtime.h"
#include "trap.h"
#include "tsc.h"
#include "virtio_caps.h"
#include "x86.h"

const char guest_name[] = GUEST_NAME;

#ifdef VBLK_MODE_BENCH
/* The benchmark shares the driver, not the verifying cycles' helpers. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"
#endif

#ifndef VBLK_DISK_TAG
#define VBLK_DISK_TAG 'G'
#endif
#ifndef VBLK_RUN_US
#define VBLK_RUN_US 6000000 /* vblk-good: how long to keep cycling */
#endif
#ifndef VBLK_START_DELAY_US
#define VBLK_START_DELAY_US 0 /* vload-late: wait this long before cycling */
#endif
#ifndef VBLK_PACE_US
#define VBLK_PACE_US 0 /* vload-early: a light load, this long between cycles */
#endif
#ifndef VBLK_PROGRESS_EVERY
#define VBLK_PROGRESS_EVERY 100
#endif
#ifndef VBLK_BREAK_AFTER_US
#define VBLK_BREAK_AFTER_US 1500000 /* vblk-bad: let the neighbour get going first */
#endif
#ifndef VBLK_HOLD_BROKEN_US
#define VBLK_HOLD_BROKEN_US 3000000 /* vblk-bad: stay broken this long before the reset */
#endif

/* The platform Sidecore promises (vmm/guest_disk.h). */
#define ECAM_BASE       0xE0000000ul
#define DISK_DEV        1
#define DISK_BAR        0xC0000000ull
#define DISK_BAR_SIZE   0x8000ull
#define DISK_SECTORS    512 /* what the Makefile's mkdisk.py writes */
#define PATTERN_SECTORS 256 /* read-only area: the pattern stays */
#define WRITE_FIRST     256 /* sectors the guests overwrite */
#define MARKER_SECTOR   300 /* vblk-bad's write before the breakage */

/* virtio 1.x, 4.1.4.3: the common configuration structure. */
#define COMMON_DFSELECT   0x00
#define COMMON_DF         0x04
#define COMMON_GFSELECT   0x08
#define COMMON_GF         0x0c
#define COMMON_MSIX       0x10
#define COMMON_NUMQ       0x12
#define COMMON_STATUS     0x14
#define COMMON_CFGGEN     0x15
#define COMMON_Q_SELECT   0x16
#define COMMON_Q_SIZE     0x18
#define COMMON_Q_MSIX     0x1a
#define COMMON_Q_ENABLE   0x1c
#define COMMON_Q_NOFF     0x1e
#define COMMON_Q_DESCLO   0x20
#define COMMON_Q_AVAILLO  0x28
#define COMMON_Q_USEDLO   0x30
#define COMMON_MIN_LENGTH 0x38

#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER      2
#define STATUS_DRIVER_OK   4
#define STATUS_FEATURES_OK 8
#define STATUS_NEEDS_RESET 0x40
#define STATUS_FAILED      0x80
#define NO_VECTOR          0xffff

#define F_VERSION_1_HI (1u << 0) /* feature bit 32, in the upper word */

/* virtio-blk (5.2.6). */
#define BLK_T_IN     0
#define BLK_T_OUT    1
#define BLK_T_GET_ID 8
#define BLK_S_OK     0
#define BLK_ID_BYTES 20

/* Split virtqueue (2.7). */
#define DESC_F_NEXT      1
#define DESC_F_WRITE     2
#define USED_F_NO_NOTIFY 1
#ifdef VBLK_MODE_BENCH
#define VQ_MAX 128 /* 32 requests of 3 descriptors in flight */
#else
#define VQ_MAX 16
#endif
#define SLOT_DESCS     3 /* header, data, status */
#define SLOTS          (VQ_MAX / SLOT_DESCS)
#define MAX_SECTORS_IO 8

/* MSI-X: table entry 0 for queue 0, entry 1 for configuration changes. */
#define VEC_QUEUE    0x50
#define VEC_CONFIG   0x51
#define VEC_SPURIOUS 0xff
#define MSIX_ENTRY   16

#define MSR_APIC_BASE  0x1bu
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN   (1ull << 11)
#define MSR_X2APIC_ID  0x802u
#define MSR_X2APIC_EOI 0x80bu
#define MSR_X2APIC_SVR 0x80fu
#define SVR_ENABLE     (1u << 8)

#define REQUEST_TIMEOUT_US 3000000

struct vring_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

struct vring_avail {
    uint16_t flags, idx;
    uint16_t ring[VQ_MAX];
    uint16_t used_event;
};

struct vring_used {
    uint16_t flags, idx;
    struct {
        uint32_t id, len;
    } ring[VQ_MAX];
    uint16_t avail_event;
};

struct blk_header {
    uint32_t type, reserved;
    uint64_t sector;
};

struct slot {
    struct blk_header hdr;
    volatile uint8_t status;
    bool busy, done;
    uint32_t used_len;
};

static volatile struct vring_desc ring_desc[VQ_MAX] __attribute__((aligned(4096)));
static volatile struct vring_avail ring_avail __attribute__((aligned(4096)));
static volatile struct vring_used ring_used __attribute__((aligned(4096)));
static struct slot slots[SLOTS] __attribute__((aligned(64)));
static uint8_t buf_w[MAX_SECTORS_IO * DISK_SECTOR_BYTES] __attribute__((aligned(4096)));
static uint8_t buf_r[MAX_SECTORS_IO * DISK_SECTOR_BYTES] __attribute__((aligned(4096)));
static char id_buf[BLK_ID_BYTES + 1] __attribute__((aligned(64)));

static struct {
    uintptr_t common, isr, devcfg, notify_base, msix_table, notify;
    uint32_t notify_mult;
    uint8_t msix_cap;
    uint16_t qsize;
    uint16_t avail_idx, last_used;
    uint32_t apic_id;
    /* Counters the final report and the system test compare with `stats`. */
    uint64_t requests, reads, writes, others, notifies, notifies_skipped;
    const char *error; /* what the device did wrong to the ring */
} dev;

static volatile uint64_t irq_queue, irq_config;
/* Set while the guest has interrupts off on purpose (irqs_off_check). */
static volatile bool irqs_off;
static volatile uint64_t irq_while_off;

static inline void barrier(void)
{
    asm volatile("" : : : "memory");
}

static inline void full_fence(void)
{
    asm volatile("mfence" : : : "memory");
}

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
    asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static uintptr_t ecam(unsigned devno, unsigned off)
{
    return ECAM_BASE + ((uintptr_t)devno << 15) + off;
}

static uint64_t now_us(void)
{
    return tsc_to_us(rdtsc());
}

/* ---- interrupts ---- */

static void on_queue_irq(unsigned vector)
{
    (void)vector;
    irq_queue++;
    if (irqs_off)
        irq_while_off++; /* taken with IF=0: the CPU (or its model) broke the rules */
    wrmsr(MSR_X2APIC_EOI, 0);
}

static void on_config_irq(unsigned vector)
{
    (void)vector;
    irq_config++;
    wrmsr(MSR_X2APIC_EOI, 0);
}

static void on_spurious(unsigned vector)
{
    (void)vector; /* no EOI for the spurious vector */
}

/* The local APIC in x2APIC mode, software-enabled, so MSIs are accepted. */
static void apic_enable(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);

    if ((base & (APIC_BASE_EN | APIC_BASE_EXTD)) != (APIC_BASE_EN | APIC_BASE_EXTD))
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
    wrmsr(MSR_X2APIC_SVR, SVR_ENABLE | VEC_SPURIOUS);
    dev.apic_id = (uint32_t)rdmsr(MSR_X2APIC_ID);
    irq_set_handler(VEC_QUEUE, on_queue_irq);
    irq_set_handler(VEC_CONFIG, on_config_irq);
    irq_set_handler(VEC_SPURIOUS, on_spurious);
    printf("vblk: x2APIC id %u, APIC base %#llx\n", dev.apic_id,
           (unsigned long long)rdmsr(MSR_APIC_BASE));
}

/* ---- PCI ---- */

static bool pci_scan(void)
{
    bool bridge = false, disk = false;

    for (unsigned d = 0; d < 32; d++) {
        uint32_t id = mmio_read32(ecam(d, PCI_CFG_VENDOR));
        if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
            continue;
        uint32_t class = mmio_read32(ecam(d, PCI_CFG_REVISION)) >> 8;
        printf("vblk: pci 00:%02x.0 %04x:%04x class %06x\n", d, id & 0xffff, id >> 16, class);
        if (d == 0 && (class >> 8) == 0x0600)
            bridge = true;
        if (d == DISK_DEV && id == (0x1042u << 16 | 0x1af4u))
            disk = true;
    }
    EXPECT(bridge, "vblk: pci: host bridge (class 06.00) at 00:00.0");
    return EXPECT(disk, "vblk: pci: virtio-blk 1af4:1042 at 00:01.0");
}

/* BAR 0: a 64-bit memory BAR at the promised address and of the promised
 * size (sized with decoding off, as firmware does, then restored). */
static bool pci_check_bar(void)
{
    uint32_t lo = mmio_read32(ecam(DISK_DEV, PCI_CFG_BAR0));
    uint32_t hi = mmio_read32(ecam(DISK_DEV, PCI_CFG_BAR0 + 4));
    uint16_t cmd = mmio_read16(ecam(DISK_DEV, PCI_CFG_COMMAND));

    EXPECTF(!(cmd & PCI_COMMAND_MEM), "vblk: pci: memory decoding starts off", "command %#x", cmd);
    EXPECTF((lo & 7) == 4, "vblk: pci: BAR0 is a 64-bit memory BAR", "BAR0 low %#x", lo);
    uint64_t addr = (uint64_t)hi << 32 | (lo & ~0xfu);
    bool at = EXPECT_EQ(addr, DISK_BAR, "vblk: pci: BAR0 pre-assigned at 0xC0000000");
    mmio_write32(ecam(DISK_DEV, PCI_CFG_BAR0), 0xffffffffu);
    mmio_write32(ecam(DISK_DEV, PCI_CFG_BAR0 + 4), 0xffffffffu);
    uint64_t mask = (uint64_t)mmio_read32(ecam(DISK_DEV, PCI_CFG_BAR0 + 4)) << 32 |
                    (mmio_read32(ecam(DISK_DEV, PCI_CFG_BAR0)) & ~0xfu);
    mmio_write32(ecam(DISK_DEV, PCI_CFG_BAR0), lo);
    mmio_write32(ecam(DISK_DEV, PCI_CFG_BAR0 + 4), hi);
    EXPECT_EQ(~mask + 1, DISK_BAR_SIZE, "vblk: pci: BAR0 sizes to 32 KiB");
    EXPECT_EQ(mmio_read32(ecam(DISK_DEV, PCI_CFG_BAR0)), lo,
              "vblk: pci: BAR0 holds its address again after sizing");
    mmio_write16(ecam(DISK_DEV, PCI_CFG_COMMAND), cmd | PCI_COMMAND_MEM | PCI_COMMAND_MASTER);
    cmd = mmio_read16(ecam(DISK_DEV, PCI_CFG_COMMAND));
    bool on = EXPECTF((cmd & (PCI_COMMAND_MEM | PCI_COMMAND_MASTER)) ==
                          (PCI_COMMAND_MEM | PCI_COMMAND_MASTER),
                      "vblk: pci: memory decoding and bus mastering on", "command %#x", cmd);
    return at && on;
}

static bool region_is(const struct virtio_caps *c, unsigned type, uint32_t offset, uint32_t min_len,
                      const char *what)
{
    const struct virtio_cap_region *r = &c->region[type];

    return EXPECTF(r->bar == 0 && r->offset == offset && r->length >= min_len, what,
                   "BAR %u offset %#x length %#x", r->bar, r->offset, r->length);
}

/* The register blocks through the capability list, checked against the
 * layout Sidecore documents. */
static bool pci_find_regions(void)
{
    static uint8_t cfg[256];
    struct virtio_caps c;

    for (unsigned off = 0; off < 256; off += 4) {
        uint32_t v = mmio_read32(ecam(DISK_DEV, off));
        for (unsigned i = 0; i < 4; i++)
            cfg[off + i] = (uint8_t)(v >> (8 * i));
    }
    const char *err = virtio_caps_parse(cfg, &c);
    if (!EXPECTF(!err, "vblk: pci: the virtio capabilities parse", "%s", err))
        return false;
    printf("vblk: %u capabilities; MSI-X with %u entries\n", c.caps_walked, c.msix_entries);
    bool ok = region_is(&c, VIRTIO_CAP_COMMON, 0x0000, COMMON_MIN_LENGTH,
                        "vblk: caps: common configuration at BAR0+0x0000");
    ok &= region_is(&c, VIRTIO_CAP_ISR, 0x1000, 1, "vblk: caps: ISR at BAR0+0x1000");
    ok &= region_is(&c, VIRTIO_CAP_DEVICE, 0x2000, 8,
                    "vblk: caps: device configuration at BAR0+0x2000");
    ok &= region_is(&c, VIRTIO_CAP_NOTIFY, 0x3000, 2, "vblk: caps: notify at BAR0+0x3000");
    ok &= EXPECT_EQ(c.notify_multiplier, 4, "vblk: caps: notify offset multiplier 4");
    ok &= EXPECTF(c.has_msix && c.msix_entries >= 2 && c.msix_table_bar == 0 &&
                      c.msix_table_offset == 0x4000 && c.msix_pba_bar == 0 &&
                      c.msix_pba_offset == 0x5000,
                  "vblk: caps: MSI-X (2+ entries) with table at BAR0+0x4000, PBA at +0x5000",
                  "present %d, %u entries, table %u:%#x, PBA %u:%#x", c.has_msix, c.msix_entries,
                  c.msix_table_bar, c.msix_table_offset, c.msix_pba_bar, c.msix_pba_offset);
    if (!ok)
        return false;
    dev.common = DISK_BAR + c.region[VIRTIO_CAP_COMMON].offset;
    dev.isr = DISK_BAR + c.region[VIRTIO_CAP_ISR].offset;
    dev.devcfg = DISK_BAR + c.region[VIRTIO_CAP_DEVICE].offset;
    dev.notify_base = DISK_BAR + c.region[VIRTIO_CAP_NOTIFY].offset;
    dev.notify_mult = c.notify_multiplier;
    dev.msix_table = DISK_BAR + c.msix_table_offset;
    dev.msix_cap = c.msix_cap;
    return true;
}

/* ---- device set-up ---- */

static uint8_t status_read(void)
{
    return mmio_read8(dev.common + COMMON_STATUS);
}

static void status_write(uint8_t s)
{
    mmio_write8(dev.common + COMMON_STATUS, s);
}

/* Writes 0 and waits for the device to read back 0 (the spec's reset). */
static bool device_reset(void)
{
    uint64_t t0 = now_us();

    status_write(0);
    while (status_read() != 0) {
        if (now_us() - t0 > REQUEST_TIMEOUT_US)
            return false;
        asm volatile("pause");
    }
    return true;
}

static void msix_program(unsigned entry, uint8_t vector)
{
    uintptr_t e = dev.msix_table + entry * MSIX_ENTRY;

    mmio_write32(e + 12, 1); /* masked while it changes */
    mmio_write32(e + 0, 0xfee00000u | (dev.apic_id & 0xff) << 12);
    mmio_write32(e + 4, 0);
    mmio_write32(e + 8, vector); /* fixed, edge */
    mmio_write32(e + 12, 0);
}

static void msix_enable(void)
{
    uintptr_t ctl = ecam(DISK_DEV, dev.msix_cap + 2);

    msix_program(0, VEC_QUEUE);
    msix_program(1, VEC_CONFIG);
    mmio_write16(ctl, (uint16_t)((mmio_read16(ctl) | PCI_MSIX_ENABLE) & ~PCI_MSIX_MASKALL));
}

static void write64_split(uintptr_t a, uint64_t v)
{
    mmio_write32(a, (uint32_t)v);
    mmio_write32(a + 4, (uint32_t)(v >> 32));
}

static uint64_t capacity_read(void)
{
    uint8_t gen;
    uint64_t cap;

    do {
        gen = mmio_read8(dev.common + COMMON_CFGGEN);
        cap = mmio_read32(dev.devcfg) | (uint64_t)mmio_read32(dev.devcfg + 4) << 32;
    } while (gen != mmio_read8(dev.common + COMMON_CFGGEN));
    return cap;
}

static void ring_clear(void)
{
    for (unsigned i = 0; i < VQ_MAX; i++)
        ring_desc[i] = (struct vring_desc){0};
    ring_avail.flags = 0;
    ring_avail.idx = 0;
    ring_used.flags = 0;
    ring_used.idx = 0;
    for (unsigned i = 0; i < SLOTS; i++)
        slots[i] = (struct slot){0};
    dev.avail_idx = 0;
    dev.last_used = 0;
    dev.error = NULL;
}

/* virtio 1.x, 3.1.1: the whole initialization; each step checked. `round`
 * names it in the output ("setup" or "setup again"). */
static bool device_setup(const char *round)
{
    char what[128];

    snprintf(what, sizeof(what), "vblk: %s: reset reads back status 0", round);
    if (!EXPECT(device_reset(), what))
        return false;
    status_write(STATUS_ACKNOWLEDGE);
    status_write(STATUS_ACKNOWLEDGE | STATUS_DRIVER);

    mmio_write32(dev.common + COMMON_DFSELECT, 0);
    uint32_t f_lo = mmio_read32(dev.common + COMMON_DF);
    mmio_write32(dev.common + COMMON_DFSELECT, 1);
    uint32_t f_hi = mmio_read32(dev.common + COMMON_DF);
    printf("vblk: %s: device features %#010x_%08x\n", round, f_hi, f_lo);
    snprintf(what, sizeof(what), "vblk: %s: device offers VIRTIO_F_VERSION_1", round);
    if (!EXPECT(f_hi & F_VERSION_1_HI, what))
        return false;
    mmio_write32(dev.common + COMMON_GFSELECT, 0);
    mmio_write32(dev.common + COMMON_GF, 0);
    mmio_write32(dev.common + COMMON_GFSELECT, 1);
    mmio_write32(dev.common + COMMON_GF, F_VERSION_1_HI);
    status_write(STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
    uint8_t st = status_read();
    snprintf(what, sizeof(what), "vblk: %s: FEATURES_OK accepted (VERSION_1 only)", round);
    if (!EXPECTF(st & STATUS_FEATURES_OK, what, "status %#x", st))
        return false;

    uint16_t nq = mmio_read16(dev.common + COMMON_NUMQ);
    snprintf(what, sizeof(what), "vblk: %s: at least one queue", round);
    if (!EXPECTF(nq >= 1, what, "num_queues %u", nq))
        return false;
    msix_enable();
    mmio_write16(dev.common + COMMON_MSIX, 1);
    uint16_t cv = mmio_read16(dev.common + COMMON_MSIX);
    snprintf(what, sizeof(what), "vblk: %s: configuration vector set to MSI-X entry 1", round);
    EXPECT_EQ(cv, 1, what);

    mmio_write16(dev.common + COMMON_Q_SELECT, 0);
    uint16_t max = mmio_read16(dev.common + COMMON_Q_SIZE);
    snprintf(what, sizeof(what), "vblk: %s: queue 0 exists, disabled, size a power of two", round);
    if (!EXPECTF(max >= SLOT_DESCS && !(max & (max - 1)) &&
                     !mmio_read16(dev.common + COMMON_Q_ENABLE),
                 what, "size %u", max))
        return false;
    dev.qsize = max < VQ_MAX ? max : VQ_MAX;
    ring_clear();
    mmio_write16(dev.common + COMMON_Q_SIZE, dev.qsize);
    write64_split(dev.common + COMMON_Q_DESCLO, (uintptr_t)ring_desc);
    write64_split(dev.common + COMMON_Q_AVAILLO, (uintptr_t)&ring_avail);
    write64_split(dev.common + COMMON_Q_USEDLO, (uintptr_t)&ring_used);
    mmio_write16(dev.common + COMMON_Q_MSIX, 0);
    uint16_t qv = mmio_read16(dev.common + COMMON_Q_MSIX);
    snprintf(what, sizeof(what), "vblk: %s: queue 0 vector set to MSI-X entry 0", round);
    EXPECT_EQ(qv, 0, what);
    uint16_t noff = mmio_read16(dev.common + COMMON_Q_NOFF);
    dev.notify = dev.notify_base + (uintptr_t)noff * dev.notify_mult;
    mmio_write16(dev.common + COMMON_Q_ENABLE, 1);
    status_write(STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
    st = status_read();
    printf("vblk: %s: %u queue(s), queue 0 size %u of %u, notify at %#lx, status %#x\n", round, nq,
           dev.qsize, max, (unsigned long)dev.notify, st);
    snprintf(what, sizeof(what), "vblk: %s: DRIVER_OK, device sound", round);
    return EXPECTF((st & STATUS_DRIVER_OK) && !(st & (STATUS_NEEDS_RESET | STATUS_FAILED)), what,
                   "status %#x", st);
}

/* ---- requests ---- */

static void publish(uint16_t head)
{
    ring_avail.ring[dev.avail_idx % dev.qsize] = head;
    barrier();
    ring_avail.idx = ++dev.avail_idx;
    /* The device's NO_NOTIFY must be read after our idx store is visible
     * (a store-load order x86 only keeps with a fence). */
    full_fence();
    if (ring_used.flags & USED_F_NO_NOTIFY) {
        dev.notifies_skipped++;
        return;
    }
    dev.notifies++;
    mmio_write16(dev.notify, 0);
}

static void submit(unsigned s, uint32_t type, uint64_t sector, void *buf, uint32_t len,
                   bool device_writes)
{
    struct slot *sl = &slots[s];
    uint16_t head = (uint16_t)(s * SLOT_DESCS);

    sl->hdr = (struct blk_header){.type = type, .sector = sector};
    sl->status = 0xff;
    sl->busy = true;
    sl->done = false;
    ring_desc[head] = (struct vring_desc){.addr = (uintptr_t)&sl->hdr,
                                          .len = sizeof(sl->hdr),
                                          .flags = DESC_F_NEXT,
                                          .next = head + 1};
    ring_desc[head + 1] = (struct vring_desc){
        .addr = (uintptr_t)buf,
        .len = len,
        .flags = DESC_F_NEXT | (device_writes ? DESC_F_WRITE : 0),
        .next = head + 2,
    };
    ring_desc[head + 2] =
        (struct vring_desc){.addr = (uintptr_t)&sl->status, .len = 1, .flags = DESC_F_WRITE};
    publish(head);
}

/* Takes every used entry the device has published; false (dev.error) if
 * it published something no driver could have asked for. */
static bool reap(void)
{
    uint16_t idx = ring_used.idx;

    barrier();
    if ((uint16_t)(idx - dev.last_used) > dev.qsize) {
        dev.error = "used->idx ran more than the queue size ahead";
        return false;
    }
    while (dev.last_used != idx) {
        uint32_t id = ring_used.ring[dev.last_used % dev.qsize].id;
        uint32_t len = ring_used.ring[dev.last_used % dev.qsize].len;
        unsigned s = id / SLOT_DESCS;
        if (id % SLOT_DESCS || s >= SLOTS || !slots[s].busy) {
            dev.error = "a used entry names a chain that is not in flight";
            return false;
        }
        slots[s].busy = false;
        slots[s].done = true;
        slots[s].used_len = len;
        dev.last_used++;
        dev.requests++;
    }
    return true;
}

/* Waits until every slot in mask is done; false after a FAIL line. */
static bool wait_slots(unsigned mask, const char *what)
{
    uint64_t t0 = now_us();

    for (;;) {
        if (!reap())
            return expect_check(false, what, "%s", dev.error);
        bool all = true;
        for (unsigned s = 0; s < SLOTS; s++)
            all &= !(mask & (1u << s)) || slots[s].done;
        if (all)
            return true;
        if (now_us() - t0 > REQUEST_TIMEOUT_US)
            return expect_check(false, what, "no completion within %u ms (used idx %u, status %#x)",
                                REQUEST_TIMEOUT_US / 1000, ring_used.idx, status_read());
        asm volatile("pause");
    }
}

/* The request in slot s finished with status OK and the used length the
 * spec demands: the bytes written into the chain, status byte included
 * (GET_ID: up to 20 bytes of serial). Quiet on success. */
static bool slot_ok(unsigned s, uint32_t type, uint32_t len, const char *what)
{
    uint32_t used = slots[s].used_len;
    bool len_ok = type == BLK_T_GET_ID ? used >= 1 && used <= BLK_ID_BYTES + 1
                                       : used == (type == BLK_T_OUT ? 0 : len) + 1;

    if (slots[s].status == BLK_S_OK && len_ok)
        return true;
    return expect_check(false, what, "status %u, used len %u for a %u-byte type-%u request",
                        slots[s].status, used, len, type);
}

static void count(uint32_t type)
{
    if (type == BLK_T_IN)
        dev.reads++;
    else if (type == BLK_T_OUT)
        dev.writes++;
    else
        dev.others++;
}

/* One request in slot 0, waited for and checked; quiet on success. */
static bool io_sync(uint32_t type, uint64_t sector, void *buf, uint32_t len, const char *what)
{
    submit(0, type, sector, buf, len, type != BLK_T_OUT);
    if (!wait_slots(1u, what))
        return false;
    count(type);
    return slot_ok(0, type, len, what);
}

static bool check_pattern(const void *buf, uint32_t sector, uint32_t count, const char *what)
{
    struct disk_mismatch m;

    if (disk_pattern_check(buf, VBLK_DISK_TAG, sector, count, &m))
        return true;
    return expect_check(false, what, "word %u (sector %u) is %#x, expected %#x", m.word,
                        m.word / DISK_SECTOR_WORDS, m.got, m.want);
}

static void fill(void *buf, uint32_t bytes, uint8_t v)
{
    uint8_t *p = buf;

    for (uint32_t i = 0; i < bytes; i++)
        p[i] = v;
}

/* The data a write cycle puts on the disk: distinct per cycle and word. */
static uint32_t cycle_word(uint32_t cycle, uint32_t k)
{
    return 0x57000000u ^ (cycle << 12) ^ k;
}

static void fill_cycle(uint32_t *w, uint32_t cycle, uint32_t words)
{
    for (uint32_t k = 0; k < words; k++)
        w[k] = cycle_word(cycle, k);
}

static bool first_checks(void)
{
    uint64_t cap = capacity_read();
    EXPECT_EQ(cap, DISK_SECTORS, "vblk: capacity is the disk image's 512 sectors");

    fill(buf_r, sizeof(buf_r), 0xee);
    if (io_sync(BLK_T_IN, 0, buf_r, 4 * DISK_SECTOR_BYTES, "vblk: read sectors 0-3"))
        if (check_pattern(buf_r, 0, 4, "vblk: sectors 0-3 hold the disk's pattern"))
            expect_check(true, "vblk: sectors 0-3 hold the disk's pattern", "-");

    fill(id_buf, sizeof(id_buf), 0);
    if (io_sync(BLK_T_GET_ID, 0, id_buf, BLK_ID_BYTES, "vblk: GET_ID completes")) {
        id_buf[BLK_ID_BYTES] = 0;
        for (unsigned i = 0; id_buf[i]; i++) {
            if (id_buf[i] < 0x20 || id_buf[i] > 0x7e)
                id_buf[i] = '?';
        }
        printf("vblk: GET_ID '%s'\n", id_buf);
        EXPECTF(id_buf[0] != 0, "vblk: GET_ID gives a serial", "empty");
    }
    /* Queue 0's MSI-X vector: completions came with interrupts on. */
    uint64_t t0 = now_us();
    while (!irq_queue && now_us() - t0 < 1000000)
        asm volatile("pause");
    return EXPECTF(irq_queue > 0, "vblk: completions raise queue 0's MSI-X vector",
                   "no interrupt on vector %#x after %llu requests", VEC_QUEUE,
                   (unsigned long long)dev.requests);
}

static bool setup(void)
{
    if (!pci_scan())
        return false;
    /* Only now: without the device this is not Sidecore's platform (the
     * bare-QEMU smoke run), where x2APIC may #GP and a PIC may interrupt. */
    apic_enable();
    sti();
    return pci_check_bar() && pci_find_regions() && device_setup("setup");
}

static void report_counters(void)
{
    printf("vblk: totals requests=%llu reads=%llu writes=%llu others=%llu notifies=%llu "
           "notifies_skipped=%llu irq_queue=%llu irq_config=%llu\n",
           (unsigned long long)dev.requests, (unsigned long long)dev.reads,
           (unsigned long long)dev.writes, (unsigned long long)dev.others,
           (unsigned long long)dev.notifies, (unsigned long long)dev.notifies_skipped,
           (unsigned long long)irq_queue, (unsigned long long)irq_config);
}

#ifdef VBLK_MODE_BENCH

#ifndef VBENCH_QD
#define VBENCH_QD 1
#endif
#ifndef VBENCH_RUN_US
#define VBENCH_RUN_US 2000000
#endif
#ifndef VBENCH_START_DELAY_US
#define VBENCH_START_DELAY_US 3000000
#endif
#define VBENCH_BYTES 4096

_Static_assert(VBENCH_QD >= 1 && VBENCH_QD <= SLOTS, "queue depth exceeds the slots");

static uint8_t bench_buf[VBENCH_QD][VBENCH_BYTES] __attribute__((aligned(4096)));

/* Puts slot s's 4 KiB read on the available ring without publishing it:
 * the caller publishes a batch with one index store and at most one
 * notification, as a driver that plugs its queue does. */
static void bench_post(unsigned s, uint64_t sector)
{
    struct slot *sl = &slots[s];
    uint16_t head = (uint16_t)(s * SLOT_DESCS);

    sl->hdr = (struct blk_header){.type = BLK_T_IN, .sector = sector};
    sl->status = 0xff;
    sl->busy = true;
    sl->done = false;
    ring_desc[head] = (struct vring_desc){.addr = (uintptr_t)&sl->hdr,
                                          .len = sizeof(sl->hdr),
                                          .flags = DESC_F_NEXT,
                                          .next = head + 1};
    ring_desc[head + 1] = (struct vring_desc){.addr = (uintptr_t)bench_buf[s],
                                              .len = VBENCH_BYTES,
                                              .flags = DESC_F_NEXT | DESC_F_WRITE,
                                              .next = head + 2};
    ring_desc[head + 2] =
        (struct vring_desc){.addr = (uintptr_t)&sl->status, .len = 1, .flags = DESC_F_WRITE};
    ring_avail.ring[dev.avail_idx % dev.qsize] = head;
    dev.avail_idx++;
}

static void bench_publish(void)
{
    barrier();
    ring_avail.idx = dev.avail_idx;
    full_fence(); /* see publish() */
    if (ring_used.flags & USED_F_NO_NOTIFY) {
        dev.notifies_skipped++;
        return;
    }
    dev.notifies++;
    mmio_write16(dev.notify, 0);
}

void test_main(void)
{
    if (!setup())
        return;
    uint64_t sectors = capacity_read();
    if (!EXPECTF(sectors >= 2 * VBENCH_BYTES / DISK_SECTOR_BYTES, "vbench: the disk holds 8 KiB",
                 "%llu sectors", (unsigned long long)sectors))
        return;
    uint64_t blocks = sectors / (VBENCH_BYTES / DISK_SECTOR_BYTES);
    printf("vbench: ready qd=%u run_us=%u start_in_us=%u\n", VBENCH_QD, VBENCH_RUN_US,
           VBENCH_START_DELAY_US);
    tsc_delay_us(VBENCH_START_DELAY_US);

    uint64_t next = 0, completed = 0, bad = 0, irq0 = irq_queue;
    uint64_t t0 = now_us(), t_end = t0 + VBENCH_RUN_US, t_last = t0;
    for (unsigned s = 0; s < VBENCH_QD; s++)
        bench_post(s, (next++ * 7919 % blocks) * (VBENCH_BYTES / DISK_SECTOR_BYTES));
    bench_publish();
    unsigned inflight = VBENCH_QD;
    bool stopping = false;
    while (inflight) {
        if (!reap()) {
            expect_check(false, "vbench: the device keeps the ring sound", "%s", dev.error);
            return;
        }
        unsigned posted = 0;
        for (unsigned s = 0; s < VBENCH_QD; s++) {
            if (!slots[s].done)
                continue;
            slots[s].done = false;
            inflight--;
            completed++;
            if (slots[s].status != BLK_S_OK || slots[s].used_len != VBENCH_BYTES + 1)
                bad++;
            if (stopping)
                continue;
            bench_post(s, (next++ * 7919 % blocks) * (VBENCH_BYTES / DISK_SECTOR_BYTES));
            inflight++;
            posted++;
        }
        if (posted)
            bench_publish();
        uint64_t t = now_us();
        if (!stopping && t >= t_end)
            stopping = true;
        if (posted || !inflight)
            t_last = t;
        if (t - t_last > REQUEST_TIMEOUT_US) {
            expect_check(false, "vbench: requests complete", "%u in flight for %u ms", inflight,
                         REQUEST_TIMEOUT_US / 1000);
            return;
        }
        asm volatile("pause");
    }
    uint64_t us = now_us() - t0;
    printf("vbench: done qd=%u requests=%llu us=%llu irqs=%llu notifies=%llu skipped=%llu "
           "bad=%llu\n",
           VBENCH_QD, (unsigned long long)completed, (unsigned long long)us,
           (unsigned long long)(irq_queue - irq0), (unsigned long long)dev.notifies,
           (unsigned long long)dev.notifies_skipped, (unsigned long long)bad);
    EXPECTF(bad == 0 && completed > 0, "vbench: every read completed with status OK",
            "%llu of %llu bad", (unsigned long long)bad, (unsigned long long)completed);
}

#elif !defined(VBLK_MODE_BAD)

static uint8_t buf_p[MAX_SECTORS_IO * DISK_SECTOR_BYTES] __attribute__((aligned(4096)));

/* One cycle: write some sectors of the write area, then read them back and
 * read part of the pattern area with both reads in flight at once. */
static bool good_cycle(uint32_t c)
{
    uint32_t wn = 1 + c % 4, ws = WRITE_FIRST + (c * 5) % (DISK_SECTORS - WRITE_FIRST - 4);
    uint32_t pn = 1 + c % MAX_SECTORS_IO, ps = (c * 7) % (PATTERN_SECTORS - MAX_SECTORS_IO);
    uint32_t words = wn * DISK_SECTOR_WORDS;

    fill_cycle((uint32_t *)buf_w, c, words);
    submit(0, BLK_T_OUT, ws, buf_w, wn * DISK_SECTOR_BYTES, false);
    if (!wait_slots(1u, "vblk: cycle write completes") ||
        !slot_ok(0, BLK_T_OUT, wn * DISK_SECTOR_BYTES, "vblk: cycle write status OK"))
        return false;
    count(BLK_T_OUT);
    fill(buf_r, sizeof(buf_r), 0xee);
    fill(buf_p, sizeof(buf_p), 0xee);
    submit(0, BLK_T_IN, ws, buf_r, wn * DISK_SECTOR_BYTES, true);
    submit(1, BLK_T_IN, ps, buf_p, pn * DISK_SECTOR_BYTES, true);
    if (!wait_slots(3u, "vblk: cycle reads complete") ||
        !slot_ok(0, BLK_T_IN, wn * DISK_SECTOR_BYTES, "vblk: cycle read-back status OK") ||
        !slot_ok(1, BLK_T_IN, pn * DISK_SECTOR_BYTES, "vblk: cycle pattern read status OK"))
        return false;
    count(BLK_T_IN);
    count(BLK_T_IN);
    const uint32_t *r = (const uint32_t *)buf_r;
    for (uint32_t k = 0; k < words; k++) {
        if (r[k] != cycle_word(c, k))
            return expect_check(false, "vblk: cycle read-back matches the write",
                                "cycle %u, sector %u + %u words: %#x, expected %#x", c, ws, k, r[k],
                                cycle_word(c, k));
    }
    return check_pattern(buf_p, ps, pn, "vblk: cycle pattern read matches the image");
}

/* Interrupts wait while the guest has them off. With IF=0 the guest reads
 * a few times, spins after each completion (with the I/O sidecore each
 * completion is an IPI to this core) and then executes CLI again, as Linux's
 * spin_lock_irqsave does. None of queue 0's interrupts may be taken before
 * STI. Prints how many came early and how many after STI, for the system
 * test to check (Bochs 2.7's APIC virtualization gets this wrong, see
 * docs/testing.md). */
#define IRQS_OFF_READS   8
#define IRQS_OFF_SPIN_US 2000

static bool irqs_off_check(void)
{
    uint64_t before = irq_queue;
    bool ok = true;

    cli();
    irqs_off = true;
    for (unsigned i = 0; i < IRQS_OFF_READS && ok; i++) {
        ok = io_sync(BLK_T_IN, i, buf_r, DISK_SECTOR_BYTES, "vblk: read with interrupts off");
        tsc_delay_us(IRQS_OFF_SPIN_US);
        cli();
    }
    irqs_off = false;
    uint64_t early = irq_while_off, at_sti = irq_queue;
    sti();
    uint64_t t0 = now_us();
    while (irq_queue == at_sti && now_us() - t0 < 1000000)
        asm volatile("pause");
    printf("vblk: interrupts while off: %llu, after STI: %llu\n", (unsigned long long)early,
           (unsigned long long)(irq_queue - at_sti));
    return ok &&
           EXPECTF(irq_queue > before, "vblk: reads done with interrupts off raise interrupts",
                   "none within 1 s of STI");
}

#ifdef VBLK_POSTED_PHASES
/* vposted (issue 13): completions found by their interrupt alone, with the
 * vCPU in each state a posted interrupt can find it in. One request is in
 * flight at a time, so each completion raises exactly one interrupt and the
 * counts can be compared: "halted" waits in STI;HLT (the completion is
 * posted while the vCPU is halted in Sidecore), "exiting" runs CPUID, which
 * always exits, until it arrives (posted between an exit and the next entry
 * when it lands while Sidecore handles one), "running" spins with IF=1 and
 * no exiting instruction (processed by the CPU in the running guest). The
 * system test reads where each one landed from `stats`. */
#ifndef VPOSTED_ROUNDS
#define VPOSTED_ROUNDS 64
#endif

enum posted_wait { WAIT_HALTED, WAIT_EXITING, WAIT_RUNNING };

static bool posted_one(uint32_t i, enum posted_wait how, const char *what)
{
    uint32_t n = 1 + i % 4, sector = (i * 11) % (PATTERN_SECTORS - 4);
    uint64_t before, t0 = now_us();

    fill(buf_r, n * DISK_SECTOR_BYTES, 0xee);
    if (how == WAIT_HALTED)
        cli(); /* so that it cannot be taken before the HLT */
    before = irq_queue;
    submit(0, BLK_T_IN, sector, buf_r, n * DISK_SECTOR_BYTES, true);
    while (irq_queue == before && now_us() - t0 < REQUEST_TIMEOUT_US) {
        if (how == WAIT_HALTED)
            asm volatile("sti; hlt; cli" ::: "memory");
        else if (how == WAIT_EXITING)
            (void)cpuid(0, 0);
        else
            barrier();
    }
    sti();
    if (irq_queue == before)
        return expect_check(false, what, "no interrupt within %u ms (used idx %u)",
                            REQUEST_TIMEOUT_US / 1000, ring_used.idx);
    if (!reap())
        return expect_check(false, what, "%s", dev.error);
    if (!slots[0].done)
        return expect_check(false, what, "the interrupt came before the used entry");
    count(BLK_T_IN);
    return slot_ok(0, BLK_T_IN, n * DISK_SECTOR_BYTES, what) &&
           check_pattern(buf_r, sector, n, what);
}

static bool posted_phase(enum posted_wait how, const char *name, const char *what)
{
    uint64_t irq0 = irq_queue, req0 = dev.requests;
    uint32_t i;

    for (i = 0; i < VPOSTED_ROUNDS; i++) {
        if (!posted_one(i, how, what))
            return false;
    }
    /* No interrupt may come without a completion: wait a little for one. */
    tsc_delay_us(2000);
    uint64_t irqs = irq_queue - irq0, reqs = dev.requests - req0;
    printf("vposted: %s: requests=%llu interrupts=%llu\n", name, (unsigned long long)reqs,
           (unsigned long long)irqs);
    return EXPECTF(irqs == reqs && reqs == VPOSTED_ROUNDS, what,
                   "%llu interrupts for %llu completions", (unsigned long long)irqs,
                   (unsigned long long)reqs);
}

static bool posted_phases(void)
{
    return posted_phase(WAIT_HALTED, "halted", "vposted: halted: each completion by interrupt") &&
           posted_phase(WAIT_EXITING, "exiting",
                        "vposted: exiting: each completion by interrupt") &&
           posted_phase(WAIT_RUNNING, "running", "vposted: running: each completion by interrupt");
}
#else
static bool posted_phases(void)
{
    return true;
}
#endif

void test_main(void)
{
    if (!setup() || !first_checks() || !irqs_off_check() || !posted_phases())
        return;
    if (VBLK_START_DELAY_US) {
        printf("vblk: waiting %u ms before the load\n", VBLK_START_DELAY_US / 1000);
        tsc_delay_us(VBLK_START_DELAY_US);
    }
    uint64_t t0 = now_us();
    uint32_t c = 0;
    bool ok = true;
    printf("vblk: cycling for %u ms\n", VBLK_RUN_US / 1000);
    while (now_us() - t0 < VBLK_RUN_US) {
        ok = good_cycle(c);
        if (!ok)
            break;
        c++;
        if (VBLK_PACE_US)
            tsc_delay_us(VBLK_PACE_US);
        if (c % VBLK_PROGRESS_EVERY == 0)
            printf("vblk: cycle %u ok (%llu requests, status %#x)\n", c,
                   (unsigned long long)dev.requests, status_read());
    }
    report_counters();
    if (ok)
        expect_check(c > 0, "vblk: verified write/read cycles", "none");
    printf("vblk: %u cycles done\n", c);
    uint8_t st = status_read();
    EXPECTF(st == (STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK),
            "vblk: device still sound at the end", "status %#x", st);
    EXPECT_EQ(irq_config, 0, "vblk: no configuration interrupt (nothing changed)");
}

#else

/* The malformed chain: descriptor 0 -> 1 -> 0, every one with NEXT and
 * device-readable (a header and a data buffer, as for a write), so the only
 * thing wrong with it is the loop. */
static void post_looping_chain(void)
{
    ring_desc[0] = (struct vring_desc){.addr = (uintptr_t)&slots[0].hdr,
                                       .len = sizeof(slots[0].hdr),
                                       .flags = DESC_F_NEXT,
                                       .next = 1};
    ring_desc[1] = (struct vring_desc){
        .addr = (uintptr_t)buf_w, .len = DISK_SECTOR_BYTES, .flags = DESC_F_NEXT, .next = 0};
    /* A write over sector 0: were any of it carried out, the pattern check
     * after the reset would see the marker data there. */
    slots[0].hdr = (struct blk_header){.type = BLK_T_OUT, .sector = 0};
    slots[0].busy = true;
    slots[0].done = false;
    publish(0);
}

static void break_and_recover(void)
{
    uint16_t used_before = ring_used.idx;

    printf("vblk: posting a looping descriptor chain (0 -> 1 -> 0)\n");
    post_looping_chain();
    uint64_t t0 = now_us();
    uint8_t st;
    while (!((st = status_read()) & STATUS_NEEDS_RESET) && now_us() - t0 < REQUEST_TIMEOUT_US)
        asm volatile("pause");
    printf("vblk: device status %#x%s\n", st,
           st & STATUS_NEEDS_RESET ? " (DEVICE_NEEDS_RESET)" : "");
    EXPECTF(st & STATUS_NEEDS_RESET, "vblk: the looping chain sets DEVICE_NEEDS_RESET",
            "status %#x after %u ms", st, REQUEST_TIMEOUT_US / 1000);
    t0 = now_us();
    while (!irq_config && now_us() - t0 < 1000000)
        asm volatile("pause");
    EXPECTF(irq_config > 0, "vblk: the breakage raises the configuration MSI-X vector",
            "no interrupt on vector %#x", VEC_CONFIG);
    EXPECTF(ring_used.idx == used_before, "vblk: the malformed chain is not handed back as used",
            "used idx %u, was %u", ring_used.idx, used_before);

    /* Stay broken a while: the system test looks at `stats` meanwhile. */
    printf("vblk: holding the broken device for %u ms\n", VBLK_HOLD_BROKEN_US / 1000);
    tsc_delay_us(VBLK_HOLD_BROKEN_US);
    printf("vblk: resetting the device\n");
    if (!device_setup("setup again"))
        return;

    fill(buf_r, sizeof(buf_r), 0xee);
    if (io_sync(BLK_T_IN, 0, buf_r, 4 * DISK_SECTOR_BYTES, "vblk: after reset: read sectors 0-3") &&
        check_pattern(buf_r, 0, 4, "vblk: after reset: sectors 0-3 hold the pattern"))
        expect_check(true, "vblk: after reset: sectors 0-3 hold the pattern", "-");
    fill(buf_r, sizeof(buf_r), 0xee);
    if (io_sync(BLK_T_IN, MARKER_SECTOR, buf_r, DISK_SECTOR_BYTES,
                "vblk: after reset: read the marker sector")) {
        const uint32_t *r = (const uint32_t *)buf_r;
        unsigned k = 0;
        while (k < DISK_SECTOR_WORDS && r[k] == cycle_word(0xbad, k))
            k++;
        EXPECTF(k == DISK_SECTOR_WORDS, "vblk: after reset: the write before the breakage stayed",
                "word %u is %#x", k, k < DISK_SECTOR_WORDS ? r[k] : 0);
    }
    st = status_read();
    EXPECTF(!(st & STATUS_NEEDS_RESET) && (st & STATUS_DRIVER_OK),
            "vblk: after reset: the device is sound", "status %#x", st);
    printf("vblk: recovered after reset\n");
}

void test_main(void)
{
    if (!setup() || !first_checks())
        return;
    fill_cycle((uint32_t *)buf_w, 0xbad, DISK_SECTOR_WORDS);
    if (!io_sync(BLK_T_OUT, MARKER_SECTOR, buf_w, DISK_SECTOR_BYTES,
                 "vblk: write the marker sector"))
        return;
    expect_check(true, "vblk: write the marker sector", "-");
    printf("vblk: waiting %u ms before breaking the device\n", VBLK_BREAK_AFTER_US / 1000);
    tsc_delay_us(VBLK_BREAK_AFTER_US);
    break_and_recover();
    report_counters();
}

#endif
