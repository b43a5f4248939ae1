/* SPDX-License-Identifier: MIT */
/*
 * Multiboot (version 1) kernels, as GRUB's `multiboot` command boots them,
 * and plain ELF32 kernels, which get the same entry: finds and checks the
 * header (first 8 KiB, 4-aligned, magic 0x1BADB002, checksum, no required
 * feature Sidecore lacks), loads the kernel as ELF or, with the header's
 * address fields (flag 16), as a flat binary, and builds the information
 * block the kernel receives in EBX: mem_lower/mem_upper, a memory map, the
 * command line, the boot loader name and the modules: the initrd, then the
 * guest config's `module =` files with their strings. The
 * kernel starts in 32-bit protected mode, flat segments, paging off,
 * EAX = 0x2BADB002 (the specification's machine state).
 */
#include "kernel/lib/string.h"
#include "vmm/loader/plan_util.h"

#define MB1_HEADER_MAGIC 0x1badb002u
#define MB1_SEARCH_BYTES 8192u

/* header flags: 0-15 are requirements a loader must meet or refuse */
#define MB1_HF_PAGE_ALIGN  (1u << 0)  /* modules page aligned: they always are */
#define MB1_HF_MEMINFO     (1u << 1)  /* mem_* and mmap_*: always given */
#define MB1_HF_VIDEO       (1u << 2)  /* a video mode: Sidecore has no display */
#define MB1_HF_AOUT_KLUDGE (1u << 16) /* the address fields are valid */
#define MB1_HF_KNOWN       (MB1_HF_PAGE_ALIGN | MB1_HF_MEMINFO)

/* information block flags */
#define MB1_IF_MEM     (1u << 0)
#define MB1_IF_CMDLINE (1u << 2)
#define MB1_IF_MODS    (1u << 3)
#define MB1_IF_MMAP    (1u << 6)
#define MB1_IF_LOADER  (1u << 9)

/* information block offsets */
#define MB1_INFO_SIZE      116
#define MB1_I_FLAGS        0
#define MB1_I_MEM_LOWER    4
#define MB1_I_MEM_UPPER    8
#define MB1_I_CMDLINE      16
#define MB1_I_MODS_COUNT   20
#define MB1_I_MODS_ADDR    24
#define MB1_I_MMAP_LENGTH  44
#define MB1_I_MMAP_ADDR    48
#define MB1_I_LOADER_NAME  64
#define MB1_MOD_SIZE       16
#define MB1_MMAP_ENTRY     24 /* 4-byte size field (20) + base, length, type */
#define MB1_MMAP_AVAILABLE 1

#define LOW_RAM_END 0xa0000ull /* the PC's 640 KiB of conventional memory */
#define MIB1        (1ull << 20)

#define CMDLINE_MAX 2048
#define NAME_MAX    256
static const char loader_name[] = "Sidecore";

