/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the virtio-pci modern transport (virtio/virtio_pci.c)
 * behind the guest's PCI host: the input first shapes the function (queue
 * count, queue size, device-config size and features, as a device might
 * ask, out-of-range ones included), then is a script of guest accesses:
 * BAR 0 reads and writes of every region, size and offset; configuration
 * space through ECAM and through ports 0xCF8/0xCFC; the
 * VIRTIO_PCI_CAP_PCI_CFG window (its bar, offset and length, then its data
 * register, found by walking the capability list as a driver does);
 * common-configuration fields and MSI-X table words by name, so queue setup,
 * status transitions and reset are reached often; and the device side's
 * signal_queue / set_needs_reset / config_changed. The device is a stub
 * whose every hook checks what the transport promises and counts: config
 * accesses stay inside config_size, a queue is enabled only after
 * FEATURES_OK with a valid size, notify reaches only an enabled queue
 * (params.notify, however it came: BAR or PCI_CFG window), driver_ok only with FEATURES_OK,
 * an MSI only while MSI-X is on and unmasked, INTx only with ISR set and
 * MSI-X off. After every step the transport's state must be consistent:
 * vectors in range or NO_VECTOR, pending bits only for existing vectors,
 * ISR bits 0-1 only, no queue past num_queues enabled, FEATURES_OK only
 * with acceptable features, and a reset leaves nothing enabled or pending.
 * UBSan findings (an index past an array inside the transport's struct,
 * which ASan cannot see) abort too.
 * fuzz-sources: virtio/virtio_pci.c vmm/dev/pci_host.c
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "virtio/virtio_pci.h"

const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
    return "halt_on_error=1:print_stacktrace=1";
}

#define DEV     3
#define BAR_GPA 0xc0000000ull

/* Common configuration fields (virtio 1.x, 4.1.4.3): offset, size. */
static const struct {
    uint8_t offset, size;
} fields[] = {
    {0x00, 4}, {0x04, 4}, {0x08, 4}, {0x0c, 4}, {0x10, 2}, {0x12, 2}, {0x14, 1}, {0x15, 1},
    {0x16, 2}, {0x18, 2}, {0x1a, 2}, {0x1c, 2}, {0x1e, 2}, {0x20, 8}, {0x28, 8}, {0x30, 8},
};
#define F_STATUS 6

#define MSIX_ENABLE  0x8000
#define MSIX_MASKALL 0x4000

static struct virtio_pci T;
static struct pci_host H;
static struct virtq vqs[VIRTIO_PCI_MAX_QUEUES];
static uint8_t cap_pci_cfg, cap_msix; /* found in the capability list */

/* The stub device: counters and what it was told. */
static struct {
    unsigned config_reads, config_writes, enables, driver_oks, resets, notifies, msis;
    uint32_t refuse_mask; /* queue_enable refuses queue q when bit q is set */
    bool intx_level;
} S;

static unsigned nvec(void)
{
    return T.p.num_queues + 1;
}

static uint8_t status_now(void)
{
    return __atomic_load_n(&T.status, __ATOMIC_SEQ_CST);
}

static uint32_t stub_config_read(void *dev, unsigned offset, unsigned size)
{
    check(dev == &S, "config_read context");
    check(size == 1 || size == 2 || size == 4, "config_read size");
    check(offset + size <= T.p.config_size, "config_read past config_size");
    S.config_reads++;
    return 0xdead0000u | offset; /* upper bytes must be masked off */
}

static void stub_config_write(void *dev, unsigned offset, unsigned size, uint32_t value)
{
    check(size == 1 || size == 2 || size == 4, "config_write size");
    check(offset + size <= T.p.config_size, "config_write past config_size");
    S.config_writes++;
}

static bool stub_queue_enable(void *dev, unsigned q, uint64_t features)
{
    check(q < T.p.num_queues, "queue_enable of a queue that does not exist");
    check(!T.queue_enabled[q], "queue_enable of an enabled queue");
    check(status_now() & VIRTIO_STATUS_FEATURES_OK, "queue_enable before FEATURES_OK");
    uint16_t size = vqs[q].size;
    check(size && !(size & (size - 1)) && size <= T.p.queue_size, "queue size handed over");
    check(features == T.driver_features, "queue_enable features");
    S.enables++;
    return !(S.refuse_mask >> q & 1);
}

static void stub_driver_ok(void *dev)
{
    uint8_t s = status_now();
    check((s & VIRTIO_STATUS_DRIVER_OK) && (s & VIRTIO_STATUS_FEATURES_OK),
          "driver_ok without DRIVER_OK and FEATURES_OK");
    S.driver_oks++;
}

