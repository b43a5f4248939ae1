/* SPDX-License-Identifier: MIT */
/*
 * Plans a PVH boot of an uncompressed Linux vmlinux (linux_plan.h): its
 * PT_LOAD segments at their physical addresses, the low-memory layout of
 * the bzImage path (without page tables: the kernel starts with paging
 * off), the initrd as high as possible below 4 GiB, and one page at
 * PVH_START_INFO_GPA holding hvm_start_info, the module list and the
 * memory map. Every number from the image is checked before it is used.
 */
#include "kernel/lib/string.h"
#include "vmm/loader/linux_plan.h"
#include "vmm/loader/plan_util.h"

#define GDT_BYTES 24u /* null, BOOT_SEL_CODE (32-bit code), BOOT_SEL_DATA */

/* The PVH entry address from its note: 1 found, 0 no note, -1 refused. */
static int pvh_entry(struct guest_boot_plan *p, const struct guest_image *img, uint64_t *entry)
{
    uint64_t off;
    uint32_t size;
    if (!elf_find_note(img, PVH_NOTE_NAME, PVH_NOTE_PHYS32_ENTRY, &off, &size))
        return 0;
    if (size != 4 && size != 8)
        return plan_fail(p, "PVH entry note has %u bytes (expected 4 or 8)", size), -1;
    *entry = size == 4 ? rd32(img->data + off) : rd64(img->data + off);
    if (*entry >= GIB4)
        return plan_fail(p, "PVH entry 0x%llx is not below 4 GiB", (unsigned long long)*entry), -1;
    return 1;
}

/* hvm_start_info, its one-module list and the memory map, in one blob. */
static bool plan_start_info(struct guest_boot_plan *p, const struct guest_image *img)
{
    struct linux_e820_entry map[LINUX_E820_BUILT_MAX];
    unsigned n = linux_e820_build(p->mem_size, map, LINUX_E820_BUILT_MAX);
    uint32_t size = PVH_MEMMAP_OFFSET + n * PVH_MEMMAP_ENTRY_SIZE;
    uint8_t *si = plan_add_blob(p, "PVH start info", PVH_START_INFO_GPA, size);
    if (!si)
        return false;
    memset(si, 0, size);
    wr32(si + PVH_SI_MAGIC, PVH_START_MAGIC);
    wr32(si + PVH_SI_VERSION, 1);
    if (img->initrd_size) {
        uint8_t *mod = si + PVH_MODLIST_OFFSET;
        wr32(si + PVH_SI_NR_MODULES, 1);
        wr64(si + PVH_SI_MODLIST_PADDR, PVH_START_INFO_GPA + PVH_MODLIST_OFFSET);
        wr64(mod, p->initrd_gpa);
        wr64(mod + 8, img->initrd_size);
    }
    wr64(si + PVH_SI_CMDLINE_PADDR, LINUX_CMDLINE_GPA);
    wr64(si + PVH_SI_RSDP_PADDR, p->acpi_gpa);
    wr64(si + PVH_SI_MEMMAP_PADDR, PVH_START_INFO_GPA + PVH_MEMMAP_OFFSET);
    wr32(si + PVH_SI_MEMMAP_ENTRIES, n);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = si + PVH_MEMMAP_OFFSET + i * PVH_MEMMAP_ENTRY_SIZE;
        wr64(e, map[i].addr);
        wr64(e + 8, map[i].size);
        wr32(e + 16, map[i].type);
    }
    return true;
}

/* 32-bit protected mode, flat segments, paging off, EBX = start info. */
static bool plan_entry(struct guest_boot_plan *p, uint64_t entry)
{
    uint8_t *gdt = plan_add_blob(p, "GDT", LINUX_GDT_GPA, GDT_BYTES);
    if (!gdt)
        return false;
    wr64(gdt, 0);
    wr64(gdt + BOOT_SEL_CODE, GDT_CODE32);
    wr64(gdt + BOOT_SEL_DATA, GDT_DATA);
    struct boot_entry_state *e = &p->entry;
    e->mode = GUEST_MODE_PROT32;
    e->rip = entry;
    e->rsp = LINUX_STACK_GPA + BOOT_STACK_SIZE;
    e->rflags = 0x2; /* interrupts off */
    e->rbx = PVH_START_INFO_GPA;
    e->cr0 = CR0_PE | CR0_ET | CR0_NE;
    e->gdt_base = LINUX_GDT_GPA;
    e->gdt_limit = GDT_BYTES - 1;
    e->cs = plan_segment(GDT_CODE32, BOOT_SEL_CODE);
    e->ds = plan_segment(GDT_DATA, BOOT_SEL_DATA);
    p->stack_gpa = LINUX_STACK_GPA;
    return true;
}

int pvh_plan(struct guest_boot_plan *p, const struct guest_image *img)
{
    uint64_t entry = 0;
    int found = pvh_entry(p, img, &entry);
    if (found <= 0)
        return found;
    if (!linux_mem_fits(p))
        return -1;
    uint64_t cmd_len = img->cmdline ? strnlen(img->cmdline, PVH_CMDLINE_MAX + 1) : 0;
    if (cmd_len > PVH_CMDLINE_MAX)
        return plan_fail(p, "command line too long: more than %u bytes, the kernel accepts %u",
                         PVH_CMDLINE_MAX, PVH_CMDLINE_MAX),
               -1;
    p->kind = GUEST_IMAGE_PVH;
    if (!linux_reserve_low(p, cmd_len + 1, false))
        return -1;
    struct elf_load_result elf;
    if (!elf_plan_segments(p, img, p->mem_size, false, &elf))
        return -1;
    if (!plan_gpa_in_image(p, entry))
        return plan_fail(p, "PVH entry 0x%llx is outside the kernel's loaded bytes",
                         (unsigned long long)entry),
               -1;
    if (img->initrd_size && !linux_place_initrd(p, img, GIB4, &p->initrd_gpa))
        return -1;
    if (!plan_start_info(p, img))
        return -1;
    if (!linux_plan_cmdline(p, img->cmdline, cmd_len))
        return -1;
    return plan_entry(p, entry) ? 1 : -1;
}
