/* SPDX-License-Identifier: MIT */
/*
 * guest_boot_plan_apply: carries a plan out on guest memory. The plan comes
 * from guest_boot_plan_build, but this is the function that writes, so it
 * checks every piece again against the memory and image sizes before it
 * touches a byte: a bad plan is refused, never written out of bounds.
 */
#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"
#include "vmm/loader/plan_util.h"

#define PTE_P  (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PS (1ull << 7)

static bool apply_fail(char *err, size_t err_size, const char *what, uint64_t a, uint64_t b)
{
    if (err && err_size)
        fmt_snprintf(err, err_size, "boot plan refused: %s (0x%llx, 0x%llx)", what,
                     (unsigned long long)a, (unsigned long long)b);
    return false;
}

static bool identity_map_check(const struct boot_identity_map *m, uint64_t mem_size)
{
    if (m->gpa & 0xfff || m->map_bytes == 0 || m->map_bytes & ((1ull << 21) - 1) ||
        m->map_bytes > BOOT_MEM_MAX_LONG64)
        return false;
    uint64_t pds = (m->map_bytes + (1ull << 30) - 1) >> 30;
    return m->table_bytes == (2 + pds) * 4096 && range_within(m->gpa, m->table_bytes, mem_size);
}

static void identity_map_write(uint8_t *mem, const struct boot_identity_map *m)
{
    uint8_t *pml4 = mem + m->gpa, *pdpt = pml4 + 4096, *pd = pdpt + 4096;
    uint64_t pdpt_gpa = m->gpa + 4096, pd_gpa = pdpt_gpa + 4096;
    uint64_t pages = m->map_bytes >> 21, pds = (pages + 511) / 512;
    memset(pml4, 0, m->table_bytes);
    wr64(pml4, pdpt_gpa | PTE_P | PTE_RW);
    for (uint64_t i = 0; i < pds; i++)
        wr64(pdpt + i * 8, (pd_gpa + i * 4096) | PTE_P | PTE_RW);
    for (uint64_t i = 0; i < pages; i++)
        wr64(pd + i * 8, (i << 21) | PTE_P | PTE_RW | PTE_PS);
}

/* The bytes a copy reads from, or NULL (size 0) for an unknown source. */
static const uint8_t *copy_source(const struct guest_image *img, uint8_t source, uint64_t *size)
{
    if (source == BOOT_SRC_IMAGE) {
        *size = img->size;
        return img->data;
    }
    if (source == BOOT_SRC_INITRD) {
        *size = img->initrd_size;
        return img->initrd;
    }
    unsigned i = (unsigned)source - BOOT_SRC_MODULE;
    if (source < BOOT_SRC_MODULE || i >= img->nmodules || i >= BOOT_MODULES_MAX) {
        *size = 0;
        return NULL;
    }
    *size = img->modules[i].size;
    return img->modules[i].data;
}

bool guest_boot_plan_apply(const struct guest_boot_plan *plan, const struct guest_image *img,
                           void *mem, uint64_t mem_size, bool zero_all, char *err, size_t err_size)
{
    uint8_t *m = mem;
    if (plan->mem_size != mem_size)
        return apply_fail(err, err_size, "planned for another memory size", plan->mem_size,
                          mem_size);
    if (plan->image_size != img->size || plan->initrd_size != img->initrd_size ||
        plan->nmodules != img->nmodules || plan->nmodules > BOOT_MODULES_MAX)
        return apply_fail(err, err_size, "planned for another image", plan->image_size, img->size);
    for (unsigned i = 0; i < plan->nmodules; i++)
        if (plan->module_size[i] != img->modules[i].size)
            return apply_fail(err, err_size, "planned for another module", plan->module_size[i],
                              img->modules[i].size);
    if (plan->copy_count > BOOT_PLAN_MAX_COPIES || plan->blob_count > BOOT_PLAN_MAX_BLOBS ||
        plan->data_used > BOOT_PLAN_DATA_SIZE)
        return apply_fail(err, err_size, "corrupt plan", plan->copy_count, plan->blob_count);

    /* Check everything before writing anything. */
    for (unsigned i = 0; i < plan->copy_count; i++) {
        const struct boot_copy *c = &plan->copies[i];
        uint64_t src_size;
        const uint8_t *src = copy_source(img, c->source, &src_size);
        if (!src || c->file_size > c->mem_size || !range_within(c->offset, c->file_size, src_size))
            return apply_fail(err, err_size, "copy source out of range", c->offset, c->file_size);
        if (!range_within(c->gpa, c->mem_size, mem_size))
            return apply_fail(err, err_size, "copy target outside guest memory", c->gpa,
                              c->mem_size);
    }
    for (unsigned i = 0; i < plan->blob_count; i++) {
        const struct boot_blob *b = &plan->blobs[i];
        if (!range_within(b->offset, b->size, plan->data_used) ||
            !range_within(b->gpa, b->size, mem_size))
            return apply_fail(err, err_size, "data block out of range", b->gpa, b->size);
    }
    if (plan->has_identity_map && !identity_map_check(&plan->identity_map, mem_size))
        return apply_fail(err, err_size, "page tables out of range", plan->identity_map.gpa,
                          plan->identity_map.table_bytes);

    if (zero_all)
        memset(m, 0, mem_size);
    for (unsigned i = 0; i < plan->copy_count; i++) {
        const struct boot_copy *c = &plan->copies[i];
        uint64_t src_size;
        const uint8_t *src = copy_source(img, c->source, &src_size);
        memcpy(m + c->gpa, src + c->offset, c->file_size);
        memset(m + c->gpa + c->file_size, 0, c->mem_size - c->file_size);
    }
    for (unsigned i = 0; i < plan->blob_count; i++) {
        const struct boot_blob *b = &plan->blobs[i];
        memcpy(m + b->gpa, plan->data + b->offset, b->size);
    }
    if (plan->has_identity_map)
        identity_map_write(m, &plan->identity_map);
    return true;
}
