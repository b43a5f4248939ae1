/* SPDX-License-Identifier: MIT */
/*
 * Plans a Linux bzImage boot (the 64-bit boot protocol of
 * Documentation/arch/x86/boot.rst): the fixed low-memory pieces, the
 * protected-mode kernel at its preferred address (or, for a relocatable
 * kernel whose preferred place is taken, the lowest free kernel_alignment
 * boundary above it: a relocatable kernel moves itself up to its
 * LOAD_PHYSICAL_ADDR anyway, so loading it lower would only hide a
 * conflict), the initrd as high as the kernel accepts, boot_params with the
 * e820 map, a GDT with the selectors the protocol names, and identity page
 * tables over all of guest memory (written by boot_apply.c, like the ELF64
 * path's). Every number from the image is checked before it is used.
 */
#include "vmm/loader/linux_plan.h"

#include "kernel/lib/string.h"
#include "vmm/loader/plan_util.h"

#define GDT_BYTES 32u /* null, unused, __BOOT_CS, __BOOT_DS */

unsigned linux_e820_build(uint64_t mem_size, struct linux_e820_entry *out, unsigned max)
{
    if (mem_size < LINUX_BIOS_END || mem_size > LINUX_MEM_MAX)
        return 0;
    const struct linux_e820_entry map[LINUX_E820_BUILT_MAX] = {
        {0, LINUX_LOW_RAM_END, E820_RAM},
        {LINUX_LOW_RAM_END, LINUX_EBDA_END - LINUX_LOW_RAM_END, E820_RESERVED},
        {LINUX_ACPI_GPA, LINUX_ACPI_SIZE, E820_ACPI},
        {LINUX_ACPI_GPA + LINUX_ACPI_SIZE, LINUX_BIOS_END - LINUX_ACPI_GPA - LINUX_ACPI_SIZE,
         E820_RESERVED},
        {LINUX_BIOS_END, mem_size - LINUX_BIOS_END, E820_RAM},
    };
    unsigned n = mem_size > LINUX_BIOS_END ? LINUX_E820_BUILT_MAX : LINUX_E820_BUILT_MAX - 1;
    if (n > max)
        return 0;
    for (unsigned i = 0; i < n; i++)
        out[i] = map[i];
    return n;
}

static void put16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *b, uint32_t v)
{
    put16(b, (uint16_t)v);
    put16(b + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *b, uint64_t v)
{
    put32(b, (uint32_t)v);
    put32(b + 4, (uint32_t)(v >> 32));
}

void linux_boot_params_build(uint8_t *bp, const uint8_t *image, const struct bzimage_header *hdr,
                             const struct linux_boot_info *info)
{
    memset(bp, 0, LINUX_BOOT_PARAMS_SIZE);
    memcpy(bp + BZ_HDR_START, image + BZ_HDR_START, hdr->header_end - BZ_HDR_START);

    bp[BZ_TYPE_OF_LOADER] = LINUX_LOADER_TYPE;
    bp[BZ_EXT_LOADER_VER] = 0;
    bp[BZ_EXT_LOADER_TYPE] = 0;
    bp[BZ_LOADFLAGS] |= BZ_LOADED_HIGH | BZ_CAN_USE_HEAP;
    put16(bp + BZ_HEAP_END_PTR, LINUX_HEAP_END_PTR);
    put32(bp + BZ_CMD_LINE_PTR, (uint32_t)info->cmdline_gpa);
    put32(bp + BP_EXT_CMD_LINE_PTR, (uint32_t)(info->cmdline_gpa >> 32));
    put32(bp + BZ_RAMDISK_IMAGE, (uint32_t)info->initrd_gpa);
    put32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(info->initrd_gpa >> 32));
    put32(bp + BZ_RAMDISK_SIZE, (uint32_t)info->initrd_size);
    put32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(info->initrd_size >> 32));
    /* A loader-written field left set in the file would make the kernel
     * follow a setup_data list or a sub-architecture's boot path. */
    put64(bp + BZ_SETUP_DATA, 0);
    put32(bp + BZ_HARDWARE_SUBARCH, 0);
    put64(bp + BZ_HW_SUBARCH_DATA, 0);
    put64(bp + BP_ACPI_RSDP_ADDR, info->rsdp_gpa);

    struct linux_e820_entry map[LINUX_E820_BUILT_MAX];
    unsigned n = linux_e820_build(info->mem_size, map, LINUX_E820_BUILT_MAX);
    bp[BP_E820_ENTRIES] = (uint8_t)n;
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = bp + BP_E820_TABLE + i * BP_E820_ENTRY_SIZE;
        put64(e, map[i].addr);
        put64(e + 8, map[i].size);
        put32(e + 16, map[i].type);
    }
}

/* The reserved range [start, start+size) overlaps, or NULL. */
static const struct boot_range *overlap(const struct guest_boot_plan *p, uint64_t start,
                                        uint64_t size)
{
    for (unsigned i = 0; i < p->reserved_count; i++) {
        const struct boot_range *r = &p->reserved[i];
        if (start < r->end && r->start < start + size)
            return &p->reserved[i];
    }
    return NULL;
}

