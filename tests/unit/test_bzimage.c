/* SPDX-License-Identifier: MIT */
/* Unit tests for the Linux bzImage loader: synthetic bzImages (a setup
 * header, padding and a patterned "kernel") are parsed, planned and applied
 * to a guest memory buffer, and the result is read back as the kernel would
 * see it: boot_params and its e820 map, the command line and initrd, the GDT
 * selectors, the identity page tables and the entry registers. Every
 * refusal the loader promises is provoked, and Debian's real kernel is
 * parsed when one is at hand (LINUX_BZIMAGE=path or /boot/vmlinuz-*).
 * test-sources: vmm/loader/boot_plan.c vmm/loader/boot_apply.c vmm/loader/elf_plan.c vmm/loader/entry_state.c vmm/loader/multiboot2_plan.c vmm/loader/multiboot1_plan.c vmm/loader/plan_util.c vmm/loader/bzimage.c vmm/loader/linux_plan.c vmm/loader/pvh_plan.c vmm/acpi/guest_acpi.c vmm/acpi/acpi_writer.c vmm/acpi/guest_fadt.c vmm/acpi/guest_madt.c vmm/acpi/guest_mcfg.c vmm/acpi/guest_dsdt.c vmm/acpi/aml.c kernel/lib/fmt.c kernel/lib/str.c
 */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/le_bytes.h"

#include "vmm/acpi/guest_acpi.h"
#include "vmm/loader/boot_plan.h"
#include "vmm/loader/bzimage.h"
#include "vmm/loader/linux_plan.h"

#define MIB      (1ull << 20)
#define MEM_SIZE (32 * MIB)
#define IMG_CAP  (1u << 20)

static uint8_t img[IMG_CAP];
static uint8_t initrd[3 * 4096 + 123];
static struct guest_boot_plan plan;

/* --- a synthetic bzImage --- */

#define SETUP_SECTS 3
#define SETUP_SIZE  ((SETUP_SECTS + 1) * 512)
#define KERNEL_SIZE 0x10000u /* protected-mode kernel bytes */

static uint8_t kernel_byte(uint64_t i)
{
    return (uint8_t)(i * 13 + 7);
}

/* A protocol 2.15 relocatable 64-bit kernel: 4 MiB init_size, preferred
 * at 16 MiB, 2 MiB aligned. Returns the file size. */
