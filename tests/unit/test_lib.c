/* SPDX-License-Identifier: MIT */
/* Unit tests for the formatter, string helpers, command-line and console
 * specification parsing.
 * test-sources: kernel/lib/fmt.c kernel/lib/str.c kernel/lib/cmdline.c kernel/console/console_spec.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#pragma GCC diagnostic ignored "-Wformat-security"

#include "kernel/console/console_spec.h"
#include "kernel/lib/cmdline.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/str.h"

#define EXPECT_FMT(expected, ...)                                                                  \
    do {                                                                                           \
        char buf_[128];                                                                            \
        int n_ = fmt_snprintf(buf_, sizeof(buf_), __VA_ARGS__);                                    \
        assert_string_equal(buf_, expected);                                                       \
        assert_int_equal(n_, (int)strlen(expected));                                               \
    } while (0)

static void test_fmt_integers(void **state)
{
    EXPECT_FMT("0", "%d", 0);
    EXPECT_FMT("-42", "%d", -42);
    EXPECT_FMT("-2147483648", "%d", INT32_MIN);
    EXPECT_FMT("-9223372036854775808", "%ld", (long)INT64_MIN);
    EXPECT_FMT("18446744073709551615", "%lu", (unsigned long)UINT64_MAX);
    EXPECT_FMT("ff FF 777", "%x %X %o", 255, 255, 0777);
    EXPECT_FMT("+5  5", "%+d % d", 5, 5);
    EXPECT_FMT("0x3f8 0X3F8 017 0", "%#x %#X %#o %#x", 0x3f8, 0x3f8, 017, 0);
    EXPECT_FMT("0x00ff", "%#06x", 0xff);
    EXPECT_FMT("255", "%hhu", 0x1ff);
    EXPECT_FMT("65535", "%hu", 0x1ffff);
    EXPECT_FMT("123", "%zu", (size_t)123);
    EXPECT_FMT("1234567890123", "%llu", 1234567890123ull);
}

static void test_fmt_width_and_flags(void **state)
{
    EXPECT_FMT("   42", "%5d", 42);
    EXPECT_FMT("42   |", "%-5d|", 42);
    EXPECT_FMT("00042", "%05d", 42);
    EXPECT_FMT("-0042", "%05d", -42);
    EXPECT_FMT("0000beef", "%08x", 0xbeef);
    EXPECT_FMT("  007", "%5.3d", 7);
    EXPECT_FMT("   ab", "%*s", 5, "ab");
    EXPECT_FMT("ab   |", "%-*s|", 5, "ab");
    EXPECT_FMT("abc", "%.3s", "abcdef");
    EXPECT_FMT("ab", "%.*s", 2, "abcdef");
    EXPECT_FMT("", "%.0d", 0);
}

static void test_fmt_misc(void **state)
{
    EXPECT_FMT("0x1000", "%p", (void *)0x1000);
    const char *volatile null_str = NULL;
    EXPECT_FMT("(null)", "%s", null_str);
    EXPECT_FMT("x", "%c", 'x');
    EXPECT_FMT("100%", "100%%");
    /* An unknown conversion is printed as written. */
    const char *volatile unknown = "%q";
    char buf[8];
    fmt_snprintf(buf, sizeof(buf), unknown);
    assert_string_equal(buf, "%q");
    EXPECT_FMT("a b", "%s %s", "a", "b");
}

static void test_fmt_truncation(void **state)
{
    char buf[8];
    int n = fmt_snprintf(buf, sizeof(buf), "%s", "hello world");

    assert_int_equal(n, 11);
    assert_string_equal(buf, "hello w");
    memset(buf, 'X', sizeof(buf));
    n = fmt_snprintf(buf, 0, "%d", 12345);
    assert_int_equal(n, 5);
    assert_int_equal(buf[0], 'X');
    n = fmt_snprintf(buf, 1, "%d", 12345);
    assert_int_equal(buf[0], '\0');
}

static void test_str_copy(void **state)
{
    char buf[4];

    assert_int_equal(str_copy(buf, "ab", sizeof(buf)), 2);
    assert_string_equal(buf, "ab");
    assert_int_equal(str_copy(buf, "abcdef", sizeof(buf)), 6);
    assert_string_equal(buf, "abc");
}

