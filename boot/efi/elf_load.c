/* SPDX-License-Identifier: MIT */
/*
 * Lays the hypervisor out as it must sit in memory (segments at their
 * physical addresses relative to the lowest one, .bss and gaps zeroed) in a
 * staging buffer, and finds its 64-bit entry point in its boot header.
 *
 * The image cannot always be placed at its link address while the firmware
 * runs: OVMF, for one, keeps its DXE firmware volume as boot services data
 * at 9-21 MiB, across the hypervisor's 16 MiB. That memory is free once boot
 * services end, so the loader copies the staged image there after
 * ExitBootServices() (handover.c). Here the free parts of the destination
 * are claimed as boot services data, so that nothing allocated later (our
 * own files included) lands there, and the destination is checked to hold
 * only memory that is freed at exit.
 */
#include "boot/efi/elf_image.h"
#include "boot/efi/loader.h"
#include "boot/efi/mmap_convert.h"

#define PAGE_SIZE 4096ull

/* Says who holds [start, end), when the destination is not usable. */
static void print_range_users(EFI_MEMORY_DESCRIPTOR *map, UINTN count, UINTN desc_size,
                              UINT64 start, UINT64 end)
{
    for (UINTN i = 0; i < count; i++) {
        EFI_MEMORY_DESCRIPTOR *d = (EFI_MEMORY_DESCRIPTOR *)((UINT8 *)map + i * desc_size);
        UINT64 d_end = d->PhysicalStart + d->NumberOfPages * PAGE_SIZE;
        if (d->PhysicalStart < end && start < d_end)
            loader_print(L"  %lx-%lx is firmware memory of type %d", d->PhysicalStart, d_end,
                         d->Type);
    }
}

/* Claims the free pages of [start, end) and checks the rest is freed at exit. */
static EFI_STATUS claim_destination(UINT64 start, UINT64 end)
{
    EFI_PHYSICAL_ADDRESS a = start;
    UINTN count, key, desc_size;
    UINT32 version;

    if (EFI_ERROR(BS->AllocatePages(AllocateAddress, EfiBootServicesData, (end - start) / PAGE_SIZE,
                                    &a))) {
        /* Partly in use: take what is free, page by page. */
        for (UINT64 p = start; p < end; p += PAGE_SIZE) {
            a = p;
            BS->AllocatePages(AllocateAddress, EfiBootServicesData, 1, &a);
        }
    }
    EFI_MEMORY_DESCRIPTOR *map = LibMemoryMap(&count, &key, &desc_size, &version);
    if (map == NULL) {
        loader_print(L"cannot read the memory map");
        return EFI_OUT_OF_RESOURCES;
    }
    EFI_STATUS st = EFI_SUCCESS;
    if (!mmap_range_reclaimable(map, count * desc_size, desc_size, start, end)) {
        loader_print(L"memory %lx-%lx for the hypervisor is held by the firmware:", start, end);
        print_range_users(map, count, desc_size, start, end);
        st = EFI_LOAD_ERROR;
    }
    FreePool(map);
    return st;
}

EFI_STATUS elf_load_hypervisor(const struct loaded_file *file, struct hypervisor_image *out)
{
    static struct elf_image img;
    const UINT8 *bytes = (const UINT8 *)(UINTN)file->base;
    const char *why = elf_image_parse(bytes, file->size, &img);

    if (why != NULL) {
        loader_print(L"sidecore.elf is not a usable hypervisor image: %a", why);
        return EFI_LOAD_ERROR;
    }
    out->dest = img.lo & ~(PAGE_SIZE - 1);
    out->size = ((img.hi + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)) - out->dest;
    EFI_STATUS st = claim_destination(out->dest, out->dest + out->size);
    if (EFI_ERROR(st))
        return st;
    st = pages_alloc_below_4g(out->size, &out->staged);
    if (EFI_ERROR(st)) {
        loader_print(L"no memory to stage the hypervisor (%ld bytes): %r", out->size, st);
        return st;
    }
    UINT8 *staged = (UINT8 *)(UINTN)out->staged;
    SetMem(staged, out->size, 0);
    for (unsigned i = 0; i < img.count; i++) {
        const struct elf_segment *s = &img.seg[i];
        CopyMem(staged + (s->paddr - out->dest), (void *)(bytes + s->offset), s->filesz);
    }

    struct sidecore_boot_header hdr;
    why = elf_find_boot_header(staged + (img.lo - out->dest), img.hi - img.lo, &img, &hdr);
    if (why != NULL) {
        loader_print(L"sidecore.elf: %a", why);
        pages_free(out->staged, out->size);
        return EFI_LOAD_ERROR;
    }
    out->entry64 = hdr.entry64;
    loader_print(L"hypervisor %lx-%lx, entry %lx", img.lo, img.hi, hdr.entry64);
    return EFI_SUCCESS;
}
