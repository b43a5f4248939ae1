/* SPDX-License-Identifier: MIT */
/* Unit tests for the PVH boot of an uncompressed Linux vmlinux: a synthetic
 * ELF64 with two loadable segments and a note segment carrying Xen's
 * PHYS32_ENTRY note is planned and applied to a guest memory buffer, and
 * the result is read back as the kernel's pvh_start_xen would: the entry
 * registers, hvm_start_info with its module list and memory map, the
 * command line, the initrd and the segments. Every refusal is provoked,
 * an ELF without the note stays a plain ELF, and the real kernel is
 * planned when one is at hand (LINUX_VMLINUX=path, or $BUILD/linux/vmlinux).
 * test-sources: vmm/loader/boot_plan.c vmm/loader/boot_apply.c vmm/loader/elf_plan.c vmm/loader/entry_state.c vmm/loader/multiboot2_plan.c vmm/loader/multiboot1_plan.c vmm/loader/plan_util.c vmm/loader/bzimage.c vmm/loader/linux_plan.c vmm/loader/pvh_plan.c kernel/lib/fmt.c kernel/lib/str.c
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
#include "vmm/loader/linux_plan.h"

#define MIB      (1ull << 20)
#define MEM_SIZE (64 * MIB)
#define IMG_CAP  0x8000u

static uint8_t img[IMG_CAP];
static uint8_t initrd[2 * 4096 + 77];
static struct guest_boot_plan plan;

/* --- a synthetic vmlinux --- */

#define TEXT_OFF    0x1000u
#define TEXT_FILESZ 0x2000u
#define TEXT_PADDR  0x1000000ull
#define DATA_OFF    0x3000u
#define DATA_FILESZ 0x800u
#define DATA_MEMSZ  0x5000u /* .bss after the file bytes */
#define DATA_PADDR  0x1400000ull
#define NOTE_OFF    0x600u
#define ENTRY       (TEXT_PADDR + 0x850)

static uint8_t text_byte(uint64_t i)
{
    return (uint8_t)(i * 7 + 3);
}

static void phdr(unsigned i, uint32_t type, uint64_t off, uint64_t paddr, uint64_t filesz,
                 uint64_t memsz)
{
    uint8_t *p = img + 64 + i * 56;
    w32(p, type);
    w32(p + 4, 5);
    w64(p + 8, off);
    w64(p + 16, 0xffffffff80000000ull + paddr); /* the kernel's virtual address */
    w64(p + 24, paddr);
    w64(p + 32, filesz);
    w64(p + 40, memsz);
    w64(p + 48, 0x1000);
}

/* Appends a note at *at: name (with its NUL), type, desc bytes. */
static void note(unsigned *at, const char *name, uint32_t type, const void *desc, uint32_t dsz)
{
    uint32_t nsz = (uint32_t)strlen(name) + 1;
    w32(img + *at, nsz);
    w32(img + *at + 4, dsz);
    w32(img + *at + 8, type);
    memcpy(img + *at + 12, name, nsz);
    unsigned d = *at + 12 + ((nsz + 3) & ~3u);
    memcpy(img + d, desc, dsz);
    *at = d + ((dsz + 3) & ~3u);
}

/* An x86-64 EXEC ELF like a vmlinux: text, data+bss, and a note segment
 * with a Xen note of another type, a GNU note, then the PVH entry note
 * (entry_size bytes: 8 as _ASM_PTR makes it, or 4). Returns the size. */
