/* SPDX-License-Identifier: MIT */
/* Multiboot v1 information parsing (see mb1_info.h). */
#include "mb1_info.h"

#define INFO_SIZE 116

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static bool inside(uint64_t window_len, uint64_t addr, uint64_t len)
{
    return len <= window_len && addr <= window_len - len;
}

/* A NUL-terminated string at addr inside the window, or NULL. */
static const char *string_at(const uint8_t *w, uint64_t window_len, uint32_t addr)
{
    for (uint64_t a = addr; a < window_len; a++)
        if (!w[a])
            return (const char *)w + addr;
    return NULL;
}

const char *mb1_parse(const uint8_t *w, uint64_t window_len, uint32_t info_addr,
                      struct mb1_info *out)
{
    *out = (struct mb1_info){0};
    if (!inside(window_len, info_addr, INFO_SIZE))
        return "information block outside memory";
    const uint8_t *b = w + info_addr;
    out->flags = rd32(b);
    if (out->flags & MB1_INFO_MEM) {
        out->mem_lower_kib = rd32(b + 4);
        out->mem_upper_kib = rd32(b + 8);
    }
    if (out->flags & MB1_INFO_CMDLINE) {
        out->cmdline = string_at(w, window_len, rd32(b + 16));
        if (!out->cmdline)
            return "command line outside memory or unterminated";
    }
    if (out->flags & MB1_INFO_LOADER) {
        out->loader = string_at(w, window_len, rd32(b + 64));
        if (!out->loader)
            return "boot loader name outside memory or unterminated";
    }
    if (out->flags & MB1_INFO_MODS) {
        uint32_t count = rd32(b + 20), addr = rd32(b + 24);
        if (count > 1024 || !inside(window_len, addr, (uint64_t)count * 16))
            return "module list outside memory";
        out->modules = count;
        for (uint32_t i = 0; i < count && i < MB1_MAX_MODULES; i++) {
            const uint8_t *m = w + addr + 16 * i;
            struct mb1_module *mod = &out->module[i];
            mod->start = rd32(m);
            mod->end = rd32(m + 4);
            if (mod->end < mod->start || !inside(window_len, mod->start, mod->end - mod->start))
                return "module outside memory";
            mod->name = string_at(w, window_len, rd32(m + 8));
            if (!mod->name)
                return "module string outside memory or unterminated";
        }
    }
    if (out->flags & MB1_INFO_MMAP) {
        uint32_t len = rd32(b + 44), addr = rd32(b + 48);
        if (!inside(window_len, addr, len))
            return "memory map outside memory";
        uint64_t pos = 0;
        while (pos + 4 <= len) {
            uint32_t size = rd32(w + addr + pos);
            if (size < 20 || size > len - pos - 4)
                return "memory map entry runs past the map";
            if (out->regions < MB1_MAX_REGIONS) {
                const uint8_t *e = w + addr + pos + 4;
                out->region[out->regions] = (struct mb1_region){rd64(e), rd64(e + 8), rd32(e + 16)};
            }
            out->regions++;
            pos += 4 + (uint64_t)size;
        }
        if (pos != len)
            return "memory map length is not a whole number of entries";
    }
    return NULL;
}

bool mb1_range_available(const struct mb1_info *m, uint64_t base, uint64_t len)
{
    unsigned n = m->regions < MB1_MAX_REGIONS ? m->regions : MB1_MAX_REGIONS;
    for (unsigned i = 0; i < n; i++) {
        const struct mb1_region *r = &m->region[i];
        if (r->type == MB1_MEMORY_AVAILABLE && base >= r->base && len <= r->length &&
            base - r->base <= r->length - len)
            return true;
    }
    return false;
}
