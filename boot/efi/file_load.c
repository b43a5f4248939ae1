/* SPDX-License-Identifier: MIT */
/*
 * Loads whole files from a file source into page-aligned memory and records
 * them in the hand-off. Memory comes from AllocatePages() as loader data
 * below 4 GiB: the hypervisor's boot page tables map only the first 4 GiB,
 * and loader data shows up as usable in the memory map, as GRUB's modules do.
 */
#include "boot/efi/loader.h"

#define PAGE_SIZE 4096ull
#define BELOW_4G  0xFFFFFFFFull

static UINTN pages_for(UINT64 bytes)
{
    /* A zero-length file still gets a page so that its base is a real address. */
    return bytes == 0 ? 1 : (UINTN)((bytes + PAGE_SIZE - 1) / PAGE_SIZE);
}

EFI_STATUS pages_alloc_below_4g(UINT64 bytes, EFI_PHYSICAL_ADDRESS *addr)
{
    if (bytes > BELOW_4G)
        return EFI_OUT_OF_RESOURCES;
    *addr = BELOW_4G;
    return BS->AllocatePages(AllocateMaxAddress, EfiLoaderData, pages_for(bytes), addr);
}

void pages_free(EFI_PHYSICAL_ADDRESS addr, UINT64 bytes)
{
    BS->FreePages(addr, pages_for(bytes));
}

EFI_STATUS file_load(struct file_source *src, const char *name, struct loaded_file *out)
{
    UINT64 size;
    EFI_STATUS st = src->file_size(src, name, &size);

    if (EFI_ERROR(st)) {
        loader_print(L"cannot find %a on the %a source: %r", name, src->kind, st);
        return st;
    }
    loader_print(L"loading %a (%ld bytes) from %a", name, size, src->kind);
    st = pages_alloc_below_4g(size, &out->base);
    if (EFI_ERROR(st)) {
        loader_print(L"no memory below 4 GiB for %a (%ld bytes): %r", name, size, st);
        return st;
    }
    SetMem((void *)(UINTN)out->base, pages_for(size) * PAGE_SIZE, 0);
    st = src->read_file(src, name, (void *)(UINTN)out->base, size);
    if (EFI_ERROR(st)) {
        loader_print(L"reading %a failed: %r", name, st);
        pages_free(out->base, size);
        return st;
    }
    out->size = size;
    return EFI_SUCCESS;
}

EFI_STATUS file_load_into_handoff(struct file_source *src, const char *name, struct handoff *h)
{
    struct loaded_file f;

    if (h->file_count >= HANDOFF_MAX_FILES) {
        loader_print(L"too many files, %a left out", name);
        return EFI_OUT_OF_RESOURCES;
    }
    EFI_STATUS st = file_load(src, name, &f);
    if (EFI_ERROR(st))
        return st;
    struct handoff_file *hf = &h->files[h->file_count++];
    hf->base = f.base;
    hf->size = f.size;
    /* Names come from the config scan, which keeps them below HANDOFF_NAME_LEN. */
    UINTN i = 0;
    for (; name[i] != '\0' && i + 1 < sizeof(hf->name); i++)
        hf->name[i] = name[i];
    hf->name[i] = '\0';
    return EFI_SUCCESS;
}
