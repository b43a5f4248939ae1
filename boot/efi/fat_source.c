/* SPDX-License-Identifier: MIT */
/*
 * Files from the FAT volume the loader was started from (USB stick, ESP),
 * through the Simple File System protocol. The boot directory is the volume
 * root; config names use '/', the protocol wants '\'.
 */
#include "boot/efi/loader.h"

#define FAT_PATH_LEN (HANDOFF_NAME_LEN + 2)

/* "guests/x.elf" -> L"\\guests\\x.elf". */
static EFI_STATUS fat_path(const char *name, CHAR16 *out)
{
    UINTN n = 0;

    out[n++] = L'\\';
    for (UINTN i = 0; name[i] != '\0'; i++) {
        if (n + 1 >= FAT_PATH_LEN)
            return EFI_INVALID_PARAMETER;
        out[n++] = name[i] == '/' ? L'\\' : (CHAR16)(UINT8)name[i];
    }
    out[n] = L'\0';
    return EFI_SUCCESS;
}

static EFI_STATUS fat_open(struct file_source *src, const char *name, EFI_FILE_HANDLE *fh)
{
    CHAR16 path[FAT_PATH_LEN];
    EFI_STATUS st = fat_path(name, path);

    if (EFI_ERROR(st))
        return st;
    return src->fat.root->Open(src->fat.root, fh, path, EFI_FILE_MODE_READ, 0);
}

static EFI_STATUS fat_file_size(struct file_source *src, const char *name, UINT64 *size)
{
    EFI_FILE_HANDLE fh;
    EFI_STATUS st = fat_open(src, name, &fh);

    if (EFI_ERROR(st))
        return st;
    EFI_FILE_INFO *info = LibFileInfo(fh);
    if (info == NULL) {
        st = EFI_DEVICE_ERROR;
    } else if (info->Attribute & EFI_FILE_DIRECTORY) {
        st = EFI_NOT_FOUND; /* a directory is not the file we want */
    } else {
        *size = info->FileSize;
    }
    if (info != NULL)
        FreePool(info);
    fh->Close(fh);
    return st;
}

static EFI_STATUS fat_read_file(struct file_source *src, const char *name, void *buf, UINT64 size)
{
    EFI_FILE_HANDLE fh;
    EFI_STATUS st = fat_open(src, name, &fh);
    UINT64 done = 0;

    if (EFI_ERROR(st))
        return st;
    while (done < size) {
        UINTN chunk = (UINTN)(size - done);
        st = fh->Read(fh, &chunk, (UINT8 *)buf + done);
        if (EFI_ERROR(st))
            break;
        if (chunk == 0) {
            st = EFI_END_OF_FILE; /* the file shrank under us */
            break;
        }
        done += chunk;
    }
    fh->Close(fh);
    return st;
}

EFI_STATUS fat_source_open(EFI_HANDLE device, struct file_source *src)
{
    EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs;
    EFI_STATUS st = BS->HandleProtocol(device, &FileSystemProtocol, (void **)&fs);

    if (EFI_ERROR(st))
        return st;
    st = fs->OpenVolume(fs, &src->fat.root);
    if (EFI_ERROR(st)) {
        loader_print(L"cannot open the boot volume: %r", st);
        return st;
    }
    src->kind = "disk";
    src->boot_path = HANDOFF_BOOT_EFI_DISK;
    src->file_size = fat_file_size;
    src->read_file = fat_read_file;
    return EFI_SUCCESS;
}
