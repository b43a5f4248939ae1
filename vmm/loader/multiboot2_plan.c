/* SPDX-License-Identifier: MIT */
/*
 * Multiboot2 kernels: finds and checks the header (first 32 KiB, 8-aligned,
 * magic, checksum, architecture i386), loads the kernel as ELF or, for a
 * flat binary, by its address tag, and builds the boot information the
 * kernel receives in EBX: command line, boot loader name, the initrd as a
 * module, basic memory information and a memory map listing the guest's RAM.
 * The kernel starts as the specification says: 32-bit protected mode, flat
 * 4 GiB segments, paging off, EAX = 0x36d76289.
 */
#include "kernel/lib/string.h"
#include "vmm/loader/plan_util.h"

#define MB2_HEADER_MAGIC 0xe85250d6u
#define MB2_SEARCH_BYTES 32768u
#define MB2_ARCH_I386    0
#define MB2_TAG_OPTIONAL 1u

/* header tags */
#define MB2_HTAG_END          0
#define MB2_HTAG_INFO_REQUEST 1
#define MB2_HTAG_ADDRESS      2
#define MB2_HTAG_ENTRY        3
#define MB2_HTAG_CONSOLE      4
#define MB2_HTAG_FRAMEBUFFER  5
#define MB2_HTAG_MODULE_ALIGN 6
#define MB2_HTAG_EFI_BS       7
#define MB2_HTAG_ENTRY_EFI32  8
#define MB2_HTAG_ENTRY_EFI64  9
#define MB2_HTAG_RELOCATABLE  10

/* boot information tags */
#define MB2_ITAG_END        0
#define MB2_ITAG_CMDLINE    1
#define MB2_ITAG_LOADER     2
#define MB2_ITAG_MODULE     3
#define MB2_ITAG_MEMINFO    4
#define MB2_ITAG_MMAP       6
#define MB2_MMAP_AVAILABLE  1
#define MB2_MMAP_ENTRY_SIZE 24

#define MB2_CONSOLE_REQUIRED 1u

#define CMDLINE_MAX 2048
#define NAME_MAX    256
static const char loader_name[] = "Sidecore";

struct mb2_header {
    uint64_t offset; /* in the file */
    bool has_address, has_entry;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr;
    uint32_t entry_addr;
};

static bool info_tag_provided(uint32_t type)
{
    return type == MB2_ITAG_CMDLINE || type == MB2_ITAG_LOADER || type == MB2_ITAG_MODULE ||
           type == MB2_ITAG_MEMINFO || type == MB2_ITAG_MMAP;
}

static bool header_tags_parse(struct guest_boot_plan *p, const uint8_t *f, uint64_t start,
                              uint64_t end, struct mb2_header *h)
{
    uint64_t pos = start;
    while (pos + 8 <= end) {
        uint16_t type = rd16(f + pos), flags = rd16(f + pos + 2);
        uint32_t size = rd32(f + pos + 4);
        bool optional = flags & MB2_TAG_OPTIONAL;
        if (size < 8 || size > end - pos)
            return plan_fail(p, "multiboot2 header tag %u at offset 0x%llx has bad size %u", type,
                             (unsigned long long)pos, size);
        const uint8_t *t = f + pos;
        switch (type) {
        case MB2_HTAG_END: return true;
        case MB2_HTAG_INFO_REQUEST:
            for (uint32_t i = 8; i + 4 <= size; i += 4) {
                uint32_t want = rd32(t + i);
                if (!optional && !info_tag_provided(want))
                    return plan_fail(p,
                                     "multiboot2 kernel requires boot information tag %u, "
                                     "which Sidecore does not provide",
                                     want);
            }
            break;
        case MB2_HTAG_ADDRESS:
            if (size < 24)
                return plan_fail(p, "multiboot2 address tag is too short (%u bytes)", size);
            h->has_address = true;
            h->header_addr = rd32(t + 8);
            h->load_addr = rd32(t + 12);
            h->load_end_addr = rd32(t + 16);
            h->bss_end_addr = rd32(t + 20);
            break;
        case MB2_HTAG_ENTRY:
            if (size < 12)
                return plan_fail(p, "multiboot2 entry address tag is too short (%u bytes)", size);
            h->has_entry = true;
            h->entry_addr = rd32(t + 8);
            break;
        case MB2_HTAG_CONSOLE:
            if (!optional && size >= 12 && (rd32(t + 8) & MB2_CONSOLE_REQUIRED))
                return plan_fail(p, "multiboot2 kernel requires a text console, which Sidecore "
                                    "does not provide");
            break;
        case MB2_HTAG_MODULE_ALIGN: /* modules are always page aligned */
        case MB2_HTAG_ENTRY_EFI32:  /* only used with EFI boot services, which a guest lacks */
        case MB2_HTAG_ENTRY_EFI64:
        case MB2_HTAG_RELOCATABLE: /* loaded at its preferred address */ break;
        default:
            if (!optional)
                return plan_fail(p,
                                 "multiboot2 kernel requires header tag %u (%s), which "
                                 "Sidecore does not support",
                                 type,
                                 type == MB2_HTAG_FRAMEBUFFER ? "framebuffer"
                                 : type == MB2_HTAG_EFI_BS    ? "EFI boot services"
                                                              : "unknown");
            break;
        }
        pos += align_up(size, 8);
    }
    return plan_fail(p, "multiboot2 header has no end tag");
}

