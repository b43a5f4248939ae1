/* SPDX-License-Identifier: MIT */
/* Host tests for the UEFI loader's ELF checks (boot/efi/elf_image.c). */
/* test-sources: boot/efi/elf_image.c */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot/efi/elf_image.h"

static uint8_t file[8192];
static struct elf_image img;

static Elf64_Ehdr *ehdr(void)
{
    return (Elf64_Ehdr *)file;
}

static Elf64_Phdr *phdr(int i)
{
    return (Elf64_Phdr *)(file + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr));
}

/* A valid image: text at 16 MiB from file offset 0x1000, data+bss after it. */
static int setup(void **state)
{
    memset(file, 0, sizeof(file));
    Elf64_Ehdr *e = ehdr();
    memcpy(e->e_ident, ELFMAG, SELFMAG);
    e->e_ident[EI_CLASS] = ELFCLASS64;
    e->e_ident[EI_DATA] = ELFDATA2LSB;
    e->e_ident[EI_VERSION] = EV_CURRENT;
    e->e_type = ET_EXEC;
    e->e_machine = EM_X86_64;
    e->e_phoff = sizeof(Elf64_Ehdr);
    e->e_phentsize = sizeof(Elf64_Phdr);
    e->e_phnum = 3;
    *phdr(0) = (Elf64_Phdr){.p_type = PT_LOAD,
                            .p_offset = 0x1000,
                            .p_paddr = 0x1000000,
                            .p_filesz = 0x800,
                            .p_memsz = 0x800};
    *phdr(1) = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = 0x5000000, .p_filesz = 0x10};
    *phdr(2) = (Elf64_Phdr){.p_type = PT_LOAD,
                            .p_offset = 0x1800,
                            .p_paddr = 0x1001000,
                            .p_filesz = 0x100,
                            .p_memsz = 0x5000};
    return 0;
}

static void test_valid_image(void **state)
{
    assert_null(elf_image_parse(file, sizeof(file), &img));
    assert_int_equal(img.count, 2);
    assert_int_equal(img.lo, 0x1000000);
    assert_int_equal(img.hi, 0x1006000);
    assert_int_equal(img.seg[1].offset, 0x1800);
    assert_int_equal(img.seg[1].filesz, 0x100);
    assert_int_equal(img.seg[1].memsz, 0x5000);
}

static void test_rejects_bad_headers(void **state)
{
    assert_non_null(elf_image_parse(file, 63, &img));
    file[1] = 'X';
    assert_non_null(elf_image_parse(file, sizeof(file), &img));
    setup(NULL);
    file[EI_CLASS] = ELFCLASS32;
    assert_non_null(elf_image_parse(file, sizeof(file), &img));
    setup(NULL);
    ehdr()->e_type = ET_DYN;
    assert_non_null(elf_image_parse(file, sizeof(file), &img));
    setup(NULL);
    ehdr()->e_machine = EM_386;
    assert_non_null(elf_image_parse(file, sizeof(file), &img));
    setup(NULL);
    ehdr()->e_phentsize = 32;
    assert_non_null(elf_image_parse(file, sizeof(file), &img));
}

static void test_rejects_headers_outside_file(void **state)
{
    ehdr()->e_phoff = UINT64_MAX - 8;
    assert_non_null(elf_image_parse(file, sizeof(file), &img));
    setup(NULL);
    ehdr()->e_phnum = 0xffff;
    assert_non_null(elf_image_parse(file, sizeof(file), &img));
}

static void test_rejects_bad_segments(void **state)
{
    phdr(2)->p_offset = UINT64_MAX - 0x10; /* offset + filesz wraps */
    assert_non_null(elf_image_parse(file, sizeof(file), &img));
    setup(NULL);
    phdr(2)->p_filesz = 0x6000; /* past the end of the 8 KiB file */
    phdr(2)->p_memsz = 0x6000;
    assert_non_null(elf_image_parse(file, sizeof(file), &img));
    setup(NULL);
    phdr(2)->p_filesz = 0x200;
    phdr(2)->p_memsz = 0x100; /* filesz > memsz */
    assert_non_null(elf_image_parse(file, sizeof(file), &img));
    setup(NULL);
    phdr(2)->p_paddr = 0x1000400; /* overlaps segment 0 */
    assert_non_null(elf_image_parse(file, sizeof(file), &img));
    setup(NULL);
    phdr(2)->p_paddr = 0xFFFFF000; /* runs past 4 GiB */
    assert_non_null(elf_image_parse(file, sizeof(file), &img));
    setup(NULL);
    phdr(0)->p_type = PT_NOTE;
    phdr(2)->p_type = PT_NOTE;
    assert_non_null(elf_image_parse(file, sizeof(file), &img)); /* no PT_LOAD */
}

static void put_header(uint8_t *mem, size_t off, uint64_t entry)
{
    struct sidecore_boot_header h = {SIDECORE_BOOT_HEADER_MAGIC, entry, 0x1000000, 0x1006000};
    memcpy(mem + off, &h, sizeof(h));
}

static void test_finds_boot_header(void **state)
{
    static uint8_t mem[0x6000];
    struct sidecore_boot_header hdr;

    assert_null(elf_image_parse(file, sizeof(file), &img));
    memset(mem, 0, sizeof(mem));
    assert_non_null(elf_find_boot_header(mem, sizeof(mem), &img, &hdr));

    put_header(mem, 0x30, 0x1000100);
    assert_null(elf_find_boot_header(mem, sizeof(mem), &img, &hdr));
    assert_int_equal(hdr.entry64, 0x1000100);

    /* Misaligned: not found. */
    memset(mem, 0, sizeof(mem));
    put_header(mem, 0x34, 0x1000100);
    assert_non_null(elf_find_boot_header(mem, sizeof(mem), &img, &hdr));

    /* Past the 32 KiB window, or cut off by the end of the image: not found. */
    static uint8_t big[0x10000];
    put_header(big, ELF_BOOT_HEADER_WINDOW, 0x1000100);
    assert_non_null(elf_find_boot_header(big, sizeof(big), &img, &hdr));
    memset(mem, 0, sizeof(mem));
    put_header(mem, 0x40, 0x1000100);
    assert_non_null(elf_find_boot_header(mem, 0x50, &img, &hdr));

    /* An entry point outside the image is refused. */
    memset(mem, 0, sizeof(mem));
    put_header(mem, 0x30, 0x2000000);
    assert_non_null(elf_find_boot_header(mem, sizeof(mem), &img, &hdr));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_valid_image, setup),
        cmocka_unit_test_setup(test_rejects_bad_headers, setup),
        cmocka_unit_test_setup(test_rejects_headers_outside_file, setup),
        cmocka_unit_test_setup(test_rejects_bad_segments, setup),
        cmocka_unit_test_setup(test_finds_boot_header, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
