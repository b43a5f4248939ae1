/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the request-to-PRP path of the NVMe backend
 * (drivers/nvme/nvme_xfer.c over nvme_prp.c): a script of READ and WRITE
 * requests with guest-chosen segments (any offset, any length, overlaps
 * allowed, up to 40 segments) on 512-byte or 4 KiB blocks is built into
 * PRPs, executed by the fake controller of tests/unit/nvme_fake_ctrl.h
 * (QEMU's PRP rules, DMA only inside guest memory, the bounce buffer and the
 * list pages) and completed; a reference model does the same with plain
 * memcpy. After every request guest memory and the disk must equal the
 * model's, and the bounce buffer must be free again. Also checked: a
 * request is refused with BLK_EINVAL exactly when its segments do not add up
 * to whole blocks, it goes zero copy exactly when the PRP rules allow,
 * the controller never fails a command we built, an injected failure leaves
 * memory alone, and while the buffer is held a second bounced request gets
 * BLK_EBUSY and a zero-copy one does not.
 * fuzz-sources: drivers/nvme/nvme_xfer.c drivers/nvme/nvme_prp.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "drivers/nvme/nvme_xfer.h"
#include "tests/unit/nvme_fake_ctrl.h"

#define PS         4096u
#define MEM_BYTES  (16u * PS)
#define DISK_BYTES (64u * PS)
#define MAX_XFER   (64u << 10)
#define MAX_SEGS   40
#define MAX_REQS   16

static uint8_t *mem, *ref_mem, *bounce, *disk, *ref_disk, *mem_init, *disk_init;
static uint64_t *list_mem[2];
static struct nvme_prp_lists lists[2];
static struct blk_seg *bounce_segs;

static void alloc_once(void)
{
    if (mem)
        return;
    mem = aligned_alloc(PS, MEM_BYTES);
    ref_mem = malloc(MEM_BYTES);
    bounce = aligned_alloc(PS, MAX_XFER);
    disk = malloc(DISK_BYTES);
    ref_disk = malloc(DISK_BYTES);
    bounce_segs = calloc(NVME_BOUNCE_MAX_SEGS, sizeof(*bounce_segs));
    mem_init = malloc(MEM_BYTES);
    disk_init = malloc(DISK_BYTES);
    for (unsigned i = 0; i < MEM_BYTES; i++)
        mem_init[i] = (uint8_t)(i * 13 + (i >> 9));
    for (unsigned i = 0; i < DISK_BYTES; i++)
        disk_init[i] = (uint8_t)(i * 5 + 1 + (i >> 12));
    for (unsigned c = 0; c < 2; c++) {
        list_mem[c] = aligned_alloc(PS, NVME_PRP_MAX_LIST_PAGES * PS);
        lists[c].count = nvme_prp_list_pages_for(MAX_XFER, PS);
        for (unsigned i = 0; i < lists[c].count; i++) {
            lists[c].virt[i] = list_mem[c] + i * (PS / 8);
            lists[c].phys[i] = (uint64_t)(uintptr_t)lists[c].virt[i];
        }
    }
}

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

