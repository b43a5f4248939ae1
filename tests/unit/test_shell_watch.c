/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the timing behind `stats watch SECONDS`: the period's range,
 * rounds on a fixed grid (first at once, late ones skipped, not bunched) and
 * which key stops the watch.
 */
/* test-sources: kernel/shell/shell_watch.c kernel/lib/str.c kernel/lib/fmt.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kernel/shell/shell_watch.h"

#define S 1000000000ull

static void test_parse_seconds_range(void **state)
{
    uint32_t s = 77;

    assert_true(shell_watch_parse_seconds("1", &s));
    assert_int_equal(s, 1);
    assert_true(shell_watch_parse_seconds("3600", &s));
    assert_int_equal(s, 3600);
    s = 77;
    assert_false(shell_watch_parse_seconds("0", &s));
    assert_false(shell_watch_parse_seconds("3601", &s));
    assert_false(shell_watch_parse_seconds("", &s));
    assert_false(shell_watch_parse_seconds("-1", &s));
    assert_false(shell_watch_parse_seconds("0x10", &s));
    assert_false(shell_watch_parse_seconds("2s", &s));
    assert_false(shell_watch_parse_seconds("99999999999999999999999", &s));
    assert_int_equal(s, 77); /* untouched on refusal */
}

static void test_first_round_at_once_then_every_period(void **state)
{
    struct shell_watch w;

    shell_watch_start(&w, 2, 10 * S);
    assert_true(shell_watch_due(&w, 10 * S));
    assert_false(shell_watch_due(&w, 10 * S));
    assert_false(shell_watch_due(&w, 12 * S - 1));
    assert_true(shell_watch_due(&w, 12 * S + 300000)); /* printed a little late */
    /* The grid holds: the next is due at 14 s, not 14.0003 s. */
    assert_false(shell_watch_due(&w, 14 * S - 1));
    assert_true(shell_watch_due(&w, 14 * S));
}

static void test_missed_rounds_are_skipped(void **state)
{
    struct shell_watch w;

    shell_watch_start(&w, 1, 0);
    assert_true(shell_watch_due(&w, 0));
    /* The console CPU was away for 5.5 s: one round now, the next at 6 s. */
    assert_true(shell_watch_due(&w, 5 * S + S / 2));
    assert_false(shell_watch_due(&w, 5 * S + S / 2));
    assert_false(shell_watch_due(&w, 6 * S - 1));
    assert_true(shell_watch_due(&w, 6 * S));
}

static void test_any_key_stops_but_a_leading_lf(void **state)
{
    struct shell_watch w;

    shell_watch_start(&w, 1, 0);
    assert_false(shell_watch_key_stops(&w, '\n')); /* the LF of the Enter's CR LF */
    assert_true(shell_watch_key_stops(&w, '\n'));  /* a later Enter does stop it */
    shell_watch_start(&w, 1, 0);
    assert_true(shell_watch_key_stops(&w, 'q'));
    shell_watch_start(&w, 1, 0);
    assert_true(shell_watch_key_stops(&w, '\r'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_seconds_range),
        cmocka_unit_test(test_first_round_at_once_then_every_period),
        cmocka_unit_test(test_missed_rounds_are_skipped),
        cmocka_unit_test(test_any_key_stops_but_a_leading_lf),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
