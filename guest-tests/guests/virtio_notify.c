/* SPDX-License-Identifier: MIT */
/*
 * vnotify-*: test guests for issue 12's notification gate. Each does verified
 * disk I/O (lib/vdisk.h: write a cycle's data, read it back, compare, read
 * the image's pattern) while it reaches the device's notify register in a
 * way an ordinary driver does not; the modes, chosen at build time
 * (guest-tests.mk), are:
 *
 *   VN_PCICFG   every notification through the VIRTIO_PCI_CAP_PCI_CFG window,
 *               first with configuration space by ECAM, then by ports
 *               0xCF8/0xCFC; never through the BAR's notify region.
 *   VN_MOVEDBAR BAR 0 moved inside the PCI window (decoding off, BAR written,
 *               decoding on), I/O, a reset and notifications through the moved
 *               BAR, then moved back and I/O there again.
 *   VN_VACATED  reads where nothing decodes (decoding off; the address the
 *               moved BAR left, notify page included) must give all ones.
 *   VN_STORM    2 vCPUs: the second notifies queue 0 through the PCI_CFG
 *               window in a tight loop while the first runs verified I/O
 *               notifying through the BAR (the two paths at once).
 *               With VN_SPIN both vCPUs then keep notifying with nothing
 *               asked, until the operator stops the guest (no RESULT line).
 *
 * Every notification is written whatever the device's NO_NOTIFY hint says
 * (which the spec allows), so each path is used on every request.
 */
#include "disk_pattern.h"
#include "expect.h"
#include "mmio.h"
#include "printf.h"
#include "runtime.h"
#include "tsc.h"
#include "vdisk.h"
#include "virtio_caps.h"
#include "x86.h"
#if defined(VN_STORM)
#include "smp64.h"
#endif

const char guest_name[] = GUEST_NAME;

#ifndef VN_DISK_TAG
#define VN_DISK_TAG 'N'
#endif
#ifndef VN_CYCLES
#define VN_CYCLES 12 /* verified cycles per phase (3 requests each) */
#endif
#define MOVED_BAR 0xC0100000ull /* inside the PCI window 0xC0000000-0xDFFFFFFF */

static struct vdisk disk;

static bool cycles(const char *what)
{
    for (uint32_t c = 0; c < VN_CYCLES; c++) {
        const char *e = vdisk_cycle(&disk, c);
        if (e)
            return expect_check(false, what, "%s", e);
    }
    uint8_t st = vdisk_status(&disk);
    return expect_check(st & VDISK_STATUS_DRIVER_OK && !(st & VDISK_STATUS_NEEDS_RESET), what,
                        "status %#x after the cycles", st);
}

static void report(const char *phase)
{
    printf("vnotify: %s totals requests=%llu notifies=%llu\n", phase,
           (unsigned long long)disk.requests, (unsigned long long)disk.notifies);
}

#if defined(VN_PCICFG)
static void phase_pcicfg(bool ports)
{
    const char *via = ports ? "ports 0xCF8/0xCFC" : "ECAM";
    char what[128];

    /* The window reads what the BAR reads (the device status byte). */
    uint32_t direct = vdisk_status(&disk), win = vdisk_window_read(&disk, ports, 0x14, 1);
    snprintf(what, sizeof(what), "vnotify: pcicfg (%s): the window reads the device status", via);
    EXPECTF(win == direct, what, "window %#x, BAR %#x", win, direct);
    disk.how = ports ? VDISK_NOTIFY_PORTS : VDISK_NOTIFY_ECAM;
    uint64_t n0 = disk.notifies;
    snprintf(what, sizeof(what),
             "vnotify: pcicfg (%s): %u verified cycles, every notify through the window", via,
             VN_CYCLES);
    cycles(what);
    printf("vnotify: pcicfg (%s): %llu notifications through the window\n", via,
           (unsigned long long)(disk.notifies - n0));
    report(ports ? "pcicfg-ports" : "pcicfg-ecam");
}
#endif

#if defined(VN_VACATED)
/* What the old address answers while the BAR is elsewhere: nothing. */
static void check_gone(uint64_t old, const char *where)
{
    char what[128];
    uint32_t c = mmio_read32((uintptr_t)old), cfg = mmio_read32((uintptr_t)old + 0x2000);
    uint16_t notify = mmio_read16((uintptr_t)old + 0x3000);

    snprintf(what, sizeof(what), "vnotify: vacated: %s reads all ones (common, device cfg)", where);
    EXPECTF(c == 0xffffffffu && cfg == 0xffffffffu, what, "common %#x, device cfg %#x", c, cfg);
    snprintf(what, sizeof(what), "vnotify: vacated: %s notify region reads all ones", where);
    EXPECTF(notify == 0xffff, what, "reads %#x", notify);
}
#endif

#if defined(VN_MOVEDBAR)