static size_t make_vmlinux(uint32_t entry_size, uint64_t entry)
{
    memset(img, 0, sizeof(img));
    memcpy(img, "\177ELF", 4);
    img[4] = 2; /* ELFCLASS64 */
    img[5] = 1; /* little-endian */
    img[6] = 1;
    w16(img + 16, 2);  /* ET_EXEC */
    w16(img + 18, 62); /* EM_X86_64 */
    w32(img + 20, 1);
    w64(img + 24, TEXT_PADDR); /* e_entry: a physical address, in no segment's vaddr range */
    w64(img + 32, 64);         /* e_phoff */
    w16(img + 52, 64);
    w16(img + 54, 56);
    w16(img + 56, 3);
    unsigned at = NOTE_OFF;
    uint64_t virt_base = 0xffffffff80000000ull;
    note(&at, "Xen", 3, &virt_base, 8); /* XEN_ELFNOTE_VIRT_BASE */
    static const uint8_t build_id[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    note(&at, "GNU", 3, build_id, sizeof(build_id));
    note(&at, "Xen", PVH_NOTE_PHYS32_ENTRY, &entry, entry_size);
    phdr(0, 1, TEXT_OFF, TEXT_PADDR, TEXT_FILESZ, TEXT_FILESZ);
    phdr(1, 1, DATA_OFF, DATA_PADDR, DATA_FILESZ, DATA_MEMSZ);
    phdr(2, 4, NOTE_OFF, 0, at - NOTE_OFF, at - NOTE_OFF);
    for (uint32_t i = 0; i < TEXT_FILESZ; i++)
        img[TEXT_OFF + i] = text_byte(i);
    memset(img + DATA_OFF, 0xd7, DATA_FILESZ);
    return DATA_OFF + DATA_FILESZ;
}

static struct guest_image image(size_t size, uint64_t mem, const char *cmdline, bool with_initrd)
{
    for (size_t i = 0; i < sizeof(initrd); i++)
        initrd[i] = (uint8_t)(i * 5 + 1);
    return (struct guest_image){
        .data = img,
        .size = size,
        .initrd = with_initrd ? initrd : NULL,
        .initrd_size = with_initrd ? sizeof(initrd) : 0,
        .cmdline = cmdline,
        .mem_size = mem,
    };
}

static void plan_fails(const struct guest_image *gi, const char *expect)
{
    bool ok = guest_boot_plan_build(gi, &plan);
    if (ok || !strstr(plan.error, expect))
        fail_msg("expected failure containing \"%s\", got %s: \"%s\"", expect,
                 ok ? "success" : "failure", plan.error);
}

static uint8_t *apply(const struct guest_image *gi)
{
    uint8_t *mem = malloc(gi->mem_size);
    assert_non_null(mem);
    memset(mem, 0xcc, gi->mem_size);
    char err[160] = "";
    if (!guest_boot_plan_apply(&plan, gi, mem, gi->mem_size, true, err, sizeof(err)))
        fail_msg("apply: %s", err);
    return mem;
}

/* --- tests --- */

static void test_plan_and_apply(void **state)
{
    (void)state;
    const char *cmd = "console=ttyS0 root=/dev/vda";
    struct guest_image gi = image(make_vmlinux(8, ENTRY), MEM_SIZE, cmd, true);
    if (!guest_boot_plan_build(&gi, &plan))
        fail_msg("plan failed: %s", plan.error);
    assert_int_equal(plan.kind, GUEST_IMAGE_PVH);
    assert_string_equal(guest_image_kind_name(plan.kind), "Linux PVH vmlinux");
    assert_false(plan.has_identity_map);
    assert_int_equal(plan.acpi_gpa, LINUX_ACPI_GPA);
    assert_int_equal(plan.acpi_size, LINUX_ACPI_SIZE);

    /* pvh_start_xen's entry state: 32-bit flat, paging off, EBX = start info. */
    const struct boot_entry_state *e = &plan.entry;
    assert_int_equal(e->mode, GUEST_MODE_PROT32);
    assert_int_equal(e->rip, ENTRY);
    assert_int_equal(e->rbx, PVH_START_INFO_GPA);
    assert_int_equal(e->cr0 & 0x80000001u, 1); /* PE, not PG */
    assert_int_equal(e->cr4, 0);
    assert_int_equal(e->efer, 0);
    assert_int_equal(e->rflags & 0x200, 0); /* interrupts off */
    assert_int_equal(e->cs.base, 0);
    assert_int_equal(e->cs.limit, 0xffffffffu);
    assert_int_equal(e->cs.access & 0x4000, 0x4000); /* D: 32-bit code */
    assert_int_equal(e->cs.access & 0x2000, 0);      /* not L */
    assert_int_equal(e->ds.limit, 0xffffffffu);

    uint8_t *mem = apply(&gi);
    /* Segments at their physical addresses; .bss zeroed past the file bytes. */
    for (uint32_t i = 0; i < TEXT_FILESZ; i++)
        if (mem[TEXT_PADDR + i] != text_byte(i))
            fail_msg("text byte %u wrong", i);
    for (uint32_t i = 0; i < DATA_MEMSZ; i++)
        assert_int_equal(mem[DATA_PADDR + i], i < DATA_FILESZ ? 0xd7 : 0);

    /* hvm_start_info. */
    const uint8_t *si = mem + PVH_START_INFO_GPA;
    assert_int_equal(r32(si + PVH_SI_MAGIC), PVH_START_MAGIC);
    assert_int_equal(r32(si + PVH_SI_VERSION), 1);
    assert_int_equal(r32(si + PVH_SI_NR_MODULES), 1);
    assert_int_equal(r64(si + PVH_SI_RSDP_PADDR), LINUX_ACPI_GPA);
    uint64_t cmdline = r64(si + PVH_SI_CMDLINE_PADDR);
    assert_string_equal((const char *)mem + cmdline, cmd);

    /* The module list: the initrd, page-aligned, above 1 MiB, clear of the kernel. */
    uint64_t mods = r64(si + PVH_SI_MODLIST_PADDR);
    uint64_t rd = r64(mem + mods), rd_size = r64(mem + mods + 8);
    assert_int_equal(rd_size, sizeof(initrd));
    assert_int_equal(rd, plan.initrd_gpa);
    assert_int_equal(rd & 0xfff, 0);
    assert_true(rd >= DATA_PADDR + DATA_MEMSZ || rd + rd_size <= TEXT_PADDR);
    assert_true(rd + rd_size <= MEM_SIZE);
    assert_memory_equal(mem + rd, initrd, sizeof(initrd));
    assert_int_equal(r64(mem + mods + 16), 0); /* no module command line */

    /* The memory map: the same ranges the bzImage path's e820 names. */
    struct linux_e820_entry want[LINUX_E820_BUILT_MAX];
    unsigned n = linux_e820_build(MEM_SIZE, want, LINUX_E820_BUILT_MAX);
    assert_int_equal(r32(si + PVH_SI_MEMMAP_ENTRIES), n);
    uint64_t map = r64(si + PVH_SI_MEMMAP_PADDR);
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *m = mem + map + i * PVH_MEMMAP_ENTRY_SIZE;
        assert_int_equal(r64(m), want[i].addr);
        assert_int_equal(r64(m + 8), want[i].size);
        assert_int_equal(r32(m + 16), want[i].type);
    }
    assert_int_equal(want[n - 1].addr + want[n - 1].size, MEM_SIZE);

    /* The GDT the entry selectors name. */
    uint64_t code = r64(mem + e->gdt_base + e->cs.selector);
    assert_int_equal((code >> 40) & 0xf0ff, e->cs.access);
    free(mem);
}

