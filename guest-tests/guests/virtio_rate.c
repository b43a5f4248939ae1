/* SPDX-License-Identifier: MIT */
/*
 * vrate / vbreak: the pair for issue 12's "one guest breaking its ring must
 * not slow its neighbours" (a sidecore serves both).
 *
 * vrate (default) runs verified I/O cycles (lib/vdisk.h) for VR_RUN_US of
 * TSC time and every VR_WINDOW_US prints the requests it completed in that
 * window and their rate:
 *   vrate: window N requests=R us=U rate=X
 * so a system test can compare its rate before and while the other guest
 * breaks its device. It is also the neighbour whose data must stay intact.
 *
 * vbreak (VN_BREAKLOOP) does a few verified cycles, waits VB_WAIT_US (the
 * neighbour's rate alone), prints "vbreak: breaking starts", then for
 * VB_RUN_US (at most VB_MAX_ROUNDS rounds): posts a looping descriptor
 * chain, waits for DEVICE_NEEDS_RESET, resets and sets the device up again
 * and verifies one read; then "vbreak: breaking ends after N rounds".
 */
#include "disk_pattern.h"
#include "expect.h"
#include "printf.h"
#include "runtime.h"
#include "tsc.h"
#include "vdisk.h"
#include "x86.h"

const char guest_name[] = GUEST_NAME;

#ifndef VN_DISK_TAG
#define VN_DISK_TAG 'R'
#endif
#ifndef VR_RUN_US
#define VR_RUN_US 12000000
#endif
#ifndef VR_WINDOW_US
#define VR_WINDOW_US 1000000
#endif
#ifndef VB_WAIT_US
#define VB_WAIT_US 4500000
#endif
#ifndef VB_RUN_US
#define VB_RUN_US 5000000
#endif
#ifndef VB_MAX_ROUNDS
#define VB_MAX_ROUNDS 50000
#endif
#define NEEDS_RESET_TIMEOUT_US 3000000

static struct vdisk disk;

static uint64_t now_us(void)
{
    return tsc_to_us(rdtsc());
}

#if !defined(VN_BREAKLOOP)

static uint64_t rate_of(uint64_t requests, uint64_t us)
{
    return us ? requests * 1000000 / us : 0;
}

void test_main(void)
{
    if (!vdisk_init(&disk, VN_DISK_TAG, "vrate"))
        return;
    uint64_t start = now_us(), w0 = start, r0 = 0, now;
    uint32_t c = 0, window = 0;
    const char *e = NULL;

    printf("vrate: running for %u ms, a window every %u ms\n", VR_RUN_US / 1000,
           VR_WINDOW_US / 1000);
    while ((now = now_us()) - start < VR_RUN_US) {
        if ((e = vdisk_cycle(&disk, c)))
            break;
        c++;
        now = now_us();
        if (now - w0 >= VR_WINDOW_US) {
            uint64_t r = disk.requests - r0, us = now - w0;
            printf("vrate: window %u requests=%llu us=%llu rate=%llu\n", window++,
                   (unsigned long long)r, (unsigned long long)us,
                   (unsigned long long)rate_of(r, us));
            w0 = now;
            r0 = disk.requests;
        }
    }
    uint64_t total_us = now_us() - start;
    printf("vrate: totals cycles=%u requests=%llu notifies=%llu us=%llu rate=%llu\n", c,
           (unsigned long long)disk.requests, (unsigned long long)disk.notifies,
           (unsigned long long)total_us, (unsigned long long)rate_of(disk.requests, total_us));
    if (e)
        expect_check(false, "vrate: verified cycles", "%s", e);
    else
        expect_check(c > 0, "vrate: verified cycles", "none");
    uint8_t st = vdisk_status(&disk);
    EXPECTF(st & VDISK_STATUS_DRIVER_OK && !(st & VDISK_STATUS_NEEDS_RESET),
            "vrate: device still sound at the end", "status %#x", st);
}

#else

static uint32_t rbuf[DISK_SECTOR_WORDS] __attribute__((aligned(512)));

/* One round: break, see NEEDS_RESET, reset, set up, read and check. */
static const char *round_once(uint32_t n)
{
    static char why[128];

    vdisk_post_loop(&disk);
    uint64_t t0 = now_us();
    uint8_t st;
    while (!((st = vdisk_status(&disk)) & VDISK_STATUS_NEEDS_RESET)) {
        if (now_us() - t0 > NEEDS_RESET_TIMEOUT_US) {
            snprintf(why, sizeof(why), "round %u: no DEVICE_NEEDS_RESET (status %#x)", n, st);
            return why;
        }
        asm volatile("pause");
    }
    if (!vdisk_setup(&disk, "vbreak: set up again after the reset"))
        return "the device did not set up again";
    uint32_t s = n % VDISK_PATTERN;
    const char *e = vdisk_io(&disk, VDISK_T_IN, s, rbuf, DISK_SECTOR_BYTES);
    if (e)
        return e;
    struct disk_mismatch m;
    if (!disk_pattern_check(rbuf, disk.tag, s, 1, &m)) {
        snprintf(why, sizeof(why), "round %u: sector %u word %u reads %#x, expected %#x", n, s,
                 m.word, m.got, m.want);
        return why;
    }
    return NULL;
}

void test_main(void)
{
    if (!vdisk_init(&disk, VN_DISK_TAG, "vbreak"))
        return;
    for (uint32_t c = 0; c < 4; c++) {
        const char *e = vdisk_cycle(&disk, c);
        if (e) {
            expect_check(false, "vbreak: verified cycles before breaking", "%s", e);
            return;
        }
    }
    expect_check(true, "vbreak: verified cycles before breaking", "-");
    printf("vbreak: waiting %u ms before breaking\n", VB_WAIT_US / 1000);
    tsc_delay_us(VB_WAIT_US);
    printf("vbreak: breaking starts\n");
    uint64_t t0 = now_us();
    uint32_t n = 0;
    const char *e = NULL;
    while (n < VB_MAX_ROUNDS && now_us() - t0 < VB_RUN_US) {
        if ((e = round_once(n)))
            break;
        n++;
        if (n % 500 == 0)
            printf("vbreak: round %u\n", n);
    }
    uint64_t us = now_us() - t0;
    printf("vbreak: breaking ends after %u rounds in %llu us\n", n, (unsigned long long)us);
    if (e)
        expect_check(false, "vbreak: break, NEEDS_RESET, reset, verified read, in a loop", "%s", e);
    else
        expect_check(n > 0, "vbreak: break, NEEDS_RESET, reset, verified read, in a loop",
                     "no round");
}

#endif