static void stub_reset(void *dev)
{
    S.resets++;
}

/* The transport's one notify callback (the caller's gate in Sidecore): here a
 * counter that checks the queue it names. */
static void stub_notify(void *ctx, unsigned q)
{
    check(ctx == &S, "notify context");
    check(q < T.p.num_queues, "notify of a queue that does not exist");
    check(__atomic_load_n(&T.queue_enabled[q], __ATOMIC_ACQUIRE), "notify of a disabled queue");
    S.notifies++;
}

static const struct virtio_pci_ops stub_ops = {
    .config_read = stub_config_read,
    .config_write = stub_config_write,
    .queue_enable = stub_queue_enable,
    .driver_ok = stub_driver_ok,
    .reset = stub_reset,
};

static void stub_msi(void *ctx, uint64_t address, uint32_t data)
{
    uint16_t control = __atomic_load_n(&T.msix_control, __ATOMIC_SEQ_CST);
    check((control & MSIX_ENABLE) && !(control & MSIX_MASKALL), "MSI while MSI-X off or masked");
    bool found = false;
    for (unsigned v = 0; v < nvec(); v++) {
        const struct virtio_pci_msix_entry *e = &T.msix[v];
        if (!(e->ctrl & 1) && e->data == data &&
            ((uint64_t)e->addr_hi << 32 | e->addr_lo) == address)
            found = true;
    }
    check(found, "MSI that no unmasked table entry holds");
    S.msis++;
}

static void stub_intx(void *ctx, bool asserted)
{
    if (asserted)
        check(__atomic_load_n(&T.isr, __ATOMIC_SEQ_CST) && !T.intx_disabled &&
                  !(T.msix_control & MSIX_ENABLE),
              "INTx asserted with ISR 0, INTx disabled or MSI-X on");
    S.intx_level = asserted;
}

static uint64_t cfg_rd(unsigned reg, unsigned size)
{
    return pci_host_ecam_read(&H, (uint64_t)DEV << 15 | reg, size);
}

static void cfg_wr(unsigned reg, unsigned size, uint64_t value)
{
    pci_host_ecam_write(&H, (uint64_t)DEV << 15 | reg, size, value);
}

/* Walks the capability list as a driver does: it must end within 48 hops
 * and stay inside the header's 256 bytes. */
static void find_caps(void)
{
    cap_pci_cfg = cap_msix = 0;
    check(cfg_rd(0x06, 2) & 0x10, "capability list bit");
    unsigned at = (unsigned)cfg_rd(0x34, 1), hops = 0;
    while (at) {
        check(at >= 0x40 && at <= 0xfc && !(at & 3), "capability pointer in range");
        check(++hops < 48, "capability list ends");
        uint8_t id = (uint8_t)cfg_rd(at, 1);
        if (id == 0x11)
            cap_msix = (uint8_t)at;
        if (id == 0x09 && cfg_rd(at + 3, 1) == VIRTIO_PCI_CAP_PCI_CFG)
            cap_pci_cfg = (uint8_t)at;
        at = (unsigned)cfg_rd(at + 1, 1);
    }
    check(cap_msix && cap_pci_cfg, "MSI-X and PCI_CFG capabilities present");
}

static void setup(struct input *in)
{
    uint8_t shape = (uint8_t)take(in, 1);
    struct virtio_pci_params p = {
        .device_type = 2,
        .class_code = 0x010000,
        .features = take(in, 8),
        .num_queues = (unsigned)take(in, 1) % 20, /* 0 and > 16 too: clamped */
        .queue_size = (uint16_t)take(in, 2),
        .config_size = (unsigned)take(in, 2) % 0x1400,
        .bar_gpa = BAR_GPA,
        .pci_dev = DEV,
        .queues = vqs,
        .ops = &stub_ops,
        .dev_ctx = &S,
        .notify = stub_notify,
        .notify_ctx = &S,
        .msi = stub_msi,
        .msi_ctx = &S,
        .intx = shape & 1 ? stub_intx : NULL,
    };
    memset(&S, 0, sizeof(S));
    S.refuse_mask = (uint32_t)take(in, 2);
    memset(vqs, 0, sizeof(vqs));
    pci_host_init(&H);
    virtio_pci_init(&T, &p);
    check(T.p.num_queues <= VIRTIO_PCI_MAX_QUEUES, "num_queues clamped");
    check(T.p.config_size <= 0x1000, "config_size clamped");
    check(virtio_pci_attach(&T, &H), "attach");
    find_caps();
}

