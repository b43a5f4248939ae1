/* SPDX-License-Identifier: MIT */
/* Unit tests for the guest image loader: ELF64, ELF32 and multiboot2 images
 * built here in memory are planned and applied to a guest memory buffer,
 * and the result is checked from the guest's point of view (page-table
 * walks, the boot information parsed as a kernel would), plus every
 * malformed image the loader must refuse.
 * test-sources: vmm/loader/boot_plan.c vmm/loader/bzimage.c vmm/loader/linux_plan.c vmm/loader/pvh_plan.c vmm/loader/boot_apply.c vmm/loader/elf_plan.c vmm/loader/entry_state.c vmm/loader/multiboot2_plan.c vmm/loader/multiboot1_plan.c vmm/loader/plan_util.c kernel/lib/fmt.c kernel/lib/str.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/le_bytes.h"

#include "vmm/loader/boot_plan.h"

#define MEM_SIZE (16ull << 20)
#define IMG_CAP  (1u << 20)

static uint8_t *mem;
static uint8_t img[IMG_CAP];
static struct guest_boot_plan plan;

/* --- image builders --- */

struct seg {
    uint32_t type; /* 0 means PT_LOAD */
    uint64_t vaddr, paddr, filesz, memsz;
};

static uint8_t fill_byte(unsigned seg, uint64_t i)
{
    return (uint8_t)(0x11 * (seg + 1) + i * 7);
}

/* Writes an ELF file into img: header, program headers, then each segment's
 * bytes at the next 4 KiB boundary. Returns the file size. */
static size_t make_elf(bool is64, uint64_t entry, const struct seg *s, unsigned n)
{
    memset(img, 0, sizeof(img));
    memcpy(img,
           "\x7f"
           "ELF",
           4);
    img[4] = is64 ? 2 : 1;
    img[5] = 1;
    img[6] = 1;
    w16(img + 16, 2);
    w16(img + 18, is64 ? 62 : 3);
    w32(img + 20, 1);
    uint64_t ph = is64 ? 64 : 52, phsz = is64 ? 56 : 32;
    if (is64) {
        w64(img + 24, entry);
        w64(img + 32, ph);
        w16(img + 52, 64);
        w16(img + 54, 56);
        w16(img + 56, (uint16_t)n);
    } else {
        w32(img + 24, (uint32_t)entry);
        w32(img + 28, (uint32_t)ph);
        w16(img + 40, 52);
        w16(img + 42, 32);
        w16(img + 44, (uint16_t)n);
    }
    uint64_t off = 0x1000;
    for (unsigned i = 0; i < n; i++) {
        uint8_t *p = img + ph + i * phsz;
        uint32_t type = s[i].type ? s[i].type : 1;
        w32(p, type);
        if (is64) {
            w64(p + 8, off);
            w64(p + 16, s[i].vaddr);
            w64(p + 24, s[i].paddr);
            w64(p + 32, s[i].filesz);
            w64(p + 40, s[i].memsz);
        } else {
            w32(p + 4, (uint32_t)off);
            w32(p + 8, (uint32_t)s[i].vaddr);
            w32(p + 12, (uint32_t)s[i].paddr);
            w32(p + 16, (uint32_t)s[i].filesz);
            w32(p + 20, (uint32_t)s[i].memsz);
        }
        assert_true(off + s[i].filesz <= IMG_CAP);
        for (uint64_t j = 0; j < s[i].filesz; j++)
            img[off + j] = fill_byte(i, j);
        off = (off + s[i].filesz + 0xfff) & ~0xfffull;
    }
    return off;
}

/* Offset in img of segment i's bytes (as make_elf placed them). */
static uint64_t seg_offset(bool is64, unsigned i)
{
    uint8_t *p = img + (is64 ? 64 + i * 56 : 52 + i * 32);
    return is64 ? r64(p + 8) : r32(p + 4);
}

/* multiboot2 header builder */
struct mb2b {
    uint8_t *base;
    size_t len;
};

static void mb2_begin(struct mb2b *b, uint8_t *at, uint32_t arch)
{
    b->base = at;
    w32(at, 0xe85250d6);
    w32(at + 4, arch);
    b->len = 16;
}

static void mb2_tag(struct mb2b *b, uint16_t type, uint16_t flags, const uint32_t *v, unsigned n)
{
    uint8_t *t = b->base + b->len;
    w16(t, type);
    w16(t + 2, flags);
    w32(t + 4, 8 + 4 * n);
    for (unsigned i = 0; i < n; i++)
        w32(t + 8 + 4 * i, v[i]);
    b->len += (8 + 4 * n + 7) & ~7u;
}

static void mb2_end(struct mb2b *b)
{
    mb2_tag(b, 0, 0, NULL, 0);
    w32(b->base + 8, (uint32_t)b->len);
    w32(b->base + 12, -(0xe85250d6u + r32(b->base + 4) + (uint32_t)b->len));
}

static struct guest_image image(size_t size)
{
    return (struct guest_image){.data = img, .size = size, .mem_size = MEM_SIZE};
}

static void plan_ok(const struct guest_image *gi)
{
    bool ok = guest_boot_plan_build(gi, &plan);
    if (!ok)
        fail_msg("plan failed: %s", plan.error);
}

static void plan_fails(const struct guest_image *gi, const char *expect)
{
    assert_false(guest_boot_plan_build(gi, &plan));
    if (!strstr(plan.error, expect))
        fail_msg("error \"%s\" does not mention \"%s\"", plan.error, expect);
}

static void apply_ok(const struct guest_image *gi, bool zero_all)
{
    char err[160] = "";
    memset(mem, 0xaa, MEM_SIZE);
    if (!guest_boot_plan_apply(&plan, gi, mem, gi->mem_size, zero_all, err, sizeof(err)))
        fail_msg("apply failed: %s", err);
}

/* Every piece of the plan inside memory and no two overlapping. */
static void check_reserved_disjoint(void)
{
    for (unsigned i = 0; i < plan.reserved_count; i++) {
        const struct boot_range *a = &plan.reserved[i];
        assert_true(a->start < a->end && a->end <= plan.mem_size);
        for (unsigned j = i + 1; j < plan.reserved_count; j++) {
            const struct boot_range *b = &plan.reserved[j];
            assert_true(a->end <= b->start || b->end <= a->start);
        }
    }
}

