/* SPDX-License-Identifier: MIT */
/* Entry from the boot paths and the bring-up sequence of the boot CPU. */
#include "boot/handoff.h"
#include "boot/mb2_handoff.h"
#include "kernel/console/console.h"
#include "kernel/console/log.h"
#include "kernel/console/uart16550.h"
#include "kernel/lib/string.h"

/* The hypervisor's own copy of the hand-off, whatever the boot path. */
static struct handoff boot_handoff;

static const char *boot_path_name(uint32_t path)
{
    switch (path) {
    case HANDOFF_BOOT_MB2_BIOS: return "multiboot2/BIOS";
    case HANDOFF_BOOT_MB2_EFI: return "multiboot2/UEFI";
    case HANDOFF_BOOT_EFI_DISK: return "UEFI loader/disk";
    case HANDOFF_BOOT_EFI_PXE: return "UEFI loader/PXE";
    default: return "unknown";
    }
}

static __attribute__((noreturn)) void kmain(struct handoff *h)
{
    log_info("Sidecore hypervisor starting (boot path %s)", boot_path_name(h->boot_path));
    log_info("command line: '%s'", h->cmdline);
    for (uint32_t i = 0; i < h->mmap_count; i++)
        log_info("mem %016lx-%016lx type %u", (unsigned long)h->mmap[i].base,
                 (unsigned long)(h->mmap[i].base + h->mmap[i].length), h->mmap[i].type);
    for (uint32_t i = 0; i < h->file_count; i++)
        log_info("file %s at %lx, %lu bytes", h->files[i].name, (unsigned long)h->files[i].base,
                 (unsigned long)h->files[i].size);
    console_printf("sidecore: ready cpus=1 sockets=1 mem=0\n");
    for (;;)
        asm volatile("hlt");
}

void kernel_entry_mb2(uint32_t magic, uint32_t info_phys)
{
    const char *err;
    const uint8_t *info = (const uint8_t *)(uintptr_t)info_phys;
    uint32_t total;

    console_init(COM1_PORT, 115200);
    if (magic != MB2_BOOTLOADER_MAGIC)
        panic("not started by a multiboot2 loader (magic %x)", magic);
    memcpy(&total, info, 4);
    if (!mb2_to_handoff(info, total, &boot_handoff, &err))
        panic("bad multiboot2 boot information: %s", err);
    kmain(&boot_handoff);
}

void kernel_entry_efi(const struct handoff *h)
{
    console_init(COM1_PORT, 115200);
    if (h->magic != HANDOFF_MAGIC || h->version != HANDOFF_VERSION)
        panic("bad hand-off from the UEFI loader (magic %lx version %u)",
              (unsigned long)h->magic, h->version);
    memcpy(&boot_handoff, h, sizeof(boot_handoff));
    kmain(&boot_handoff);
}