static bool place_kernel(struct guest_boot_plan *p, const struct bzimage_header *h, uint64_t *load)
{
    uint64_t need = h->init_size, mem = p->mem_size, pref = h->pref_address;
    if (need > mem || mem - need < LINUX_KERNEL_MIN_GPA)
        return plan_fail(p,
                         "kernel too large for the guest: it needs 0x%llx bytes (init_size) "
                         "above 1 MiB, the guest has 0x%llx bytes of memory",
                         (unsigned long long)need, (unsigned long long)mem);
    bool aligned = !h->relocatable || (pref & (h->kernel_alignment - 1)) == 0;
    if (pref >= LINUX_KERNEL_MIN_GPA && range_within(pref, need, mem) && aligned &&
        !overlap(p, pref, need)) {
        *load = pref;
        return true;
    }
    if (!h->relocatable) {
        const struct boot_range *r = range_within(pref, need, mem) ? overlap(p, pref, need) : NULL;
        if (r)
            return plan_fail(p,
                             "kernel is not relocatable and its address 0x%llx (0x%llx bytes) "
                             "overlaps %s",
                             (unsigned long long)pref, (unsigned long long)need, r->what);
        return plan_fail(p,
                         "kernel is not relocatable and needs 0x%llx-0x%llx, outside the "
                         "guest's memory (0x%llx bytes above 1 MiB)",
                         (unsigned long long)pref, (unsigned long long)(pref + need - 1),
                         (unsigned long long)mem);
    }
    uint64_t align = h->kernel_alignment;
    uint64_t cand = pref > LINUX_KERNEL_MIN_GPA ? pref : LINUX_KERNEL_MIN_GPA;
    while (cand <= mem) {
        cand = align_up(cand, align);
        if (!range_within(cand, need, mem))
            break;
        const struct boot_range *r = overlap(p, cand, need);
        if (!r) {
            *load = cand;
            return true;
        }
        cand = r->end;
    }
    return plan_fail(
        p,
        "kernel too large for the guest: no 0x%llx-aligned room for its 0x%llx "
        "bytes (init_size) at or above 0x%llx in 0x%llx bytes of memory",
        (unsigned long long)align, (unsigned long long)need,
        (unsigned long long)(pref > LINUX_KERNEL_MIN_GPA ? pref : LINUX_KERNEL_MIN_GPA),
        (unsigned long long)mem);
}

bool linux_mem_fits(struct guest_boot_plan *p)
{
    if (p->mem_size <= LINUX_MEM_MAX)
        return true;
    return plan_fail(p,
                     "guest memory 0x%llx is larger than the 3 GiB a Linux guest may have "
                     "(its RAM must stay below the 3-4 GiB device hole)",
                     (unsigned long long)p->mem_size);
}

bool linux_plan_cmdline(struct guest_boot_plan *p, const char *cmdline, uint64_t len)
{
    uint8_t *cmd = plan_add_blob(p, "command line", LINUX_CMDLINE_GPA, (uint32_t)len + 1);
    if (!cmd)
        return false;
    memcpy(cmd, len ? cmdline : "", len);
    cmd[len] = 0;
    return true;
}

bool linux_place_initrd(struct guest_boot_plan *p, const struct guest_image *img, uint64_t limit,
                        uint64_t *gpa)
{
    if (p->mem_size < limit)
        limit = p->mem_size;
    uint64_t size = img->initrd_size;
    if (size > p->mem_size || !plan_find_free(p, align_up(size, PAGE_4K), PAGE_4K, limit, gpa) ||
        *gpa < LINUX_KERNEL_MIN_GPA)
        return plan_fail(p,
                         "initrd too large for the guest: no room for its 0x%llx bytes between "
                         "1 MiB and 0x%llx beside the kernel (guest memory 0x%llx bytes)",
                         (unsigned long long)size, (unsigned long long)limit,
                         (unsigned long long)p->mem_size);
    return plan_add_copy(p, BOOT_SRC_INITRD, 0, *gpa, size, align_up(size, PAGE_4K), p->mem_size,
                         "initrd");
}

static bool plan_entry(struct guest_boot_plan *p, uint64_t kernel_gpa)
{
    uint8_t *gdt = plan_add_blob(p, "GDT", LINUX_GDT_GPA, GDT_BYTES);
    if (!gdt)
        return false;
    memset(gdt, 0, GDT_BYTES);
    put64(gdt + LINUX_BOOT_CS, GDT_CODE64);
    put64(gdt + LINUX_BOOT_DS, GDT_DATA);

    struct boot_entry_state *e = &p->entry;
    e->mode = GUEST_MODE_LONG64;
    e->rip = kernel_gpa + BZ_ENTRY64_OFFSET;
    e->rsp = LINUX_STACK_GPA + BOOT_STACK_SIZE;
    e->rflags = 0x2; /* interrupts off */
    e->rsi = LINUX_BOOT_PARAMS_GPA;
    e->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
    e->cr3 = p->identity_map.gpa;
    e->cr4 = CR4_PAE;
    e->efer = EFER_LME | EFER_LMA;
    e->gdt_base = LINUX_GDT_GPA;
    e->gdt_limit = GDT_BYTES - 1;
    e->cs = plan_segment(GDT_CODE64, LINUX_BOOT_CS);
    e->ds = plan_segment(GDT_DATA, LINUX_BOOT_DS);
    p->stack_gpa = LINUX_STACK_GPA;
    return true;
}

