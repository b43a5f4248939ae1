/* SPDX-License-Identifier: MIT */
/*
 * Host tests of an NVMe READ/WRITE's data path (nvme_xfer.h): segment lists
 * of every alignment class - first segment at offset 0, 4, 512, 2048+4 or
 * the page's last dword or a byte offset; later segments starting at 0 or
 * mid-page; lengths under a page, one page, spanning pages, under a sector;
 * one to many segments; 512-byte and 4 KiB blocks - are written and read
 * back through a fake controller that executes the PRPs as strictly as
 * QEMU (tests/unit/nvme_fake_ctrl.h). Each test checks that the controller
 * accepts every command, that the disk holds exactly the bytes of the
 * segments at the right blocks, that reads fill exactly the segments,
 * that PRP-compatible lists go zero copy and the rest through the bounce
 * buffer, and the buffer's rules: one user, BLK_EBUSY while busy, no copy
 * back on failure or for a CID that does not hold it, freed by a reset.
 */
/* test-sources: drivers/nvme/nvme_xfer.c drivers/nvme/nvme_prp.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/nvme/nvme_xfer.h"
#include "tests/unit/nvme_fake_ctrl.h"

#define PS         4096u
#define MEM_BYTES  (4u << 20)
#define MAX_XFER   (512u << 10)
#define DISK_BYTES (4u << 20)
#define GUARD      0x5a
#define LIST_PAGES NVME_PRP_MAX_LIST_PAGES

static uint8_t *mem;    /* "guest memory" */
static uint8_t *bounce; /* the queue's bounce buffer */
static struct blk_seg *bounce_segs;
static uint64_t *list_mem[2]; /* PRP list pages for CIDs 0 and 1 */
static struct nvme_prp_lists lists[2];
static struct nvme_bounce b;
static struct fake_nvme f;
static uint8_t *ref_disk; /* what the disk must hold */

static uint64_t P(uint64_t off)
{
    return (uint64_t)(uintptr_t)(mem + off);
}

static void set_lba_shift(unsigned shift)
{
    f.lba_shift = shift;
    f.disk_blocks = DISK_BYTES >> shift;
}

static int setup(void **state)
{
    mem = aligned_alloc(PS, MEM_BYTES);
    bounce = aligned_alloc(PS, MAX_XFER);
    bounce_segs = calloc(NVME_BOUNCE_MAX_SEGS, sizeof(*bounce_segs));
    ref_disk = malloc(DISK_BYTES);
    memset(&f, 0, sizeof(f));
    f.disk = malloc(DISK_BYTES);
    f.page_size = PS;
    set_lba_shift(9);
    for (unsigned i = 0; i < DISK_BYTES; i++)
        f.disk[i] = ref_disk[i] = (uint8_t)(i * 7 + 3);
    memset(mem, GUARD, MEM_BYTES);
    fake_nvme_add_region(&f, mem, MEM_BYTES);
    fake_nvme_add_region(&f, bounce, MAX_XFER);
    for (unsigned c = 0; c < 2; c++) {
        list_mem[c] = aligned_alloc(PS, LIST_PAGES * PS);
        fake_nvme_add_region(&f, list_mem[c], LIST_PAGES * PS);
        lists[c].count = nvme_prp_list_pages_for(MAX_XFER, PS);
        for (unsigned i = 0; i < lists[c].count; i++) {
            lists[c].virt[i] = list_mem[c] + i * (PS / 8);
            lists[c].phys[i] = (uint64_t)(uintptr_t)lists[c].virt[i];
        }
    }
    nvme_bounce_init(&b, (uint64_t)(uintptr_t)bounce, MAX_XFER, bounce_segs);
    return 0;
}

static int teardown(void **state)
{
    free(mem);
    free(bounce);
    free(bounce_segs);
    free(ref_disk);
    free(f.disk);
    free(list_mem[0]);
    free(list_mem[1]);
    return 0;
}