static void test_str_to_u64(void **state)
{
    uint64_t v;

    assert_true(str_to_u64("0", &v));
    assert_int_equal(v, 0);
    assert_true(str_to_u64("18446744073709551615", &v));
    assert_true(v == UINT64_MAX);
    assert_false(str_to_u64("18446744073709551616", &v));
    assert_true(str_to_u64("0x3f8", &v));
    assert_int_equal(v, 0x3f8);
    assert_false(str_to_u64("", &v));
    assert_false(str_to_u64("0x", &v));
    assert_false(str_to_u64("12a", &v));
    assert_false(str_to_u64("-1", &v));
}

static void test_str_to_size(void **state)
{
    uint64_t v;

    assert_true(str_to_size("256M", &v));
    assert_true(v == 256ull << 20);
    assert_true(str_to_size("2g", &v));
    assert_true(v == 2ull << 30);
    assert_true(str_to_size("64KB", &v));
    assert_true(v == 64ull << 10);
    assert_true(str_to_size("4096", &v));
    assert_int_equal(v, 4096);
    assert_false(str_to_size("M", &v));
    assert_false(str_to_size("12Q", &v));
    assert_false(str_to_size("1MM", &v));
    assert_false(str_to_size("17179869184G", &v)); /* 2^34 G overflows */
}

static void test_str_format_size(void **state)
{
    char buf[16];

    str_format_size(buf, sizeof(buf), 17);
    assert_string_equal(buf, "17B");
    str_format_size(buf, sizeof(buf), 512ull << 20);
    assert_string_equal(buf, "512M");
    str_format_size(buf, sizeof(buf), 3584ull << 20);
    assert_string_equal(buf, "3.5G");
    str_format_size(buf, sizeof(buf), 640ull << 10);
    assert_string_equal(buf, "640K");
    str_format_size(buf, sizeof(buf), (1ull << 30) - 4096);
    assert_string_equal(buf, "1023M"); /* tenths only below 100 units */
}

static void test_cmdline(void **state)
{
    char v[32];

    assert_true(cmdline_get("console=com2,9600 loglevel=3", "console", v, sizeof(v)));
    assert_string_equal(v, "com2,9600");
    assert_true(cmdline_get("  loglevel=1   loglevel=3 ", "loglevel", v, sizeof(v)));
    assert_string_equal(v, "3");
    assert_false(cmdline_get("consoles=x", "console", v, sizeof(v)));
    assert_false(cmdline_get("", "console", v, sizeof(v)));
    assert_true(cmdline_get("debug", "debug", v, sizeof(v)));
    assert_string_equal(v, "");
    assert_true(cmdline_get("k=0123456789012345678901234567890123456789", "k", v, 8));
    assert_string_equal(v, "0123456");
}

static void test_console_spec(void **state)
{
    uint16_t port = 0x3f8;
    uint32_t baud = 115200;

    assert_true(console_spec_parse("com2,9600", &port, &baud));
    assert_int_equal(port, 0x2f8);
    assert_int_equal(baud, 9600);
    assert_true(console_spec_parse("0x3e8", &port, &baud));
    assert_int_equal(port, 0x3e8);
    assert_int_equal(baud, 9600);
    assert_false(console_spec_parse("com9", &port, &baud));
    assert_false(console_spec_parse("com1,12345", &port, &baud));
    assert_false(console_spec_parse("com1,", &port, &baud));
    assert_false(console_spec_parse("", &port, &baud));
    assert_int_equal(port, 0x3e8); /* unchanged by failures */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fmt_integers), cmocka_unit_test(test_fmt_width_and_flags),
        cmocka_unit_test(test_fmt_misc),     cmocka_unit_test(test_fmt_truncation),
        cmocka_unit_test(test_str_copy),     cmocka_unit_test(test_str_to_u64),
        cmocka_unit_test(test_str_to_size),  cmocka_unit_test(test_str_format_size),
        cmocka_unit_test(test_cmdline),      cmocka_unit_test(test_console_spec),
    };
    return cmocka_run_group_tests_name("lib", tests, NULL, NULL);
}
