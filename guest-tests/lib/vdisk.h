/* SPDX-License-Identifier: MIT */
/*
 * vdisk: a small polled virtio-blk (virtio-pci modern) driver for the test
 * guests that attack the notification path (guests/virtio_notify.c). It
 * differs from vblk-good's full driver in what the tests need to vary: how
 * each notification reaches the device (the BAR's notify region, the
 * VIRTIO_PCI_CAP_PCI_CFG window through ECAM or through ports 0xCF8/0xCFC),
 * where BAR 0 is (the guest may move it), and breaking the ring on purpose.
 * No interrupts: MSI-X stays off and the vectors say NO_VECTOR; requests
 * are polled, one at a time, each with its own timeout. One device per
 * guest (00:01.0), rings in this image's memory.
 */
#ifndef GUEST_TESTS_VDISK_H
#define GUEST_TESTS_VDISK_H

#include <stdbool.h>
#include <stdint.h>

#define VDISK_ECAM      0xE0000000ul
#define VDISK_DEV       1
#define VDISK_BAR       0xC0000000ull /* where Sidecore puts BAR 0 */
#define VDISK_BAR_SIZE  0x8000ull
#define VDISK_SECTORS   512 /* the test images' size (guest-tests.mk) */
#define VDISK_PATTERN   256 /* sectors 0-255 keep the image's pattern */
#define VDISK_WRITE_LOW 256 /* sectors 256-511 are written by the guest */

#define VDISK_T_IN  0
#define VDISK_T_OUT 1

#define VDISK_STATUS_DRIVER_OK   4
#define VDISK_STATUS_NEEDS_RESET 0x40

enum vdisk_notify {
    VDISK_NOTIFY_BAR,   /* a 16-bit write to the notify region of BAR 0 */
    VDISK_NOTIFY_ECAM,  /* through the PCI_CFG window, config space by ECAM */
    VDISK_NOTIFY_PORTS, /* through the PCI_CFG window, config space by 0xCF8/0xCFC */
};

struct vdisk {
    uint64_t bar; /* where BAR 0 is now */
    uint8_t tag;  /* the disk image's pattern tag (lib/disk_pattern.h) */
    enum vdisk_notify how;
    bool notify_always; /* ignore the device's NO_NOTIFY hint */
    uint8_t pcicfg_cap; /* offset of the VIRTIO_PCI_CAP_PCI_CFG capability */
    uint16_t qsize, notify_off, avail_idx, last_used;
    uint64_t requests, notifies, notifies_skipped;
};

/* Configuration space of 00:01.0, through ECAM or the ports. */
uint32_t vdisk_cfg_read(bool ports, unsigned off, unsigned size);
void vdisk_cfg_write(bool ports, unsigned off, unsigned size, uint32_t value);

/* Finds the device, checks the BAR and capabilities, turns on memory
 * decoding and sets the device up (PASS/FAIL lines, prefix "what: "). */
bool vdisk_init(struct vdisk *d, uint8_t tag, const char *what);
/* Reset and the whole initialization again (after NEEDS_RESET, or a move). */
bool vdisk_setup(struct vdisk *d, const char *what);
uint8_t vdisk_status(const struct vdisk *d);

/* One notification of queue 0 the way d->how says. */
void vdisk_notify(struct vdisk *d);
/* The same through the PCI_CFG window, config space by ports or ECAM;
 * usable from another vCPU while the first runs requests. */
void vdisk_notify_pcicfg(const struct vdisk *d, bool ports);
/* Reads `size` bytes at BAR offset `off` through the PCI_CFG window. */
uint32_t vdisk_window_read(const struct vdisk *d, bool ports, uint32_t off, unsigned size);

/* One request, waited for; NULL or what went wrong. */
const char *vdisk_io(struct vdisk *d, uint32_t type, uint32_t sector, void *buf, uint32_t len);
/* One verified cycle: write 1-4 sectors of the write area with data
 * unique to (tag, cycle), read them back and compare, read 1-8 sectors of
 * the pattern area and check them. 3 requests; NULL or what went wrong. */
const char *vdisk_cycle(struct vdisk *d, uint32_t cycle);

/* Posts a looping descriptor chain (0 -> 1 -> 0) and notifies. */
void vdisk_post_loop(struct vdisk *d);

/* Moves BAR 0 to new_bar as an OS would: memory decoding off, BAR
 * written, decoding on. Checks the BAR reads back. */
bool vdisk_move_bar(struct vdisk *d, uint64_t new_bar, const char *what);

#endif
