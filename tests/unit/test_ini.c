/* SPDX-License-Identifier: MIT */
/* Unit tests for the sidecore.cfg tokenizer.
 * test-sources: kernel/config/ini.c kernel/lib/fmt.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/config/ini.h"

struct record {
    char log[4096];
    unsigned items, sections, errors;
};

static void on_section(void *ctx, unsigned line, const char *section, const char *name)
{
    struct record *r = ctx;
    size_t n = strlen(r->log);
    snprintf(r->log + n, sizeof(r->log) - n, "%u:[%s|%s]\n", line, section, name);
    r->sections++;
}

static void on_item(void *ctx, const struct ini_item *it)
{
    struct record *r = ctx;
    size_t n = strlen(r->log);
    snprintf(r->log + n, sizeof(r->log) - n, "%u:%s/%s:%s=%s\n", it->line, it->section, it->name,
             it->key, it->value);
    r->items++;
}

static void on_error(void *ctx, unsigned line, const char *msg)
{
    struct record *r = ctx;
    size_t n = strlen(r->log);
    snprintf(r->log + n, sizeof(r->log) - n, "%u:ERROR %s\n", line, msg);
    r->errors++;
}

static unsigned parse(struct record *r, const char *text)
{
    struct ini_handlers h = {on_section, on_item, on_error, r};
    memset(r, 0, sizeof(*r));
    return ini_parse(text, strlen(text), &h);
}

static void test_example_config(void **state)
{
    struct record r;
    const char *text = "# Sidecore\n"
                       "[hypervisor]\n"
                       "console = com1,115200\n"
                       "\n"
                       "[guest web0]\r\n"
                       "cpus = 1                    # dedicated physical cores\n"
                       "memory=256M\n"
                       "  kernel =   guests/test.elf  \n"
                       "cmdline = console=ttyS0 quiet\n"
                       "empty =\n";
    assert_int_equal(parse(&r, text), 0);
    assert_string_equal(r.log, "2:[hypervisor|]\n"
                               "3:hypervisor/:console=com1,115200\n"
                               "5:[guest|web0]\n"
                               "6:guest/web0:cpus=1\n"
                               "7:guest/web0:memory=256M\n"
                               "8:guest/web0:kernel=guests/test.elf\n"
                               "9:guest/web0:cmdline=console=ttyS0 quiet\n"
                               "10:guest/web0:empty=\n");
}

static void test_syntax_errors(void **state)
{
    struct record r;
    const char *text = "[hypervisor\n"         /* 1: no ] */
                       "just words\n"          /* 2: no = */
                       "= value\n"             /* 3: empty key */
                       "bad key = 1\n"         /* 4: space in key */
                       "[guest a b]\n"         /* 5: two names */
                       "[guest ok] trailing\n" /* 6: text after */
                       "[]\n"                  /* 7: empty section */
                       "[guest fine]\n"        /* 8: ok */
                       "k = v\n";              /* 9: ok */
    assert_int_equal(parse(&r, text), 7);
    assert_int_equal(r.errors, 7);
    assert_int_equal(r.sections, 1);
    assert_int_equal(r.items, 1);
    assert_non_null(strstr(r.log, "1:ERROR section header without ']'"));
    assert_non_null(strstr(r.log, "2:ERROR expected 'key = value'"));
    assert_non_null(strstr(r.log, "3:ERROR bad key name"));
    assert_non_null(strstr(r.log, "4:ERROR bad key name"));
    assert_non_null(strstr(r.log, "5:ERROR bad name in section header"));
    assert_non_null(strstr(r.log, "6:ERROR text after the section header"));
    assert_non_null(strstr(r.log, "7:ERROR bad section name"));
    assert_non_null(strstr(r.log, "9:guest/fine:k=v"));
}

static void test_bad_header_ends_section(void **state)
{
    struct record r;

    /* Keys after a rejected header must not land in the section before it. */
    assert_int_equal(parse(&r, "[guest a]\nk = 1\n[guest b c]\nz = 2\n"), 1);
    assert_non_null(strstr(r.log, "2:guest/a:k=1"));
    assert_non_null(strstr(r.log, "4:/:z=2"));
}

static void test_limits_and_binary(void **state)
{
    struct record r;
    char text[2048];

    /* An over-long value is an error, not an overflow. */
    memset(text, 0, sizeof(text));
    strcpy(text, "key = ");
    memset(text + 6, 'x', 1000);
    assert_int_equal(parse(&r, text), 1);
    assert_non_null(strstr(r.log, "too long"));

    /* NUL bytes and control characters inside lines. */
    static const char bin[] = "a = b\0c\nd = e\x01\n[x]\n";
    struct ini_handlers h = {on_section, on_item, on_error, &r};
    memset(&r, 0, sizeof(r));
    assert_int_equal(ini_parse(bin, sizeof(bin) - 1, &h), 2);
    assert_int_equal(r.sections, 1);

    /* No final newline; empty text. */
    assert_int_equal(parse(&r, "[a]\nk=v"), 0);
    assert_int_equal(r.items, 1);
    assert_int_equal(parse(&r, ""), 0);
    assert_int_equal(r.items + r.sections, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_config),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_bad_header_ends_section),
        cmocka_unit_test(test_limits_and_binary),
    };
    return cmocka_run_group_tests_name("ini", tests, NULL, NULL);
}