static unsigned access_size(uint8_t b)
{
    static const uint8_t sizes[8] = {1, 2, 4, 8, 1, 2, 4, 0};
    return b & 8 ? (b & 0x0f) : sizes[b & 7]; /* mostly valid, sometimes 0..15 */
}

static uint64_t bar_offset(struct input *in, uint8_t b)
{
    switch (b >> 6) {
    case 0: return take(in, 2) & 0x7fff;                      /* anywhere in BAR 0 */
    case 1: return (take(in, 1) & 0x3f) | ((b & 0x30u) << 8); /* start of a region */
    case 2: return 0x3000 + (take(in, 1) & 0x7f);             /* notifications */
    default: return take(in, 8);                              /* anything */
    }
}

static void step(struct input *in)
{
    uint8_t op = (uint8_t)take(in, 1), b = (uint8_t)take(in, 1);
    unsigned size = access_size(b);

    switch (op % 12) {
    case 0: { /* BAR read */
        uint64_t off = bar_offset(in, b);
        uint64_t v = virtio_pci_bar_read(&T, off, size);
        if (size != 1 && size != 2 && size != 4 && size != 8)
            check(v == 0, "BAR read of an invalid size is 0");
        else if (size < 8)
            check(v >> (8 * size) == 0, "BAR read wider than its size");
        if (off == VIRTIO_PCI_ISR_OFFSET && size)
            check(v <= 3, "ISR bits");
        break;
    }
    case 1: { /* BAR write */
        uint64_t off = bar_offset(in, b);
        virtio_pci_bar_write(&T, off, size, take(in, 8));
        break;
    }
    case 2: /* configuration space through ECAM */
        if (b & 1)
            cfg_wr((unsigned)take(in, 2) & 0xfff, size, take(in, 8));
        else
            cfg_rd((unsigned)take(in, 2) & 0xfff, size);
        break;
    case 3: { /* through 0xCF8/0xCFC */
        uint8_t reg = (uint8_t)take(in, 1);
        pci_host_io_write(&H, 0xcf8, 4, 0x80000000u | DEV << 11 | (reg & 0xfc));
        uint16_t port = (uint16_t)(0xcfc + (reg & 3));
        if (b & 1)
            pci_host_io_write(&H, port, size, (uint32_t)take(in, 4));
        else
            pci_host_io_read(&H, port, size);
        break;
    }
    case 4: { /* the PCI_CFG window: bar, offset, length, then data */
        cfg_wr(cap_pci_cfg + 4, 1, b & 0x80 ? take(in, 1) : 0);
        uint32_t off = b & 0x40 ? (uint32_t)take(in, 4) : (uint32_t)bar_offset(in, b & 0x3f);
        cfg_wr(cap_pci_cfg + 8, 4, off);
        cfg_wr(cap_pci_cfg + 12, 4, size ? size : take(in, 4));
        unsigned dsize = 1u << (take(in, 1) & 3); /* 1, 2, 4, 8 */
        unsigned dat = cap_pci_cfg + 16 + (dsize < 4 ? (b & 3) & ~(dsize - 1) : 0);
        if (b & 0x20) {
            cfg_wr(dat, dsize, take(in, 4));
            break;
        }
        cfg_rd(dat, dsize);
        /* A window read returns what a direct BAR read of the same bytes
         * does (outside the ISR, which a read clears). */
        uint8_t bar = (uint8_t)cfg_rd(cap_pci_cfg + 4, 1);
        uint32_t woff = (uint32_t)cfg_rd(cap_pci_cfg + 8, 4);
        uint32_t wlen = (uint32_t)cfg_rd(cap_pci_cfg + 12, 4);
        if (bar == 0 && (wlen == 1 || wlen == 2 || wlen == 4) && woff % wlen == 0 &&
            woff < VIRTIO_PCI_BAR_SIZE && (woff < 0x1000 || woff >= 0x2000)) {
            uint64_t mask = (1ull << (8 * wlen)) - 1;
            check((cfg_rd(cap_pci_cfg + 16, 4) & mask) == virtio_pci_bar_read(&T, woff, wlen),
                  "PCI_CFG window read differs from the BAR read");
        }
        break;
    }
    case 5: { /* a common-configuration field by name */
        unsigned f = b % (sizeof(fields) / sizeof(fields[0]));
        uint64_t v = b & 0x80 ? take(in, 8) : take(in, 1); /* small values reach more */
        if (f == F_STATUS && (b & 0x40))
            v = 0; /* reset */
        unsigned resets = S.resets;
        virtio_pci_bar_write(&T, fields[f].offset, fields[f].size, v);
        if (f == F_STATUS && v == 0) {
            check(S.resets == resets + 1, "status 0 resets the device once");
            check(status_now() == 0, "status 0 after reset");
        }
        break;
    }
    case 6: { /* a common-configuration field read by name */
        unsigned f = b % (sizeof(fields) / sizeof(fields[0]));
        uint64_t v = virtio_pci_bar_read(&T, fields[f].offset, fields[f].size);
        if (fields[f].offset == 0x12)
            check(v == T.p.num_queues, "num_queues reads back");
        break;
    }
    case 7: { /* an MSI-X table word by name */
        unsigned v = (unsigned)take(in, 1) % 20, w = b & 3;
        uint32_t value = (uint32_t)take(in, 4);
        if (w == 0 && (b & 4))
            value = 0xfee00000u | (value & 0xff000);
        if (w == 3)
            value &= b & 8 ? 0xffffffffu : 1;
        virtio_pci_bar_write(&T, VIRTIO_PCI_MSIX_OFFSET + 16 * v + 4 * w, 4, value);
        break;
    }
    case 8: { /* MSI-X message control: enable, function mask */
        uint16_t c = (uint16_t)(b << 8);
        cfg_wr(cap_msix + 2, 2, c & (MSIX_ENABLE | MSIX_MASKALL));
        break;
    }
    case 9: virtio_pci_signal_queue(&T, (unsigned)take(in, 1) % 20); break;
    case 10: virtio_pci_set_needs_reset(&T); break;
    default: virtio_pci_config_changed(&T); break;
    }
}

