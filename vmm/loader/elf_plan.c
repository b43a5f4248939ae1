/* SPDX-License-Identifier: MIT */
/*
 * Reads a guest's ELF file (32 or 64-bit, x86, EXEC) and plans its PT_LOAD
 * segments at their physical addresses (p_paddr). Every field is checked
 * against the file's length before it is used; sizes are checked for
 * wrap-around before any sum is formed.
 */
#include "kernel/lib/fmt.h"
#include "vmm/loader/plan_util.h"

#define EI_CLASS      4
#define EI_DATA       5
#define EI_VERSION    6
#define ELFCLASS32    1
#define ELFCLASS64    2
#define ELFDATA2LSB   1
#define ET_EXEC       2
#define EM_386        3
#define EM_X86_64     62
#define PT_LOAD       1
#define PT_NOTE       4
#define EHDR32_SIZE   52
#define EHDR64_SIZE   64
#define PHDR32_SIZE   32
#define PHDR64_SIZE   56
#define ELF_MAX_PHDRS 256

struct phdr {
    uint32_t type;
    uint64_t offset, vaddr, paddr, filesz, memsz;
};

static void phdr_read(const uint8_t *b, bool is64, struct phdr *ph)
{
    ph->type = rd32(b);
    if (is64) {
        ph->offset = rd64(b + 8);
        ph->vaddr = rd64(b + 16);
        ph->paddr = rd64(b + 24);
        ph->filesz = rd64(b + 32);
        ph->memsz = rd64(b + 40);
    } else {
        ph->offset = rd32(b + 4);
        ph->vaddr = rd32(b + 8);
        ph->paddr = rd32(b + 12);
        ph->filesz = rd32(b + 16);
        ph->memsz = rd32(b + 20);
    }
}

bool elf_has_magic(const struct guest_image *img)
{
    return img->size >= 4 && memcmp(img->data,
                                    "\x7f"
                                    "ELF",
                                    4) == 0;
}

/* The program headers of a checked ELF header: false if the header is
 * not a little-endian 32/64-bit one or the table runs past the file. */
static bool phdr_table(const struct guest_image *img, bool *is64, uint64_t *phoff,
                       uint16_t *phentsize, uint16_t *phnum)
{
    const uint8_t *f = img->data;
    if (!elf_has_magic(img) || img->size < EHDR32_SIZE || f[EI_DATA] != ELFDATA2LSB)
        return false;
    if (f[EI_CLASS] != ELFCLASS32 && f[EI_CLASS] != ELFCLASS64)
        return false;
    *is64 = f[EI_CLASS] == ELFCLASS64;
    if (*is64 && img->size < EHDR64_SIZE)
        return false;
    *phoff = *is64 ? rd64(f + 32) : rd32(f + 28);
    *phentsize = rd16(f + (*is64 ? 54 : 42));
    *phnum = rd16(f + (*is64 ? 56 : 44));
    return *phentsize >= (*is64 ? PHDR64_SIZE : PHDR32_SIZE) && *phnum <= ELF_MAX_PHDRS &&
           range_within(*phoff, (uint64_t)*phnum * *phentsize, img->size);
}

static uint64_t align4(uint64_t v)
{
    return (v + 3) & ~3ull;
}

bool elf_find_note(const struct guest_image *img, const char *name, uint32_t type,
                   uint64_t *desc_offset, uint32_t *desc_size)
{
    bool is64;
    uint64_t phoff;
    uint16_t phentsize, phnum;
    if (!phdr_table(img, &is64, &phoff, &phentsize, &phnum))
        return false;
    uint64_t name_size = strlen(name) + 1;
    for (unsigned i = 0; i < phnum; i++) {
        struct phdr ph;
        phdr_read(img->data + phoff + (uint64_t)i * phentsize, is64, &ph);
        if (ph.type != PT_NOTE || !range_within(ph.offset, ph.filesz, img->size))
            continue;
        /* Each note: namesz, descsz, type, then name and desc, each padded
         * to 4 bytes. A note that runs past its segment ends the walk. */
        uint64_t at = 0;
        while (ph.filesz - at >= 12) {
            const uint8_t *n = img->data + ph.offset + at;
            uint64_t nsz = rd32(n), dsz = rd32(n + 4);
            uint64_t body = align4(nsz) + align4(dsz);
            if (body > ph.filesz - at - 12)
                break;
            if (nsz == name_size && rd32(n + 8) == type && memcmp(n + 12, name, nsz) == 0) {
                *desc_offset = ph.offset + at + 12 + align4(nsz);
                *desc_size = (uint32_t)dsz;
                return true;
            }
            at += 12 + body;
        }
    }
    return false;
}

