/* SPDX-License-Identifier: MIT */
/*
 * ELF64 header and program header checks for the hypervisor image, and the
 * boot header search. Fields are read with memcpy at their offsets from the
 * ELF specification rather than through structures, so a truncated or
 * misaligned file cannot make us read past its end.
 */
#include "boot/efi/elf_image.h"

#include <stdbool.h>

#define EHDR_SIZE   64
#define PHDR_MIN    56
#define ET_EXEC     2
#define EM_X86_64   62
#define PT_LOAD     1
#define ELFCLASS64  2
#define ELFDATA2LSB 1
#define EV_CURRENT  1

static uint16_t rd16(const uint8_t *p)
{
    uint16_t v;
    __builtin_memcpy(&v, p, sizeof(v));
    return v;
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, sizeof(v));
    return v;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    __builtin_memcpy(&v, p, sizeof(v));
    return v;
}

/* True when [off, off + len) lies inside [0, size). */
static bool in_file(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

static const char *check_ident(const uint8_t *f, uint64_t size)
{
    if (size < EHDR_SIZE)
        return "file too small for an ELF header";
    if (f[0] != 0x7f || f[1] != 'E' || f[2] != 'L' || f[3] != 'F')
        return "not an ELF file";
    if (f[4] != ELFCLASS64)
        return "not a 64-bit ELF file";
    if (f[5] != ELFDATA2LSB)
        return "not a little-endian ELF file";
    if (f[6] != EV_CURRENT)
        return "unknown ELF version";
    if (rd16(f + 16) != ET_EXEC)
        return "not an executable (ET_EXEC) ELF file";
    if (rd16(f + 18) != EM_X86_64)
        return "not an x86-64 ELF file";
    return NULL;
}

static const char *add_segment(struct elf_image *img, const uint8_t *ph, uint64_t size)
{
    struct elf_segment s = {
        .offset = rd64(ph + 8),
        .paddr = rd64(ph + 24),
        .filesz = rd64(ph + 32),
        .memsz = rd64(ph + 40),
    };

    if (s.memsz == 0)
        return NULL;
    if (s.filesz > s.memsz)
        return "segment file size exceeds its memory size";
    if (!in_file(s.offset, s.filesz, size))
        return "segment lies outside the file";
    if (s.paddr >= ELF_IMAGE_LIMIT || s.memsz > ELF_IMAGE_LIMIT - s.paddr)
        return "segment does not lie below 4 GiB";
    for (unsigned i = 0; i < img->count; i++) {
        const struct elf_segment *o = &img->seg[i];
        if (s.paddr < o->paddr + o->memsz && o->paddr < s.paddr + s.memsz)
            return "segments overlap";
    }
    if (img->count >= ELF_IMAGE_MAX_SEGMENTS)
        return "too many PT_LOAD segments";
    img->seg[img->count++] = s;
    if (img->count == 1 || s.paddr < img->lo)
        img->lo = s.paddr;
    if (img->count == 1 || s.paddr + s.memsz > img->hi)
        img->hi = s.paddr + s.memsz;
    return NULL;
}

const char *elf_image_parse(const void *file, uint64_t size, struct elf_image *img)
{
    const uint8_t *f = file;
    const char *why = check_ident(f, size);

    img->count = 0;
    img->lo = img->hi = 0;
    if (why != NULL)
        return why;
    uint64_t phoff = rd64(f + 32);
    uint16_t phentsize = rd16(f + 54);
    uint16_t phnum = rd16(f + 56);
    if (phentsize < PHDR_MIN)
        return "program header entries too small";
    if (!in_file(phoff, (uint64_t)phentsize * phnum, size))
        return "program headers lie outside the file";
    for (uint16_t i = 0; i < phnum; i++) {
        const uint8_t *ph = f + phoff + (uint64_t)i * phentsize;
        if (rd32(ph) != PT_LOAD)
            continue;
        why = add_segment(img, ph, size);
        if (why != NULL)
            return why;
    }
    if (img->count == 0)
        return "no PT_LOAD segment";
    return NULL;
}

const char *elf_find_boot_header(const void *mem, uint64_t mem_size, const struct elf_image *img,
                                 struct sidecore_boot_header *hdr)
{
    const uint8_t *m = mem;
    uint64_t window = mem_size < ELF_BOOT_HEADER_WINDOW ? mem_size : ELF_BOOT_HEADER_WINDOW;

    for (uint64_t off = 0; off + sizeof(*hdr) <= window; off += 8) {
        if (rd64(m + off) != SIDECORE_BOOT_HEADER_MAGIC)
            continue;
        __builtin_memcpy(hdr, m + off, sizeof(*hdr));
        if (hdr->entry64 < img->lo || hdr->entry64 >= img->hi)
            return "boot header's entry point lies outside the image";
        return NULL;
    }
    return "no Sidecore boot header in the first 32 KiB of the image";
}
