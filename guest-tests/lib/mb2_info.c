/* SPDX-License-Identifier: MIT */
/*
 * The multiboot2 information walk. Layout (multiboot2 spec, section 3.6):
 * u32 total_size, u32 reserved, then tags, each u32 type, u32 size, padded
 * to 8 bytes, ending with a type-0 tag of size 8. The memory-map tag adds
 * u32 entry_size, u32 entry_version and entries of u64 base, u64 length,
 * u32 type, u32 reserved.
 */
#include "mb2_info.h"

static uint32_t read32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t read64(const uint8_t *p)
{
    return read32(p) | (uint64_t)read32(p + 4) << 32;
}

static const char *parse_mmap(const uint8_t *tag, uint32_t size, struct mb2_memory *out)
{
    if (size < 16)
        return "memory-map tag shorter than its header";
    uint32_t entry_size = read32(tag + 8);
    if (entry_size < 24 || entry_size % 8)
        return "memory-map entry size is not a multiple of 8 of at least 24";
    out->has_mmap = true;
    for (uint32_t off = 16; size - off >= entry_size; off += entry_size) {
        const uint8_t *e = tag + off;
        struct mb2_region r = {read64(e), read64(e + 8), read32(e + 16)};
        if (r.length > UINT64_MAX - r.base)
            return "memory-map entry wraps around the address space";
        if (out->regions < MB2_MAX_REGIONS)
            out->region[out->regions] = r;
        out->regions++;
        if (r.type == MB2_MEMORY_AVAILABLE) {
            out->available_bytes += r.length;
            if (r.base + r.length > out->available_end)
                out->available_end = r.base + r.length;
        }
    }
    return 0;
}

const char *mb2_parse_memory(const void *info, size_t max_len, struct mb2_memory *out)
{
    const uint8_t *p = info;

    *out = (struct mb2_memory){0};
    if (!info)
        return "no information structure";
    if ((uintptr_t)info % 8)
        return "information structure not 8-byte aligned";
    if (max_len < 16)
        return "no room for an information structure";
    uint32_t total = read32(p);
    if (total < 16 || total > max_len)
        return "total_size out of range";
    for (uint32_t off = 8;;) {
        if (total - off < 8)
            return "tags run past total_size without an end tag";
        uint32_t type = read32(p + off), size = read32(p + off + 4);
        if (size < 8 || size > total - off)
            return "tag size out of range";
        if (type == MB2_TAG_END)
            return size == 8 ? 0 : "end tag size is not 8";
        if (type == MB2_TAG_BASIC_MEM) {
            if (size < 16)
                return "basic-meminfo tag too short";
            out->has_basic = true;
            out->mem_lower_kib = read32(p + off + 8);
            out->mem_upper_kib = read32(p + off + 12);
        } else if (type == MB2_TAG_MMAP) {
            const char *err = parse_mmap(p + off, size, out);
            if (err)
                return err;
        }
        uint32_t step = (size + 7) & ~7u;
        if (step > total - off)
            return "tags run past total_size without an end tag";
        off += step;
    }
}

bool mb2_range_available(const struct mb2_memory *m, uint64_t base, uint64_t len)
{
    unsigned n = m->regions < MB2_MAX_REGIONS ? m->regions : MB2_MAX_REGIONS;

    for (unsigned i = 0; i < n; i++) {
        const struct mb2_region *r = &m->region[i];
        if (r->type == MB2_MEMORY_AVAILABLE && base >= r->base && len <= r->length &&
            base - r->base <= r->length - len)
            return true;
    }
    return false;
}