/* 1: header found in h, 0: none, -1: error. */
static int header_find(struct guest_boot_plan *p, const struct guest_image *img,
                       struct mb2_header *h)
{
    const uint8_t *f = img->data;
    uint64_t window = img->size < MB2_SEARCH_BYTES ? img->size : MB2_SEARCH_BYTES;
    bool bad_checksum = false;
    for (uint64_t off = 0; off + 16 <= window; off += 8) {
        if (rd32(f + off) != MB2_HEADER_MAGIC)
            continue;
        uint32_t arch = rd32(f + off + 4), len = rd32(f + off + 8), sum = rd32(f + off + 12);
        if ((uint32_t)(MB2_HEADER_MAGIC + arch + len + sum) != 0) {
            bad_checksum = true;
            continue;
        }
        if (arch != MB2_ARCH_I386) {
            plan_fail(p, "unsupported multiboot2 architecture %u (only i386, 0)", arch);
            return -1;
        }
        if (len < 16 + 8 || len > window - off) {
            plan_fail(p, "multiboot2 header length %u at offset 0x%llx runs past %s", len,
                      (unsigned long long)off,
                      window < MB2_SEARCH_BYTES ? "the end of the file" : "the first 32 KiB");
            return -1;
        }
        memset(h, 0, sizeof(*h));
        h->offset = off;
        return header_tags_parse(p, f, off + 16, off + len, h) ? 1 : -1;
    }
    if (bad_checksum && !elf_has_magic(img)) {
        plan_fail(p, "multiboot2 header checksum is wrong");
        return -1;
    }
    return 0;
}

/* A flat kernel: the address tag says which file bytes go where. */
static bool flat_plan(struct guest_boot_plan *p, const struct guest_image *img,
                      const struct mb2_header *h, uint64_t limit)
{
    if (!h->has_address)
        return plan_fail(p, "multiboot2 kernel is not ELF and has no address tag");
    if (!h->has_entry)
        return plan_fail(p, "multiboot2 kernel is not ELF and has no entry address tag");
    struct mb_address a = {h->offset, h->header_addr, h->load_addr, h->load_end_addr,
                           h->bss_end_addr};

    static const struct mb_wording w = {"multiboot2", "multiboot2 address tag", "multiboot2 image"};

    return plan_multiboot_address(p, img, &a, limit, &w);
}

static uint32_t string_tag_size(size_t len, uint32_t fixed)
{
    return (uint32_t)align_up(fixed + len + 1, 8);
}

static uint8_t *put_tag(uint8_t *b, uint32_t type, uint32_t size)
{
    wr32(b, type);
    wr32(b + 4, size);
    return b + 8;
}