/* Builds the command's PRPs; on success has the fake controller execute it
 * (unless hold) and completes it. Returns the build's status, or 100 + the
 * controller's status code. */
static int request(bool write, uint64_t slba, const struct blk_seg *segs, unsigned n, uint16_t cid,
                   bool hold)
{
    uint64_t bytes = 0;
    struct nvme_prp prp;

    for (unsigned i = 0; i < n; i++)
        bytes += segs[i].len;
    struct nvme_xfer x = {.segs = segs,
                          .nseg = n,
                          .write = write,
                          .bytes = bytes & ~(((uint64_t)1 << f.lba_shift) - 1),
                          .cid = cid,
                          .page_size = PS,
                          .max_bytes = MAX_XFER};
    int err = nvme_xfer_build(&b, &x, &lists[cid & 1], &prp);
    if (err || hold)
        return err;
    int sc = fake_nvme_rw(&f, write, slba, (uint32_t)(x.bytes >> f.lba_shift), prp.prp1, prp.prp2);
    nvme_xfer_done(&b, cid, sc == 0);
    return sc ? 100 + sc : 0;
}

/* What the PRP rules allow straight from the segments. */
static bool prp_compatible(const struct blk_seg *s, unsigned n)
{
    if (s[0].phys & 3)
        return false;
    for (unsigned i = 0; i < n; i++) {
        if (i > 0 && (s[i].phys & (PS - 1)))
            return false;
        if (i + 1 < n && ((s[i].phys + s[i].len) & (PS - 1)))
            return false;
    }
    return true;
}

static void fill_segments(const struct blk_seg *s, unsigned n, uint32_t seed)
{
    for (unsigned i = 0; i < n; i++)
        for (uint32_t j = 0; j < s[i].len; j++)
            ((uint8_t *)(uintptr_t)s[i].phys)[j] = (uint8_t)(seed + i * 131 + j * 17 + (j >> 8));
}

/* [*lo, *hi) of buf around [a, b), one page wider on each side. */
static void window(uint64_t a, uint64_t b, uint64_t size, uint64_t *lo, uint64_t *hi)
{
    *lo = a > PS ? a - PS : 0;
    *hi = b + PS < size ? b + PS : size;
}

/* Writes segs at slba, checks the disk around the blocks written; reads the
 * same blocks back into a second, differently shaped list, checks it and
 * that nothing around it changed. */
static void write_then_read(uint64_t slba, const struct blk_seg *w, unsigned nw,
                            const struct blk_seg *r, unsigned nr, uint32_t seed)
{
    uint64_t bounced = b.bounced;
    uint64_t off = slba << f.lba_shift, lo, hi;

    fill_segments(w, nw, seed);
    for (unsigned i = 0; i < nw; i++) {
        memcpy(ref_disk + off, (void *)(uintptr_t)w[i].phys, w[i].len);
        off += w[i].len;
    }
    assert_int_equal(request(true, slba, w, nw, 0, false), 0);
    assert_int_equal(b.bounced - bounced, prp_compatible(w, nw) ? 0 : 1);
    assert_false(b.busy);
    window(slba << f.lba_shift, off, DISK_BYTES, &lo, &hi);
    assert_int_equal(memcmp(f.disk + lo, ref_disk + lo, hi - lo), 0);

    /* Read into r, first poisoned. Bytes around r keep their value. */
    static uint8_t before[MEM_BYTES];
    uint64_t first = MEM_BYTES, last = 0;
    for (unsigned i = 0; i < nr; i++) {
        uint64_t o = r[i].phys - P(0);

        memset(mem + o, 0xc3, r[i].len);
        first = o < first ? o : first;
        last = o + r[i].len > last ? o + r[i].len : last;
    }
    window(first, last, MEM_BYTES, &lo, &hi);
    memcpy(before + lo, mem + lo, hi - lo);
    bounced = b.bounced;
    assert_int_equal(request(false, slba, r, nr, 1, false), 0);
    assert_int_equal(b.bounced - bounced, prp_compatible(r, nr) ? 0 : 1);
    off = slba << f.lba_shift;
    for (unsigned i = 0; i < nr; i++) {
        uint8_t *p = (uint8_t *)(uintptr_t)r[i].phys;

        assert_int_equal(memcmp(p, ref_disk + off, r[i].len), 0);
        memcpy(before + (p - mem), p, r[i].len);
        off += r[i].len;
    }
    assert_int_equal(memcmp(mem + lo, before + lo, hi - lo), 0);
}