static void phase_movedbar(void)
{
    disk.how = VDISK_NOTIFY_BAR;
    if (!vdisk_move_bar(&disk, MOVED_BAR, "vnotify: movedbar: BAR0 moved to 0xC0100000"))
        return;
    uint8_t st = vdisk_status(&disk);
    EXPECTF(st & VDISK_STATUS_DRIVER_OK, "vnotify: movedbar: the device answers at the new address",
            "status %#x", st);
    cycles("vnotify: movedbar: verified cycles through the moved BAR (its notify region)");
    /* Set up again at the new address: reset and queue programming there. */
    if (vdisk_setup(&disk, "vnotify: movedbar: set up again at the moved BAR"))
        cycles("vnotify: movedbar: verified cycles after a reset at the moved BAR");
    report("movedbar");
    if (!vdisk_move_bar(&disk, VDISK_BAR, "vnotify: movedbar: BAR0 moved back to 0xC0000000"))
        return;
    cycles("vnotify: movedbar: verified cycles at the original BAR again");
    report("movedbar-back");
}
#endif

#if defined(VN_VACATED)
/* Where nothing decodes (memory decoding off; the address a moved BAR
 * left, its notify page included) reads give all ones, as a PCI master
 * abort does, and the guest goes on. */
static void phase_vacated(void)
{
    disk.how = VDISK_NOTIFY_BAR;
    printf("vnotify: vacated: reading where the BAR is not (all ones expected)\n");
    uintptr_t command = VDISK_ECAM + (VDISK_DEV << 15) + PCI_CFG_COMMAND;
    uint16_t cmd = mmio_read16(command);
    mmio_write16(command, cmd & ~PCI_COMMAND_MEM);
    uint32_t off_read = mmio_read32((uintptr_t)VDISK_BAR);
    mmio_write16(command, cmd);
    EXPECTF(off_read == 0xffffffffu, "vnotify: vacated: decoding off, the BAR reads all ones",
            "reads %#x", off_read);
    if (!vdisk_move_bar(&disk, MOVED_BAR, "vnotify: vacated: BAR0 moved to 0xC0100000"))
        return;
    check_gone(VDISK_BAR, "the old address 0xC0000000");
    cycles("vnotify: vacated: verified cycles through the moved BAR");
    if (!vdisk_move_bar(&disk, VDISK_BAR, "vnotify: vacated: BAR0 moved back"))
        return;
    check_gone(MOVED_BAR, "the moved-from address 0xC0100000");
    cycles("vnotify: vacated: verified cycles at the original BAR at the end");
    report("end");
}
#endif

#if defined(VN_STORM)
static volatile bool storm_go, storm_stop, ap_stopped;
static volatile uint64_t ap_notifies;

/* The second vCPU: notifications through the PCI_CFG window, as fast as
 * it can, while the first vCPU's requests are in flight. */
static void ap_storm(void)
{
    while (!storm_go)
        asm volatile("pause");
    while (!storm_stop) {
        vdisk_notify_pcicfg(&disk, false);
        ap_notifies++;
    }
    ap_stopped = true;
    for (;;)
        asm volatile("cli; hlt");
}

static void phase_storm(void)
{
    if (!EXPECT(smp64_start_second(ap_storm), "vnotify: storm: the second vCPU started"))
        return;
    disk.how = VDISK_NOTIFY_BAR;
    storm_go = true;
    uint64_t t0 = rdtsc();
    while (ap_notifies < 10 && tsc_to_us(rdtsc() - t0) < 1000000)
        asm volatile("pause");
    EXPECTF(ap_notifies >= 10, "vnotify: storm: the second vCPU notifies",
            "%llu notifications in 1 s", (unsigned long long)ap_notifies);
    uint64_t before = ap_notifies;
    cycles("vnotify: storm: verified cycles while the other vCPU notifies the same queue");
    uint64_t during = ap_notifies - before;
    printf("vnotify: storm: the second vCPU notified %llu times during the cycles\n",
           (unsigned long long)during);
    EXPECTF(during >= 3, "vnotify: storm: the notifications overlapped the I/O",
            "only %llu during %u cycles", (unsigned long long)during, VN_CYCLES);
    report("storm");
#if defined(VN_SPIN)
    /* Nothing asked any more; both vCPUs keep notifying until stopped. */
    printf("vnotify: storm: spinning: both vCPUs notify with nothing asked\n");
    uintptr_t n = (uintptr_t)disk.bar + 0x3000 + (uintptr_t)disk.notify_off * 4;
    for (;;)
        mmio_write16(n, 0);
#else
    storm_stop = true;
    t0 = rdtsc();
    while (!ap_stopped && tsc_to_us(rdtsc() - t0) < 1000000)
        asm volatile("pause");
    EXPECT(ap_stopped, "vnotify: storm: the second vCPU stopped notifying");
#endif
}
#endif

void test_main(void)
{
    if (!vdisk_init(&disk, VN_DISK_TAG, "vnotify"))
        return;
    disk.notify_always = true;
    cycles("vnotify: verified cycles through the BAR first");
    report("bar");
#if defined(VN_PCICFG)
    phase_pcicfg(false);
    phase_pcicfg(true);
#endif
#if defined(VN_MOVEDBAR)
    phase_movedbar();
#endif
#if defined(VN_VACATED)
    phase_vacated();
#endif
#if defined(VN_STORM)
    phase_storm();
#endif
    uint8_t st = vdisk_status(&disk);
    EXPECTF(st & VDISK_STATUS_DRIVER_OK && !(st & VDISK_STATUS_NEEDS_RESET),
            "vnotify: device still sound at the end", "status %#x", st);
}