static void test_without_initrd_or_cmdline(void **state)
{
    (void)state;
    struct guest_image gi = image(make_vmlinux(4, ENTRY), MEM_SIZE, NULL, false);
    if (!guest_boot_plan_build(&gi, &plan))
        fail_msg("plan failed: %s", plan.error);
    assert_int_equal(plan.entry.rip, ENTRY); /* a 4-byte note works too */
    uint8_t *mem = apply(&gi);
    const uint8_t *si = mem + PVH_START_INFO_GPA;
    assert_int_equal(r32(si + PVH_SI_NR_MODULES), 0);
    assert_int_equal(r64(si + PVH_SI_MODLIST_PADDR), 0);
    assert_int_equal(mem[r64(si + PVH_SI_CMDLINE_PADDR)], 0);
    free(mem);
}

static void test_refusals(void **state)
{
    (void)state;
    struct guest_image gi = image(make_vmlinux(2, ENTRY), MEM_SIZE, "", false);
    plan_fails(&gi, "PVH entry note has 2 bytes");
    gi = image(make_vmlinux(8, 0x100000000ull), MEM_SIZE, "", false);
    plan_fails(&gi, "not below 4 GiB");
    gi = image(make_vmlinux(8, DATA_PADDR + DATA_FILESZ + 8), MEM_SIZE, "", false);
    plan_fails(&gi, "outside the kernel's loaded bytes"); /* in .bss: no code there */
    gi = image(make_vmlinux(8, ENTRY), 4ull << 30, "", false);
    plan_fails(&gi, "larger than the 3 GiB");
    static char long_cmd[PVH_CMDLINE_MAX + 2];
    memset(long_cmd, 'x', PVH_CMDLINE_MAX + 1);
    gi = image(make_vmlinux(8, ENTRY), MEM_SIZE, long_cmd, false);
    plan_fails(&gi, "command line too long");
    long_cmd[PVH_CMDLINE_MAX] = 0; /* exactly the maximum is fine */
    gi = image(make_vmlinux(8, ENTRY), MEM_SIZE, long_cmd, false);
    assert_true(guest_boot_plan_build(&gi, &plan));
    /* The kernel needs memory the guest does not have. */
    gi = image(make_vmlinux(8, ENTRY), 16 * MIB, "", false);
    assert_false(guest_boot_plan_build(&gi, &plan));
    /* No room for the initrd below or above the kernel (the plan reads
     * only its size). */
    gi = image(make_vmlinux(8, ENTRY), MEM_SIZE, "", true);
    gi.initrd_size = MEM_SIZE - DATA_PADDR;
    plan_fails(&gi, "initrd too large");
}

