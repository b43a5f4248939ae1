/* SPDX-License-Identifier: MIT */
/*
 * vnetbreak: the guest that breaks its virtio-net ring while other guests'
 * traffic crosses the same switch (issue 15, tests/system/test_net_break.py).
 * A minimal polled virtio-net driver (virtio 1.x, 4.1 PCI transport, 2.7
 * split rings, 5.1 network device; VERSION_1 only, no interrupts): it finds
 * the device on bus 0, sets up receive queue 0 with a few buffers and
 * transmit queue 1, sends one broadcast frame of its own (a local
 * experimental EtherType, which nobody answers) and waits until the switch
 * brings it a frame from another guest: the traffic under test has started.
 * Then it posts a looping descriptor chain (0 -> 1 -> 0) on its transmit
 * queue and notifies; the device must set DEVICE_NEEDS_RESET. It prints
 * RESULT and then holds the broken device (halted with interrupts off), so
 * the switch keeps a broken port for the rest of the run.
 *
 * Built as vnetflood (VNB_FLOOD), it waits for no traffic and floods
 * Sidecore's console (HC_PRINT, far more lines than its 64 KiB queue holds)
 * just before and after it breaks the ring: the queue is full when the
 * device breaks, which once lost Sidecore's "net 0 broken" line. It then
 * waits for the queue to drain before it prints its results.
 */
#include "expect.h"
#include "hypercall.h"
#include "mmio.h"
#include "printf.h"
#include "runtime.h"
#include "tsc.h"
#include "virtio_caps.h"
#include "x86.h"

const char guest_name[] = GUEST_NAME;

#define ECAM 0xE0000000ul

#define COMMON_DFSELECT  0x00
#define COMMON_DF        0x04
#define COMMON_GFSELECT  0x08
#define COMMON_GF        0x0c
#define COMMON_MSIX      0x10
#define COMMON_STATUS    0x14
#define COMMON_Q_SELECT  0x16
#define COMMON_Q_SIZE    0x18
#define COMMON_Q_MSIX    0x1a
#define COMMON_Q_ENABLE  0x1c
#define COMMON_Q_NOFF    0x1e
#define COMMON_Q_DESCLO  0x20
#define COMMON_Q_AVAILLO 0x28
#define COMMON_Q_USEDLO  0x30

#define ST_ACK         1
#define ST_DRIVER      2
#define ST_DRIVER_OK   4
#define ST_FEATURES_OK 8
#define ST_NEEDS_RESET 0x40
#define ST_FAILED      0x80
#define F_VERSION_1_HI 1u
#define NO_VECTOR      0xffff

#define DESC_F_NEXT  1
#define DESC_F_WRITE 2
#define VQ           8
#define RX_BUFS      4
#define BUF_BYTES    2048
#define HDR_BYTES    12     /* struct virtio_net_hdr with VERSION_1 */
#define ETHERTYPE    0x88b5 /* IEEE 802 local experimental */

/* How long to wait for another guest's first frame: the Linux guests boot
 * first (minutes in an emulator). */
#ifndef VNB_WAIT_RX_US
#define VNB_WAIT_RX_US 1500000000ull
#endif
#define NEEDS_RESET_TIMEOUT_US 10000000

struct vring_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

struct vring {
    volatile struct vring_desc desc[VQ] __attribute__((aligned(4096)));
    volatile struct {
        uint16_t flags, idx, ring[VQ], used_event;
    } avail __attribute__((aligned(4096)));
    volatile struct {
        uint16_t flags, idx;
        struct {
            uint32_t id, len;
        } ring[VQ];
        uint16_t avail_event;
    } used __attribute__((aligned(4096)));
};

static struct vring rings[2]; /* 0: receive, 1: transmit */
static uint8_t rx_buf[RX_BUFS][BUF_BYTES] __attribute__((aligned(4096)));
static uint8_t tx_buf[BUF_BYTES] __attribute__((aligned(4096)));

static uintptr_t dev_ecam;
static uint64_t bar;
static struct virtio_caps caps;
static uint16_t notify_off[2];

static uint64_t now_us(void)
{
    return tsc_to_us(rdtsc());
}

static uintptr_t common(unsigned off)
{
    return (uintptr_t)bar + caps.region[VIRTIO_CAP_COMMON].offset + off;
}