/* The command line's length, or LINUX_CMDLINE_MAX + 1 if it is longer. */
static uint64_t cmdline_length(const char *s)
{
    return s ? strnlen(s, LINUX_CMDLINE_MAX + 1) : 0;
}

bool linux_reserve_low(struct guest_boot_plan *p, uint64_t cmdline_bytes, bool page_tables)
{
    if (page_tables) {
        struct boot_identity_map *m = &p->identity_map;
        m->gpa = LINUX_PAGE_TABLES_GPA;
        m->map_bytes = align_up(p->mem_size, PAGE_2M);
        m->table_bytes = (2 + (m->map_bytes + PAGE_1G - 1) / PAGE_1G) * PAGE_4K;
        p->has_identity_map = true;
        if (!plan_reserve(p, m->gpa, m->table_bytes, "page tables"))
            return false;
    }
    p->acpi_gpa = LINUX_ACPI_GPA;
    p->acpi_size = LINUX_ACPI_SIZE;
    return plan_reserve(p, LINUX_GDT_GPA, PAGE_4K, "GDT") &&
           plan_reserve(p, LINUX_BOOT_PARAMS_GPA, PAGE_4K, "boot_params") &&
           plan_reserve(p, LINUX_STACK_GPA, BOOT_STACK_SIZE, "boot stack") &&
           plan_reserve(p, LINUX_CMDLINE_GPA, align_up(cmdline_bytes, PAGE_4K), "command line") &&
           plan_reserve(p, LINUX_LOW_RAM_END, LINUX_ACPI_GPA - LINUX_LOW_RAM_END,
                        "EBDA and VGA hole") &&
           plan_reserve(p, LINUX_ACPI_GPA, LINUX_ACPI_SIZE, "ACPI tables") &&
           plan_reserve(p, LINUX_ACPI_GPA + LINUX_ACPI_SIZE,
                        LINUX_BIOS_END - LINUX_ACPI_GPA - LINUX_ACPI_SIZE, "BIOS area");
}

int bzimage_plan(struct guest_boot_plan *p, const struct guest_image *img)
{
    if (!bzimage_has_magic(img->data, img->size))
        return 0;
    struct bzimage_header h;
    char why[BZ_ERROR_LEN];
    if (!bzimage_parse(img->data, img->size, &h, why, sizeof(why)))
        return plan_fail(p, "%s", why), -1;
    if (!linux_mem_fits(p))
        return -1;
    uint64_t cmd_len = cmdline_length(img->cmdline);
    if (cmd_len > h.cmdline_size || cmd_len > LINUX_CMDLINE_MAX)
        return plan_fail(
                   p, "command line too long: %s%llu bytes, the kernel accepts at most %u",
                   cmd_len > LINUX_CMDLINE_MAX ? "more than " : "",
                   (unsigned long long)(cmd_len > LINUX_CMDLINE_MAX ? LINUX_CMDLINE_MAX : cmd_len),
                   h.cmdline_size < LINUX_CMDLINE_MAX ? h.cmdline_size : LINUX_CMDLINE_MAX),
               -1;

    p->kind = GUEST_IMAGE_BZIMAGE;
    p->bzimage.protocol = h.version;
    p->bzimage.boot_params_gpa = LINUX_BOOT_PARAMS_GPA;
    p->bzimage.cmdline_gpa = LINUX_CMDLINE_GPA;
    if (!linux_reserve_low(p, cmd_len + 1, true))
        return -1;

    uint64_t load = 0;
    if (!place_kernel(p, &h, &load))
        return -1;
    p->bzimage.kernel_gpa = load;
    p->bzimage.kernel_reserved = h.init_size;
    if (!plan_add_copy(p, BOOT_SRC_IMAGE, h.setup_size, load, h.kernel_size, h.kernel_size,
                       p->mem_size, "kernel") ||
        !plan_reserve(p, load + h.kernel_size, h.init_size - h.kernel_size, "kernel init_size"))
        return -1;
    if (img->initrd_size &&
        !linux_place_initrd(p, img, (uint64_t)h.initrd_addr_max + 1, &p->initrd_gpa))
        return -1;

    uint8_t *bp = plan_add_blob(p, "boot_params", LINUX_BOOT_PARAMS_GPA, LINUX_BOOT_PARAMS_SIZE);
    if (!bp)
        return -1;
    struct linux_boot_info info = {
        .mem_size = p->mem_size,
        .cmdline_gpa = LINUX_CMDLINE_GPA,
        .initrd_gpa = p->initrd_gpa,
        .initrd_size = img->initrd_size,
        .rsdp_gpa = LINUX_ACPI_GPA,
    };
    linux_boot_params_build(bp, img->data, &h, &info);
    if (!linux_plan_cmdline(p, img->cmdline, cmd_len))
        return -1;
    return plan_entry(p, load) ? 1 : -1;
}
