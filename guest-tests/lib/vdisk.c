/* SPDX-License-Identifier: MIT */
/*
 * vdisk.h's driver. Written from the virtio 1.x specification (4.1 for the
 * PCI transport, 2.7 for split virtqueues, 5.2 for the block device) with
 * the same checks as vblk-good's driver, kept apart from it because the
 * notification path, the BAR address and the ring are what these tests
 * vary. Every request uses descriptors 0-2 (header, data, status): one in
 * flight at a time is all a verified cycle needs, and it keeps what the
 * device may legitimately hand back exact.
 */
#include "vdisk.h"

#include "disk_pattern.h"
#include "expect.h"
#include "mmio.h"
#include "printf.h"
#include "tsc.h"
#include "virtio_caps.h"
#include "x86.h"

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
#define NOTIFY_OFFSET    0x3000
#define NOTIFY_MULT      4

/* virtio_pci_cfg_cap (4.1.4.9): cap.bar, cap.offset, cap.length, data. */
#define WIN_BAR    4
#define WIN_OFFSET 8
#define WIN_LENGTH 12
#define WIN_DATA   16

#define ST_ACK         1
#define ST_DRIVER      2
#define ST_FEATURES_OK 8
#define F_VERSION_1_HI 1u
#define NO_VECTOR      0xffff

#define DESC_F_NEXT      1
#define DESC_F_WRITE     2
#define USED_F_NO_NOTIFY 1
#define VQ               16
#define MAX_SECTORS_IO   8
#define TIMEOUT_US       3000000

struct vring_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

static volatile struct vring_desc ring_desc[VQ] __attribute__((aligned(4096)));
static volatile struct {
    uint16_t flags, idx, ring[VQ], used_event;
} ring_avail __attribute__((aligned(4096)));
static volatile struct {
    uint16_t flags, idx;
    struct {
        uint32_t id, len;
    } ring[VQ];
    uint16_t avail_event;
} ring_used __attribute__((aligned(4096)));
static struct {
    uint32_t type, reserved;
    uint64_t sector;
} req_hdr __attribute__((aligned(64)));
static volatile uint8_t req_status;
static uint32_t buf_w[MAX_SECTORS_IO * DISK_SECTOR_WORDS] __attribute__((aligned(4096)));
static uint32_t buf_r[MAX_SECTORS_IO * DISK_SECTOR_WORDS] __attribute__((aligned(4096)));
static char err[160];

static uint64_t now_us(void)
{
    return tsc_to_us(rdtsc());
}

/* ---- configuration space ---- */

static uintptr_t ecam(unsigned off)
{
    return VDISK_ECAM + ((uintptr_t)VDISK_DEV << 15) + off;
}

static void cf8(unsigned off)
{
    outl(0xcf8, 0x80000000u | (uint32_t)VDISK_DEV << 11 | (off & 0xfcu));
}