static void check_segment(bool is64, unsigned i, uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
    uint64_t off = seg_offset(is64, i);
    assert_memory_equal(mem + paddr, img + off, filesz);
    for (uint64_t j = filesz; j < memsz; j++)
        assert_int_equal(mem[paddr + j], 0); /* bss zeroed */
}

static void check_gdt(uint64_t code)
{
    assert_int_equal(plan.entry.gdt_limit, 23);
    const uint8_t *g = mem + plan.entry.gdt_base;
    assert_int_equal(r64(g), 0);
    assert_int_equal(r64(g + 8), code);
    assert_int_equal(r64(g + 16), 0x00cf93000000ffffull);
    assert_int_equal(plan.entry.cs.selector, 0x08);
    assert_int_equal(plan.entry.ds.selector, 0x10);
    assert_int_equal(plan.entry.cs.limit, 0xffffffffu);
    assert_int_equal(plan.entry.cs.base, 0);
    assert_int_equal(plan.entry.ds.access, 0xc093);
}

/* Walks the guest's 4-level page tables in guest memory, as the CPU would. */
static bool guest_translate(uint64_t cr3, uint64_t va, uint64_t *pa)
{
    uint64_t e = r64(mem + (cr3 & ~0xfffull) + ((va >> 39) & 511) * 8);
    if (!(e & 1))
        return false;
    e = r64(mem + (e & 0xffffffffff000ull) + ((va >> 30) & 511) * 8);
    if (!(e & 1))
        return false;
    assert_false(e & 0x80); /* no 1 GiB pages */
    e = r64(mem + (e & 0xffffffffff000ull) + ((va >> 21) & 511) * 8);
    if (!(e & 1))
        return false;
    assert_true(e & 0x80); /* 2 MiB pages */
    assert_true(e & 2);    /* writable */
    *pa = (e & 0xfffffffe00000ull) | (va & 0x1fffff);
    return true;
}

/* --- the formats --- */

static void test_elf64_plan_and_apply(void **state)
{
    struct seg s[] = {
        {0, 0x100000, 0x100000, 0x2345, 0x2345},
        {4 /* PT_NOTE: ignored */, 0, 0, 0x10, 0x10},
        {0, 0x200000, 0x200000, 0x100, 0x5000},
    };
    size_t n = make_elf(true, 0x100010, s, 3);
    struct guest_image gi = image(n);
    plan_ok(&gi);
    assert_int_equal(plan.kind, GUEST_IMAGE_ELF64);
    assert_int_equal(plan.copy_count, 2);
    assert_int_equal(plan.entry.mode, GUEST_MODE_LONG64);
    assert_int_equal(plan.entry.rip, 0x100010);
    assert_int_equal(plan.entry.cr0, 0x80000031);
    assert_int_equal(plan.entry.cr4, 0x20);
    assert_int_equal(plan.entry.efer, 0x500);
    assert_int_equal(plan.entry.rflags, 2);
    assert_true(plan.has_identity_map);
    assert_int_equal(plan.entry.cr3, plan.identity_map.gpa);
    assert_int_equal(plan.identity_map.map_bytes, MEM_SIZE);
    assert_int_equal(plan.identity_map.table_bytes, 3 * 4096);
    /* tables just below the top of memory, the stack just below them */
    assert_int_equal(plan.identity_map.gpa, MEM_SIZE - 3 * 4096);
    assert_int_equal(plan.entry.rsp, plan.identity_map.gpa);
    assert_int_equal(plan.stack_gpa, plan.identity_map.gpa - BOOT_STACK_SIZE);
    assert_int_equal(plan.entry.cs.access, 0xa09b); /* 64-bit code */
    assert_string_equal(plan.warning, "");
    check_reserved_disjoint();

    apply_ok(&gi, false);
    check_segment(true, 0, 0x100000, 0x2345, 0x2345);
    check_segment(true, 2, 0x200000, 0x100, 0x5000);
    assert_int_equal(mem[0x205000], 0xaa); /* nothing written past the bss */
    assert_int_equal(mem[0xfffff], 0xaa);
    assert_int_equal(mem[0x1000], 0xaa);
    check_gdt(0x00af9b000000ffffull);
    /* identity: every 2 MiB of guest memory, and nothing above it */
    for (uint64_t va = 0; va < MEM_SIZE; va += 0x1ff000) {
        uint64_t pa;
        assert_true(guest_translate(plan.entry.cr3, va, &pa));
        assert_int_equal(pa, va);
    }
    uint64_t pa;
    assert_false(guest_translate(plan.entry.cr3, MEM_SIZE, &pa));
    assert_false(guest_translate(plan.entry.cr3, 1ull << 30, &pa));
    assert_false(guest_translate(plan.entry.cr3, 1ull << 39, &pa));

    /* zero_all clears everything else */
    apply_ok(&gi, true);
    assert_int_equal(mem[0x205000], 0);
    assert_int_equal(mem[0x1000], 0);
    check_segment(true, 2, 0x200000, 0x100, 0x5000);
}

static void test_elf64_higher_half_and_big_memory(void **state)
{
    struct seg s[] = {{0, 0xffffffff80100000ull, 0x100000, 0x1000, 0x3000}};
    size_t n = make_elf(true, 0xffffffff80100040ull, s, 1);
    struct guest_image gi = image(n);
    gi.mem_size = 3ull << 30; /* 3 GiB: PML4 + PDPT + 3 PDs, only planned */
    plan_ok(&gi);
    assert_int_equal(plan.entry.rip, 0x100040); /* entry translated to its load address */
    assert_int_equal(plan.identity_map.table_bytes, 5 * 4096);
    assert_int_equal(plan.identity_map.map_bytes, 3ull << 30);
    assert_int_equal(plan.identity_map.gpa, (3ull << 30) - 5 * 4096);
    check_reserved_disjoint();

    /* an odd size is mapped up to the next 2 MiB */
    gi.mem_size = MEM_SIZE - 0x1000;
    plan_ok(&gi);
    assert_int_equal(plan.identity_map.map_bytes, MEM_SIZE);
}

