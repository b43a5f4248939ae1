/* SPDX-License-Identifier: MIT */
/*
 * The loader's entry point and its sequence: find the boot device, load and
 * stage the hypervisor, load the config and the files it names, fill the
 * hand-off, exit boot services, copy the hypervisor in place and jump. Each step prints a line first, so
 * when a machine stops during boot the console says where. A missing
 * hypervisor or config ends the loader with an error status (the firmware
 * then tries its next boot option); a missing guest file is only reported,
 * because the hypervisor checks its config itself and says more.
 */
#include "boot/efi/cmdline.h"
#include "boot/efi/config_scan.h"
#include "boot/efi/loader.h"

#define HYPERVISOR_FILE "sidecore.elf"
#define CONFIG_FILE     "sidecore.cfg"

static void warn_config(void *ctx, unsigned line, const char *why)
{
    loader_print(L"%a line %d: file left out: %a", CONFIG_FILE, line, why);
}

static EFI_STATUS alloc_handoff(struct handoff **out)
{
    EFI_PHYSICAL_ADDRESS addr;
    EFI_STATUS st = pages_alloc_below_4g(sizeof(struct handoff), &addr);

    if (EFI_ERROR(st)) {
        loader_print(L"no memory below 4 GiB for the hand-off: %r", st);
        return st;
    }
    struct handoff *h = (struct handoff *)(UINTN)addr;
    SetMem(h, sizeof(*h), 0);
    h->magic = HANDOFF_MAGIC;
    h->version = HANDOFF_VERSION;
    *out = h;
    return EFI_SUCCESS;
}

static EFI_STATUS load_hypervisor(struct file_source *src, struct hypervisor_image *hv)
{
    struct loaded_file elf;
    EFI_STATUS st = file_load(src, HYPERVISOR_FILE, &elf);

    if (EFI_ERROR(st)) {
        loader_print(L"cannot boot without %a", HYPERVISOR_FILE);
        return st;
    }
    st = elf_load_hypervisor(&elf, hv);
    pages_free(elf.base, elf.size); /* the segments were staged */
    return st;
}

/* The config and every file it names; a missing named file is not fatal. */
static EFI_STATUS load_config_and_files(struct file_source *src, struct handoff *h)
{
    static struct config_file_list list;
    EFI_STATUS st = file_load_into_handoff(src, CONFIG_FILE, h);

    if (EFI_ERROR(st)) {
        loader_print(L"cannot boot without %a", CONFIG_FILE);
        return st;
    }
    const struct handoff_file *cfg = &h->files[h->file_count - 1];
    config_scan_files((const char *)(UINTN)cfg->base, cfg->size, &list, warn_config, NULL);
    for (UINTN i = 0; i < list.count; i++) {
        if (EFI_ERROR(file_load_into_handoff(src, list.names[i], h)))
            loader_print(L"%a names %a, which could not be loaded; going on without it",
                         CONFIG_FILE, list.names[i]);
    }
    return EFI_SUCCESS;
}

static void fill_cmdline(EFI_LOADED_IMAGE *image, struct handoff *h)
{
    if (!cmdline_from_load_options(image->LoadOptions, image->LoadOptionsSize, h->cmdline,
                                   sizeof(h->cmdline)))
        h->cmdline[0] = '\0'; /* binary options from a boot entry: no command line */
}

EFI_STATUS efi_main(EFI_HANDLE image_handle, EFI_SYSTEM_TABLE *systab)
{
    EFI_LOADED_IMAGE *image;
    struct file_source src;
    struct handoff *h;
    struct hypervisor_image hv;
    struct handover ho;
    EFI_STATUS st;

    InitializeLib(image_handle, systab);
    /* Loading large guest images over TFTP may outlast the boot watchdog. */
    BS->SetWatchdogTimer(0, 0, 0, NULL);
    loader_print(L"Sidecore UEFI loader");

    st = BS->HandleProtocol(image_handle, &LoadedImageProtocol, (void **)&image);
    if (EFI_ERROR(st)) {
        loader_print(L"no LoadedImage protocol on our own image: %r", st);
        return st;
    }
    st = boot_source_open(image, &src);
    if (EFI_ERROR(st))
        return st;
    st = alloc_handoff(&h);
    if (EFI_ERROR(st))
        return st;
    st = load_hypervisor(&src, &hv);
    if (EFI_ERROR(st))
        return st;
    st = load_config_and_files(&src, h);
    if (EFI_ERROR(st)) {
        pages_free(hv.staged, hv.size);
        return st;
    }

    h->boot_path = src.boot_path;
    h->efi_system_table = (UINT64)(UINTN)systab;
    h->rsdp = acpi_find_rsdp(systab);
    if (h->rsdp == 0)
        loader_print(L"warning: the firmware lists no ACPI RSDP");
    fill_cmdline(image, h);
    loader_print(L"%d files loaded, RSDP at %lx, command line '%a'", h->file_count, h->rsdp,
                 h->cmdline);

    st = handover_prepare(&ho);
    if (EFI_ERROR(st))
        return st;
    st = exit_boot_services_with_map(image_handle, &hv, h);
    if (EFI_ERROR(st)) {
        /* Boot services may be half gone here; printing is a best effort. */
        loader_print(L"ExitBootServices() failed: %r", st);
        return st;
    }
    handover_jump(&ho, &hv, h);
}