static uint8_t status(void)
{
    return mmio_read8(common(COMMON_STATUS));
}

static void write64(uintptr_t a, uint64_t v)
{
    mmio_write32(a, (uint32_t)v);
    mmio_write32(a + 4, (uint32_t)(v >> 32));
}

static void notify(unsigned q)
{
    asm volatile("mfence" ::: "memory");
    mmio_write16((uintptr_t)bar + caps.region[VIRTIO_CAP_NOTIFY].offset +
                     (uintptr_t)notify_off[q] * caps.notify_multiplier,
                 (uint16_t)q);
}

/* The first virtio-net function (1af4:1041) on bus 0, its capabilities and
 * BAR; memory decoding and bus mastering on. */
static bool find_device(void)
{
    static uint8_t cfg[256];

    for (unsigned dev = 0; dev < 32 && !dev_ecam; dev++) {
        uintptr_t a = ECAM + ((uintptr_t)dev << 15);
        if (mmio_read32(a) == (0x1041u << 16 | 0x1af4u))
            dev_ecam = a;
    }
    if (!EXPECTF(dev_ecam, "vnetbreak: a virtio-net device 1af4:1041 on bus 0", "none found"))
        return false;
    for (unsigned off = 0; off < 256; off += 4) {
        uint32_t v = mmio_read32(dev_ecam + off);
        for (unsigned i = 0; i < 4; i++)
            cfg[off + i] = (uint8_t)(v >> (8 * i));
    }
    const char *e = virtio_caps_parse(cfg, &caps);
    if (!EXPECTF(!e, "vnetbreak: its virtio capabilities parse", "%s", e))
        return false;
    unsigned b = caps.region[VIRTIO_CAP_COMMON].bar;
    if (!EXPECTF(b == caps.region[VIRTIO_CAP_NOTIFY].bar && b == caps.region[VIRTIO_CAP_DEVICE].bar,
                 "vnetbreak: common, notify and device regions share a BAR", "BAR %u", b))
        return false;
    bar = mmio_read32(dev_ecam + PCI_CFG_BAR0 + 4 * b) & ~0xfull;
    if (mmio_read32(dev_ecam + PCI_CFG_BAR0 + 4 * b) & 4) /* 64-bit BAR */
        bar |= (uint64_t)mmio_read32(dev_ecam + PCI_CFG_BAR0 + 4 * b + 4) << 32;
    uint16_t cmd = mmio_read16(dev_ecam + PCI_CFG_COMMAND);
    mmio_write16(dev_ecam + PCI_CFG_COMMAND, cmd | PCI_COMMAND_MEM | PCI_COMMAND_MASTER);
    printf("vnetbreak: virtio-net at %02x:%02x.0, BAR%u at %#llx\n", 0,
           (unsigned)((dev_ecam - ECAM) >> 15), b, (unsigned long long)bar);
    return true;
}

static bool queue_setup(unsigned q)
{
    mmio_write16(common(COMMON_Q_SELECT), (uint16_t)q);
    uint16_t max = mmio_read16(common(COMMON_Q_SIZE));
    if (!EXPECTF(max >= VQ && !(max & (max - 1)), "vnetbreak: queue size", "queue %u: %u", q, max))
        return false;
    mmio_write16(common(COMMON_Q_SIZE), VQ);
    write64(common(COMMON_Q_DESCLO), (uintptr_t)rings[q].desc);
    write64(common(COMMON_Q_AVAILLO), (uintptr_t)&rings[q].avail);
    write64(common(COMMON_Q_USEDLO), (uintptr_t)&rings[q].used);
    mmio_write16(common(COMMON_Q_MSIX), NO_VECTOR);
    notify_off[q] = mmio_read16(common(COMMON_Q_NOFF));
    rings[q].avail.flags = 1; /* VRING_AVAIL_F_NO_INTERRUPT: we poll */
    mmio_write16(common(COMMON_Q_ENABLE), 1);
    return true;
}