/* The alignment classes, as (offset in its page, length) of a segment. */
static const uint32_t offsets[] = {0, 4, 512, 2048 + 4, 4092, 1000, 1, 3584};
static const uint32_t lengths[] = {4, 512, 1000, 3584, 4096, 4096 + 512, 3 * 4096, 20000};

/* A list of n segments in separate page runs, the i-th with offsets[oi[i]]
 * and lengths[li[i]]; the last one's length is adjusted so the total is a
 * whole number of blocks. Returns false if that is impossible. */
static bool make_list(struct blk_seg *s, unsigned n, const unsigned *oi, const unsigned *li,
                      uint64_t base)
{
    uint64_t total = 0, block = (uint64_t)1 << f.lba_shift, start = base;

    for (unsigned i = 0; i < n; i++) {
        s[i].phys = P(base) + offsets[oi[i]];
        s[i].len = lengths[li[i]];
        total += s[i].len;
        base += ((offsets[oi[i]] + s[i].len + PS - 1) / PS + 1) * PS; /* a gap page */
    }
    uint64_t extra = (block - total % block) % block;
    s[n - 1].len += (uint32_t)extra;
    return base - start <= MEM_BYTES / 2 && total + extra <= MAX_XFER;
}

/* Every class pair for two-segment lists, every class for one, both block
 * sizes; read back into a mirrored shape in the upper half of memory. */
static void test_every_alignment(void **state)
{
    for (unsigned shift = 9; shift <= 12; shift += 3) {
        set_lba_shift(shift);
        unsigned cases = 0;

        for (unsigned a = 0; a < 8; a++)
            for (unsigned la = 0; la < 8; la++)
                for (unsigned c = 0; c < 8; c++)
                    for (unsigned lc = 0; lc < 8; lc++) {
                        struct blk_seg w[2], r[2];
                        unsigned oi[2] = {a, c}, li[2] = {la, lc};
                        unsigned ro[2] = {c, a}, rl[2] = {lc, la};

                        if (!make_list(w, 2, oi, li, 0) || !make_list(r, 2, ro, rl, MEM_BYTES / 2))
                            continue;
                        /* Same total on both sides: r gets w's total. */
                        uint64_t wt = w[0].len + w[1].len, rt = r[0].len + r[1].len;
                        if (rt != wt) {
                            if (rt > wt && r[1].len > rt - wt)
                                r[1].len -= (uint32_t)(rt - wt);
                            else if (wt > rt)
                                r[1].len += (uint32_t)(wt - rt);
                            else
                                continue;
                        }
                        write_then_read((cases * 37) % 64, w, 2, r, 2, cases);
                        cases++;
                    }
        print_message("%u two-segment cases with %u-byte blocks\n", cases, 1u << shift);
        assert_true(cases > 3000);
        for (unsigned a = 0; a < 8; a++)
            for (unsigned la = 0; la < 8; la++) {
                struct blk_seg w, r;
                unsigned oi = a, li = la;

                if (!make_list(&w, 1, &oi, &li, 0))
                    continue;
                r = w;
                r.phys += MEM_BYTES / 2;
                write_then_read(a * 8 + la, &w, 1, &r, 1, a + la);
            }
    }
}

/* 1..N segments: page runs, then every segment mid-page, then segments
 * smaller than a sector, with middle ones starting and ending mid-page. */
