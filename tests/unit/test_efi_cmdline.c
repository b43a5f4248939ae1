/* SPDX-License-Identifier: MIT */
/* Host tests for LoadOptions -> command line (boot/efi/cmdline.c). */
/* test-sources: boot/efi/cmdline.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot/efi/cmdline.h"

static uint16_t opts[600];
static char out[64];

/* Stores s as UCS-2 with its NUL; returns the size in bytes including it. */
static size_t ucs2(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i <= n; i++)
        opts[i] = (uint8_t)s[i];
    return 2 * (n + 1);
}

static void test_plain_options(void **state)
{
    assert_true(cmdline_from_load_options(opts, ucs2("loglevel=debug cpus=2"), out, sizeof(out)));
    assert_string_equal(out, "loglevel=debug cpus=2");
}

static void test_drops_image_name(void **state)
{
    assert_true(cmdline_from_load_options(opts, ucs2("\\EFI\\BOOT\\BOOTX64.EFI  debug "), out,
                                          sizeof(out)));
    assert_string_equal(out, "debug");
    assert_true(cmdline_from_load_options(opts, ucs2("bootx64.efi"), out, sizeof(out)));
    assert_string_equal(out, "");
    /* A first word that is not an image name stays. */
    assert_true(cmdline_from_load_options(opts, ucs2("efi=on x"), out, sizeof(out)));
    assert_string_equal(out, "efi=on x");
}

static void test_binary_options_give_nothing(void **state)
{
    /* A boot entry's optional data, e.g. a GUID. */
    const uint8_t guid[16] = {0x4e, 0xac, 0x08, 0x81, 0x11, 0x9f, 0x59, 0x4d,
                              0x85, 0x0e, 0xe2, 0x1a, 0x52, 0x2c, 0x59, 0xb2};
    strcpy(out, "old");
    assert_false(cmdline_from_load_options(guid, sizeof(guid), out, sizeof(out)));
    assert_string_equal(out, "");
    opts[0] = 'a';
    opts[1] = 0x263a; /* not ASCII */
    assert_false(cmdline_from_load_options(opts, 4, out, sizeof(out)));
}

static void test_empty_and_unterminated(void **state)
{
    assert_true(cmdline_from_load_options(NULL, 0, out, sizeof(out)));
    assert_string_equal(out, "");
    /* Without a NUL the size bounds the string; an odd byte is ignored. */
    opts[0] = 'a';
    opts[1] = 'b';
    opts[2] = 'c';
    assert_true(cmdline_from_load_options(opts, 5, out, sizeof(out)));
    assert_string_equal(out, "ab");
}

static void test_truncates_long_line(void **state)
{
    char longline[200];
    memset(longline, 'x', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = '\0';
    assert_true(cmdline_from_load_options(opts, ucs2(longline), out, sizeof(out)));
    assert_int_equal(strlen(out), sizeof(out) - 1);
}

static void test_tabs_become_spaces(void **state)
{
    assert_true(cmdline_from_load_options(opts, ucs2("a\tb"), out, sizeof(out)));
    assert_string_equal(out, "a b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_options),
        cmocka_unit_test(test_drops_image_name),
        cmocka_unit_test(test_binary_options_give_nothing),
        cmocka_unit_test(test_empty_and_unterminated),
        cmocka_unit_test(test_truncates_long_line),
        cmocka_unit_test(test_tabs_become_spaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
