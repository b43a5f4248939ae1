/* SPDX-License-Identifier: MIT */
#include "boot/mb2_handoff.h"

#include "kernel/lib/str.h"
#include "kernel/lib/string.h"

enum {
    MB2_TAG_END = 0,
    MB2_TAG_CMDLINE = 1,
    MB2_TAG_MODULE = 3,
    MB2_TAG_MMAP = 6,
    MB2_TAG_EFI64 = 12,
    MB2_TAG_ACPI_OLD = 14,
    MB2_TAG_ACPI_NEW = 15,
};

struct mb2_tag {
    uint32_t type;
    uint32_t size;
};

struct mb2_mmap_entry {
    uint64_t base;
    uint64_t length;
    uint32_t type;
    uint32_t reserved;
};

/* Copies a NUL-terminated string that must end inside [s, s+max). */
static bool copy_bounded_string(char *dst, size_t dst_size, const uint8_t *s, size_t max)
{
    size_t len = strnlen((const char *)s, max);

    if (len == max)
        return false;
    str_copy(dst, (const char *)s, dst_size);
    return true;
}

static bool add_mmap(struct handoff *h, const uint8_t *body, size_t len, const char **err)
{
    if (len < 8) {
        *err = "memory map tag too short";
        return false;
    }
    uint32_t entry_size, version;
    memcpy(&entry_size, body, 4);
    memcpy(&version, body + 4, 4);
    if (entry_size < sizeof(struct mb2_mmap_entry)) {
        *err = "memory map entry size too small";
        return false;
    }
    for (size_t off = 8; off + entry_size <= len; off += entry_size) {
        struct mb2_mmap_entry e;
        memcpy(&e, body + off, sizeof(e));
        if (h->mmap_count >= HANDOFF_MAX_MMAP) {
            *err = "too many memory map entries";
            return false;
        }
        struct handoff_mmap_entry *out = &h->mmap[h->mmap_count++];
        out->base = e.base;
        out->length = e.length;
        /* Types 1-5 are E820's; anything else is reserved. */
        out->type = (e.type >= 1 && e.type <= 5) ? e.type : HANDOFF_MEM_RESERVED;
        out->reserved = 0;
    }
    return true;
}

static bool add_module(struct handoff *h, const uint8_t *body, size_t len, const char **err)
{
    if (len < 8) {
        *err = "module tag too short";
        return false;
    }
    if (h->file_count >= HANDOFF_MAX_FILES) {
        *err = "too many modules";
        return false;
    }
    uint32_t start, end;
    memcpy(&start, body, 4);
    memcpy(&end, body + 4, 4);
    if (end < start) {
        *err = "module ends before it starts";
        return false;
    }
    struct handoff_file *f = &h->files[h->file_count];
    if (!copy_bounded_string(f->name, sizeof(f->name), body + 8, len - 8)) {
        *err = "module name not terminated";
        return false;
    }
    f->base = start;
    f->size = end - start;
    h->file_count++;
    return true;
}

bool mb2_to_handoff(const uint8_t *info, size_t max_size, struct handoff *h, const char **err)
{
    uint32_t total;
    bool have_new_rsdp = false;

    memset(h, 0, sizeof(*h));
    h->magic = HANDOFF_MAGIC;
    h->version = HANDOFF_VERSION;
    h->boot_path = HANDOFF_BOOT_MB2_BIOS;
    *err = NULL;

    if (max_size < 8) {
        *err = "boot information too small";
        return false;
    }
    memcpy(&total, info, 4);
    if (total < 8 || total > max_size) {
        *err = "boot information size out of range";
        return false;
    }

    size_t off = 8;
    for (;;) {
        struct mb2_tag tag;
        if (off + sizeof(tag) > total) {
            *err = "tags run past the end (no end tag)";
            return false;
        }
        memcpy(&tag, info + off, sizeof(tag));
        if (tag.type == MB2_TAG_END)
            break;
        if (tag.size < sizeof(tag) || tag.size > total - off) {
            *err = "tag size out of range";
            return false;
        }
        const uint8_t *body = info + off + sizeof(tag);
        size_t len = tag.size - sizeof(tag);

        switch (tag.type) {
        case MB2_TAG_CMDLINE:
            if (!copy_bounded_string(h->cmdline, sizeof(h->cmdline), body, len)) {
                *err = "command line not terminated";
                return false;
            }
            break;
        case MB2_TAG_MODULE:
            if (!add_module(h, body, len, err))
                return false;
            break;
        case MB2_TAG_MMAP:
            if (!add_mmap(h, body, len, err))
                return false;
            break;
        case MB2_TAG_EFI64:
            if (len >= 8) {
                memcpy(&h->efi_system_table, body, 8);
                h->boot_path = HANDOFF_BOOT_MB2_EFI;
            }
            break;
        case MB2_TAG_ACPI_OLD:
        case MB2_TAG_ACPI_NEW:
            /* Prefer the ACPI 2.0+ RSDP (it has the XSDT address). */
            if (len >= 20 && (tag.type == MB2_TAG_ACPI_NEW || !have_new_rsdp)) {
                size_t n = len < sizeof(h->rsdp_copy) ? len : sizeof(h->rsdp_copy);
                memset(h->rsdp_copy, 0, sizeof(h->rsdp_copy));
                memcpy(h->rsdp_copy, body, n);
                h->rsdp = (uint64_t)(uintptr_t)h->rsdp_copy;
                have_new_rsdp |= tag.type == MB2_TAG_ACPI_NEW;
            }
            break;
        default: break;
        }
        off += (tag.size + 7) & ~7u;
    }
    if (h->mmap_count == 0) {
        *err = "no memory map";
        return false;
    }
    return true;
}