/* Without the PVH note (or with one that runs past its segment) the file
 * is an ordinary ELF64 and is planned as one. */
static void test_not_pvh(void **state)
{
    (void)state;
    size_t size = make_vmlinux(8, ENTRY);
    w32(img + NOTE_OFF + 60 + 8, 99); /* the entry note's type (after 24 + 36 bytes of notes) */
    w64(img + 24, 0xffffffff80000000ull + TEXT_PADDR); /* an e_entry a plain ELF can use */
    struct guest_image gi = image(size, MEM_SIZE, "", false);
    if (!guest_boot_plan_build(&gi, &plan))
        fail_msg("plan failed: %s", plan.error);
    assert_int_equal(plan.kind, GUEST_IMAGE_ELF64);
    assert_int_equal(plan.acpi_size, 0);

    size = make_vmlinux(8, ENTRY);
    w64(img + 24, 0xffffffff80000000ull + TEXT_PADDR);
    w64(img + 64 + 2 * 56 + 32, 80); /* the note segment ends inside the entry note */
    gi = image(size, MEM_SIZE, "", false);
    assert_true(guest_boot_plan_build(&gi, &plan));
    assert_int_equal(plan.kind, GUEST_IMAGE_ELF64);

    size = make_vmlinux(8, ENTRY);
    w64(img + 64 + 2 * 56 + 8, IMG_CAP); /* the note segment lies past the file */
    w64(img + 24, 0xffffffff80000000ull + TEXT_PADDR);
    gi = image(size, MEM_SIZE, "", false);
    assert_true(guest_boot_plan_build(&gi, &plan));
    assert_int_equal(plan.kind, GUEST_IMAGE_ELF64);
}

/* Debian's kernel, made by tools/linux-guest/vmlinux-pvh.py, when present. */
static void test_real_kernel(void **state)
{
    (void)state;
    const char *path = getenv("LINUX_VMLINUX");
    char built[256];
    if (!path) {
        const char *build = getenv("BUILD");
        snprintf(built, sizeof(built), "%s/linux/vmlinux", build ? build : "build");
        path = built;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        print_message("no vmlinux at %s (make linux-guest, or set LINUX_VMLINUX): skipped\n", path);
        skip();
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc((size_t)size);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    struct guest_image gi = {.data = data,
                             .size = (uint64_t)size,
                             .cmdline = "console=ttyS0",
                             .initrd = initrd,
                             .initrd_size = sizeof(initrd),
                             .mem_size = 128 * MIB};
    if (!guest_boot_plan_build(&gi, &plan))
        fail_msg("plan failed: %s", plan.error);
    assert_int_equal(plan.kind, GUEST_IMAGE_PVH);
    assert_true(plan.entry.rip >= 0x1000000 && plan.entry.rip < 0x2000000);
    printf("    vmlinux: %ld bytes, PVH entry 0x%llx, initrd at 0x%llx\n", size,
           (unsigned long long)plan.entry.rip, (unsigned long long)plan.initrd_gpa);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_and_apply), cmocka_unit_test(test_without_initrd_or_cmdline),
        cmocka_unit_test(test_refusals),       cmocka_unit_test(test_not_pvh),
        cmocka_unit_test(test_real_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
