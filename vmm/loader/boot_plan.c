/* SPDX-License-Identifier: MIT */
/*
 * guest_boot_plan_build: checks the guest's memory size, recognises the
 * image format and hands it to the planner for that format. A Linux bzImage
 * is recognised first, by its setup header magic at a fixed offset
 * (linux_plan.c), then an ELF carrying a PVH entry note (pvh_plan.c). A multiboot2
 * header wins over a multiboot v1 header and both over plain ELF, because a
 * kernel that carries one (Sidecore itself does) expects that entry state;
 * a plain ELF64 starts in 64-bit mode, a plain ELF32 in 32-bit protected
 * mode with multiboot v1 information (what GRUB's `multiboot` gives it).
 */
#include "kernel/lib/str.h"
#include "kernel/lib/string.h"
#include "vmm/loader/linux_plan.h"
#include "vmm/loader/plan_util.h"

const char *guest_image_kind_name(enum guest_image_kind kind)
{
    switch (kind) {
    case GUEST_IMAGE_ELF64: return "ELF64";
    case GUEST_IMAGE_ELF32: return "ELF32";
    case GUEST_IMAGE_MB2_ELF: return "multiboot2 ELF";
    case GUEST_IMAGE_MB2_FLAT: return "multiboot2 flat binary";
    case GUEST_IMAGE_BZIMAGE: return "Linux bzImage";
    case GUEST_IMAGE_PVH: return "Linux PVH vmlinux";
    case GUEST_IMAGE_MB1: return "multiboot v1";
    }
    return "unknown";
}

/* Formats other than multiboot v1 (and plain ELF32) have no place for
 * further modules: say so once the plan is built. */
static bool modules_ignored(struct guest_boot_plan *p, const struct guest_image *img, bool ok)
{
    if (ok && img->nmodules && !p->warning[0])
        str_copy(p->warning, "modules ignored: only multiboot v1 and ELF32 kernels receive them",
                 sizeof(p->warning));
    return ok;
}

static bool plain_elf_plan(struct guest_boot_plan *p, const struct guest_image *img)
{
    bool is64 = img->size > 4 && img->data[4] == 2;
    if (is64 && p->mem_size > BOOT_MEM_MAX_LONG64)
        return plan_fail(p,
                         "guest memory 0x%llx is larger than the %llu GiB a 64-bit guest's "
                         "identity map covers",
                         (unsigned long long)p->mem_size,
                         (unsigned long long)(BOOT_MEM_MAX_LONG64 >> 30));
    uint64_t limit = is64 || p->mem_size < GIB4 ? p->mem_size : GIB4;
    struct elf_load_result elf;
    if (!elf_plan_segments(p, img, limit, true, &elf))
        return false;
    if (!elf.is64) {
        p->kind = GUEST_IMAGE_ELF32;
        return mb1_plan_elf32(p, img, elf.entry_phys);
    }
    if (img->initrd_size)
        str_copy(p->warning, "initrd ignored: a plain ELF64 kernel has no way to receive it",
                 sizeof(p->warning));
    p->kind = GUEST_IMAGE_ELF64;
    return modules_ignored(p, img, plan_entry_long64(p, elf.entry_phys));
}

bool guest_boot_plan_build(const struct guest_image *img, struct guest_boot_plan *p)
{
    memset(p, 0, sizeof(*p));
    p->mem_size = img->mem_size;
    p->image_size = img->size;
    p->initrd_size = img->initrd_size;
    if (img->mem_size & 0xfff)
        return plan_fail(p, "guest memory size 0x%llx is not a multiple of 4 KiB",
                         (unsigned long long)img->mem_size);
    if (img->mem_size < BOOT_MEM_MIN || img->mem_size > BOOT_MEM_MAX)
        return plan_fail(p,
                         "guest memory size 0x%llx is outside what the loader supports "
                         "(1 MiB to 1 TiB)",
                         (unsigned long long)img->mem_size);
    if (!img->data || img->size == 0)
        return plan_fail(p, "the kernel image is empty");
    if (img->initrd_size && !img->initrd)
        return plan_fail(p, "initrd size given without its bytes");
    if (img->nmodules > BOOT_MODULES_MAX)
        return plan_fail(p, "%u modules, at most %u", img->nmodules, BOOT_MODULES_MAX);
    p->nmodules = img->nmodules;
    for (unsigned i = 0; i < img->nmodules; i++) {
        if (img->modules[i].size && !img->modules[i].data)
            return plan_fail(p, "module %u size given without its bytes", i);
        p->module_size[i] = img->modules[i].size;
    }

    int bz = bzimage_plan(p, img);
    if (bz != 0)
        return modules_ignored(p, img, bz > 0);
    int pvh = pvh_plan(p, img);
    if (pvh != 0)
        return modules_ignored(p, img, pvh > 0);
    int mb2 = mb2_plan(p, img);
    if (mb2 != 0)
        return modules_ignored(p, img, mb2 > 0);
    int mb1 = mb1_plan(p, img);
    if (mb1 != 0)
        return mb1 > 0;
    if (!elf_has_magic(img)) {
        const uint8_t *f = img->data;
        return plan_fail(
            p, "not an ELF or multiboot image, nor a bzImage (bad magic %02x %02x %02x %02x)", f[0],
            img->size > 1 ? f[1] : 0, img->size > 2 ? f[2] : 0, img->size > 3 ? f[3] : 0);
    }
    return plain_elf_plan(p, img);
}
