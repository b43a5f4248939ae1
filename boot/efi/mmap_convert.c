/* SPDX-License-Identifier: MIT */
/*
 * UEFI memory map -> hand-off memory map. Everything the firmware frees at
 * ExitBootServices() (boot services code and data) and everything this
 * loader allocated (loader code and data: the hypervisor, its files, the
 * hand-off) is usable; the hypervisor keeps its files out of its allocator by
 * itself. Runtime services, MMIO and unknown types stay reserved so that
 * nothing the firmware still owns after boot is handed out. Ranges are
 * inserted in order and merged as they go in, so a firmware map with more
 * descriptors than the hand-off has slots still fits once merged.
 */
#include "boot/efi/mmap_convert.h"

#define EFI_PAGE_SHIFT 12

/* Descriptor field offsets (UEFI spec, EFI_MEMORY_DESCRIPTOR). */
#define DESC_TYPE_OFF      0
#define DESC_PHYS_OFF      8
#define DESC_NUM_PAGES_OFF 24

uint32_t mmap_type_from_efi(uint32_t efi_type)
{
    switch (efi_type) {
    case EFI_MEM_CONVENTIONAL:
    case EFI_MEM_BOOT_SERVICES_CODE:
    case EFI_MEM_BOOT_SERVICES_DATA:
    case EFI_MEM_LOADER_CODE:
    case EFI_MEM_LOADER_DATA: return HANDOFF_MEM_USABLE;
    case EFI_MEM_ACPI_RECLAIM: return HANDOFF_MEM_ACPI_RECLAIM;
    case EFI_MEM_ACPI_NVS: return HANDOFF_MEM_ACPI_NVS;
    case EFI_MEM_UNUSABLE: return HANDOFF_MEM_BAD;
    default: return HANDOFF_MEM_RESERVED;
    }
}

static bool touches(const struct handoff_mmap_entry *a, const struct handoff_mmap_entry *b)
{
    return a->type == b->type && a->base + a->length == b->base;
}

static void remove_entry(struct handoff *h, uint32_t i)
{
    for (uint32_t j = i; j + 1 < h->mmap_count; j++)
        h->mmap[j] = h->mmap[j + 1];
    h->mmap_count--;
}

/* Inserts e at its place by base, merging with the neighbours it touches. */
static bool insert_range(struct handoff *h, struct handoff_mmap_entry e)
{
    uint32_t pos = 0;

    while (pos < h->mmap_count && h->mmap[pos].base <= e.base)
        pos++;
    if (pos > 0 && touches(&h->mmap[pos - 1], &e)) {
        h->mmap[pos - 1].length += e.length;
        if (pos < h->mmap_count && touches(&h->mmap[pos - 1], &h->mmap[pos])) {
            h->mmap[pos - 1].length += h->mmap[pos].length;
            remove_entry(h, pos);
        }
        return true;
    }
    if (pos < h->mmap_count && touches(&e, &h->mmap[pos])) {
        h->mmap[pos].base = e.base;
        h->mmap[pos].length += e.length;
        return true;
    }
    if (h->mmap_count >= HANDOFF_MAX_MMAP)
        return false;
    for (uint32_t j = h->mmap_count; j > pos; j--)
        h->mmap[j] = h->mmap[j - 1];
    h->mmap[pos] = e;
    h->mmap_count++;
    return true;
}

/* Reads one descriptor; false when its range wraps past 2^64. */
static bool read_desc(const uint8_t *d, uint32_t *type, uint64_t *base, uint64_t *len)
{
    uint64_t pages;

    __builtin_memcpy(type, d + DESC_TYPE_OFF, sizeof(*type));
    __builtin_memcpy(base, d + DESC_PHYS_OFF, sizeof(*base));
    __builtin_memcpy(&pages, d + DESC_NUM_PAGES_OFF, sizeof(pages));
    if (pages > (UINT64_MAX >> EFI_PAGE_SHIFT) || *base > UINT64_MAX - (pages << EFI_PAGE_SHIFT))
        return false;
    *len = pages << EFI_PAGE_SHIFT;
    return true;
}

int mmap_convert_efi(const void *map, size_t map_size, size_t desc_size, struct handoff *h)
{
    const uint8_t *p = map;
    int dropped = 0;

    if (desc_size < EFI_MEMORY_DESCRIPTOR_MIN_SIZE)
        return -1;
    h->mmap_count = 0;
    for (size_t off = 0; off <= map_size && map_size - off >= desc_size; off += desc_size) {
        uint32_t type;
        uint64_t base, len;
        if (!read_desc(p + off, &type, &base, &len)) {
            dropped++;
            continue;
        }
        if (len == 0)
            continue;
        struct handoff_mmap_entry e = {
            .base = base,
            .length = len,
            .type = mmap_type_from_efi(type),
            .reserved = 0,
        };
        if (!insert_range(h, e))
            dropped++;
    }
    return dropped;
}

static bool freed_at_exit(uint32_t type)
{
    return type == EFI_MEM_CONVENTIONAL || type == EFI_MEM_BOOT_SERVICES_CODE ||
           type == EFI_MEM_BOOT_SERVICES_DATA;
}

/* The end of the reclaimable descriptor holding addr, or addr itself if none does. */
static uint64_t reclaimable_end_at(const uint8_t *p, size_t map_size, size_t desc_size,
                                   uint64_t addr)
{
    for (size_t off = 0; off <= map_size && map_size - off >= desc_size; off += desc_size) {
        uint32_t type;
        uint64_t base, len;
        if (read_desc(p + off, &type, &base, &len) && freed_at_exit(type) && base <= addr &&
            addr - base < len)
            return base + len;
    }
    return addr;
}

bool mmap_range_reclaimable(const void *map, size_t map_size, size_t desc_size, uint64_t start,
                            uint64_t end)
{
    const uint8_t *p = map;

    if (desc_size < EFI_MEMORY_DESCRIPTOR_MIN_SIZE || end <= start)
        return false;
    /* Nothing else may claim any part of the range... */
    for (size_t off = 0; off <= map_size && map_size - off >= desc_size; off += desc_size) {
        uint32_t type;
        uint64_t base, len;
        if (!read_desc(p + off, &type, &base, &len) || len == 0)
            continue;
        if (!freed_at_exit(type) && base < end && start < base + len)
            return false;
    }
    /* ...and reclaimable descriptors must cover it without a hole. */
    for (uint64_t at = start; at < end;) {
        uint64_t next = reclaimable_end_at(p, map_size, desc_size, at);
        if (next == at)
            return false;
        at = next;
    }
    return true;
}
