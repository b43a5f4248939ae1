/* SPDX-License-Identifier: MIT */
/*
 * Decides where the files come from: the device the firmware loaded us from.
 * A PXE boot leaves a started PXE Base Code protocol on the network device;
 * a FAT volume (USB stick, ESP) has the Simple File System protocol. iPXE
 * offers both on its device, the file system holding only what iPXE itself
 * downloaded, so PXE is asked first. Some
 * firmware reports the boot device as a different handle than the one that
 * carries PXE, so a started PXE instance anywhere is the fallback.
 */
#include "boot/efi/loader.h"

static EFI_STATUS open_any_started_pxe(struct file_source *src)
{
    UINTN count = 0;
    EFI_HANDLE *handles = NULL;
    EFI_STATUS st =
        BS->LocateHandleBuffer(ByProtocol, &PxeBaseCodeProtocol, NULL, &count, &handles);

    if (EFI_ERROR(st))
        return EFI_NOT_FOUND;
    st = EFI_NOT_FOUND;
    for (UINTN i = 0; i < count; i++) {
        EFI_PXE_BASE_CODE_PROTOCOL *pxe;
        if (EFI_ERROR(BS->HandleProtocol(handles[i], &PxeBaseCodeProtocol, (void **)&pxe)))
            continue;
        if (pxe->Mode->Started && pxe->Mode->DhcpAckReceived) {
            st = tftp_source_open(pxe, src);
            break;
        }
    }
    FreePool(handles);
    return st;
}

EFI_STATUS boot_source_open(EFI_LOADED_IMAGE *image, struct file_source *src)
{
    EFI_HANDLE dev = image->DeviceHandle;
    EFI_PXE_BASE_CODE_PROTOCOL *pxe;

    /* PXE first: iPXE also puts a file system (of what it downloaded) on its device. */
    if (dev != NULL && !EFI_ERROR(BS->HandleProtocol(dev, &PxeBaseCodeProtocol, (void **)&pxe)) &&
        pxe->Mode->Started)
        return tftp_source_open(pxe, src);
    if (dev != NULL && !EFI_ERROR(fat_source_open(dev, src)))
        return EFI_SUCCESS;
    if (!EFI_ERROR(open_any_started_pxe(src)))
        return EFI_SUCCESS;
    loader_print(L"the boot device has neither a FAT file system nor PXE; "
                 L"cannot find the hypervisor's files");
    return EFI_NOT_FOUND;
}