bool elf_plan_segments(struct guest_boot_plan *p, const struct guest_image *img, uint64_t limit,
                       bool need_entry, struct elf_load_result *out)
{
    const uint8_t *f = img->data;
    if (!elf_has_magic(img))
        return plan_fail(p, "not an ELF file (bad magic)");
    if (img->size < EHDR32_SIZE)
        return plan_fail(p, "truncated ELF: %llu bytes, shorter than its header",
                         (unsigned long long)img->size);
    uint8_t cls = f[EI_CLASS];
    if (cls != ELFCLASS32 && cls != ELFCLASS64)
        return plan_fail(p, "unsupported ELF class %u", cls);
    bool is64 = cls == ELFCLASS64;
    if (is64 && img->size < EHDR64_SIZE)
        return plan_fail(p, "truncated ELF: %llu bytes, shorter than its 64-bit header",
                         (unsigned long long)img->size);
    if (f[EI_DATA] != ELFDATA2LSB)
        return plan_fail(p, "unsupported ELF data encoding %u (not little-endian)", f[EI_DATA]);
    if (f[EI_VERSION] != 1)
        return plan_fail(p, "unsupported ELF version %u", f[EI_VERSION]);
    uint16_t type = rd16(f + 16), machine = rd16(f + 18);
    uint16_t want = is64 ? EM_X86_64 : EM_386;
    if (machine != want)
        return plan_fail(p, "unsupported ELF machine %u for a %s file (expected %s)", machine,
                         is64 ? "64-bit" : "32-bit", is64 ? "x86-64 (62)" : "i386 (3)");
    if (type != ET_EXEC)
        return plan_fail(p, "unsupported ELF type %u (only executables, ET_EXEC, are loaded)",
                         type);

    uint64_t entry = is64 ? rd64(f + 24) : rd32(f + 24);
    uint64_t phoff = is64 ? rd64(f + 32) : rd32(f + 28);
    uint16_t phentsize = rd16(f + (is64 ? 54 : 42));
    uint16_t phnum = rd16(f + (is64 ? 56 : 44));
    unsigned need = is64 ? PHDR64_SIZE : PHDR32_SIZE;
    if (phnum == 0)
        return plan_fail(p, "ELF has no program headers");
    if (phnum > ELF_MAX_PHDRS)
        return plan_fail(p, "ELF has %u program headers (at most %u supported)", phnum,
                         ELF_MAX_PHDRS);
    if (phentsize < need)
        return plan_fail(p, "ELF program header size %u is smaller than %u", phentsize, need);
    if (!range_within(phoff, (uint64_t)phnum * phentsize, img->size))
        return plan_fail(p,
                         "truncated ELF: program headers at 0x%llx (%u x %u bytes) run past "
                         "the end of the file (%llu bytes)",
                         (unsigned long long)phoff, phnum, phentsize,
                         (unsigned long long)img->size);

    /* Total memory first: a clear message for an image that cannot fit at all. */
    uint64_t total = 0;
    unsigned loads = 0;
    for (unsigned i = 0; i < phnum; i++) {
        struct phdr ph;
        phdr_read(f + phoff + (uint64_t)i * phentsize, is64, &ph);
        if (ph.type != PT_LOAD || ph.memsz == 0)
            continue;
        loads++;
        total = ph.memsz > UINT64_MAX - total ? UINT64_MAX : total + ph.memsz;
    }
    if (loads == 0)
        return plan_fail(p, "ELF has no loadable (PT_LOAD) segments");
    if (total > p->mem_size)
        return plan_fail(p,
                         "image too large for the guest: its segments need 0x%llx bytes, the "
                         "guest has 0x%llx",
                         (unsigned long long)total, (unsigned long long)p->mem_size);

    out->is64 = is64;
    out->machine = machine;
    out->load_end = 0;
    out->entry_phys = 0;
    bool entry_found = false;
    for (unsigned i = 0; i < phnum; i++) {
        struct phdr ph;
        phdr_read(f + phoff + (uint64_t)i * phentsize, is64, &ph);
        if (ph.type != PT_LOAD || ph.memsz == 0)
            continue;
        char what[24];
        fmt_snprintf(what, sizeof(what), "ELF segment %u", i);
        if (!range_within(ph.offset, ph.filesz, img->size))
            return plan_fail(p,
                             "truncated ELF: %s's data (offset 0x%llx, 0x%llx bytes) runs "
                             "past the end of the file (%llu bytes)",
                             what, (unsigned long long)ph.offset, (unsigned long long)ph.filesz,
                             (unsigned long long)img->size);
        if (!plan_add_copy(p, BOOT_SRC_IMAGE, ph.offset, ph.paddr, ph.filesz, ph.memsz, limit,
                           what))
            return false;
        if (ph.paddr + ph.memsz > out->load_end)
            out->load_end = ph.paddr + ph.memsz;
        if (!entry_found && entry >= ph.vaddr && entry - ph.vaddr < ph.filesz) {
            out->entry_phys = ph.paddr + (entry - ph.vaddr);
            entry_found = true;
        }
    }
    if (need_entry && !entry_found)
        return plan_fail(p, "entry point 0x%llx is outside the loaded segments",
                         (unsigned long long)entry);
    return true;
}
