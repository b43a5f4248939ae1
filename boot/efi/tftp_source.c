/* SPDX-License-Identifier: MIT */
/*
 * Files over TFTP from the server the firmware PXE-booted us from, through
 * the PXE Base Code protocol's Mtftp(). The server and the boot file's
 * directory come from the DHCP packet that named the boot file: a proxy
 * offer when a proxy DHCP server answered, else the DHCP ack. Each file's
 * size is asked first (the tsize option) so that its memory can be
 * allocated before it is read.
 */
#include "boot/efi/loader.h"

#define TFTP_NAME_LEN (TFTP_DIR_LEN + HANDOFF_NAME_LEN)

static EFI_STATUS tftp_path(struct file_source *src, const char *name, UINT8 *out)
{
    UINTN n = 0;

    for (UINTN i = 0; src->tftp.dir[i] != '\0'; i++)
        out[n++] = (UINT8)src->tftp.dir[i];
    for (UINTN i = 0; name[i] != '\0'; i++) {
        if (n + 1 >= TFTP_NAME_LEN)
            return EFI_INVALID_PARAMETER;
        out[n++] = (UINT8)name[i];
    }
    out[n] = '\0';
    return EFI_SUCCESS;
}

static EFI_STATUS tftp_file_size(struct file_source *src, const char *name, UINT64 *size)
{
    UINT8 path[TFTP_NAME_LEN];
    EFI_STATUS st = tftp_path(src, name, path);

    if (EFI_ERROR(st))
        return st;
    *size = 0;
    st = src->tftp.pxe->Mtftp(src->tftp.pxe, EFI_PXE_BASE_CODE_TFTP_GET_FILE_SIZE, NULL, FALSE,
                              size, NULL, &src->tftp.server, path, NULL, FALSE);
    /* iPXE's PXE Base Code reads files but cannot report their size; without
     * it the loader cannot tell how big a file is, so it gives up and the
     * firmware moves on to its next boot option (e.g. its own PXE). */
    if (st == EFI_UNSUPPORTED)
        loader_print(L"this PXE stack (iPXE?) cannot report TFTP file sizes");
    return st;
}

static EFI_STATUS tftp_read_file(struct file_source *src, const char *name, void *buf, UINT64 size)
{
    UINT8 path[TFTP_NAME_LEN];
    EFI_STATUS st = tftp_path(src, name, path);
    UINT64 got = size;

    if (EFI_ERROR(st))
        return st;
    st = src->tftp.pxe->Mtftp(src->tftp.pxe, EFI_PXE_BASE_CODE_TFTP_READ_FILE, buf, FALSE, &got,
                              NULL, &src->tftp.server, path, NULL, FALSE);
    if (!EFI_ERROR(st) && got != size)
        st = EFI_PROTOCOL_ERROR; /* the server sent another size than it announced */
    return st;
}

/* The directory part ("a/b/") of the NUL-or-length-terminated boot file name. */
static void boot_file_dir(const UINT8 *file, UINTN max, char *dir)
{
    UINTN len = 0, slash = 0;

    while (len < max && file[len] != '\0')
        len++;
    for (UINTN i = 0; i < len; i++)
        if (file[i] == '/')
            slash = i + 1;
    if (slash >= TFTP_DIR_LEN)
        slash = 0; /* cannot be ours; fall back to the TFTP root */
    for (UINTN i = 0; i < slash; i++)
        dir[i] = (char)file[i];
    dir[slash] = '\0';
}

static BOOLEAN ip_is_zero(const UINT8 ip[4])
{
    return ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] == 0;
}

EFI_STATUS tftp_source_open(EFI_PXE_BASE_CODE_PROTOCOL *pxe, struct file_source *src)
{
    EFI_PXE_BASE_CODE_MODE *mode = pxe->Mode;
    const EFI_PXE_BASE_CODE_DHCPV4_PACKET *pkt;

    if (!mode->Started || mode->UsingIpv6) {
        loader_print(L"PXE is not running over IPv4; cannot fetch files");
        return EFI_UNSUPPORTED;
    }
    if (mode->ProxyOfferReceived && !ip_is_zero(mode->ProxyOffer.Dhcpv4.BootpSiAddr))
        pkt = &mode->ProxyOffer.Dhcpv4;
    else if (mode->DhcpAckReceived)
        pkt = &mode->DhcpAck.Dhcpv4;
    else {
        loader_print(L"PXE has no DHCP answer; cannot tell the TFTP server");
        return EFI_NOT_READY;
    }
    if (ip_is_zero(pkt->BootpSiAddr)) {
        loader_print(L"the DHCP answer names no TFTP server (siaddr 0.0.0.0)");
        return EFI_NOT_FOUND;
    }
    SetMem(&src->tftp.server, sizeof(src->tftp.server), 0);
    CopyMem(&src->tftp.server.v4, (void *)pkt->BootpSiAddr, 4);
    boot_file_dir(pkt->BootpBootFile, sizeof(pkt->BootpBootFile), src->tftp.dir);
    src->tftp.pxe = pxe;
    src->kind = "tftp";
    src->boot_path = HANDOFF_BOOT_EFI_PXE;
    src->file_size = tftp_file_size;
    src->read_file = tftp_read_file;
    loader_print(L"TFTP server %d.%d.%d.%d, directory '%a'", pkt->BootpSiAddr[0],
                 pkt->BootpSiAddr[1], pkt->BootpSiAddr[2], pkt->BootpSiAddr[3], src->tftp.dir);
    return EFI_SUCCESS;
}