static void test_elf32_plan_and_apply(void **state)
{
    struct seg s[] = {
        {0, 0x400000, 0x400000, 0x1800, 0x1800},
        {0, 0x402000, 0x402000, 0x10, 0x2000},
    };
    size_t n = make_elf(false, 0x400100, s, 2);
    struct guest_image gi = image(n);
    plan_ok(&gi);
    assert_int_equal(plan.kind, GUEST_IMAGE_ELF32);
    assert_int_equal(plan.entry.mode, GUEST_MODE_PROT32);
    assert_int_equal(plan.entry.rip, 0x400100);
    assert_int_equal(plan.entry.cr0, 0x31);
    assert_int_equal(plan.entry.cr3, 0);
    assert_int_equal(plan.entry.cr4, 0);
    assert_int_equal(plan.entry.efer, 0);
    assert_false(plan.has_identity_map);
    assert_int_equal(plan.entry.cs.access, 0xc09b); /* 32-bit code */
    assert_int_equal(plan.entry.rsp & 0xf, 0);
    assert_true(plan.entry.rsp <= MEM_SIZE);
    check_reserved_disjoint();
    apply_ok(&gi, false);
    check_segment(false, 0, 0x400000, 0x1800, 0x1800);
    check_segment(false, 1, 0x402000, 0x10, 0x2000);
    assert_int_equal(mem[0x401800], 0xaa);
    check_gdt(0x00cf9b000000ffffull);
}

/* Parses multiboot2 boot information the way a kernel would. */
struct mb2_info {
    const char *cmdline, *loader, *module_name;
    uint32_t mod_start, mod_end, mem_lower, mem_upper;
    uint64_t mmap_base, mmap_len;
    uint32_t mmap_type, mmap_count;
    bool ended;
};

static void mb2_info_parse(uint64_t gpa, struct mb2_info *out)
{
    memset(out, 0, sizeof(*out));
    assert_int_equal(gpa & 7, 0);
    const uint8_t *b = mem + gpa;
    uint32_t total = r32(b);
    assert_true(total >= 16 && total < 4096);
    assert_int_equal(r32(b + 4), 0);
    for (uint32_t off = 8; off + 8 <= total;) {
        uint32_t type = r32(b + off), size = r32(b + off + 4);
        assert_true(size >= 8 && off + size <= total);
        const uint8_t *v = b + off + 8;
        switch (type) {
        case 0:
            assert_int_equal(size, 8);
            assert_int_equal(off + 8, total);
            out->ended = true;
            return;
        case 1:
            out->cmdline = (const char *)v;
            assert_int_equal(v[size - 9], 0);
            break;
        case 2: out->loader = (const char *)v; break;
        case 3:
            out->mod_start = r32(v);
            out->mod_end = r32(v + 4);
            out->module_name = (const char *)v + 8;
            break;
        case 4:
            assert_int_equal(size, 16);
            out->mem_lower = r32(v);
            out->mem_upper = r32(v + 4);
            break;
        case 6:
            assert_int_equal(r32(v), 24);
            assert_int_equal(r32(v + 4), 0);
            out->mmap_count = (size - 16) / 24;
            out->mmap_base = r64(v + 8);
            out->mmap_len = r64(v + 16);
            out->mmap_type = r32(v + 24);
            break;
        default: fail_msg("unexpected boot information tag %u", type);
        }
        off = (off + size + 7) & ~7u;
    }
}

static uint8_t initrd[5000];

static void test_mb2_elf_with_initrd(void **state)
{
    struct seg s[] = {{0, 0x100000, 0x100000, 0x3000, 0x8000}};
    size_t n = make_elf(false, 0x100200, s, 1);
    struct mb2b b;
    mb2_begin(&b, img + 0x1000, 0); /* first bytes of the segment */
    mb2_tag(&b, 1, 0, (const uint32_t[]){1, 6, 4, 3}, 4);
    mb2_tag(&b, 1, 1, (const uint32_t[]){14, 15}, 2); /* optional: ACPI, not provided */
    mb2_tag(&b, 6, 0, NULL, 0);                       /* module alignment */
    mb2_end(&b);
    for (unsigned i = 0; i < sizeof(initrd); i++)
        initrd[i] = (uint8_t)(i * 13 + 1);
    struct guest_image gi = image(n);
    gi.initrd = initrd;
    gi.initrd_size = sizeof(initrd);
    gi.cmdline = "console=ttyS0 quiet";
    gi.initrd_name = "guests/initrd.gz";
    plan_ok(&gi);
    assert_int_equal(plan.kind, GUEST_IMAGE_MB2_ELF);
    assert_int_equal(plan.entry.mode, GUEST_MODE_PROT32);
    assert_int_equal(plan.entry.rip, 0x100200);
    assert_int_equal(plan.entry.rax, 0x36d76289);
    assert_int_equal(plan.entry.rbx, plan.boot_info_gpa);
    assert_int_equal(plan.entry.cr0 & 0x80000001, 1); /* PE, no PG */
    assert_int_equal(plan.entry.cs.access, 0xc09b);
    assert_int_equal(plan.initrd_gpa & 0xfff, 0);
    check_reserved_disjoint();
    apply_ok(&gi, false);
    check_segment(false, 0, 0x100000, 0x3000, 0x8000);
    check_gdt(0x00cf9b000000ffffull);
    struct mb2_info info;
    mb2_info_parse(plan.entry.rbx, &info);
    assert_true(info.ended);
    assert_string_equal(info.cmdline, "console=ttyS0 quiet");
    assert_string_equal(info.loader, "Sidecore");
    assert_string_equal(info.module_name, "guests/initrd.gz");
    assert_int_equal(info.mod_start, plan.initrd_gpa);
    assert_int_equal(info.mod_end, plan.initrd_gpa + sizeof(initrd));
    assert_memory_equal(mem + info.mod_start, initrd, sizeof(initrd));
    assert_int_equal(info.mem_lower, 640);
    assert_int_equal(info.mem_upper, (MEM_SIZE >> 10) - 1024);
    assert_int_equal(info.mmap_count, 1);
    assert_int_equal(info.mmap_base, 0);
    assert_int_equal(info.mmap_len, MEM_SIZE);
    assert_int_equal(info.mmap_type, 1);
}

