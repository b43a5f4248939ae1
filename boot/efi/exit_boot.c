/* SPDX-License-Identifier: MIT */
/*
 * Leaves the firmware: takes the final memory map and calls
 * ExitBootServices(). The map buffer is allocated once, with room to
 * spare, before the first attempt: after a failed ExitBootServices() the spec
 * allows only GetMemoryMap() and another try, so nothing in the retry path
 * may allocate or print. The map is converted into the hand-off only after
 * the firmware has accepted its key, so the hypervisor sees exactly the map
 * that was current when boot services ended; the hypervisor's destination is
 * checked on that same map, since the copy into it happens after exit.
 */
#include "boot/efi/loader.h"
#include "boot/efi/mmap_convert.h"

#define EXIT_ATTEMPTS 8
/* Room for descriptors added by our own allocation and by firmware events. */
#define MAP_SPARE_DESCRIPTORS 32

EFI_STATUS exit_boot_services_with_map(EFI_HANDLE image, const struct hypervisor_image *hv,
                                       struct handoff *h)
{
    UINTN map_size = 0, key, desc_size = 0;
    UINT32 desc_version;
    EFI_STATUS st = BS->GetMemoryMap(&map_size, NULL, &key, &desc_size, &desc_version);

    if (st != EFI_BUFFER_TOO_SMALL || desc_size < EFI_MEMORY_DESCRIPTOR_MIN_SIZE) {
        loader_print(L"GetMemoryMap() failed: %r (descriptor size %ld)", st, desc_size);
        return EFI_ERROR(st) ? st : EFI_DEVICE_ERROR;
    }
    UINTN capacity = map_size + MAP_SPARE_DESCRIPTORS * desc_size;
    EFI_MEMORY_DESCRIPTOR *map = AllocatePool(capacity);
    if (map == NULL) {
        loader_print(L"no memory for the memory map (%ld bytes)", capacity);
        return EFI_OUT_OF_RESOURCES;
    }

    /* A dry run while printing still works: say so if the map will not fit.
     * Printing may change the map, so the real attempts take it afresh. */
    map_size = capacity;
    st = BS->GetMemoryMap(&map_size, map, &key, &desc_size, &desc_version);
    if (EFI_ERROR(st)) {
        loader_print(L"GetMemoryMap() failed: %r", st);
        return st;
    }
    int dropped = mmap_convert_efi(map, map_size, desc_size, h);
    loader_print(L"memory map: %ld firmware descriptors -> %d ranges%a", map_size / desc_size,
                 h->mmap_count, dropped != 0 ? " (some left out: too many or invalid)" : "");
    loader_print(L"exiting boot services");

    for (int attempt = 0; attempt < EXIT_ATTEMPTS; attempt++) {
        map_size = capacity;
        st = BS->GetMemoryMap(&map_size, map, &key, &desc_size, &desc_version);
        if (EFI_ERROR(st))
            return st;
        /* Checked on the very map ExitBootServices() is about to accept. */
        if (!mmap_range_reclaimable(map, map_size, desc_size, hv->dest, hv->dest + hv->size)) {
            if (attempt == 0)
                loader_print(L"the hypervisor's memory %lx-%lx was taken meanwhile", hv->dest,
                             hv->dest + hv->size);
            return EFI_LOAD_ERROR;
        }
        st = BS->ExitBootServices(image, key);
        if (!EFI_ERROR(st)) {
            asm volatile("cli" ::: "memory");
            mmap_convert_efi(map, map_size, desc_size, h);
            return EFI_SUCCESS;
        }
    }
    return st;
}