static void test_many_segments(void **state)
{
    static struct blk_seg w[256], r[256];

    for (unsigned shift = 9; shift <= 12; shift += 3) {
        set_lba_shift(shift);
        for (unsigned n = 1; n <= 128; n = n < 8 ? n + 1 : n * 2) {
            /* Whole pages, then the same data in 512-byte pieces at odd places. */
            for (unsigned i = 0; i < n; i++)
                w[i] = (struct blk_seg){P((uint64_t)i * 2 * PS), PS};
            unsigned nr = n * 8 < 256 ? n * 8 : 256;
            uint32_t each = n * PS / nr;
            for (unsigned i = 0; i < nr; i++)
                r[i] = (struct blk_seg){P(MEM_BYTES / 2 + (uint64_t)i * PS + 4 * (i % 7)), each};
            write_then_read(n, w, n, r, nr, n);
            /* Tiny pieces: 4 + 508 bytes each, every one mid-page. */
            for (unsigned i = 0; i < 2 * n; i++)
                w[i] = (struct blk_seg){P((uint64_t)i * PS + 1000 + (i & 1) * 8), i & 1 ? 508 : 4};
            for (unsigned i = 0; i < n; i++)
                r[i] = (struct blk_seg){P(MEM_BYTES / 2 + (uint64_t)i * PS + 4 * (i % 7)), 512};
            if ((n * 512) % (1u << shift) == 0)
                write_then_read(3 * n, w, 2 * n, r, n, 1000 + n);
        }
    }
}

/* A transfer of the maximum size, every segment mid-page. */
static void test_largest_bounced(void **state)
{
    static struct blk_seg w[128], r[128];
    uint32_t each = MAX_XFER / 128;

    for (unsigned i = 0; i < 128; i++) {
        w[i] = (struct blk_seg){P((uint64_t)i * 2 * each + 512), each};
        r[i] = (struct blk_seg){P(MEM_BYTES / 2 + (uint64_t)i * 2 * each + 4), each};
    }
    write_then_read(8, w, 128, r, 128, 77);
}

/* One user: a second bounced request gets BLK_EBUSY until the first is
 * done; a zero-copy one is not held up. */
static void test_busy(void **state)
{
    struct blk_seg odd[2] = {{P(100 * 4), 512}, {P(PS * 3 + 8), 512}};
    struct blk_seg odd2[1] = {{P(PS * 5 + 2), 512}};
    struct blk_seg even[1] = {{P(PS * 7), 1024}};

    assert_int_equal(request(false, 0, odd, 2, 0, true), BLK_OK);
    assert_true(b.busy);
    assert_int_equal(request(false, 2, odd2, 1, 1, false), BLK_EBUSY);
    assert_int_equal(request(true, 2, odd2, 1, 1, false), BLK_EBUSY);
    assert_int_equal(request(false, 4, even, 1, 1, false), 0);
    /* Another CID finishing does not free it. */
    nvme_xfer_done(&b, 1, true);
    assert_true(b.busy);
    nvme_xfer_done(&b, 0, true);
    assert_false(b.busy);
    assert_int_equal(request(false, 2, odd2, 1, 1, false), 0);
    assert_memory_equal(mem + PS * 5 + 2, f.disk + 1024, 512);
}

/* A failed read leaves the requester's memory alone; a reset frees the
 * buffer without copying anything. */
static void test_failure_and_reset(void **state)
{
    struct blk_seg odd[2] = {{P(4), 512}, {P(PS + 512), 512}};

    memset(mem, GUARD, 2 * PS);
    f.fail_next = true;
    assert_int_equal(request(false, 0, odd, 2, 0, false), 100 + FAKE_NVME_SC_INJECTED);
    assert_false(b.busy);
    for (unsigned i = 0; i < 2 * PS; i++)
        assert_int_equal(mem[i], GUARD);
    assert_int_equal(request(false, 0, odd, 2, 0, true), BLK_OK);
    assert_true(b.busy);
    memset(bounce, 0x11, 1024); /* as if the device had read something */
    nvme_bounce_release(&b);
    assert_false(b.busy);
    nvme_xfer_done(&b, 0, true); /* a late completion copies nothing either */
    for (unsigned i = 0; i < 2 * PS; i++)
        assert_int_equal(mem[i], GUARD);
}