static void test_mb2_elf64_entry_tag_wins(void **state)
{
    struct seg s[] = {{0, 0x200000, 0x200000, 0x2000, 0x2000}};
    size_t n = make_elf(true, 0x200400, s, 1);
    struct mb2b b;
    mb2_begin(&b, img + 0x1008, 0);
    mb2_tag(&b, 3, 0, (const uint32_t[]){0x200800}, 1);
    mb2_tag(&b, 9, 0, (const uint32_t[]){0x200900}, 1); /* EFI amd64 entry: not used */
    mb2_end(&b);
    struct guest_image gi = image(n);
    plan_ok(&gi);
    assert_int_equal(plan.kind, GUEST_IMAGE_MB2_ELF);
    assert_int_equal(plan.entry.mode, GUEST_MODE_PROT32); /* multiboot2, not 64-bit entry */
    assert_int_equal(plan.entry.rip, 0x200800);
    assert_false(plan.has_identity_map);
    apply_ok(&gi, true);
    struct mb2_info info;
    mb2_info_parse(plan.entry.rbx, &info);
    assert_string_equal(info.cmdline, "");
    assert_null(info.module_name);
    assert_true(info.ended);
}

/* A flat binary: 0x40 bytes of code, the header at 0x40, more bytes. */
static size_t make_flat(uint32_t load_addr, uint32_t load_end, uint32_t bss_end, bool entry_tag,
                        bool addr_tag)
{
    memset(img, 0, sizeof(img));
    const size_t size = 0x3000;
    for (size_t i = 0; i < size; i++)
        img[i] = (uint8_t)(i * 3 + 5);
    struct mb2b b;
    mb2_begin(&b, img + 0x40, 0);
    if (addr_tag)
        mb2_tag(&b, 2, 0, (const uint32_t[]){0x100040, load_addr, load_end, bss_end}, 4);
    if (entry_tag)
        mb2_tag(&b, 3, 0, (const uint32_t[]){0x100080}, 1);
    mb2_end(&b);
    return size;
}

static void test_mb2_flat_binary(void **state)
{
    size_t n = make_flat(0x100000, 0, 0x110000, true, true);
    struct guest_image gi = image(n);
    plan_ok(&gi);
    assert_int_equal(plan.kind, GUEST_IMAGE_MB2_FLAT);
    assert_int_equal(plan.copy_count, 1);
    assert_int_equal(plan.copies[0].offset, 0);
    assert_int_equal(plan.copies[0].gpa, 0x100000);
    assert_int_equal(plan.copies[0].file_size, n);
    assert_int_equal(plan.copies[0].mem_size, 0x10000);
    assert_int_equal(plan.entry.rip, 0x100080);
    assert_int_equal(plan.entry.rax, 0x36d76289);
    apply_ok(&gi, false);
    assert_memory_equal(mem + 0x100000, img, n);
    for (uint64_t a = 0x100000 + n; a < 0x110000; a++)
        assert_int_equal(mem[a], 0);
    assert_int_equal(mem[0x110000], 0xaa);

    /* load_addr == header_addr: loading starts at the header */
    n = make_flat(0x100040, 0x101040, 0, true, true);
    gi = image(n);
    plan_ok(&gi);
    assert_int_equal(plan.copies[0].offset, 0x40);
    assert_int_equal(plan.copies[0].gpa, 0x100040);
    assert_int_equal(plan.copies[0].file_size, 0x1000);
    assert_int_equal(plan.copies[0].mem_size, 0x1000);
}

/* --- multiboot v1 --- */

static void mb1_header(uint8_t *at, uint32_t flags, const uint32_t *addr)
{
    w32(at, 0x1badb002u);
    w32(at + 4, flags);
    w32(at + 8, -(0x1badb002u + flags));
    if (addr)
        for (unsigned i = 0; i < 5; i++)
            w32(at + 12 + 4 * i, addr[i]);
}

static const char *guest_str(uint32_t gpa)
{
    assert_true(gpa < MEM_SIZE);
    return (const char *)mem + gpa;
}

/* Checks the information block at plan.entry.rbx (after apply): memory,
 * memory map, command line, loader name, and the module if mod is set. */
static void check_mb1_info(const char *cmdline, const uint8_t *mod, size_t mod_size)
{
    assert_int_equal(plan.entry.rax, 0x2badb002u);
    assert_int_equal(plan.entry.rbx, plan.boot_info_gpa);
    assert_true(plan.boot_info_gpa && (plan.boot_info_gpa & 3) == 0);
    const uint8_t *b = mem + plan.boot_info_gpa;
    uint32_t flags = r32(b);
    assert_int_equal(flags & 0x245, 0x245); /* mem, cmdline, mmap, loader */
    assert_int_equal(r32(b + 4), 640);
    assert_int_equal(r32(b + 8), (MEM_SIZE - (1 << 20)) / 1024);
    uint32_t mmap_len = r32(b + 44), mmap = r32(b + 48);
    assert_int_equal(mmap_len, 48);
    const uint8_t *e = mem + mmap;
    assert_int_equal(r32(e), 20);
    assert_int_equal(r64(e + 4), 0);
    assert_int_equal(r64(e + 12), 0xa0000);
    assert_int_equal(r32(e + 20), 1);
    assert_int_equal(r32(e + 24), 20);
    assert_int_equal(r64(e + 28), 1 << 20);
    assert_int_equal(r64(e + 36), MEM_SIZE - (1 << 20));
    assert_int_equal(r32(e + 44), 1);
    assert_string_equal(guest_str(r32(b + 16)), cmdline);
    assert_string_equal(guest_str(r32(b + 64)), "Sidecore");
    if (!mod) {
        assert_int_equal(flags & 8, 0);
        return;
    }
    assert_int_equal(flags & 8, 8);
    assert_int_equal(r32(b + 20), 1);
    const uint8_t *m = mem + r32(b + 24);
    uint32_t start = r32(m), end = r32(m + 4);
    assert_int_equal(start & 0xfff, 0);
    assert_int_equal(end - start, mod_size);
    assert_memory_equal(mem + start, mod, mod_size);
    assert_string_equal(guest_str(r32(m + 8)), "initrd");
    /* nothing the plan wrote overlaps: the block, the module, the image */
    check_reserved_disjoint();
}

