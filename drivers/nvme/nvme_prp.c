/* SPDX-License-Identifier: MIT */
/*
 * PRP construction. First the segments are checked against the PRP rules
 * and counted in pages, then the pages are written out: PRP1, then PRP2 as a
 * page or as a list that chains through the last slot of each full page.
 */
#include "drivers/nvme/nvme_prp.h"

#include <stdbool.h>

/* Entries after PRP1 that a transfer of `pages` pages needs, and the list
 * pages that holds them. */
static unsigned list_pages_for_entries(uint64_t entries, uint32_t per_page)
{
    unsigned pages = 1;

    if (entries <= 1) /* PRP2 itself holds a single entry */
        return 0;
    while (entries > per_page) {
        entries -= per_page - 1; /* the last slot chains to the next page */
        pages++;
    }
    return pages;
}

static bool page_size_ok(uint32_t page_size)
{
    return page_size >= 4096 && page_size <= (1u << 27) && (page_size & (page_size - 1)) == 0;
}

unsigned nvme_prp_list_pages_for(uint64_t max_bytes, uint32_t page_size)
{
    if (!page_size_ok(page_size) || max_bytes == 0)
        return 0;
    /* Worst case: the first page holds only its last dword. */
    uint64_t rest = max_bytes > 4 ? max_bytes - 4 : 0;
    uint64_t pages = 1 + (rest + page_size - 1) / page_size;

    return list_pages_for_entries(pages - 1, page_size / 8);
}

/* Checks the rules and counts the pages the transfer touches. */
static int check_segments(const struct blk_seg *segs, unsigned n, uint64_t page_mask,
                          uint64_t max_bytes, uint64_t *pages_out, uint64_t *bytes_out)
{
    uint64_t bytes = 0, pages = 0;

    if (n == 0)
        return NVME_PRP_EMPTY;
    if (segs[0].phys & 3)
        return NVME_PRP_UNALIGNED;
    for (unsigned i = 0; i < n; i++) {
        const struct blk_seg *s = &segs[i];

        if (s->len == 0)
            return NVME_PRP_EMPTY;
        if (s->phys + s->len < s->phys)
            return NVME_PRP_ADDRESS_OVERFLOW;
        if (i > 0 && (s->phys & page_mask))
            return NVME_PRP_MID_START;
        if (i + 1 < n && ((s->phys + s->len) & page_mask))
            return NVME_PRP_MID_END;
        if (s->len > max_bytes - bytes)
            return NVME_PRP_TOO_BIG;
        bytes += s->len;
        uint64_t first = s->phys & ~page_mask;
        uint64_t end = s->phys + s->len; /* exclusive */
        pages += (end - first + page_mask) / (page_mask + 1);
    }
    *pages_out = pages;
    *bytes_out = bytes;
    return NVME_PRP_OK;
}

/* Walks the pages of the transfer after the first one. */
struct page_walk {
    const struct blk_seg *segs;
    unsigned n, seg;
    uint64_t next; /* next page address in segs[seg] */
    uint64_t page_size;
};

static uint64_t walk_next(struct page_walk *w)
{
    for (;;) {
        const struct blk_seg *s = &w->segs[w->seg];

        if (w->next < s->phys + s->len) {
            uint64_t page = w->next;
            w->next += w->page_size;
            return page;
        }
        w->seg++;
        w->next = w->segs[w->seg].phys; /* page aligned: checked */
    }
}

int nvme_prp_build(const struct blk_seg *segs, unsigned n, uint32_t page_size, uint64_t max_bytes,
                   const struct nvme_prp_lists *lists, struct nvme_prp *out)
{
    uint64_t page_mask = (uint64_t)page_size - 1;
    uint64_t pages, bytes;
    int err;

    if (!page_size_ok(page_size))
        return NVME_PRP_BAD_PAGE_SIZE;
    err = check_segments(segs, n, page_mask, max_bytes, &pages, &bytes);
    if (err)
        return err;

    uint32_t per_page = page_size / 8;
    unsigned need = list_pages_for_entries(pages - 1, per_page);

    if (need > lists->count || need > NVME_PRP_MAX_LIST_PAGES)
        return NVME_PRP_NO_LIST_SPACE;

    struct page_walk w = {segs, n, 0, (segs[0].phys & ~page_mask) + page_size, page_size};

    out->prp1 = segs[0].phys;
    out->prp2 = 0;
    out->bytes = bytes;
    out->list_pages_used = need;
    if (pages == 1)
        return NVME_PRP_OK;
    if (pages == 2) {
        out->prp2 = walk_next(&w);
        return NVME_PRP_OK;
    }
    out->prp2 = lists->phys[0];
    uint64_t left = pages - 1;

    for (unsigned lp = 0; left > 0; lp++) {
        uint64_t *list = lists->virt[lp];
        uint32_t slot = 0;

        while (left > 0) {
            if (slot == per_page - 1 && left > 1) {
                list[slot] = lists->phys[lp + 1];
                break;
            }
            list[slot++] = walk_next(&w);
            left--;
        }
    }
    return NVME_PRP_OK;
}

const char *nvme_prp_error_name(int err)
{
    switch (err) {
    case NVME_PRP_OK: return "ok";
    case NVME_PRP_EMPTY: return "empty transfer or zero-length segment";
    case NVME_PRP_UNALIGNED: return "first segment not dword aligned";
    case NVME_PRP_MID_START: return "a segment after the first starts mid-page";
    case NVME_PRP_MID_END: return "a segment before the last ends mid-page";
    case NVME_PRP_TOO_BIG: return "transfer larger than the maximum";
    case NVME_PRP_NO_LIST_SPACE: return "not enough PRP list pages";
    case NVME_PRP_BAD_PAGE_SIZE: return "bad controller page size";
    case NVME_PRP_ADDRESS_OVERFLOW: return "segment wraps the address space";
    default: return "unknown PRP error";
    }
}