/* The model: the same request with memcpy. */
static void model(bool write, uint64_t disk_off, const struct blk_seg *s, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint8_t *m = ref_mem + (s[i].phys - (uint64_t)(uintptr_t)mem);

        if (write)
            memcpy(ref_disk + disk_off, m, s[i].len);
        else
            memcpy(m, ref_disk + disk_off, s[i].len);
        disk_off += s[i].len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    struct nvme_bounce b;
    struct fake_nvme f;
    struct blk_seg segs[MAX_SEGS];

    alloc_once();
    memcpy(mem, mem_init, MEM_BYTES);
    memcpy(ref_mem, mem_init, MEM_BYTES);
    memcpy(disk, disk_init, DISK_BYTES);
    memcpy(ref_disk, disk_init, DISK_BYTES);
    memset(&f, 0, sizeof(f));
    f.disk = disk;
    f.page_size = PS;
    f.lba_shift = take(&in, 1) & 1 ? 12 : 9;
    f.disk_blocks = DISK_BYTES >> f.lba_shift;
    fake_nvme_add_region(&f, mem, MEM_BYTES);
    fake_nvme_add_region(&f, bounce, MAX_XFER);
    fake_nvme_add_region(&f, list_mem[0], NVME_PRP_MAX_LIST_PAGES * PS);
    fake_nvme_add_region(&f, list_mem[1], NVME_PRP_MAX_LIST_PAGES * PS);
    nvme_bounce_init(&b, (uint64_t)(uintptr_t)bounce, MAX_XFER, bounce_segs);

    for (unsigned r = 0; r < MAX_REQS && in.n > 0; r++) {
        unsigned op = take(&in, 1);
        unsigned n = 1 + take(&in, 1) % MAX_SEGS;
        unsigned lba = take(&in, 2);
        bool write = op & 1, fail = op & 2, probe = op & 4;
        uint64_t sum = 0;

        for (unsigned i = 0; i < n; i++) {
            unsigned off = take(&in, 2) % MEM_BYTES;
            unsigned len = 1 + take(&in, 2) % (2 * PS + 512);

            /* Mostly sector-sized pieces, so totals come out whole. */
            if (op & 8)
                len = (len + 511) & ~511u;
            if (len > MEM_BYTES - off)
                len = MEM_BYTES - off;
            segs[i] = (struct blk_seg){(uint64_t)(uintptr_t)mem + off, len};
            sum += len;
        }
        uint64_t block = (uint64_t)1 << f.lba_shift;
        uint64_t bytes = sum & ~(block - 1);
        uint64_t nlb = bytes >> f.lba_shift;
        uint64_t slba = nlb && nlb <= f.disk_blocks ? lba % (f.disk_blocks - nlb + 1) : 0;
        struct nvme_xfer x = {.segs = segs,
                              .nseg = n,
                              .write = write,
                              .bytes = bytes,
                              .cid = (uint16_t)r,
                              .page_size = PS,
                              .max_bytes = MAX_XFER};
        struct nvme_prp prp;
        uint64_t bounced = b.bounced;
        int err = nvme_xfer_build(&b, &x, &lists[0], &prp);

        if (bytes != sum || bytes == 0) {
            check(err == BLK_EINVAL, "segments not adding up to whole blocks were not refused");
            check(!b.busy, "a refused request holds the bounce buffer");
            continue;
        }
        if (bytes > MAX_XFER) {
            check(err == BLK_ETOOBIG, "an oversized request was not refused");
            continue;
        }
        check(err == BLK_OK, "a valid request was refused");
        check(b.bounced - bounced == (prp_compatible(segs, n) ? 0u : 1u),
              "bounced when PRPs would do, or the reverse");
        check(b.busy == !prp_compatible(segs, n), "bounce buffer state");
        if (probe && b.busy) {
            struct blk_seg odd = {(uint64_t)(uintptr_t)mem + 2, 512};
            struct blk_seg even = {(uint64_t)(uintptr_t)mem + PS, 512};
            struct nvme_xfer y = {.segs = &odd,
                                  .nseg = 1,
                                  .write = !write,
                                  .bytes = 512,
                                  .cid = 999,
                                  .page_size = PS,
                                  .max_bytes = MAX_XFER};
            struct nvme_prp p2;

            if (f.lba_shift == 9) {
                check(nvme_xfer_build(&b, &y, &lists[1], &p2) == BLK_EBUSY,
                      "a second bounced request got the busy buffer");
                y.segs = &even;
                check(nvme_xfer_build(&b, &y, &lists[1], &p2) == BLK_OK,
                      "a zero-copy request was held up by the bounce buffer");
                nvme_xfer_done(&b, 999, true); /* not the holder: no effect */
                check(b.busy, "another CID freed the bounce buffer");
            }
        }
        f.fail_next = fail;
        int sc = fake_nvme_rw(&f, write, slba, (uint32_t)nlb, prp.prp1, prp.prp2);
        check(sc == 0 || (fail && sc == FAKE_NVME_SC_INJECTED), "the controller refused our PRPs");
        nvme_xfer_done(&b, x.cid, sc == 0);
        check(!b.busy, "the bounce buffer stayed busy after completion");
        if (sc == 0)
            model(write, slba << f.lba_shift, segs, n);
        check(memcmp(mem, ref_mem, MEM_BYTES) == 0, "guest memory differs from the model");
        check(memcmp(disk, ref_disk, DISK_BYTES) == 0, "the disk differs from the model");
    }
    return 0;
}