static void test_elf32_gets_multiboot1_info(void **state)
{
    struct seg s[] = {{0, 0x100000, 0x100000, 0x1800, 0x1800}};
    struct guest_image gi = image(make_elf(false, 0x100100, s, 1));
    plan_ok(&gi);
    assert_int_equal(plan.kind, GUEST_IMAGE_ELF32);
    apply_ok(&gi, false);
    check_mb1_info("", NULL, 0);

    for (unsigned i = 0; i < sizeof(initrd); i++)
        initrd[i] = (uint8_t)(i * 13 + 1);
    gi.initrd = initrd;
    gi.initrd_size = sizeof(initrd);
    gi.cmdline = "console=ttyS0 mb1";
    plan_ok(&gi);
    assert_string_equal(plan.warning, "");
    apply_ok(&gi, true);
    check_mb1_info("console=ttyS0 mb1", initrd, sizeof(initrd));
}

static void test_mb1_modules(void **state)
{
    static uint8_t mod_a[3000];
    for (unsigned i = 0; i < sizeof(mod_a); i++)
        mod_a[i] = (uint8_t)(i * 7 + 3);
    for (unsigned i = 0; i < sizeof(initrd); i++)
        initrd[i] = (uint8_t)(i * 13 + 1);
    const struct guest_module_file mods[] = {
        {mod_a, sizeof(mod_a), "mod-a.bin arg1 arg2"},
        {NULL, 0, NULL}, /* an empty file, no string */
    };
    struct seg s[] = {{0, 0x100000, 0x100000, 0x1800, 0x1800}};
    struct guest_image gi = image(make_elf(false, 0x100100, s, 1));
    gi.initrd = initrd;
    gi.initrd_size = sizeof(initrd);
    gi.initrd_name = "rd.img";
    gi.modules = mods;
    gi.nmodules = 2;
    plan_ok(&gi);
    assert_string_equal(plan.warning, "");
    check_reserved_disjoint();
    apply_ok(&gi, true);
    const uint8_t *b = mem + plan.boot_info_gpa;
    assert_int_equal(r32(b) & 8, 8);
    assert_int_equal(r32(b + 20), 3);
    const uint8_t *m = mem + r32(b + 24);
    assert_int_equal(r32(m + 4) - r32(m), sizeof(initrd));
    assert_memory_equal(mem + r32(m), initrd, sizeof(initrd));
    assert_string_equal(guest_str(r32(m + 8)), "rd.img");
    assert_int_equal(r32(m + 16) & 0xfff, 0);
    assert_int_equal(r32(m + 20) - r32(m + 16), sizeof(mod_a));
    assert_memory_equal(mem + r32(m + 16), mod_a, sizeof(mod_a));
    assert_string_equal(guest_str(r32(m + 24)), "mod-a.bin arg1 arg2");
    assert_int_equal(r32(m + 36), r32(m + 32)); /* empty */
    assert_string_equal(guest_str(r32(m + 40)), "");

    /* the plan is for these modules only */
    gi.nmodules = 1;
    char err[160];
    assert_false(guest_boot_plan_apply(&plan, &gi, mem, MEM_SIZE, false, err, sizeof(err)));
    /* too many */
    const struct guest_module_file five[5] = {{0}};
    gi.modules = five;
    gi.nmodules = 5;
    plan_fails(&gi, "5 modules, at most 4");
    /* bytes missing */
    const struct guest_module_file bad[] = {{NULL, 10, "x"}};
    gi.modules = bad;
    gi.nmodules = 1;
    plan_fails(&gi, "module 0 size given without its bytes");
    /* an ELF64 kernel: loaded without them, with a warning */
    gi = image(make_elf(true, 0x100100, s, 1));
    gi.modules = mods;
    gi.nmodules = 1;
    plan_ok(&gi);
    assert_true(strstr(plan.warning, "modules ignored") != NULL);
    apply_ok(&gi, false);
}

static void test_mb1_elf_and_flat(void **state)
{
    /* ELF32 with a header (no address fields) in its first 8 KiB */
    struct seg s[] = {{0, 0x200000, 0x200000, 0x800, 0x4000}};
    size_t n = make_elf(false, 0x200010, s, 1);
    mb1_header(img + 0x800, 0x3, NULL);
    struct guest_image gi = image(n);
    gi.cmdline = "x";
    plan_ok(&gi);
    assert_int_equal(plan.kind, GUEST_IMAGE_MB1);
    assert_int_equal(plan.entry.rip, 0x200010);
    assert_int_equal(plan.entry.mode, GUEST_MODE_PROT32);
    apply_ok(&gi, false);
    check_mb1_info("x", NULL, 0);

    /* a flat binary loaded by the header's address fields (flag 16) */
    memset(img, 0, sizeof(img));
    n = 0x3000;
    for (size_t i = 0; i < n; i++)
        img[i] = (uint8_t)(i * 3 + 5);
    mb1_header(img + 0x40, 0x10002,
               (const uint32_t[]){0x100040, 0x100000, 0x102000, 0x110000, 0x100080});
    gi = image(n);
    plan_ok(&gi);
    assert_int_equal(plan.kind, GUEST_IMAGE_MB1);
    assert_int_equal(plan.copy_count, 1);
    assert_int_equal(plan.copies[0].offset, 0);
    assert_int_equal(plan.copies[0].gpa, 0x100000);
    assert_int_equal(plan.copies[0].file_size, 0x2000);
    assert_int_equal(plan.copies[0].mem_size, 0x10000);
    assert_int_equal(plan.entry.rip, 0x100080);
    apply_ok(&gi, false);
    assert_memory_equal(mem + 0x100000, img, 0x2000);
    assert_int_equal(mem[0x102000], 0);
    check_mb1_info("", NULL, 0);

    /* a multiboot2 header wins over a v1 header */
    struct mb2b b;
    mb2_begin(&b, img + 0x100, 0);
    mb2_tag(&b, 2, 0, (const uint32_t[]){0x100100, 0x100000, 0, 0}, 4);
    mb2_tag(&b, 3, 0, (const uint32_t[]){0x100080}, 1);
    mb2_end(&b);
    plan_ok(&gi);
    assert_int_equal(plan.kind, GUEST_IMAGE_MB2_FLAT);
}