static void check_state(unsigned resets_before)
{
    unsigned n = T.p.num_queues;
    uint8_t status = status_now();

    check(T.msix_config < nvec() || T.msix_config == VIRTIO_PCI_NO_VECTOR, "msix_config range");
    for (unsigned q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++) {
        check(T.queue_vector[q] < nvec() || T.queue_vector[q] == VIRTIO_PCI_NO_VECTOR,
              "queue vector range");
        if (q >= n) {
            check(!T.queue_enabled[q], "a queue past num_queues is enabled");
            continue;
        }
        if (T.queue_enabled[q]) {
            uint16_t size = vqs[q].size;
            check(size && !(size & (size - 1)) && size <= T.p.queue_size, "enabled queue size");
            check(T.queue_size[q] == size && T.queue_desc[q] == vqs[q].desc_gpa &&
                      T.queue_driver[q] == vqs[q].avail_gpa && T.queue_device[q] == vqs[q].used_gpa,
                  "an enabled queue's configuration changed");
        }
    }
    check((T.pba >> nvec()) == 0, "pending bit of a vector that does not exist");
    check((T.isr & ~3u) == 0, "ISR bits");
    for (unsigned v = 0; v < VIRTIO_PCI_MAX_QUEUES + 1; v++)
        check((T.msix[v].ctrl & ~1u) == 0, "vector control reserved bits");
    if (status & VIRTIO_STATUS_FEATURES_OK) {
        uint64_t dev = T.p.features | 1ull << VIRTIO_F_VERSION_1;
        check(!(T.driver_features & ~dev) && (T.driver_features >> VIRTIO_F_VERSION_1 & 1),
              "FEATURES_OK with features the device cannot accept");
    }
    if (S.resets != resets_before) {
        /* A reset may be followed by nothing else in one step, except in
         * the window write (one data write) or a status write: so after it
         * nothing is enabled. */
        for (unsigned q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++)
            check(!T.queue_enabled[q], "a queue stayed enabled across reset");
    }
    check(cfg_rd(0, 4) == ((uint32_t)(VIRTIO_PCI_DEVICE_BASE + 2) << 16 | VIRTIO_PCI_VENDOR),
          "vendor and device IDs are read-only");
    uint32_t bar_lo = (uint32_t)cfg_rd(0x10, 4);
    check((bar_lo & 0xf) == 0x4 && (bar_lo & 0x7ff0) == 0, "BAR 0 type and size bits");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};

    setup(&in);
    for (unsigned steps = 0; in.n && steps < 4096; steps++) {
        unsigned resets = S.resets;
        step(&in);
        check_state(resets);
    }
    if (getenv("FUZZ_VIRTIO_PCI_COUNTS")) /* to see what a seed reaches */
        fprintf(stderr,
                "config_reads=%u config_writes=%u enables=%u driver_oks=%u resets=%u "
                "notifies=%u msis=%u status=%#x\n",
                S.config_reads, S.config_writes, S.enables, S.driver_oks, S.resets, S.notifies,
                S.msis, status_now());
    return 0;
}