static bool device_setup(void)
{
    uint64_t t0 = now_us();

    mmio_write8(common(COMMON_STATUS), 0);
    while (status() != 0) {
        if (now_us() - t0 > NEEDS_RESET_TIMEOUT_US)
            return expect_check(false, "vnetbreak: reset", "status %#x, not 0", status());
        asm volatile("pause");
    }
    mmio_write8(common(COMMON_STATUS), ST_ACK);
    mmio_write8(common(COMMON_STATUS), ST_ACK | ST_DRIVER);
    mmio_write32(common(COMMON_DFSELECT), 1);
    if (!EXPECTF(mmio_read32(common(COMMON_DF)) & F_VERSION_1_HI, "vnetbreak: VIRTIO_F_VERSION_1",
                 "not offered"))
        return false;
    mmio_write32(common(COMMON_GFSELECT), 0);
    mmio_write32(common(COMMON_GF), 0);
    mmio_write32(common(COMMON_GFSELECT), 1);
    mmio_write32(common(COMMON_GF), F_VERSION_1_HI);
    mmio_write8(common(COMMON_STATUS), ST_ACK | ST_DRIVER | ST_FEATURES_OK);
    if (!EXPECTF(status() & ST_FEATURES_OK, "vnetbreak: FEATURES_OK", "status %#x", status()))
        return false;
    mmio_write16(common(COMMON_MSIX), NO_VECTOR);
    if (!queue_setup(0) || !queue_setup(1))
        return false;
    /* Receive buffers before DRIVER_OK: one descriptor each, whole frames
     * (no MRG_RXBUF, so each must hold the header and a full frame). */
    for (unsigned i = 0; i < RX_BUFS; i++) {
        rings[0].desc[i] = (struct vring_desc){
            .addr = (uintptr_t)rx_buf[i], .len = BUF_BYTES, .flags = DESC_F_WRITE};
        rings[0].avail.ring[i] = (uint16_t)i;
    }
    asm volatile("" ::: "memory");
    rings[0].avail.idx = RX_BUFS;
    mmio_write8(common(COMMON_STATUS), ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
    uint8_t st = status();
    return EXPECTF((st & ST_DRIVER_OK) && !(st & (ST_NEEDS_RESET | ST_FAILED)),
                   "vnetbreak: device set up (DRIVER_OK, queues 0 and 1, 4 receive buffers)",
                   "status %#x", st);
}

/* One broadcast frame of our own through transmit queue 1, waited for. */
static bool send_broadcast(void)
{
    uintptr_t devcfg = (uintptr_t)bar + caps.region[VIRTIO_CAP_DEVICE].offset;
    uint8_t *f = tx_buf + HDR_BYTES;
    unsigned len = 60;

    for (unsigned i = 0; i < HDR_BYTES + len; i++)
        tx_buf[i] = 0;
    for (unsigned i = 0; i < 6; i++) {
        f[i] = 0xff;
        f[6 + i] = mmio_read8(devcfg + i); /* our MAC (VIRTIO_NET_F_MAC's field) */
    }
    f[12] = ETHERTYPE >> 8;
    f[13] = ETHERTYPE & 0xff;
    for (unsigned i = 14; i < len; i++)
        f[i] = (uint8_t)i;
    printf("vnetbreak: mac %02x:%02x:%02x:%02x:%02x:%02x\n", f[6], f[7], f[8], f[9], f[10], f[11]);
    rings[1].desc[0] = (struct vring_desc){.addr = (uintptr_t)tx_buf, .len = HDR_BYTES + len};
    rings[1].avail.ring[0] = 0;
    asm volatile("" ::: "memory");
    rings[1].avail.idx = 1;
    notify(1);
    uint64_t t0 = now_us();
    while (rings[1].used.idx != 1) {
        if (now_us() - t0 > NEEDS_RESET_TIMEOUT_US)
            return expect_check(false, "vnetbreak: its broadcast frame is sent", "not used (%#x)",
                                status());
        asm volatile("pause");
    }
    return expect_check(true, "vnetbreak: its broadcast frame is sent", "-");
}

/* Waits for a frame another guest sent (the traffic under test). */
static bool wait_for_traffic(void)
{
    uint64_t t0 = now_us();

    while (rings[0].used.idx == 0) {
        if (now_us() - t0 > VNB_WAIT_RX_US)
            return expect_check(false, "vnetbreak: a frame from another guest arrives",
                                "none in %llu s", (unsigned long long)(VNB_WAIT_RX_US / 1000000));
        tsc_delay_us(1000);
    }
    asm volatile("" ::: "memory");
    uint32_t id = rings[0].used.ring[0].id, len = rings[0].used.ring[0].len;
    if (id < RX_BUFS && len > HDR_BYTES + 14 && len <= BUF_BYTES) {
        const uint8_t *f = rx_buf[id] + HDR_BYTES;
        printf("vnetbreak: first frame from %02x:%02x:%02x:%02x:%02x:%02x type %02x%02x, "
               "%u bytes\n",
               f[6], f[7], f[8], f[9], f[10], f[11], f[12], f[13], len - HDR_BYTES);
    }
    return EXPECTF(id < RX_BUFS && len > HDR_BYTES + 14 && len <= BUF_BYTES,
                   "vnetbreak: a frame from another guest arrives", "id %u len %u", id, len);
}

#ifdef VNB_FLOOD
/* Lines per burst: 4 KiB hypercalls of 64 lines; a burst of 24 is 96 KiB,
 * half again what the console queue holds. */
#define FLOOD_CALLS    24
#define FLOOD_CALL     4096 /* HC_PRINT's limit */
#define FLOOD_LINE     64
#define FLOOD_DRAIN_US 5000000

static void flood_console(unsigned burst)
{
    static char buf[FLOOD_CALL];

    for (unsigned c = 0; c < FLOOD_CALLS; c++) {
        for (unsigned l = 0; l < sizeof(buf) / FLOOD_LINE; l++) {
            char *line = buf + l * FLOOD_LINE;
            int n =
                snprintf(line, FLOOD_LINE, "vnetflood: burst %u call %02u line %02u", burst, c, l);
            for (int i = n; i < FLOOD_LINE - 1; i++)
                line[i] = '.';
            line[FLOOD_LINE - 1] = '\n';
        }
        hc_print(buf, sizeof(buf));
    }
}
#else
static void flood_console(unsigned burst)
{
    (void)burst;
}
#endif

static bool break_ring(void)
{
    rings[1].desc[0] =
        (struct vring_desc){.addr = (uintptr_t)tx_buf, .len = 64, .flags = DESC_F_NEXT, .next = 1};
    rings[1].desc[1] = (struct vring_desc){
        .addr = (uintptr_t)tx_buf + 64, .len = 64, .flags = DESC_F_NEXT, .next = 0};
    rings[1].avail.ring[1 % VQ] = 0;
    printf("vnetbreak: breaking the ring (looping chain on transmit queue 1)\n");
    flood_console(1);
    asm volatile("" ::: "memory");
    rings[1].avail.idx = 2;
    notify(1);
    flood_console(2);
    uint64_t t0 = now_us();
    uint8_t st;
    while (!((st = status()) & ST_NEEDS_RESET)) {
        if (now_us() - t0 > NEEDS_RESET_TIMEOUT_US)
            return expect_check(false, "vnetbreak: DEVICE_NEEDS_RESET follows",
                                "status %#x after %u ms", st, NEEDS_RESET_TIMEOUT_US / 1000);
        asm volatile("pause");
    }
#ifdef VNB_FLOOD
    tsc_delay_us(FLOOD_DRAIN_US); /* what is printed now must not find the queue full */
#endif
    printf("vnetbreak: device status %#x (DEVICE_NEEDS_RESET)\n", st);
    expect_check(rings[1].used.idx == 1, "vnetbreak: the looping chain is never used",
                 "used idx %u", rings[1].used.idx);
    return expect_check(true, "vnetbreak: DEVICE_NEEDS_RESET follows", "-");
}

void test_main(void)
{
#ifdef VNB_FLOOD
    bool traffic = true; /* alone on its switch: breaks at once */
#else
    bool traffic = false;
#endif
    if (find_device() && device_setup() && send_broadcast() && (traffic || wait_for_traffic()))
        break_ring();
    unsigned failed = expect_failures();
    printf("RESULT %u passed, %u failed\n", expect_passes(), failed);
    printf("vnetbreak: holding the broken device\n");
    /* Halted with interrupts off: Sidecore parks the vCPU until the guest
     * is stopped, the device stays broken, and no core time is spent. */
    for (;;)
        asm volatile("cli; hlt" ::: "memory");
}