static void test_malformed_multiboot1(void **state)
{
    memset(img, 0, sizeof(img));
    struct guest_image gi = image(0x3000);
    const uint32_t addr[] = {0x100040, 0x100000, 0, 0, 0x100080};
    mb1_header(img + 0x40, 0x10004, addr);
    plan_fails(&gi, "video mode");
    mb1_header(img + 0x40, 0x10008, addr);
    plan_fails(&gi, "features 0x8");
    mb1_header(img + 0x40, 0x10000, addr);
    w32(img + 0x48, 0);
    plan_fails(&gi, "checksum is wrong");
    mb1_header(img + 0x40, 0x0, NULL);
    plan_fails(&gi, "no address fields");
    mb1_header(img + 0x40, 0x10000,
               (const uint32_t[]){0x100040, 0x100041, 0, 0, 0x100080}); /* load after header */
    plan_fails(&gi, "would start before the file");
    mb1_header(img + 0x40, 0x10000, (const uint32_t[]){0x100040, 0x100000, 0x100000, 0, 0x100080});
    plan_fails(&gi, "is not above load_addr");
    mb1_header(img + 0x40, 0x10000, (const uint32_t[]){0x100040, 0x100000, 0x200000, 0, 0x100080});
    plan_fails(&gi, "truncated multiboot kernel");
    mb1_header(img + 0x40, 0x10000, (const uint32_t[]){0x100040, 0x100000, 0, 0x100100, 0x100080});
    plan_fails(&gi, "bss_end_addr");
    mb1_header(img + 0x40, 0x10000, (const uint32_t[]){0x100040, 0x100000, 0, 0, 0x200000});
    plan_fails(&gi, "entry address 0x200000 is outside");
    /* address fields cut off by the end of the file */
    gi = image(0x40 + 20);
    mb1_header(img + 0x40, 0x10000, addr);
    plan_fails(&gi, "run past the end of the file");
    /* a header past the first 8 KiB is not looked for */
    memset(img, 0, sizeof(img));
    mb1_header(img + 0x2000, 0x10000, addr);
    gi = image(0x3000);
    plan_fails(&gi, "not an ELF or multiboot image");
    /* a 64-bit ELF with a v1 header */
    struct seg s[] = {{0, 0x200000, 0x200000, 0x800, 0x800}};
    size_t n = make_elf(true, 0x200010, s, 1);
    mb1_header(img + 0x800, 0, NULL);
    gi = image(n);
    plan_fails(&gi, "64-bit ELF");
}

/* --- what must be refused --- */

static void test_bad_memory_and_magic(void **state)
{
    struct seg s[] = {{0, 0x100000, 0x100000, 0x100, 0x100}};
    size_t n = make_elf(true, 0x100000, s, 1);
    struct guest_image gi = image(n);
    gi.mem_size = MEM_SIZE + 0x800;
    plan_fails(&gi, "not a multiple of 4 KiB");
    gi.mem_size = 0x80000;
    plan_fails(&gi, "outside what the loader supports");
    gi = image(0);
    plan_fails(&gi, "empty");
    gi = image(n);
    gi.initrd_size = 10;
    plan_fails(&gi, "initrd size given without its bytes");
    memcpy(img, "MZ\x90\x00", 4);
    gi = image(n);
    plan_fails(&gi, "bad magic 4d 5a 90 00");
    gi = image(2);
    plan_fails(&gi, "bad magic");
}

static void test_malformed_elf(void **state)
{
    struct seg s[] = {{0, 0x100000, 0x100000, 0x100, 0x200}};
    size_t n = make_elf(true, 0x100000, s, 1);
    struct guest_image gi = image(40);
    plan_fails(&gi, "truncated ELF");
    gi = image(60); /* a 64-bit header needs 64 bytes */
    plan_fails(&gi, "truncated ELF");
    gi = image(100); /* program headers run past the end */
    plan_fails(&gi, "program headers");
    gi = image(0x1080); /* segment data runs past the end */
    plan_fails(&gi, "truncated ELF: ELF segment 0's data");

    gi = image(n);
    img[4] = 3;
    plan_fails(&gi, "unsupported ELF class 3");
    img[4] = 2;
    img[5] = 2;
    plan_fails(&gi, "not little-endian");
    img[5] = 1;
    w16(img + 18, 3);
    plan_fails(&gi, "unsupported ELF machine 3");
    w16(img + 18, 62);
    w16(img + 16, 3);
    plan_fails(&gi, "unsupported ELF type 3");
    w16(img + 16, 2);
    w16(img + 54, 40);
    plan_fails(&gi, "program header size 40");
    w16(img + 54, 56);
    w16(img + 56, 0);
    plan_fails(&gi, "no program headers");
    w16(img + 56, 1);
    w32(img + 64, 4); /* the only segment is PT_NOTE */
    plan_fails(&gi, "no loadable");
    w32(img + 64, 1);
    w64(img + 24, 0x100100); /* in the bss, not in file bytes */
    plan_fails(&gi, "entry point 0x100100 is outside the loaded segments");
    w64(img + 24, 0x100000);
    plan_ok(&gi);

    /* a 32-bit machine in a 32-bit file is fine, x86-64 is not */
    struct seg s32[] = {{0, 0x100000, 0x100000, 0x100, 0x100}};
    n = make_elf(false, 0x100000, s32, 1);
    gi = image(n);
    w16(img + 18, 62);
    plan_fails(&gi, "expected i386");
}

