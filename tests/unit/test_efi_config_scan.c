/* SPDX-License-Identifier: MIT */
/* Host tests for the UEFI loader's config scan (boot/efi/config_scan.c). */
/* test-sources: boot/efi/config_scan.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "boot/efi/config_scan.h"

static struct config_file_list list;
static unsigned warnings, last_warn_line;

static void count_warning(void *ctx, unsigned line, const char *why)
{
    warnings++;
    last_warn_line = line;
}

static void scan(const char *text)
{
    warnings = 0;
    last_warn_line = 0;
    config_scan_files(text, strlen(text), &list, count_warning, NULL);
}

static void test_names_kernel_initrd_and_ram_disk(void **state)
{
    scan("[hypervisor]\nconsole = com1,115200\n[guest linux]\nkernel = guests/vmlinuz\n"
         "initrd=guests/initrd.img\ndisk = ram:disks/root.img\ndisk = nvme:0\n");
    assert_int_equal(list.count, 3);
    assert_string_equal(list.names[0], "guests/vmlinuz");
    assert_string_equal(list.names[1], "guests/initrd.img");
    assert_string_equal(list.names[2], "disks/root.img");
    assert_int_equal(warnings, 0);
}

static void test_comments_whitespace_and_crlf(void **state)
{
    scan("  kernel\t=  a.bin   # the kernel\r\n# kernel = commented.bin\r\n"
         "initrd = b.img#no space before comment\r\ndisk = ram: c.img \r\n");
    assert_int_equal(list.count, 3);
    assert_string_equal(list.names[0], "a.bin");
    assert_string_equal(list.names[1], "b.img");
    assert_string_equal(list.names[2], "c.img");
}

static void test_duplicates_once(void **state)
{
    scan("kernel = x.bin\ninitrd = x.bin\nkernel = y.bin\n");
    assert_int_equal(list.count, 2);
    assert_string_equal(list.names[0], "x.bin");
    assert_string_equal(list.names[1], "y.bin");
}

static void test_other_keys_ignored(void **state)
{
    scan("kernels = a\nmy_kernel = b\nkernel\ncmdline = kernel = c\n= d\n");
    assert_int_equal(list.count, 0);
    assert_int_equal(warnings, 0);
}

static void test_bad_paths_warned(void **state)
{
    scan("kernel = /abs.bin\nkernel = ../up.bin\nkernel = a/../b\nkernel =\n"
         "kernel = back\\slash\nkernel = ok.bin\n");
    assert_int_equal(list.count, 1);
    assert_string_equal(list.names[0], "ok.bin");
    assert_int_equal(warnings, 5);
    assert_int_equal(last_warn_line, 5);
}

static void test_long_path_warned(void **state)
{
    char text[300];
    strcpy(text, "kernel = ");
    memset(text + 9, 'a', HANDOFF_NAME_LEN);
    text[9 + HANDOFF_NAME_LEN] = '\0';
    scan(text);
    assert_int_equal(list.count, 0);
    assert_int_equal(warnings, 1);

    /* The longest name that fits, with its NUL. */
    text[9 + HANDOFF_NAME_LEN - 1] = '\0';
    scan(text);
    assert_int_equal(list.count, 1);
    assert_int_equal(strlen(list.names[0]), HANDOFF_NAME_LEN - 1);
}

static void test_too_many_files(void **state)
{
    char text[4096] = "";
    for (int i = 0; i < CONFIG_SCAN_MAX_FILES + 3; i++)
        sprintf(text + strlen(text), "initrd = f%d\n", i);
    scan(text);
    assert_int_equal(list.count, CONFIG_SCAN_MAX_FILES);
    assert_int_equal(warnings, 3);
}

static void test_length_bounds_the_scan(void **state)
{
    /* The buffer is not NUL-terminated where the file ends: nothing past len counts. */
    const char text[] = "kernel = a.bin\nkernel = b.bin\n";
    config_scan_files(text, 15, &list, NULL, NULL);
    assert_int_equal(list.count, 1);
    assert_string_equal(list.names[0], "a.bin");

    /* A file cut in the middle of a name takes the part that is there. */
    config_scan_files(text, 12, &list, NULL, NULL);
    assert_int_equal(list.count, 1);
    assert_string_equal(list.names[0], "a.b");
}

static void test_nul_and_binary_bytes(void **state)
{
    const char text[] = "kernel = a\0b\ninitrd = \xff\xfe\nkernel = ok\n";
    warnings = 0;
    config_scan_files(text, sizeof(text) - 1, &list, count_warning, NULL);
    assert_int_equal(list.count, 1);
    assert_string_equal(list.names[0], "ok");
    assert_int_equal(warnings, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_kernel_initrd_and_ram_disk),
        cmocka_unit_test(test_comments_whitespace_and_crlf),
        cmocka_unit_test(test_duplicates_once),
        cmocka_unit_test(test_other_keys_ignored),
        cmocka_unit_test(test_bad_paths_warned),
        cmocka_unit_test(test_long_path_warned),
        cmocka_unit_test(test_too_many_files),
        cmocka_unit_test(test_length_bounds_the_scan),
        cmocka_unit_test(test_nul_and_binary_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
