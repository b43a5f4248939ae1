/* SPDX-License-Identifier: MIT */
/*
 * Host test of the virtio guests' pure code: the capability walk
 * (lib/virtio_caps.c) on a well-formed virtio-blk configuration space and
 * on every way its list can lie, and the disk pattern (lib/disk_pattern.c),
 * also against disk images tools/mkdisk.py wrote (arguments IMAGE:TAG), so
 * the generator and the guests' checker cannot drift apart. Built and run
 * by `make guest-tests-check` with ASan/UBSan.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "disk_pattern.h"
#include "virtio_caps.h"

static uint8_t cfg[256];

static void put16(unsigned at, uint32_t v)
{
    cfg[at] = (uint8_t)v;
    cfg[at + 1] = (uint8_t)(v >> 8);
}

static void put32(unsigned at, uint32_t v)
{
    put16(at, v & 0xffff);
    put16(at + 2, v >> 16);
}

static void vendor_cap(unsigned at, unsigned next, unsigned type, uint32_t off, uint32_t len,
                       unsigned cap_len)
{
    cfg[at] = PCI_CAP_ID_VENDOR;
    cfg[at + 1] = (uint8_t)next;
    cfg[at + 2] = (uint8_t)cap_len;
    cfg[at + 3] = (uint8_t)type;
    cfg[at + 4] = 0;
    put32(at + 8, off);
    put32(at + 12, len);
}

/* The layout Sidecore documents: MSI-X at 0x40, then common, notify, ISR,
 * device and PCI-config-access capabilities. */
static void build_valid(void)
{
    memset(cfg, 0, sizeof(cfg));
    put16(PCI_CFG_VENDOR, 0x1af4);
    put16(PCI_CFG_DEVICE, 0x1042);
    put16(PCI_CFG_STATUS, PCI_STATUS_CAPS);
    cfg[PCI_CFG_CAP_PTR] = 0x40;
    cfg[0x40] = PCI_CAP_ID_MSIX;
    cfg[0x41] = 0x4c;
    put16(0x42, 16);         /* 17 entries */
    put32(0x44, 0x4000 | 0); /* table BIR 0 */
    put32(0x48, 0x5000 | 0);
    vendor_cap(0x4c, 0x5c, VIRTIO_CAP_COMMON, 0x0000, 0x1000, 16);
    vendor_cap(0x5c, 0x70, VIRTIO_CAP_NOTIFY, 0x3000, 0x1000, 20);
    put32(0x5c + 16, 4);
    vendor_cap(0x70, 0x80, VIRTIO_CAP_ISR, 0x1000, 0x1000, 16);
    vendor_cap(0x80, 0x90, VIRTIO_CAP_DEVICE, 0x2000, 0x1000, 16);
    vendor_cap(0x90, 0x00, VIRTIO_CAP_PCI, 0, 0, 20);
}

static void test_valid(void)
{
    struct virtio_caps c;

    build_valid();
    const char *err = virtio_caps_parse(cfg, &c);
    assert(err == NULL);
    assert(c.caps_walked == 6);
    assert(c.region[VIRTIO_CAP_COMMON].found && c.region[VIRTIO_CAP_COMMON].offset == 0);
    assert(c.region[VIRTIO_CAP_NOTIFY].offset == 0x3000 && c.notify_multiplier == 4);
    assert(c.region[VIRTIO_CAP_ISR].offset == 0x1000);
    assert(c.region[VIRTIO_CAP_DEVICE].offset == 0x2000 &&
           c.region[VIRTIO_CAP_DEVICE].length == 0x1000);
    assert(c.region[VIRTIO_CAP_PCI].found && c.region[VIRTIO_CAP_PCI].cap_offset == 0x90);
    assert(c.has_msix && c.msix_cap == 0x40 && c.msix_entries == 17);
    assert(c.msix_table_bar == 0 && c.msix_table_offset == 0x4000);
    assert(c.msix_pba_offset == 0x5000);

    /* A second common capability later in the list does not win. */
    build_valid();
    cfg[0x91] = 0xa0;
    vendor_cap(0xa0, 0, VIRTIO_CAP_COMMON, 0x7000, 0x100, 16);
    assert(virtio_caps_parse(cfg, &c) == NULL && c.region[VIRTIO_CAP_COMMON].offset == 0);
    /* Unknown virtio types are skipped. */
    build_valid();
    cfg[0x91] = 0xa0;
    vendor_cap(0xa0, 0, 9, 0, 0, 16);
    assert(virtio_caps_parse(cfg, &c) == NULL && c.caps_walked == 7);
}