static void test_elf_segments_refused(void **state)
{
    struct guest_image gi;
    /* outside guest memory */
    struct seg out[] = {{0, 0xf00000, 0xf00000, 0x100, 0x200000}};
    gi = image(make_elf(true, 0xf00000, out, 1));
    plan_fails(&gi, "lies outside guest memory");
    /* wrapping around the address space */
    struct seg wrap[] = {{0, 0xfffffffffffff000ull, 0xfffffffffffff000ull, 0x100, 0x2000}};
    gi = image(make_elf(true, 0xfffffffffffff000ull, wrap, 1));
    plan_fails(&gi, "lies outside guest memory");
    /* overlapping */
    struct seg ov[] = {{0, 0x100000, 0x100000, 0x100, 0x2000}, {0, 0x101000, 0x101000, 0x10, 0x10}};
    gi = image(make_elf(true, 0x100000, ov, 2));
    plan_fails(&gi, "ELF segment 1 (0x101000-0x10100f) overlaps ELF segment 0");
    /* file size above memory size */
    struct seg fm[] = {{0, 0x100000, 0x100000, 0x200, 0x100}};
    gi = image(make_elf(true, 0x100000, fm, 1));
    plan_fails(&gi, "file size 0x200 is larger than its memory size 0x100");
    /* too large as a whole */
    struct seg big[] = {{0, 0x0, 0x0, 0x100, 0x800000}, {0, 0x800000, 0x800000, 0x100, 0x900000}};
    gi = image(make_elf(true, 0x100, big, 2));
    plan_fails(&gi, "image too large for the guest");
    /* fills memory: no room for the page tables */
    struct seg all[] = {{0, 0x0, 0x0, 0x100, MEM_SIZE}};
    gi = image(make_elf(true, 0x10, all, 1));
    plan_fails(&gi, "no room for the identity page tables");
    /* ELF32 above 4 GiB in an 8 GiB guest */
    struct seg hi[] = {{0, 0xfffff000, 0xfffff000, 0x100, 0x2000}};
    gi = image(make_elf(false, 0xfffff000, hi, 1));
    gi.mem_size = 8ull << 30;
    plan_fails(&gi, "above 4 GiB");
    /* too many segments */
    struct seg many[17];
    for (unsigned i = 0; i < 17; i++)
        many[i] = (struct seg){0, 0x100000 + i * 0x1000, 0x100000 + i * 0x1000, 0x10, 0x10};
    gi = image(make_elf(true, 0x100000, many, 17));
    plan_fails(&gi, "too many");
    /* a 64-bit guest bigger than the identity map covers */
    struct seg one[] = {{0, 0x100000, 0x100000, 0x10, 0x10}};
    gi = image(make_elf(true, 0x100000, one, 1));
    gi.mem_size = 513ull << 30;
    plan_fails(&gi, "identity map");
    /* an initrd next to a plain ELF: loaded without it, with a warning */
    gi = image(make_elf(true, 0x100000, one, 1));
    gi.initrd = initrd;
    gi.initrd_size = 100;
    plan_ok(&gi);
    assert_true(strstr(plan.warning, "initrd ignored") != NULL);
    assert_int_equal(plan.copy_count, 1);
}

static void test_malformed_multiboot2(void **state)
{
    struct guest_image gi;
    size_t n;
    /* bad checksum on a flat file */
    n = make_flat(0x100000, 0, 0, true, true);
    img[0x4c] ^= 1;
    gi = image(n);
    plan_fails(&gi, "checksum");
    /* unsupported architecture */
    n = make_flat(0x100000, 0, 0, true, true);
    struct mb2b b;
    mb2_begin(&b, img + 0x40, 4);
    mb2_end(&b);
    gi = image(n);
    plan_fails(&gi, "architecture 4");
    /* no address tag, no entry tag */
    gi = image(make_flat(0x100000, 0, 0, true, false));
    plan_fails(&gi, "no address tag");
    gi = image(make_flat(0x100000, 0, 0, false, true));
    plan_fails(&gi, "no entry address tag");
    /* load_addr above header_addr; loading from before the file */
    gi = image(make_flat(0x100080, 0, 0, true, true));
    plan_fails(&gi, "load_addr 0x100080");
    gi = image(make_flat(0xf0000, 0, 0, true, true));
    plan_fails(&gi, "would start before the file");
    /* truncated: the tag loads more than the file has */
    gi = image(make_flat(0x100000, 0x104000, 0, true, true));
    plan_fails(&gi, "truncated multiboot2 kernel");
    gi = image(make_flat(0x100000, 0xff000, 0, true, true));
    plan_fails(&gi, "is not above load_addr");
    gi = image(make_flat(0x100000, 0, 0x101000, true, true));
    plan_fails(&gi, "bss_end_addr 0x101000 is below");
    /* outside memory, too large */
    gi = image(make_flat(0x100000, 0, 0x1100000, true, true));
    plan_fails(&gi, "outside guest memory");
    gi = image(make_flat(0x100000, 0, 0x1200000, true, true));
    plan_fails(&gi, "image too large");
    /* entry outside the image */
    n = make_flat(0x100000, 0, 0, false, true);
    mb2_begin(&b, img + 0x40, 0);
    mb2_tag(&b, 2, 0, (const uint32_t[]){0x100040, 0x100000, 0, 0}, 4);
    mb2_tag(&b, 3, 0, (const uint32_t[]){0x200000}, 1);
    mb2_end(&b);
    gi = image(n);
    plan_fails(&gi, "entry address 0x200000 is outside the loaded image");
    /* required boot information we do not provide; optional is fine */
    mb2_begin(&b, img + 0x40, 0);
    mb2_tag(&b, 1, 0, (const uint32_t[]){1, 14}, 2);
    mb2_tag(&b, 2, 0, (const uint32_t[]){0x100040, 0x100000, 0, 0}, 4);
    mb2_tag(&b, 3, 0, (const uint32_t[]){0x100080}, 1);
    mb2_end(&b);
    plan_fails(&gi, "requires boot information tag 14");
    w16(img + 0x40 + 16 + 2, 1); /* make that request optional; checksum unaffected */
    plan_ok(&gi);
    /* a required framebuffer; an unknown required tag; an optional unknown tag */
    mb2_begin(&b, img + 0x40, 0);
    mb2_tag(&b, 5, 0, (const uint32_t[]){1024, 768, 32}, 3);
    mb2_end(&b);
    plan_fails(&gi, "header tag 5 (framebuffer)");
    mb2_begin(&b, img + 0x40, 0);
    mb2_tag(&b, 77, 0, NULL, 0);
    mb2_end(&b);
    plan_fails(&gi, "header tag 77 (unknown)");
    mb2_begin(&b, img + 0x40, 0);
    mb2_tag(&b, 77, 1, NULL, 0);
    mb2_tag(&b, 2, 0, (const uint32_t[]){0x100040, 0x100000, 0, 0}, 4);
    mb2_tag(&b, 3, 0, (const uint32_t[]){0x100080}, 1);
    mb2_end(&b);
    plan_ok(&gi);
    /* a tag with a bad size; a header without an end tag */
    mb2_begin(&b, img + 0x40, 0);
    mb2_tag(&b, 3, 0, (const uint32_t[]){0x100080}, 1);
    mb2_end(&b);
    w32(img + 0x40 + 16 + 4, 4);
    plan_fails(&gi, "bad size 4");
    mb2_begin(&b, img + 0x40, 0);
    mb2_tag(&b, 3, 0, (const uint32_t[]){0x100080}, 1);
    w32(img + 0x40 + 8, (uint32_t)b.len);
    w32(img + 0x40 + 12, -(0xe85250d6u + (uint32_t)b.len));
    plan_fails(&gi, "multiboot2 header has no end tag");
    memset(img + 0x40 + b.len, 0xee, 16); /* garbage where the end tag would be */
    w32(img + 0x40 + 8, (uint32_t)b.len + 8);
    w32(img + 0x40 + 12, -(0xe85250d6u + (uint32_t)b.len + 8));
    plan_fails(&gi, "bad size");
    /* a header past the first 32 KiB does not count */
    memset(img, 0, IMG_CAP);
    mb2_begin(&b, img + 0x8000, 0);
    mb2_tag(&b, 3, 0, (const uint32_t[]){0x100080}, 1);
    mb2_end(&b);
    gi = image(0x9000);
    plan_fails(&gi, "not an ELF or multiboot image");
    /* and one that starts inside but runs past 32 KiB is refused */
    memset(img, 0, IMG_CAP);
    mb2_begin(&b, img + 0x7ff0, 0);
    mb2_tag(&b, 3, 0, (const uint32_t[]){0x100080}, 1);
    mb2_end(&b);
    plan_fails(&gi, "runs past the first 32 KiB");
}

