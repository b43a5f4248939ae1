/* SPDX-License-Identifier: MIT */
/*
 * elf64-boot: a smoke-test-only stand-in for Sidecore's ELF64 loader, so the
 * 64-bit test guests can run under bare QEMU. GRUB boots it (multiboot2) with
 * the guest as the first module; it copies the guest's PT_LOAD segments to
 * their physical addresses, zeroes the rest of each segment, identity-maps
 * the low 4 GiB with 2 MiB pages and enters the guest in 64-bit mode - the
 * state the issue promises an ELF64 guest, and nothing more.
 */
#include <stddef.h>
#include <stdint.h>
#include "printf.h"
#include "serial.h"

#define MB2_MAGIC      0x36d76289u
#define MB2_TAG_MODULE 3
#define MB2_INFO_MAX   0x10000u
#define LOAD_MIN       0x100000u
#define LOAD_MAX       0x800000u /* the loader itself starts here */
#define PT_LOAD        1
/* GRUB may put the module where the guest goes; it is moved here first. */
#define MODULE_COPY     0x1000000u
#define MODULE_COPY_MAX 0x1000000u

void loader_main(uint32_t magic, uint32_t info);
void enter_long_mode(uint32_t pml4, uint32_t entry) __attribute__((noreturn));
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

struct elf64_header {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[4][512] __attribute__((aligned(4096)));

static int find_module(uint32_t info, uint32_t *start, uint32_t *end)
{
    const uint8_t *p = (const uint8_t *)info;
    uint32_t total = *(const uint32_t *)p;

    if (total < 16 || total > MB2_INFO_MAX)
        return -1;
    for (uint32_t off = 8; total - off >= 8;) {
        const uint32_t *tag = (const uint32_t *)(p + off);
        if (tag[1] < 8 || tag[1] > total - off || tag[0] == 0)
            return -1;
        if (tag[0] == MB2_TAG_MODULE && tag[1] >= 16) {
            *start = tag[2];
            *end = tag[3];
            return *end > *start ? 0 : -1;
        }
        off += (tag[1] + 7) & ~7u;
    }
    return -1;
}

static const char *load_elf64(uint32_t start, uint32_t end, uint32_t *entry)
{
    const struct elf64_header *h = (const void *)start;
    uint32_t size = end - start;

    if (size < sizeof(*h) || h->ident[0] != 0x7f || h->ident[1] != 'E' || h->ident[4] != 2 ||
        h->machine != 62)
        return "module is not an x86-64 ELF";
    if (h->phentsize != sizeof(struct elf64_phdr) || h->phoff > size ||
        (uint64_t)h->phnum * sizeof(struct elf64_phdr) > size - h->phoff)
        return "program headers out of range";
    for (unsigned i = 0; i < h->phnum; i++) {
        const struct elf64_phdr *ph = (const void *)(start + (uint32_t)h->phoff + i * sizeof(*ph));
        if (ph->type != PT_LOAD)
            continue;
        if (ph->paddr < LOAD_MIN || ph->memsz > LOAD_MAX - ph->paddr || ph->filesz > ph->memsz ||
            ph->offset > size || ph->filesz > size - ph->offset)
            return "segment out of range";
        if (ph->paddr < end && start < ph->paddr + ph->memsz)
            return "segment overlaps the module GRUB loaded";
        memcpy((void *)(uint32_t)ph->paddr, (const void *)(start + (uint32_t)ph->offset),
               (size_t)ph->filesz);
        memset((void *)(uint32_t)(ph->paddr + ph->filesz), 0, (size_t)(ph->memsz - ph->filesz));
        printf("elf64-boot: segment %#llx-%#llx\n", (unsigned long long)ph->paddr,
               (unsigned long long)(ph->paddr + ph->memsz - 1));
    }
    if (h->entry < LOAD_MIN || h->entry >= LOAD_MAX)
        return "entry point out of range";
    *entry = (uint32_t)h->entry;
    return NULL;
}

void loader_main(uint32_t magic, uint32_t info)
{
    uint32_t start, end, entry;

    serial_init_uart();
    if (magic != MB2_MAGIC || find_module(info, &start, &end)) {
        printf("elf64-boot: no multiboot2 module (magic %#x)\n", magic);
        return;
    }
    if (end - start > MODULE_COPY_MAX ||
        (start < MODULE_COPY + MODULE_COPY_MAX && MODULE_COPY < end)) {
        printf("elf64-boot: module at %#x-%#x cannot be moved to %#x\n", start, end, MODULE_COPY);
        return;
    }
    memcpy((void *)MODULE_COPY, (const void *)start, end - start);
    const char *err = load_elf64(MODULE_COPY, MODULE_COPY + (end - start), &entry);
    if (err) {
        printf("elf64-boot: %s\n", err);
        return;
    }
    for (unsigned g = 0; g < 4; g++) {
        for (unsigned i = 0; i < 512; i++)
            pd[g][i] = ((uint64_t)g << 30) + ((uint64_t)i << 21) + 0x83; /* P RW PS */
        pdpt[g] = (uint32_t)pd[g] + 0x3;
    }
    pml4[0] = (uint32_t)pdpt + 0x3;
    printf("elf64-boot: entering %#x in 64-bit mode\n", entry);
    enter_long_mode((uint32_t)pml4, entry);
}
