/* SPDX-License-Identifier: MIT */
/*
 * Shared planner helpers (see plan_util.h). The free-space search walks
 * downwards from the limit: each time a candidate hits a reserved range it
 * moves below that range's start, so it never revisits a range and ends
 * after at most one step per range.
 */
#include "vmm/loader/plan_util.h"

#include <stdarg.h>

#include "kernel/lib/fmt.h"
#include "kernel/lib/str.h"

bool plan_fail(struct guest_boot_plan *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(p->error, sizeof(p->error), fmt, ap);
    va_end(ap);
    return false;
}

bool plan_reserve(struct guest_boot_plan *p, uint64_t start, uint64_t size, const char *what)
{
    if (size == 0)
        return true;
    uint64_t end = start + size; /* callers have checked it does not wrap */
    for (unsigned i = 0; i < p->reserved_count; i++) {
        const struct boot_range *r = &p->reserved[i];
        if (start < r->end && r->start < end)
            return plan_fail(p, "%s (0x%llx-0x%llx) overlaps %s (0x%llx-0x%llx)", what,
                             (unsigned long long)start, (unsigned long long)end - 1, r->what,
                             (unsigned long long)r->start, (unsigned long long)r->end - 1);
    }
    if (p->reserved_count == BOOT_PLAN_MAX_RESERVED)
        return plan_fail(p, "too many pieces to place (%u)", BOOT_PLAN_MAX_RESERVED);
    struct boot_range *r = &p->reserved[p->reserved_count++];
    r->start = start;
    r->end = end;
    str_copy(r->what, what, sizeof(r->what));
    return true;
}

bool plan_find_free(const struct guest_boot_plan *p, uint64_t size, uint64_t align, uint64_t limit,
                    uint64_t *gpa)
{
    const uint64_t floor = 0x1000;
    if (size > limit || limit - size < floor)
        return false;
    uint64_t cand = (limit - size) & ~(align - 1);
    for (;;) {
        if (cand < floor)
            return false;
        bool moved = false;
        for (unsigned i = 0; i < p->reserved_count; i++) {
            const struct boot_range *r = &p->reserved[i];
            if (cand < r->end && r->start < cand + size) {
                if (r->start < size + floor)
                    return false;
                cand = (r->start - size) & ~(align - 1);
                moved = true;
                break;
            }
        }
        if (!moved) {
            *gpa = cand;
            return true;
        }
    }
}

bool plan_add_copy(struct guest_boot_plan *p, enum boot_source src, uint64_t offset, uint64_t gpa,
                   uint64_t file_size, uint64_t mem_size, uint64_t limit, const char *what)
{
    if (file_size > mem_size)
        return plan_fail(p, "%s: file size 0x%llx is larger than its memory size 0x%llx", what,
                         (unsigned long long)file_size, (unsigned long long)mem_size);
    if (!range_within(gpa, mem_size, limit)) {
        if (limit < p->mem_size)
            return plan_fail(p,
                             "%s (0x%llx, 0x%llx bytes) is above 4 GiB, out of reach without "
                             "paging",
                             what, (unsigned long long)gpa, (unsigned long long)mem_size);
        return plan_fail(p, "%s (0x%llx, 0x%llx bytes) lies outside guest memory (0x%llx bytes)",
                         what, (unsigned long long)gpa, (unsigned long long)mem_size,
                         (unsigned long long)p->mem_size);
    }
    if (p->copy_count == BOOT_PLAN_MAX_COPIES)
        return plan_fail(p, "too many loadable pieces (more than %u)", BOOT_PLAN_MAX_COPIES);
    if (!plan_reserve(p, gpa, mem_size, what))
        return false;
    p->copies[p->copy_count++] = (struct boot_copy){src, offset, gpa, file_size, mem_size};
    return true;
}

uint8_t *plan_add_blob(struct guest_boot_plan *p, const char *what, uint64_t gpa, uint32_t size)
{
    uint32_t off = (uint32_t)align_up(p->data_used, 8);
    if (p->blob_count == BOOT_PLAN_MAX_BLOBS || off > BOOT_PLAN_DATA_SIZE ||
        size > BOOT_PLAN_DATA_SIZE - off) {
        plan_fail(p, "%s (%u bytes) does not fit in the plan's data area", what, size);
        return NULL;
    }
    p->blobs[p->blob_count++] = (struct boot_blob){what, gpa, off, size};
    p->data_used = off + size;
    return p->data + off;
}

bool plan_gpa_in_image(const struct guest_boot_plan *p, uint64_t gpa)
{
    for (unsigned i = 0; i < p->copy_count; i++) {
        const struct boot_copy *c = &p->copies[i];
        if (c->source == BOOT_SRC_IMAGE && gpa >= c->gpa && gpa - c->gpa < c->file_size)
            return true;
    }
    return false;
}

bool plan_multiboot_address(struct guest_boot_plan *p, const struct guest_image *img,
                            const struct mb_address *a, uint64_t limit, const struct mb_wording *w)
{
    if (a->load_addr > a->header_addr || a->header_addr - a->load_addr > a->header_offset)
        return plan_fail(p,
                         "%s: load_addr 0x%x would start before the file (header at offset "
                         "0x%llx, header_addr 0x%x)",
                         w->fields, a->load_addr, (unsigned long long)a->header_offset,
                         a->header_addr);
    uint64_t file_off = a->header_offset - (a->header_addr - a->load_addr);
    uint64_t avail = img->size - file_off;
    uint64_t load_size = avail;
    if (a->load_end_addr) {
        if (a->load_end_addr <= a->load_addr)
            return plan_fail(p, "%s: load_end_addr 0x%x is not above load_addr 0x%x", w->fields,
                             a->load_end_addr, a->load_addr);
        load_size = (uint64_t)a->load_end_addr - a->load_addr;
        if (load_size > avail)
            return plan_fail(p,
                             "truncated %s kernel: the %s loads 0x%llx bytes, the file has "
                             "0x%llx from offset 0x%llx",
                             w->kind, w->fields, (unsigned long long)load_size,
                             (unsigned long long)avail, (unsigned long long)file_off);
    }
    uint64_t mem_size = load_size;
    if (a->bss_end_addr) {
        if (a->bss_end_addr < a->load_addr + load_size)
            return plan_fail(p, "%s: bss_end_addr 0x%x is below the end of the loaded image 0x%llx",
                             w->fields, a->bss_end_addr,
                             (unsigned long long)(a->load_addr + load_size));
        mem_size = (uint64_t)a->bss_end_addr - a->load_addr;
    }
    if (mem_size > p->mem_size)
        return plan_fail(p,
                         "image too large for the guest: it needs 0x%llx bytes, the guest has "
                         "0x%llx",
                         (unsigned long long)mem_size, (unsigned long long)p->mem_size);
    return plan_add_copy(p, BOOT_SRC_IMAGE, file_off, a->load_addr, load_size, mem_size, limit,
                         w->image);
}