struct mb1_header {
    uint32_t offset, flags;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* 1: header found in h, 0: none, -1: error. */
static int header_find(struct guest_boot_plan *p, const struct guest_image *img,
                       struct mb1_header *h)
{
    const uint8_t *f = img->data;
    uint64_t window = img->size < MB1_SEARCH_BYTES ? img->size : MB1_SEARCH_BYTES;
    bool bad_checksum = false;
    for (uint64_t off = 0; off + 12 <= window; off += 4) {
        if (rd32(f + off) != MB1_HEADER_MAGIC)
            continue;
        uint32_t flags = rd32(f + off + 4), sum = rd32(f + off + 8);
        if ((uint32_t)(MB1_HEADER_MAGIC + flags + sum) != 0) {
            bad_checksum = true;
            continue;
        }
        memset(h, 0, sizeof(*h));
        h->offset = (uint32_t)off;
        h->flags = flags;
        if (flags & MB1_HF_VIDEO) {
            plan_fail(p, "multiboot kernel requires a video mode, which Sidecore does not provide");
            return -1;
        }
        if (flags & 0xffffu & ~MB1_HF_KNOWN) {
            plan_fail(p, "multiboot kernel requires features 0x%x, which Sidecore does not know",
                      flags & 0xffffu & ~MB1_HF_KNOWN);
            return -1;
        }
        if (flags & MB1_HF_AOUT_KLUDGE) {
            if (off + 32 > window) {
                plan_fail(p, "multiboot header at offset 0x%llx: its address fields run past %s",
                          (unsigned long long)off,
                          window < MB1_SEARCH_BYTES ? "the end of the file" : "the first 8 KiB");
                return -1;
            }
            h->header_addr = rd32(f + off + 12);
            h->load_addr = rd32(f + off + 16);
            h->load_end_addr = rd32(f + off + 20);
            h->bss_end_addr = rd32(f + off + 24);
            h->entry_addr = rd32(f + off + 28);
        }
        return 1;
    }
    if (bad_checksum && !elf_has_magic(img)) {
        plan_fail(p, "multiboot header checksum is wrong");
        return -1;
    }
    return 0;
}

/* A kernel loaded by the header's address fields. */
static bool flat_plan(struct guest_boot_plan *p, const struct guest_image *img,
                      const struct mb1_header *h, uint64_t limit)
{
    struct mb_address a = {h->offset, h->header_addr, h->load_addr, h->load_end_addr,
                           h->bss_end_addr};

    static const struct mb_wording w = {"multiboot", "multiboot header", "multiboot image"};

    return plan_multiboot_address(p, img, &a, limit, &w);
}

static void mmap_entry(uint8_t *e, uint64_t base, uint64_t length)
{
    wr32(e, MB1_MMAP_ENTRY - 4);
    wr64(e + 4, base);
    wr64(e + 12, length);
    wr32(e + 20, MB1_MMAP_AVAILABLE);
}

/* Places one module's bytes (page aligned, below limit); *gpa is 0 for an
 * empty one. */
static bool place_module(struct guest_boot_plan *p, uint8_t source, uint64_t size, uint64_t limit,
                         const char *what, uint64_t *gpa)
{
    *gpa = 0;
    if (!size)
        return true;
    if (size > limit || !plan_find_free(p, align_up(size, 4096), 4096, limit, gpa))
        return plan_fail(p,
                         "%s (%llu bytes) does not fit in guest memory below 4 GiB beside the "
                         "kernel",
                         what, (unsigned long long)size);
    return plan_add_copy(p, (enum boot_source)source, 0, *gpa, size, size, limit, what);
}

/* Places the modules (the initrd, then the `module =` files) and builds
 * the information block. Layout (one page run, below 4 GiB): the block, the
 * memory map, the module list, then the strings. */
static bool boot_info_plan(struct guest_boot_plan *p, const struct guest_image *img, uint64_t limit)
{
    const char *cmd = img->cmdline ? img->cmdline : "";
    const char *name = img->initrd_name ? img->initrd_name : "initrd";
    size_t cmd_len = strnlen(cmd, CMDLINE_MAX);
    if (cmd_len == CMDLINE_MAX)
        return plan_fail(p, "command line is longer than %u bytes", CMDLINE_MAX - 1);
    unsigned first = img->initrd_size ? 1 : 0, nmods = first + img->nmodules;
    const char *str[1 + BOOT_MODULES_MAX];
    size_t str_len[1 + BOOT_MODULES_MAX], strings = 0;
    for (unsigned i = 0; i < nmods; i++) {
        str[i] = i < first ? name : img->modules[i - first].string;
        if (!str[i])
            str[i] = "";
        str_len[i] = strnlen(str[i], NAME_MAX);
        if (str_len[i] == NAME_MAX)
            return plan_fail(p, "module %u's string is longer than %u bytes", i, NAME_MAX - 1);
        strings += str_len[i] + 1;
    }
    bool high = p->mem_size > MIB1;
    uint32_t mmap_len = MB1_MMAP_ENTRY * (high ? 2 : 1);
    uint32_t mmap_off = align_up(MB1_INFO_SIZE, 8);
    uint32_t mods_off = mmap_off + mmap_len;
    uint32_t cmd_off = mods_off + MB1_MOD_SIZE * nmods;
    uint32_t loader_off = cmd_off + (uint32_t)cmd_len + 1;
    uint32_t names_off = loader_off + sizeof(loader_name);
    uint32_t size = (uint32_t)align_up(names_off + strings, 8);

    uint64_t info_gpa;
    if (!plan_find_free(p, align_up(size, 4096), 4096, limit, &info_gpa))
        return plan_fail(p, "no room for the multiboot information below 4 GiB");
    if (!plan_reserve(p, info_gpa, align_up(size, 4096), "boot information"))
        return false;
    uint64_t mod_gpa[1 + BOOT_MODULES_MAX];
    for (unsigned i = 0; i < nmods; i++) {
        bool initrd = i < first;
        uint64_t bytes = initrd ? img->initrd_size : img->modules[i - first].size;
        uint8_t source = initrd ? BOOT_SRC_INITRD : (uint8_t)(BOOT_SRC_MODULE + i - first);
        if (!place_module(p, source, bytes, limit, initrd ? "initrd" : "module", &mod_gpa[i]))
            return false;
    }
    if (first)
        p->initrd_gpa = mod_gpa[0];

    uint8_t *b = plan_add_blob(p, "multiboot information", info_gpa, size);
    if (!b)
        return false;
    memset(b, 0, size);
    uint32_t base = (uint32_t)info_gpa; /* below 4 GiB: limit */
    uint32_t flags = MB1_IF_MEM | MB1_IF_CMDLINE | MB1_IF_MMAP | MB1_IF_LOADER;

    /* Conventional memory below 640 KiB and RAM from 1 MiB: the PC's map
     * (the guest's RAM is contiguous, but 0xa0000-0xfffff is where a PC
     * has its VGA window and ROMs). */
    uint64_t low = p->mem_size < LOW_RAM_END ? p->mem_size : LOW_RAM_END;
    uint64_t upper_kib = high ? (p->mem_size - MIB1) / 1024 : 0;
    wr32(b + MB1_I_MEM_LOWER, (uint32_t)(low / 1024));
    wr32(b + MB1_I_MEM_UPPER, upper_kib > UINT32_MAX ? UINT32_MAX : (uint32_t)upper_kib);
    mmap_entry(b + mmap_off, 0, low);
    if (high)
        mmap_entry(b + mmap_off + MB1_MMAP_ENTRY, MIB1, p->mem_size - MIB1);
    wr32(b + MB1_I_MMAP_LENGTH, mmap_len);
    wr32(b + MB1_I_MMAP_ADDR, base + mmap_off);

    memcpy(b + cmd_off, cmd, cmd_len);
    wr32(b + MB1_I_CMDLINE, base + cmd_off);
    memcpy(b + loader_off, loader_name, sizeof(loader_name));
    wr32(b + MB1_I_LOADER_NAME, base + loader_off);
    uint32_t at = names_off;
    for (unsigned i = 0; i < nmods; i++) {
        uint8_t *m = b + mods_off + MB1_MOD_SIZE * i;
        uint64_t bytes = i < first ? img->initrd_size : img->modules[i - first].size;
        wr32(m, (uint32_t)mod_gpa[i]);
        wr32(m + 4, (uint32_t)(mod_gpa[i] + bytes)); /* end, exclusive */
        wr32(m + 8, base + at);
        memcpy(b + at, str[i], str_len[i]);
        at += (uint32_t)str_len[i] + 1;
    }
    if (nmods) {
        wr32(b + MB1_I_MODS_COUNT, nmods);
        wr32(b + MB1_I_MODS_ADDR, base + mods_off);
        flags |= MB1_IF_MODS;
    }
    wr32(b + MB1_I_FLAGS, flags);
    p->boot_info_gpa = info_gpa;
    return true;
}

static int finish(struct guest_boot_plan *p, const struct guest_image *img, uint64_t entry,
                  uint64_t limit)
{
    if (!plan_gpa_in_image(p, entry)) {
        plan_fail(p, "multiboot entry address 0x%llx is outside the loaded image",
                  (unsigned long long)entry);
        return -1;
    }
    if (!plan_entry_prot32(p, entry) || !boot_info_plan(p, img, limit))
        return -1;
    p->entry.rax = MB1_BOOTLOADER_MAGIC;
    p->entry.rbx = p->boot_info_gpa;
    return 1;
}

int mb1_plan(struct guest_boot_plan *p, const struct guest_image *img)
{
    struct mb1_header h;
    int found = header_find(p, img, &h);
    if (found <= 0)
        return found;
    uint64_t limit = p->mem_size < GIB4 ? p->mem_size : GIB4;
    uint64_t entry;
    if (h.flags & MB1_HF_AOUT_KLUDGE) {
        p->kind = GUEST_IMAGE_MB1;
        if (!flat_plan(p, img, &h, limit))
            return -1;
        entry = h.entry_addr;
    } else {
        if (!elf_has_magic(img)) {
            plan_fail(p, "multiboot kernel is not ELF and its header has no address fields");
            return -1;
        }
        struct elf_load_result elf;
        if (!elf_plan_segments(p, img, limit, true, &elf))
            return -1;
        if (elf.is64) {
            plan_fail(p, "multiboot kernel is a 64-bit ELF: multiboot loads only ELF32");
            return -1;
        }
        p->kind = GUEST_IMAGE_MB1;
        entry = elf.entry_phys;
    }
    return finish(p, img, entry, limit);
}

bool mb1_plan_elf32(struct guest_boot_plan *p, const struct guest_image *img, uint64_t entry_phys)
{
    uint64_t limit = p->mem_size < GIB4 ? p->mem_size : GIB4;
    return finish(p, img, entry_phys, limit) > 0;
}