static void test_mb2_resource_limits(void **state)
{
    static uint8_t big_initrd[2 << 20];
    char cmd[3000];
    size_t n = make_flat(0x100000, 0, 0, true, true);
    struct guest_image gi = image(n);
    memset(cmd, 'x', sizeof(cmd) - 1);
    cmd[sizeof(cmd) - 1] = 0;
    gi.cmdline = cmd;
    plan_fails(&gi, "command line is longer");
    gi.cmdline = NULL;
    gi.mem_size = 2 << 20; /* 2 MiB guest, 1 MiB kernel region: a 2 MiB initrd cannot fit */
    gi.initrd = big_initrd;
    gi.initrd_size = sizeof(big_initrd);
    plan_fails(&gi, "initrd (2097152 bytes) does not fit");
}

static void test_apply_refuses_bad_plans(void **state)
{
    struct seg s[] = {{0, 0x100000, 0x100000, 0x100, 0x100}};
    size_t n = make_elf(true, 0x100000, s, 1);
    struct guest_image gi = image(n);
    plan_ok(&gi);
    char err[160];
    memset(mem, 0xaa, MEM_SIZE);
    assert_false(guest_boot_plan_apply(&plan, &gi, mem, MEM_SIZE - 4096, false, err, sizeof(err)));
    assert_true(strstr(err, "another memory size") != NULL);
    struct guest_image other = gi;
    other.size = n - 1;
    assert_false(guest_boot_plan_apply(&plan, &other, mem, MEM_SIZE, false, err, sizeof(err)));
    struct guest_boot_plan bad = plan;
    bad.copies[0].gpa = MEM_SIZE - 0x80; /* past the end: refused before any write */
    assert_false(guest_boot_plan_apply(&bad, &gi, mem, MEM_SIZE, true, err, sizeof(err)));
    assert_true(strstr(err, "outside guest memory") != NULL);
    bad = plan;
    bad.copies[0].offset = n; /* reads past the image */
    assert_false(guest_boot_plan_apply(&bad, &gi, mem, MEM_SIZE, true, err, sizeof(err)));
    bad = plan;
    bad.blobs[0].size = 5000; /* more than the data area holds */
    assert_false(guest_boot_plan_apply(&bad, &gi, mem, MEM_SIZE, true, err, sizeof(err)));
    bad = plan;
    bad.identity_map.gpa = MEM_SIZE - 4096;
    assert_false(guest_boot_plan_apply(&bad, &gi, mem, MEM_SIZE, true, err, sizeof(err)));
    for (uint64_t i = 0; i < MEM_SIZE; i += 4093)
        assert_int_equal(mem[i], 0xaa); /* nothing was written, not even zero_all */
}

static int setup(void **state)
{
    mem = malloc(MEM_SIZE);
    return mem ? 0 : -1;
}

static int teardown(void **state)
{
    free(mem);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elf64_plan_and_apply),
        cmocka_unit_test(test_elf64_higher_half_and_big_memory),
        cmocka_unit_test(test_elf32_plan_and_apply),
        cmocka_unit_test(test_elf32_gets_multiboot1_info),
        cmocka_unit_test(test_mb1_elf_and_flat),
        cmocka_unit_test(test_mb1_modules),
        cmocka_unit_test(test_malformed_multiboot1),
        cmocka_unit_test(test_mb2_elf_with_initrd),
        cmocka_unit_test(test_mb2_elf64_entry_tag_wins),
        cmocka_unit_test(test_mb2_flat_binary),
        cmocka_unit_test(test_bad_memory_and_magic),
        cmocka_unit_test(test_malformed_elf),
        cmocka_unit_test(test_elf_segments_refused),
        cmocka_unit_test(test_malformed_multiboot2),
        cmocka_unit_test(test_mb2_resource_limits),
        cmocka_unit_test(test_apply_refuses_bad_plans),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