uint32_t vdisk_cfg_read(bool ports, unsigned off, unsigned size)
{
    if (!ports)
        return size == 1   ? mmio_read8(ecam(off))
               : size == 2 ? mmio_read16(ecam(off))
                           : mmio_read32(ecam(off));
    cf8(off);
    uint16_t port = (uint16_t)(0xcfc + (off & 3));
    return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

void vdisk_cfg_write(bool ports, unsigned off, unsigned size, uint32_t value)
{
    if (!ports) {
        if (size == 1)
            mmio_write8(ecam(off), (uint8_t)value);
        else if (size == 2)
            mmio_write16(ecam(off), (uint16_t)value);
        else
            mmio_write32(ecam(off), value);
        return;
    }
    cf8(off);
    uint16_t port = (uint16_t)(0xcfc + (off & 3));
    if (size == 1)
        outb(port, (uint8_t)value);
    else if (size == 2)
        outw(port, (uint16_t)value);
    else
        outl(port, value);
}

/* ---- registers ---- */

static uintptr_t common(const struct vdisk *d, unsigned off)
{
    return (uintptr_t)d->bar + off;
}

uint8_t vdisk_status(const struct vdisk *d)
{
    return mmio_read8(common(d, COMMON_STATUS));
}

static void status_write(struct vdisk *d, uint8_t s)
{
    mmio_write8(common(d, COMMON_STATUS), s);
}

static void window_set(const struct vdisk *d, bool ports, uint32_t off, unsigned size)
{
    vdisk_cfg_write(ports, d->pcicfg_cap + WIN_BAR, 1, 0);
    vdisk_cfg_write(ports, d->pcicfg_cap + WIN_OFFSET, 4, off);
    vdisk_cfg_write(ports, d->pcicfg_cap + WIN_LENGTH, 4, size);
}

uint32_t vdisk_window_read(const struct vdisk *d, bool ports, uint32_t off, unsigned size)
{
    window_set(d, ports, off, size);
    return vdisk_cfg_read(ports, d->pcicfg_cap + WIN_DATA, size);
}

void vdisk_notify_pcicfg(const struct vdisk *d, bool ports)
{
    window_set(d, ports, NOTIFY_OFFSET + (uint32_t)d->notify_off * NOTIFY_MULT, 2);
    vdisk_cfg_write(ports, d->pcicfg_cap + WIN_DATA, 2, 0 /* queue 0 */);
}

void vdisk_notify(struct vdisk *d)
{
    d->notifies++;
    if (d->how == VDISK_NOTIFY_BAR)
        mmio_write16((uintptr_t)d->bar + NOTIFY_OFFSET + (uintptr_t)d->notify_off * NOTIFY_MULT, 0);
    else
        vdisk_notify_pcicfg(d, d->how == VDISK_NOTIFY_PORTS);
}

/* ---- set-up ---- */

static bool find_device(struct vdisk *d, const char *what)
{
    static uint8_t cfg[256];
    struct virtio_caps c;
    char line[128];

    uint32_t id = mmio_read32(ecam(PCI_CFG_VENDOR));
    snprintf(line, sizeof(line), "%s: virtio-blk 1af4:1042 at 00:01.0", what);
    if (!EXPECTF(id == (0x1042u << 16 | 0x1af4u), line, "id %#x", id))
        return false;
    for (unsigned off = 0; off < 256; off += 4) {
        uint32_t v = mmio_read32(ecam(off));
        for (unsigned i = 0; i < 4; i++)
            cfg[off + i] = (uint8_t)(v >> (8 * i));
    }
    const char *e = virtio_caps_parse(cfg, &c);
    snprintf(line, sizeof(line), "%s: capabilities parse, with a PCI_CFG window", what);
    if (!EXPECTF(!e && c.region[VIRTIO_CAP_PCI].found, line, "%s",
                 e ? e : "no VIRTIO_PCI_CAP_PCI_CFG"))
        return false;
    snprintf(line, sizeof(line), "%s: notify region at BAR0+0x3000, multiplier 4", what);
    if (!EXPECTF(c.region[VIRTIO_CAP_NOTIFY].bar == 0 &&
                     c.region[VIRTIO_CAP_NOTIFY].offset == NOTIFY_OFFSET &&
                     c.notify_multiplier == NOTIFY_MULT,
                 line, "BAR %u offset %#x multiplier %u", c.region[VIRTIO_CAP_NOTIFY].bar,
                 c.region[VIRTIO_CAP_NOTIFY].offset, c.notify_multiplier))
        return false;
    d->pcicfg_cap = c.region[VIRTIO_CAP_PCI].cap_offset;
    uint64_t bar = (uint64_t)mmio_read32(ecam(PCI_CFG_BAR0 + 4)) << 32 |
                   (mmio_read32(ecam(PCI_CFG_BAR0)) & ~0xfu);
    snprintf(line, sizeof(line), "%s: BAR0 at 0xC0000000", what);
    if (!EXPECT_EQ(bar, VDISK_BAR, line))
        return false;
    d->bar = bar;
    uint16_t cmd = mmio_read16(ecam(PCI_CFG_COMMAND));
    mmio_write16(ecam(PCI_CFG_COMMAND), cmd | PCI_COMMAND_MEM | PCI_COMMAND_MASTER);
    return true;
}

static void ring_clear(struct vdisk *d)
{
    for (unsigned i = 0; i < VQ; i++)
        ring_desc[i] = (struct vring_desc){0};
    ring_avail.flags = 1; /* VRING_AVAIL_F_NO_INTERRUPT: we poll */
    ring_avail.idx = 0;
    ring_used.flags = 0;
    ring_used.idx = 0;
    d->avail_idx = 0;
    d->last_used = 0;
}

static void write64(uintptr_t a, uint64_t v)
{
    mmio_write32(a, (uint32_t)v);
    mmio_write32(a + 4, (uint32_t)(v >> 32));
}

bool vdisk_setup(struct vdisk *d, const char *what)
{
    uint64_t t0 = now_us();

    status_write(d, 0);
    while (vdisk_status(d) != 0) {
        if (now_us() - t0 > TIMEOUT_US)
            return expect_check(false, what, "reset: status %#x, not 0", vdisk_status(d));
        asm volatile("pause");
    }
    status_write(d, ST_ACK);
    status_write(d, ST_ACK | ST_DRIVER);
    mmio_write32(common(d, COMMON_DFSELECT), 1);
    uint32_t f_hi = mmio_read32(common(d, COMMON_DF));
    if (!(f_hi & F_VERSION_1_HI))
        return expect_check(false, what, "no VIRTIO_F_VERSION_1 (features hi %#x)", f_hi);
    mmio_write32(common(d, COMMON_GFSELECT), 0);
    mmio_write32(common(d, COMMON_GF), 0);
    mmio_write32(common(d, COMMON_GFSELECT), 1);
    mmio_write32(common(d, COMMON_GF), F_VERSION_1_HI);
    status_write(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
    if (!(vdisk_status(d) & ST_FEATURES_OK))
        return expect_check(false, what, "FEATURES_OK refused (status %#x)", vdisk_status(d));
    mmio_write16(common(d, COMMON_MSIX), NO_VECTOR);
    mmio_write16(common(d, COMMON_Q_SELECT), 0);
    uint16_t max = mmio_read16(common(d, COMMON_Q_SIZE));
    if (max < 4 || (max & (max - 1)))
        return expect_check(false, what, "queue 0 size %u", max);
    d->qsize = max < VQ ? max : VQ;
    ring_clear(d);
    mmio_write16(common(d, COMMON_Q_SIZE), d->qsize);
    write64(common(d, COMMON_Q_DESCLO), (uintptr_t)ring_desc);
    write64(common(d, COMMON_Q_AVAILLO), (uintptr_t)&ring_avail);
    write64(common(d, COMMON_Q_USEDLO), (uintptr_t)&ring_used);
    mmio_write16(common(d, COMMON_Q_MSIX), NO_VECTOR);
    d->notify_off = mmio_read16(common(d, COMMON_Q_NOFF));
    mmio_write16(common(d, COMMON_Q_ENABLE), 1);
    status_write(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK | VDISK_STATUS_DRIVER_OK);
    uint8_t st = vdisk_status(d);
    if (!(st & VDISK_STATUS_DRIVER_OK) || (st & (VDISK_STATUS_NEEDS_RESET | 0x80)))
        return expect_check(false, what, "status %#x after DRIVER_OK", st);
    return true;
}

bool vdisk_init(struct vdisk *d, uint8_t tag, const char *what)
{
    char line[128];

    *d = (struct vdisk){.tag = tag};
    if (!find_device(d, what))
        return false;
    snprintf(line, sizeof(line), "%s: device set up (DRIVER_OK, queue 0)", what);
    return vdisk_setup(d, line) && expect_check(true, line, "-");
}

/* ---- requests ---- */

static void publish(struct vdisk *d)
{
    ring_avail.ring[d->avail_idx % d->qsize] = 0;
    asm volatile("" : : : "memory");
    ring_avail.idx = ++d->avail_idx;
    asm volatile("mfence" : : : "memory");
    if (!d->notify_always && (ring_used.flags & USED_F_NO_NOTIFY)) {
        d->notifies_skipped++;
        return;
    }
    vdisk_notify(d);
}

const char *vdisk_io(struct vdisk *d, uint32_t type, uint32_t sector, void *buf, uint32_t len)
{
    req_hdr.type = type;
    req_hdr.reserved = 0;
    req_hdr.sector = sector;
    req_status = 0xff;
    ring_desc[0] = (struct vring_desc){
        .addr = (uintptr_t)&req_hdr, .len = sizeof(req_hdr), .flags = DESC_F_NEXT, .next = 1};
    ring_desc[1] = (struct vring_desc){
        .addr = (uintptr_t)buf,
        .len = len,
        .flags = (uint16_t)(DESC_F_NEXT | (type == VDISK_T_IN ? DESC_F_WRITE : 0)),
        .next = 2};
    ring_desc[2] =
        (struct vring_desc){.addr = (uintptr_t)&req_status, .len = 1, .flags = DESC_F_WRITE};
    publish(d);
    uint64_t t0 = now_us();
    uint16_t idx;
    while ((idx = ring_used.idx) == d->last_used) {
        if (now_us() - t0 > TIMEOUT_US) {
            snprintf(err, sizeof(err),
                     "type-%u request at sector %u: no completion within %u ms (status %#x)", type,
                     sector, TIMEOUT_US / 1000, vdisk_status(d));
            return err;
        }
        asm volatile("pause");
    }
    asm volatile("" : : : "memory");
    uint32_t id = ring_used.ring[d->last_used % d->qsize].id;
    uint32_t used = ring_used.ring[d->last_used % d->qsize].len;
    uint16_t n = (uint16_t)(idx - d->last_used);
    d->last_used = idx;
    d->requests++;
    uint32_t want = (type == VDISK_T_IN ? len : 0) + 1;
    if (n != 1 || id != 0 || used != want || req_status != 0) {
        snprintf(err, sizeof(err),
                 "type-%u request at sector %u: %u used entries (expected 1), id %u, len %u "
                 "(expected %u), status %u",
                 type, sector, n, id, used, want, req_status);
        return err;
    }
    return NULL;
}

static uint32_t cycle_word(uint8_t tag, uint32_t cycle, uint32_t k)
{
    return (uint32_t)tag << 24 ^ (cycle << 10) ^ k;
}

const char *vdisk_cycle(struct vdisk *d, uint32_t c)
{
    uint32_t wn = 1 + c % 4;
    uint32_t ws = VDISK_WRITE_LOW + (c * 5) % (VDISK_SECTORS - VDISK_WRITE_LOW - 4);
    uint32_t pn = 1 + c % MAX_SECTORS_IO, ps = (c * 7) % (VDISK_PATTERN - MAX_SECTORS_IO);
    uint32_t words = wn * DISK_SECTOR_WORDS;
    const char *e;

    for (uint32_t k = 0; k < words; k++)
        buf_w[k] = cycle_word(d->tag, c, k);
    if ((e = vdisk_io(d, VDISK_T_OUT, ws, buf_w, wn * DISK_SECTOR_BYTES)))
        return e;
    for (uint32_t k = 0; k < words; k++)
        buf_r[k] = 0xeeeeeeeeu;
    if ((e = vdisk_io(d, VDISK_T_IN, ws, buf_r, wn * DISK_SECTOR_BYTES)))
        return e;
    for (uint32_t k = 0; k < words; k++) {
        if (buf_r[k] != cycle_word(d->tag, c, k)) {
            snprintf(err, sizeof(err), "cycle %u: sector %u word %u reads %#x, wrote %#x", c, ws, k,
                     buf_r[k], cycle_word(d->tag, c, k));
            return err;
        }
    }
    for (uint32_t k = 0; k < pn * DISK_SECTOR_WORDS; k++)
        buf_r[k] = 0xeeeeeeeeu;
    if ((e = vdisk_io(d, VDISK_T_IN, ps, buf_r, pn * DISK_SECTOR_BYTES)))
        return e;
    struct disk_mismatch m;
    if (!disk_pattern_check(buf_r, d->tag, ps, pn, &m)) {
        snprintf(err, sizeof(err), "cycle %u: pattern word %u (sector %u) is %#x, expected %#x", c,
                 m.word, m.word / DISK_SECTOR_WORDS, m.got, m.want);
        return err;
    }
    return NULL;
}

void vdisk_post_loop(struct vdisk *d)
{
    req_hdr.type = VDISK_T_OUT;
    req_hdr.sector = VDISK_WRITE_LOW;
    ring_desc[0] = (struct vring_desc){
        .addr = (uintptr_t)&req_hdr, .len = sizeof(req_hdr), .flags = DESC_F_NEXT, .next = 1};
    ring_desc[1] = (struct vring_desc){
        .addr = (uintptr_t)buf_w, .len = DISK_SECTOR_BYTES, .flags = DESC_F_NEXT, .next = 0};
    publish(d);
}

bool vdisk_move_bar(struct vdisk *d, uint64_t new_bar, const char *what)
{
    uint16_t cmd = mmio_read16(ecam(PCI_CFG_COMMAND));

    mmio_write16(ecam(PCI_CFG_COMMAND), cmd & ~PCI_COMMAND_MEM);
    mmio_write32(ecam(PCI_CFG_BAR0), (uint32_t)new_bar);
    mmio_write32(ecam(PCI_CFG_BAR0 + 4), (uint32_t)(new_bar >> 32));
    mmio_write16(ecam(PCI_CFG_COMMAND), cmd | PCI_COMMAND_MEM);
    uint64_t now = (uint64_t)mmio_read32(ecam(PCI_CFG_BAR0 + 4)) << 32 |
                   (mmio_read32(ecam(PCI_CFG_BAR0)) & ~0xfu);
    if (!EXPECTF(now == new_bar, what, "BAR0 reads %#llx after writing %#llx",
                 (unsigned long long)now, (unsigned long long)new_bar))
        return false;
    d->bar = new_bar;
    return true;
}