/* Places the initrd and builds the boot information, returning its GPA. */
static bool boot_info_plan(struct guest_boot_plan *p, const struct guest_image *img, uint64_t limit)
{
    const char *cmd = img->cmdline ? img->cmdline : "";
    const char *name = img->initrd_name ? img->initrd_name : "initrd";
    size_t cmd_len = strnlen(cmd, CMDLINE_MAX), name_len = strnlen(name, NAME_MAX);
    if (cmd_len == CMDLINE_MAX)
        return plan_fail(p, "command line is longer than %u bytes", CMDLINE_MAX - 1);
    if (name_len == NAME_MAX)
        return plan_fail(p, "initrd name is longer than %u bytes", NAME_MAX - 1);
    bool module = img->initrd_size > 0;
    uint32_t size = 8 + string_tag_size(cmd_len, 8) + string_tag_size(sizeof(loader_name) - 1, 8) +
                    (module ? string_tag_size(name_len, 16) : 0) + 16 + (16 + MB2_MMAP_ENTRY_SIZE) +
                    8;

    uint64_t info_gpa;
    if (!plan_find_free(p, align_up(size, 4096), 4096, limit, &info_gpa))
        return plan_fail(p, "no room for the multiboot2 boot information below 4 GiB");
    if (!plan_reserve(p, info_gpa, align_up(size, 4096), "boot information"))
        return false;
    if (module) {
        uint64_t gpa;
        if (img->initrd_size > limit ||
            !plan_find_free(p, align_up(img->initrd_size, 4096), 4096, limit, &gpa))
            return plan_fail(p,
                             "initrd (%llu bytes) does not fit in guest memory below 4 GiB "
                             "beside the kernel",
                             (unsigned long long)img->initrd_size);
        if (!plan_add_copy(p, BOOT_SRC_INITRD, 0, gpa, img->initrd_size, img->initrd_size, limit,
                           "initrd"))
            return false;
        p->initrd_gpa = gpa;
    }

    uint8_t *b = plan_add_blob(p, "multiboot2 boot information", info_gpa, size);
    if (!b)
        return false;
    memset(b, 0, size);
    uint8_t *t = b + 8;
    wr32(b, size);

    uint32_t n = string_tag_size(cmd_len, 8);
    memcpy(put_tag(t, MB2_ITAG_CMDLINE, 8 + (uint32_t)cmd_len + 1), cmd, cmd_len);
    t += n;
    n = string_tag_size(sizeof(loader_name) - 1, 8);
    memcpy(put_tag(t, MB2_ITAG_LOADER, 8 + sizeof(loader_name)), loader_name, sizeof(loader_name));
    t += n;
    if (module) {
        n = string_tag_size(name_len, 16);
        uint8_t *v = put_tag(t, MB2_ITAG_MODULE, 16 + (uint32_t)name_len + 1);
        wr32(v, (uint32_t)p->initrd_gpa);
        wr32(v + 4, (uint32_t)(p->initrd_gpa + img->initrd_size)); /* end, exclusive */
        memcpy(v + 8, name, name_len);
        t += n;
    }
    uint8_t *v = put_tag(t, MB2_ITAG_MEMINFO, 16);
    uint64_t upper = (p->mem_size - (1ull << 20)) / 1024;
    wr32(v, 640); /* KiB below 1 MiB: the guest has RAM there */
    wr32(v + 4, upper > UINT32_MAX ? UINT32_MAX : (uint32_t)upper);
    t += 16;
    v = put_tag(t, MB2_ITAG_MMAP, 16 + MB2_MMAP_ENTRY_SIZE);
    wr32(v, MB2_MMAP_ENTRY_SIZE);
    wr32(v + 4, 0); /* entry_version */
    wr64(v + 8, 0);
    wr64(v + 16, p->mem_size);
    wr32(v + 24, MB2_MMAP_AVAILABLE);
    t += 16 + MB2_MMAP_ENTRY_SIZE;
    put_tag(t, MB2_ITAG_END, 8);

    p->boot_info_gpa = info_gpa;
    return true;
}

int mb2_plan(struct guest_boot_plan *p, const struct guest_image *img)
{
    struct mb2_header h;
    int found = header_find(p, img, &h);
    if (found <= 0)
        return found;
    uint64_t limit = p->mem_size < GIB4 ? p->mem_size : GIB4;
    uint64_t entry;
    if (elf_has_magic(img)) {
        p->kind = GUEST_IMAGE_MB2_ELF;
        struct elf_load_result elf;
        if (!elf_plan_segments(p, img, limit, true, &elf))
            return -1;
        entry = h.has_entry ? h.entry_addr : elf.entry_phys;
    } else {
        p->kind = GUEST_IMAGE_MB2_FLAT;
        if (!flat_plan(p, img, &h, limit))
            return -1;
        entry = h.entry_addr;
    }
    if (!plan_gpa_in_image(p, entry)) {
        plan_fail(p, "multiboot2 entry address 0x%llx is outside the loaded image",
                  (unsigned long long)entry);
        return -1;
    }
    if (!plan_entry_prot32(p, entry) || !boot_info_plan(p, img, limit))
        return -1;
    p->entry.rax = MB2_BOOTLOADER_MAGIC;
    p->entry.rbx = p->boot_info_gpa;
    return 1;
}