static size_t make_bz(void)
{
    memset(img, 0, sizeof(img));
    img[BZ_SETUP_SECTS] = SETUP_SECTS;
    w32(img + BZ_SYSSIZE, KERNEL_SIZE / 16);
    w16(img + BZ_BOOT_FLAG, 0xaa55);
    img[BZ_JUMP] = 0xeb;
    img[BZ_JUMP + 1] = 0x6a; /* header ends at 0x26c */
    memcpy(img + BZ_HEADER_MAGIC, "HdrS", 4);
    w16(img + BZ_VERSION, 0x020f);
    img[BZ_LOADFLAGS] = BZ_LOADED_HIGH;
    w32(img + BZ_CODE32_START, 0x100000);
    w32(img + BZ_INITRD_ADDR_MAX, 0x7fffffff);
    w32(img + BZ_KERNEL_ALIGNMENT, 0x200000);
    img[BZ_RELOCATABLE_KERNEL] = 1;
    img[0x235] = 21; /* min_alignment */
    w16(img + BZ_XLOADFLAGS, 0x7f);
    w32(img + BZ_CMDLINE_SIZE, 0x7ff);
    w64(img + BZ_SETUP_DATA, 0xdeadbeef000ull); /* a loader field left dirty */
    w32(img + BZ_HARDWARE_SUBARCH, 3);
    w64(img + BZ_PREF_ADDRESS, 0x1000000);
    w32(img + BZ_INIT_SIZE, 0x400000);
    w32(img + 0x268, 0x1234); /* kernel_info_offset, last header field */
    img[0x26c] = 0x99;        /* past the header: must not be copied */
    for (uint32_t i = 0; i < KERNEL_SIZE; i++)
        img[SETUP_SIZE + i] = kernel_byte(i);
    return SETUP_SIZE + KERNEL_SIZE;
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

static void parse_fails(size_t size, const char *expect)
{
    struct bzimage_header h;
    char err[BZ_ERROR_LEN] = "";
    bool ok = bzimage_parse(img, size, &h, err, sizeof(err));
    if (ok || !strstr(err, expect))
        fail_msg("expected parse failure containing \"%s\", got %s: \"%s\"", expect,
                 ok ? "success" : "failure", err);
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

/* Walks the guest's 4-level tables (2 MiB leaves) like the MMU would. */
static bool guest_translate(const uint8_t *mem, uint64_t mem_size, uint64_t cr3, uint64_t va,
                            uint64_t *pa)
{
    uint64_t table = cr3 & ~0xfffull;
    for (int level = 3; level >= 1; level--) {
        unsigned idx = (va >> (12 + 9 * level)) & 511;
        if (table + idx * 8 + 8 > mem_size)
            return false;
        uint64_t e = r64(mem + table + idx * 8);
        if (!(e & 1) || !(e & 2))
            return false;
        if (level == 1) {
            if (!(e & 0x80))
                return false;
            *pa = (e & ~0x1fffffull & ((1ull << 52) - 1)) | (va & 0x1fffff);
            return true;
        }
        table = e & ~0xfffull & ((1ull << 52) - 1);
    }
    return false;
}

/* --- the setup header parser --- */

static void test_parse_good(void **state)
{
    (void)state;
    size_t size = make_bz();
    struct bzimage_header h;
    char err[BZ_ERROR_LEN];
    assert_true(bzimage_parse(img, size, &h, err, sizeof(err)));
    assert_int_equal(h.version, 0x020f);
    assert_int_equal(h.setup_sects, SETUP_SECTS);
    assert_int_equal(h.setup_size, SETUP_SIZE);
    assert_int_equal(h.kernel_size, KERNEL_SIZE);
    assert_int_equal(h.header_end, 0x26c);
    assert_int_equal(h.xloadflags, 0x7f);
    assert_int_equal(h.initrd_addr_max, 0x7fffffff);
    assert_int_equal(h.kernel_alignment, 0x200000);
    assert_true(h.relocatable);
    assert_int_equal(h.cmdline_size, 0x7ff);
    assert_int_equal(h.pref_address, 0x1000000);
    assert_int_equal(h.init_size, 0x400000);

    /* setup_sects 0 means 4 */
    img[BZ_SETUP_SECTS] = 0;
    memmove(img + 5 * 512, img + SETUP_SIZE, KERNEL_SIZE);
    assert_true(bzimage_parse(img, 5 * 512 + KERNEL_SIZE, &h, err, sizeof(err)));
    assert_int_equal(h.setup_size, 5 * 512);
    /* extra bytes after the kernel (a signature) are fine */
    size = make_bz();
    assert_true(bzimage_parse(img, size + 1472, &h, err, sizeof(err)));
    /* a header claiming to reach past boot_params' header area is clamped */
    img[BZ_JUMP + 1] = 0xff;
    assert_true(bzimage_parse(img, size, &h, err, sizeof(err)));
    assert_int_equal(h.header_end, BZ_HDR_MAX_END);
}

static void test_parse_refusals(void **state)
{
    (void)state;
    size_t size = make_bz();
    parse_fails(size - 1, "truncated bzImage");
    parse_fails(SETUP_SIZE, "truncated bzImage");
    parse_fails(0x200, "truncated bzImage: 512 bytes, shorter than its setup header");
    parse_fails(0, "truncated");

    img[BZ_HEADER_MAGIC] = 'X';
    parse_fails(size, "no setup header magic \"HdrS\"");
    assert_false(bzimage_has_magic(img, size));
    make_bz();
    w16(img + BZ_BOOT_FLAG, 0x1234);
    parse_fails(size, "boot flag at 0x1fe is 0x1234");
    make_bz();
    w16(img + BZ_VERSION, 0x020b);
    parse_fails(size, "boot protocol 2.11 is too old");
    make_bz();
    w16(img + BZ_XLOADFLAGS, 0x7e);
    parse_fails(size, "no 64-bit entry point");
    make_bz();
    img[BZ_JUMP + 1] = 0x50;
    parse_fails(size, "setup header ends at 0x252");
    make_bz();
    w32(img + BZ_SYSSIZE, 0);
    parse_fails(size, "syssize is 0");
    make_bz();
    w32(img + BZ_SYSSIZE, 0xffffffffu); /* 64 GiB of kernel: truncated, no wrap */
    parse_fails(size, "truncated bzImage");
    make_bz();
    w32(img + BZ_INIT_SIZE, KERNEL_SIZE - 16);
    parse_fails(size, "init_size 0xfff0 is smaller");
    make_bz();
    w32(img + BZ_KERNEL_ALIGNMENT, 0x300000);
    parse_fails(size, "kernel_alignment 0x300000");
    make_bz();
    w32(img + BZ_KERNEL_ALIGNMENT, 0x200);
    parse_fails(size, "kernel_alignment 0x200");
    make_bz();
    w64(img + BZ_PREF_ADDRESS, 0x1000800);
    parse_fails(size, "pref_address 0x1000800 is not page aligned");
    /* a non-relocatable kernel's alignment field is not used */
    make_bz();
    img[BZ_RELOCATABLE_KERNEL] = 0;
    w32(img + BZ_KERNEL_ALIGNMENT, 0x300000);
    struct bzimage_header h;
    assert_true(bzimage_parse(img, size, &h, NULL, 0));
}

/* --- the plan, applied --- */

static void test_plan_good(void **state)
{
    (void)state;
    size_t size = make_bz();
    const char *cmd = "console=ttyS0 root=/dev/ram0 quiet";
    struct guest_image gi = image(size, MEM_SIZE, cmd, true);
    if (!guest_boot_plan_build(&gi, &plan))
        fail_msg("plan: %s", plan.error);
    assert_int_equal(plan.kind, GUEST_IMAGE_BZIMAGE);
    assert_string_equal(guest_image_kind_name(plan.kind), "Linux bzImage");
    assert_int_equal(plan.bzimage.protocol, 0x020f);
    assert_int_equal(plan.bzimage.kernel_gpa, 0x1000000);
    assert_int_equal(plan.bzimage.kernel_reserved, 0x400000);
    assert_int_equal(plan.bzimage.boot_params_gpa, LINUX_BOOT_PARAMS_GPA);
    assert_int_equal(plan.bzimage.cmdline_gpa, LINUX_CMDLINE_GPA);
    assert_int_equal(plan.acpi_gpa, 0xe0000);
    assert_int_equal(plan.acpi_size, LINUX_ACPI_SIZE);
    assert_string_equal(plan.warning, "");

    /* entry state of the 64-bit boot protocol */
    const struct boot_entry_state *e = &plan.entry;
    assert_int_equal(e->mode, GUEST_MODE_LONG64);
    assert_int_equal(e->rip, 0x1000000 + 0x200);
    assert_int_equal(e->rsi, LINUX_BOOT_PARAMS_GPA);
    assert_int_equal(e->rflags & (1u << 9), 0); /* IF clear */
    assert_int_equal(e->rflags, 2);
    assert_int_equal(e->cs.selector, 0x10);
    assert_int_equal(e->ds.selector, 0x18);
    assert_int_equal(e->cs.access & 0x2000, 0x2000); /* L */
    assert_int_equal(e->cs.access & 0x9b, 0x9b);     /* present code, readable */
    assert_int_equal(e->ds.access & 0x93, 0x93);     /* present data, writable */
    assert_int_equal(e->cr0 & 0x80000001u, 0x80000001u);
    assert_int_equal(e->cr4 & 0x20, 0x20);
    assert_int_equal(e->efer & 0x500, 0x500);
    assert_int_equal(e->cr3, LINUX_PAGE_TABLES_GPA);
    assert_int_equal(e->gdt_base, LINUX_GDT_GPA);
    assert_int_equal(e->gdt_limit, 31);

    uint8_t *mem = apply(&gi);
    /* the protected-mode kernel, byte for byte, at its load address */
    for (uint32_t i = 0; i < KERNEL_SIZE; i++)
        if (mem[0x1000000 + i] != kernel_byte(i))
            fail_msg("kernel byte %u differs", i);
    /* the GDT the selectors index */
    assert_int_equal(r64(mem + LINUX_GDT_GPA + 0x10), 0x00af9b000000ffffull);
    assert_int_equal(r64(mem + LINUX_GDT_GPA + 0x18), 0x00cf93000000ffffull);
    assert_int_equal(r64(mem + LINUX_GDT_GPA), 0);
    /* identity mapping over all of memory */
    uint64_t pa;
    const uint64_t vas[] = {0, LINUX_BOOT_PARAMS_GPA, e->rip, plan.initrd_gpa, MEM_SIZE - 1};
    for (unsigned i = 0; i < 5; i++) {
        assert_true(guest_translate(mem, MEM_SIZE, e->cr3, vas[i], &pa));
        assert_int_equal(pa, vas[i]);
    }
    assert_false(guest_translate(mem, MEM_SIZE, e->cr3, 1ull << 30, &pa));

    /* boot_params */
    const uint8_t *bp = mem + LINUX_BOOT_PARAMS_GPA;
    assert_int_equal(bp[BZ_TYPE_OF_LOADER], 0xff);
    assert_int_equal(bp[BZ_LOADFLAGS], BZ_LOADED_HIGH | BZ_CAN_USE_HEAP);
    assert_int_equal(r16(bp + BZ_HEAP_END_PTR), 0xfe00);
    assert_memory_equal(bp + BZ_HEADER_MAGIC, "HdrS", 4);
    assert_int_equal(r16(bp + BZ_VERSION), 0x020f);
    assert_int_equal(r64(bp + BZ_PREF_ADDRESS), 0x1000000);
    assert_int_equal(r32(bp + BZ_INIT_SIZE), 0x400000);
    assert_int_equal(r32(bp + 0x268), 0x1234);
    assert_int_equal(bp[0x26c], 0); /* past the header end: not copied */
    assert_int_equal(r64(bp + BZ_SETUP_DATA), 0);
    assert_int_equal(r32(bp + BZ_HARDWARE_SUBARCH), 0);
    assert_int_equal(r32(bp + BZ_CMD_LINE_PTR), LINUX_CMDLINE_GPA);
    assert_int_equal(r32(bp + BP_EXT_CMD_LINE_PTR), 0);
    assert_string_equal((const char *)mem + LINUX_CMDLINE_GPA, cmd);
    assert_int_equal(r64(bp + BP_ACPI_RSDP_ADDR), 0xe0000);
    /* everything before the header that the loader does not set is zero */
    for (unsigned i = 0; i < BZ_HDR_START; i++)
        if (i < BP_ACPI_RSDP_ADDR || i >= BP_ACPI_RSDP_ADDR + 8)
            if (i != BP_E820_ENTRIES && bp[i])
                fail_msg("boot_params byte 0x%x is 0x%x", i, bp[i]);

    /* the initrd: page aligned, at the top of memory, intact */
    uint32_t rd = r32(bp + BZ_RAMDISK_IMAGE);
    assert_int_equal(rd, plan.initrd_gpa);
    assert_int_equal(r32(bp + BZ_RAMDISK_SIZE), sizeof(initrd));
    assert_int_equal(r32(bp + BP_EXT_RAMDISK_IMAGE), 0);
    assert_int_equal(rd & 0xfff, 0);
    assert_int_equal(rd + ((sizeof(initrd) + 0xfff) & ~0xfffu), MEM_SIZE);
    assert_true(rd >= 0x1000000 + 0x400000);
    assert_memory_equal(mem + rd, initrd, sizeof(initrd));

    /* the e820 map in boot_params */
    assert_int_equal(bp[BP_E820_ENTRIES], 5);
    const uint64_t want[5][3] = {{0, 0x9fc00, 1},
                                 {0x9fc00, 0x400, 2},
                                 {0xe0000, 0x10000, 3},
                                 {0xf0000, 0x10000, 2},
                                 {0x100000, MEM_SIZE - 0x100000, 1}};
    for (unsigned i = 0; i < 5; i++) {
        const uint8_t *en = bp + BP_E820_TABLE + i * 20;
        assert_int_equal(r64(en), want[i][0]);
        assert_int_equal(r64(en + 8), want[i][1]);
        assert_int_equal(r32(en + 16), want[i][2]);
    }
    /* every piece the plan placed is in RAM the e820 map calls usable,
     * except the ACPI tables, which are in the ACPI range */
    for (unsigned i = 0; i < plan.reserved_count; i++) {
        const struct boot_range *r = &plan.reserved[i];
        bool usable = (r->end <= 0x9fc00) || (r->start >= 0x100000 && r->end <= MEM_SIZE);
        bool bios = r->start >= 0x9fc00 && r->end <= 0x100000;
        if (!usable && !bios)
            fail_msg("%s (0x%llx-0x%llx) straddles the map", r->what, (unsigned long long)r->start,
                     (unsigned long long)r->end);
    }
    free(mem);
}

static void test_plan_without_cmdline_or_initrd(void **state)
{
    (void)state;
    struct guest_image gi = image(make_bz(), MEM_SIZE, NULL, false);
    if (!guest_boot_plan_build(&gi, &plan))
        fail_msg("plan: %s", plan.error);
    uint8_t *mem = apply(&gi);
    const uint8_t *bp = mem + LINUX_BOOT_PARAMS_GPA;
    assert_int_equal(r32(bp + BZ_RAMDISK_IMAGE), 0);
    assert_int_equal(r32(bp + BZ_RAMDISK_SIZE), 0);
    assert_int_equal(plan.initrd_gpa, 0);
    assert_int_equal(r32(bp + BZ_CMD_LINE_PTR), LINUX_CMDLINE_GPA);
    assert_int_equal(mem[LINUX_CMDLINE_GPA], 0);
    free(mem);
}

static void test_plan_refusals(void **state)
{
    (void)state;
    size_t size = make_bz();
    struct guest_image gi = image(size - 16, MEM_SIZE, NULL, false);
    plan_fails(&gi, "truncated bzImage");
    gi = image(size, MEM_SIZE, NULL, false);
    w16(img + BZ_VERSION, 0x0204);
    plan_fails(&gi, "boot protocol 2.04 is too old");
    make_bz();
    w16(img + BZ_XLOADFLAGS, 0);
    plan_fails(&gi, "no 64-bit entry point");
    /* without "HdrS" the file is not taken for a bzImage at all */
    make_bz();
    memcpy(img + BZ_HEADER_MAGIC, "HdrX", 4);
    plan_fails(&gi, "nor a bzImage");

    /* kernel (init_size) too large for the guest */
    make_bz();
    w32(img + BZ_INIT_SIZE, 32 * MIB);
    plan_fails(&gi, "kernel too large for the guest: it needs 0x2000000 bytes (init_size)");
    w32(img + BZ_INIT_SIZE, 0x400000);
    gi = image(size, 18 * MIB, NULL, false);
    plan_fails(&gi, "kernel too large for the guest: no 0x200000-aligned room");

    /* initrd that does not fit beside the kernel */
    gi = image(size, MEM_SIZE, NULL, true);
    gi.initrd_size = 15 * MIB; /* 12 MiB free above the kernel, 15 MiB below */
    assert_true(guest_boot_plan_build(&gi, &plan));
    assert_int_equal(plan.initrd_gpa, MIB); /* below the kernel, from 1 MiB... */
    gi.initrd_size = 15 * MIB + 1;          /* ...and not a byte more */
    plan_fails(&gi, "initrd too large for the guest");
    gi.initrd_size = 64 * MIB;
    plan_fails(&gi, "initrd too large for the guest: no room for its 0x4000000 bytes");
    gi = image(size, MEM_SIZE, NULL, true);
    w32(img + BZ_INITRD_ADDR_MAX, 0x100fff); /* room only below 1 MiB */
    plan_fails(&gi, "initrd too large for the guest: no room for its 0x307b bytes between 1 MiB "
                    "and 0x101000");

    /* more than 3 GiB of guest memory */
    make_bz();
    gi = image(size, (3ull << 30) + 4096, NULL, false);
    plan_fails(&gi, "larger than the 3 GiB a Linux guest may have");
}

static void test_cmdline_size(void **state)
{
    (void)state;
    size_t size = make_bz();
    w32(img + BZ_CMDLINE_SIZE, 16);
    struct guest_image gi = image(size, MEM_SIZE, "0123456789abcdef", false);
    if (!guest_boot_plan_build(&gi, &plan))
        fail_msg("16 bytes must fit: %s", plan.error);
    gi.cmdline = "0123456789abcdefg";
    plan_fails(&gi, "command line too long: 17 bytes, the kernel accepts at most 16");

    /* our own limit holds even when the kernel would take more */
    static char longline[LINUX_CMDLINE_MAX + 2];
    memset(longline, 'x', sizeof(longline) - 1);
    w32(img + BZ_CMDLINE_SIZE, 0x100000);
    gi.cmdline = longline;
    plan_fails(&gi, "more than 4095 bytes");
    longline[LINUX_CMDLINE_MAX] = 0;
    if (!guest_boot_plan_build(&gi, &plan))
        fail_msg("4095 bytes must fit: %s", plan.error);
    uint8_t *mem = apply(&gi);
    assert_int_equal(strlen((const char *)mem + LINUX_CMDLINE_GPA), LINUX_CMDLINE_MAX);
    free(mem);
}

static void test_relocation(void **state)
{
    (void)state;
    size_t size = make_bz();
    struct guest_image gi = image(size, MEM_SIZE, NULL, false);

    /* preferred address inside the low-memory layout: moved up */
    w64(img + BZ_PREF_ADDRESS, 0x80000);
    assert_true(guest_boot_plan_build(&gi, &plan));
    assert_int_equal(plan.bzimage.kernel_gpa, 0x200000);
    assert_int_equal(plan.entry.rip, 0x200200);
    uint8_t *mem = apply(&gi);
    assert_int_equal(mem[0x200000 + 5], kernel_byte(5));
    free(mem);
    /* ... which a kernel that cannot move refuses */
    img[BZ_RELOCATABLE_KERNEL] = 0;
    plan_fails(&gi, "not relocatable and its address 0x80000 (0x400000 bytes) overlaps");

    /* a preferred address off the kernel's alignment goes to the next boundary */
    make_bz();
    w64(img + BZ_PREF_ADDRESS, 0x1100000);
    assert_true(guest_boot_plan_build(&gi, &plan));
    assert_int_equal(plan.bzimage.kernel_gpa, 0x1200000);
    /* ... but a non-relocatable kernel is loaded exactly there */
    img[BZ_RELOCATABLE_KERNEL] = 0;
    assert_true(guest_boot_plan_build(&gi, &plan));
    assert_int_equal(plan.bzimage.kernel_gpa, 0x1100000);

    /* preferred address past the end of memory */
    make_bz();
    w64(img + BZ_PREF_ADDRESS, 0x40000000);
    plan_fails(&gi, "no 0x200000-aligned room");
    img[BZ_RELOCATABLE_KERNEL] = 0;
    plan_fails(&gi, "not relocatable and needs 0x40000000-0x403fffff, outside");
    make_bz();
    w64(img + BZ_PREF_ADDRESS, 0xfffffffffffff000ull); /* no wrap-around */
    plan_fails(&gi, "no 0x200000-aligned room");
    img[BZ_RELOCATABLE_KERNEL] = 0;
    plan_fails(&gi, "outside");
}

static void test_initrd_placement(void **state)
{
    (void)state;
    size_t size = make_bz();
    struct guest_image gi = image(size, MEM_SIZE, "x", true);
    uint64_t pages = (sizeof(initrd) + 0xfff) & ~0xfffull;

    /* capped by initrd_addr_max (the address of its last byte) */
    w32(img + BZ_INITRD_ADDR_MAX, 0x17fffff);
    assert_true(guest_boot_plan_build(&gi, &plan));
    assert_int_equal(plan.initrd_gpa + pages, 0x1800000);
    /* below the kernel when the cap is under it */
    w32(img + BZ_INITRD_ADDR_MAX, 0xffffff);
    assert_true(guest_boot_plan_build(&gi, &plan));
    assert_int_equal(plan.initrd_gpa + pages, 0x1000000);
    uint8_t *mem = apply(&gi);
    assert_memory_equal(mem + plan.initrd_gpa, initrd, sizeof(initrd));
    assert_int_equal(r32(mem + LINUX_BOOT_PARAMS_GPA + BZ_RAMDISK_IMAGE), plan.initrd_gpa);
    free(mem);
    /* and never inside the kernel's init_size area */
    w32(img + BZ_INITRD_ADDR_MAX, 0x13fffff);
    assert_true(guest_boot_plan_build(&gi, &plan));
    assert_int_equal(plan.initrd_gpa + pages, 0x1000000);
}

/* --- e820 --- */

static void check_e820(uint64_t mem, unsigned n_expect)
{
    struct linux_e820_entry map[8];
    unsigned n = linux_e820_build(mem, map, 8);
    assert_int_equal(n, n_expect);
    uint64_t ram = 0, prev_end = 0;
    for (unsigned i = 0; i < n; i++) {
        assert_true(map[i].size > 0);
        assert_true(map[i].addr >= prev_end); /* sorted, disjoint */
        prev_end = map[i].addr + map[i].size;
        if (map[i].type == E820_RAM)
            ram += map[i].size;
        assert_true(map[i].type >= 1 && map[i].type <= 3);
    }
    assert_int_equal(prev_end, mem > MIB ? mem : MIB);
    assert_int_equal(ram, 0x9fc00 + (mem - MIB));
    assert_int_equal(map[2].addr, 0xe0000);
    assert_int_equal(map[2].type, E820_ACPI);
}

static void test_e820(void **state)
{
    (void)state;
    check_e820(MIB, 4);
    check_e820(2 * MIB, 5);
    check_e820(MEM_SIZE, 5);
    check_e820(1ull << 30, 5);
    check_e820(3ull << 30, 5);
    struct linux_e820_entry map[8];
    assert_int_equal(linux_e820_build((3ull << 30) + 4096, map, 8), 0);
    assert_int_equal(linux_e820_build(MIB - 4096, map, 8), 0);
    assert_int_equal(linux_e820_build(MEM_SIZE, map, 4), 0); /* no room */
    assert_int_equal(linux_e820_build(MIB, map, 4), 4);
}

static void test_large_guest_plan(void **state)
{
    (void)state;
    /* 3 GiB: planned (not applied); the identity map spans three PDs */
    struct guest_image gi = image(make_bz(), 3ull << 30, NULL, true);
    if (!guest_boot_plan_build(&gi, &plan))
        fail_msg("plan: %s", plan.error);
    assert_true(plan.has_identity_map);
    assert_int_equal(plan.identity_map.map_bytes, 3ull << 30);
    assert_int_equal(plan.identity_map.table_bytes, 5 * 4096);
    assert_int_equal(plan.identity_map.gpa, 0x1000);
    /* initrd_addr_max 0x7fffffff caps it below 2 GiB */
    assert_int_equal(plan.initrd_gpa + 0x4000, 0x80000000ull);
}

/* --- the plan and the ACPI builder together --- */

static void test_acpi_where_boot_params_says(void **state)
{
    (void)state;
    struct guest_image gi = image(make_bz(), MEM_SIZE, "console=ttyS0", false);
    assert_true(guest_boot_plan_build(&gi, &plan));
    uint8_t *mem = apply(&gi);
    struct guest_acpi_config cfg = {.vcpus = 2};
    uint64_t rsdp = 0;
    size_t used = guest_acpi_build(&cfg, mem + plan.acpi_gpa, plan.acpi_size, plan.acpi_gpa, &rsdp);
    assert_true(used > 0 && used <= plan.acpi_size);
    assert_int_equal(rsdp, r64(mem + LINUX_BOOT_PARAMS_GPA + BP_ACPI_RSDP_ADDR));
    assert_memory_equal(mem + rsdp, "RSD PTR ", 8);
    free(mem);
}

/* --- Debian's kernel, when present --- */

static char real_path[512];

static void test_real_kernel(void **state)
{
    (void)state;
    const char *path = getenv("LINUX_BZIMAGE");
    glob_t g = {0};
    if (!path || !*path) {
        if (glob("/boot/vmlinuz-*", 0, NULL, &g) == 0 && g.gl_pathc > 0)
            path = g.gl_pathv[0];
    }
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f) {
        globfree(&g);
        print_message("no kernel (set LINUX_BZIMAGE or install one in /boot): skipped\n");
        skip();
    }
    snprintf(real_path, sizeof(real_path), "%s", path);
    globfree(&g);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc((size_t)size);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);

    struct bzimage_header h;
    char err[BZ_ERROR_LEN];
    if (!bzimage_parse(data, (uint64_t)size, &h, err, sizeof(err)))
        fail_msg("%s: %s", real_path, err);
    print_message("%s: protocol %u.%02u, setup_sects %u, kernel 0x%llx bytes, init_size 0x%x, "
                  "pref 0x%llx, align 0x%x, xloadflags 0x%x, cmdline_size %u\n",
                  real_path, h.version >> 8, h.version & 0xff, h.setup_sects,
                  (unsigned long long)h.kernel_size, h.init_size,
                  (unsigned long long)h.pref_address, h.kernel_alignment, h.xloadflags,
                  h.cmdline_size);
    /* what any x86-64 distribution kernel of the last decade declares */
    assert_true(h.version >= 0x020c);
    assert_true(h.xloadflags & BZ_XLF_KERNEL_64);
    assert_true(h.relocatable);
    assert_int_equal(h.pref_address, 0x1000000);
    assert_true(h.kernel_alignment >= 0x200000);
    assert_true(h.cmdline_size >= 255);
    assert_true(h.init_size > h.kernel_size);
    assert_true(h.setup_size + h.kernel_size <= (uint64_t)size);
    assert_true(h.header_end > BZ_HDR_MIN_END);
    /* the fields, read independently from the raw bytes */
    assert_int_equal(h.setup_size, ((data[0x1f1] ? data[0x1f1] : 4) + 1) * 512u);
    assert_int_equal(h.kernel_size, (uint64_t)r32(data + 0x1f4) * 16);
    assert_int_equal(h.init_size, r32(data + 0x260));
    assert_int_equal(h.initrd_addr_max, r32(data + 0x22c));

    /* it plans and applies into a guest of 256 MiB */
    uint64_t mem_size = 256 * MIB;
    struct guest_image gi = {
        .data = data, .size = (uint64_t)size, .cmdline = "console=ttyS0", .mem_size = mem_size};
    if (!guest_boot_plan_build(&gi, &plan))
        fail_msg("plan: %s", plan.error);
    assert_int_equal(plan.bzimage.kernel_gpa, 0x1000000);
    uint8_t *mem = apply(&gi);
    assert_memory_equal(mem + 0x1000000, data + h.setup_size, 4096);
    assert_memory_equal(mem + LINUX_BOOT_PARAMS_GPA + BZ_HEADER_MAGIC, "HdrS", 4);
    free(mem);
    /* and a truncated copy is refused */
    gi.size = h.setup_size + h.kernel_size - 1;
    plan_fails(&gi, "truncated bzImage");
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_plan_good),
        cmocka_unit_test(test_plan_without_cmdline_or_initrd),
        cmocka_unit_test(test_plan_refusals),
        cmocka_unit_test(test_cmdline_size),
        cmocka_unit_test(test_relocation),
        cmocka_unit_test(test_initrd_placement),
        cmocka_unit_test(test_e820),
        cmocka_unit_test(test_large_guest_plan),
        cmocka_unit_test(test_acpi_where_boot_params_says),
        cmocka_unit_test(test_real_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