static void expect_error(const char *label, const char *want)
{
    struct virtio_caps c;
    const char *err = virtio_caps_parse(cfg, &c);

    if (!err || !strstr(err, want)) {
        fprintf(stderr, "%s: got '%s', expected '%s'\n", label, err ? err : "(none)", want);
        exit(1);
    }
}

static void test_broken_lists(void)
{
    build_valid();
    put16(PCI_CFG_STATUS, 0);
    expect_error("no caps bit", "no capability list");

    build_valid();
    cfg[0x91] = 0x5c; /* back to notify */
    expect_error("loop", "loops");

    build_valid();
    cfg[0x91] = 0x90; /* itself */
    expect_error("self loop", "loops");

    build_valid();
    cfg[PCI_CFG_CAP_PTR] = 0x20; /* inside the header */
    expect_error("pointer into header", "leaves");

    build_valid();
    cfg[0x91] = 0xfc; /* the 4-byte header fits there, a 16-byte capability does not */
    cfg[0xfc] = PCI_CAP_ID_VENDOR;
    cfg[0xfd] = 0;
    cfg[0xfe] = 16;
    cfg[0xff] = VIRTIO_CAP_ISR;
    expect_error("cap past 255", "runs past");

    build_valid();
    cfg[0x5c + 2] = 16; /* notify without its multiplier */
    expect_error("short notify", "notify capability is shorter");

    build_valid();
    cfg[0x4c + 2] = 8;
    expect_error("short virtio cap", "shorter than 16");

    build_valid();
    cfg[0x70 + 1] = 0x90; /* ISR points past the device capability */
    expect_error("missing device cap", "no device-configuration");

    build_valid();
    cfg[PCI_CFG_CAP_PTR] = 0x4c; /* MSI-X left out: still fine */
    struct virtio_caps c;
    assert(virtio_caps_parse(cfg, &c) == NULL && !c.has_msix);
}

static void test_pattern(void)
{
    static uint8_t buf[4 * DISK_SECTOR_BYTES];
    struct disk_mismatch m;

    disk_pattern_fill(buf, 'G', 10, 4);
    assert(buf[0] == ((10 * 128) & 0xff) && buf[3] == 'G');
    assert(disk_pattern_check(buf, 'G', 10, 4, &m));
    assert(!disk_pattern_check(buf, 'B', 10, 4, &m) && m.word == 1280);
    assert(!disk_pattern_check(buf, 'G', 11, 4, &m) && m.word == 11 * 128);
    buf[3 * DISK_SECTOR_BYTES + 4 * 5] ^= 1;
    assert(!disk_pattern_check(buf, 'G', 10, 4, &m));
    assert(m.word == 13 * 128 + 5 && m.want == disk_pattern_word('G', 13 * 128 + 5));
    assert(m.got == (m.want ^ 1));
}

/* IMAGE:TAG from tools/mkdisk.py: every sector matches, and a wrong tag
 * does not. */
static void test_image(const char *arg)
{
    char path[512];
    const char *colon = strrchr(arg, ':');

    assert(colon && colon[1] && !colon[2] && (size_t)(colon - arg) < sizeof(path));
    memcpy(path, arg, (size_t)(colon - arg));
    path[colon - arg] = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    uint8_t sector[DISK_SECTOR_BYTES];
    uint32_t n = 0;
    struct disk_mismatch m;
    while (fread(sector, 1, sizeof(sector), f) == sizeof(sector)) {
        if (!disk_pattern_check(sector, (uint8_t)colon[1], n, 1, &m)) {
            fprintf(stderr, "%s: word %u is %#x, expected %#x\n", path, m.word, m.got, m.want);
            exit(1);
        }
        assert(!disk_pattern_check(sector, (uint8_t)colon[1] ^ 1, n, 1, NULL));
        n++;
    }
    assert(n > 0 && feof(f));
    fclose(f);
    printf("test_virtio_lib: %s: %u sectors of tag %c ok\n", path, n, colon[1]);
}

int main(int argc, char **argv)
{
    test_valid();
    test_broken_lists();
    test_pattern();
    for (int i = 1; i < argc; i++)
        test_image(argv[i]);
    printf("test_virtio_lib: all checks passed\n");
    return 0;
}
