/* SPDX-License-Identifier: MIT */
/*
 * Test helper: a fake NVMe controller that executes one READ or WRITE from
 * its PRP1/PRP2 against a fake disk, walking the PRPs as strictly as QEMU's
 * model does (NVMe 1.4 section 4.3): PRP1 dword aligned, its data ending at
 * its page boundary; PRP2 a page (page aligned) when the rest fits in one
 * page, else a PRP list whose entries are page aligned and whose last slot
 * chains to the next list page while more than one entry is left. An entry
 * with an offset fails with SC 13h like the real thing. Every byte it
 * touches (data and list entries) must lie in a region the test declared,
 * so a PRP pointing anywhere else is caught. Addresses are host pointers, as
 * the hypervisor's physical addresses are its pointers (identity map).
 * Shared by the unit tests and the fuzz target; header only.
 */
#ifndef SIDECORE_TESTS_NVME_FAKE_CTRL_H
#define SIDECORE_TESTS_NVME_FAKE_CTRL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define FAKE_NVME_SC_OK         0x00
#define FAKE_NVME_SC_PRP_OFFSET 0x13
#define FAKE_NVME_SC_LBA_RANGE  0x80
#define FAKE_NVME_SC_OUTSIDE    0xfe /* not a real status: DMA outside every region */
#define FAKE_NVME_SC_INJECTED   0x04 /* data transfer error, on request */
#define FAKE_NVME_MAX_REGIONS   8

struct fake_nvme {
    uint8_t *disk;
    uint64_t disk_blocks;
    unsigned lba_shift;
    uint32_t page_size;
    struct {
        uint64_t lo, hi; /* [lo, hi) */
    } region[FAKE_NVME_MAX_REGIONS];
    unsigned nregions;
    bool fail_next; /* the next command fails (after reading its PRPs) */
    unsigned commands, list_pages_read;
};

static inline void fake_nvme_add_region(struct fake_nvme *f, const void *p, uint64_t bytes)
{
    f->region[f->nregions].lo = (uint64_t)(uintptr_t)p;
    f->region[f->nregions].hi = (uint64_t)(uintptr_t)p + bytes;
    f->nregions++;
}

static inline bool fake_nvme_inside(const struct fake_nvme *f, uint64_t a, uint64_t n)
{
    for (unsigned i = 0; i < f->nregions; i++)
        if (a >= f->region[i].lo && a <= f->region[i].hi && n <= f->region[i].hi - a)
            return true;
    return false;
}

/* The data pieces of a transfer of `len` bytes, as the controller finds them. */
struct fake_nvme_piece {
    uint64_t addr;
    uint32_t len;
};

static inline int fake_nvme_map(struct fake_nvme *f, uint64_t prp1, uint64_t prp2, uint64_t len,
                                struct fake_nvme_piece *out, unsigned max, unsigned *count)
{
    uint64_t ps = f->page_size, mask = ps - 1;
    unsigned n = 0;
    uint64_t first = ps - (prp1 & mask);

    if (prp1 & 3)
        return FAKE_NVME_SC_PRP_OFFSET;
    if (first > len)
        first = len;
    out[n++] = (struct fake_nvme_piece){prp1, (uint32_t)first};
    len -= first;
    if (len > 0 && len <= ps) {
        if (prp2 & mask)
            return FAKE_NVME_SC_PRP_OFFSET;
        out[n++] = (struct fake_nvme_piece){prp2, (uint32_t)len};
        len = 0;
    }
    uint64_t list = prp2;
    while (len > 0) {
        /* A list runs from its pointer to the end of that page. */
        if (list & 7)
            return FAKE_NVME_SC_PRP_OFFSET;
        unsigned slots = (unsigned)((ps - (list & mask)) / 8);
        f->list_pages_read++;
        for (unsigned i = 0; i < slots && len > 0; i++) {
            uint64_t *slot = (uint64_t *)(uintptr_t)(list + 8 * i);

            if (!fake_nvme_inside(f, list + 8 * i, 8))
                return FAKE_NVME_SC_OUTSIDE;
            if (i == slots - 1 && len > ps) {
                list = *slot; /* chain */
                if (list & mask)
                    return FAKE_NVME_SC_PRP_OFFSET;
                goto next_list;
            }
            if (*slot & mask)
                return FAKE_NVME_SC_PRP_OFFSET;
            if (n == max)
                return FAKE_NVME_SC_OUTSIDE;
            uint64_t take = len < ps ? len : ps;
            out[n++] = (struct fake_nvme_piece){*slot, (uint32_t)take};
            len -= take;
        }
        break;
    next_list:;
    }
    if (len > 0)
        return FAKE_NVME_SC_OUTSIDE;
    *count = n;
    return FAKE_NVME_SC_OK;
}

/* Executes the command; returns its status code (0 = success). Nothing is
 * moved unless every piece checks out. */
static inline int fake_nvme_rw(struct fake_nvme *f, bool write, uint64_t slba, uint32_t nlb,
                               uint64_t prp1, uint64_t prp2)
{
    static struct fake_nvme_piece pieces[8192];
    uint64_t len = (uint64_t)nlb << f->lba_shift;
    unsigned n = 0;
    int sc;

    f->commands++;
    if (nlb == 0 || slba >= f->disk_blocks || nlb > f->disk_blocks - slba)
        return FAKE_NVME_SC_LBA_RANGE;
    sc = fake_nvme_map(f, prp1, prp2, len, pieces, 8192, &n);
    if (sc)
        return sc;
    for (unsigned i = 0; i < n; i++)
        if (!fake_nvme_inside(f, pieces[i].addr, pieces[i].len))
            return FAKE_NVME_SC_OUTSIDE;
    if (f->fail_next) {
        f->fail_next = false;
        return FAKE_NVME_SC_INJECTED;
    }
    uint8_t *d = f->disk + (slba << f->lba_shift);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *m = (uint8_t *)(uintptr_t)pieces[i].addr;

        if (write)
            memcpy(d, m, pieces[i].len);
        else
            memcpy(m, d, pieces[i].len);
        d += pieces[i].len;
    }
    return FAKE_NVME_SC_OK;
}

#endif