/* What is refused, and with what. */
static void test_refused(void **state)
{
    static struct blk_seg many[300];
    struct blk_seg s[2] = {{P(0), 512}, {P(PS), 0}};
    struct nvme_prp prp;
    struct nvme_xfer x = {.segs = s,
                          .nseg = 2,
                          .write = true,
                          .bytes = 512,
                          .cid = 0,
                          .page_size = PS,
                          .max_bytes = MAX_XFER};

    assert_int_equal(nvme_xfer_build(&b, &x, &lists[0], &prp), BLK_EINVAL); /* zero length */
    s[1].len = 512;
    assert_int_equal(nvme_xfer_build(&b, &x, &lists[0], &prp), BLK_EINVAL); /* 1024 != 512 */
    x.nseg = 0;
    assert_int_equal(nvme_xfer_build(&b, &x, &lists[0], &prp), BLK_EINVAL);
    x.nseg = 1;
    s[0].phys = UINT64_MAX - 100;
    assert_int_equal(nvme_xfer_build(&b, &x, &lists[0], &prp), BLK_EINVAL); /* wraps */
    s[0] = (struct blk_seg){P(0), MAX_XFER + 512};
    x.bytes = MAX_XFER + 512;
    assert_int_equal(nvme_xfer_build(&b, &x, &lists[0], &prp), BLK_ETOOBIG);
    /* Mid-page with no bounce buffer: the caller is told to split. */
    s[0] = (struct blk_seg){P(1), 512};
    x.bytes = 512;
    assert_int_equal(nvme_xfer_build(NULL, &x, &lists[0], &prp), BLK_ESEGMENTS);
    /* A read remembers at most NVME_BOUNCE_MAX_SEGS segments; a write needs none. */
    for (unsigned i = 0; i < 300; i++)
        many[i] = (struct blk_seg){P((uint64_t)i * PS + 8), 512};
    x.segs = many;
    x.nseg = 300;
    x.bytes = 300 * 512;
    x.write = false;
    assert_int_equal(nvme_xfer_build(&b, &x, &lists[0], &prp), BLK_ESEGMENTS);
    assert_false(b.busy);
    assert_int_equal(request(true, 0, many, 300, 0, false), 0);
    assert_false(b.busy);
}

/* The fake refuses what QEMU refuses, so the tests above mean something. */
static void test_fake_is_strict(void **state)
{
    uint64_t *list = list_mem[0];

    assert_int_equal(fake_nvme_rw(&f, false, 0, 1, P(2), 0), FAKE_NVME_SC_PRP_OFFSET);
    assert_int_equal(fake_nvme_rw(&f, false, 0, 8, P(512), P(PS + 512)), FAKE_NVME_SC_PRP_OFFSET);
    assert_int_equal(fake_nvme_rw(&f, false, 0, 8, P(512), P(PS)), 0);
    list[0] = P(PS);
    list[1] = P(2 * PS + 8);
    assert_int_equal(fake_nvme_rw(&f, false, 0, 16, P(512), (uint64_t)(uintptr_t)list),
                     FAKE_NVME_SC_PRP_OFFSET);
    list[1] = P(2 * PS);
    assert_int_equal(fake_nvme_rw(&f, false, 0, 16, P(512), (uint64_t)(uintptr_t)list), 0);
    assert_int_equal(fake_nvme_rw(&f, false, 0, 1, 4096, 0), FAKE_NVME_SC_OUTSIDE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_alignment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_largest_bounced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_and_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fake_is_strict, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
