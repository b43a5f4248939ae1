/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the shell's pure parts: the line editor (what is echoed,
 * when a line completes), the tokenizer, command lookup, help ordering and
 * dispatch with its one-line error messages.
 */
/* test-sources: kernel/shell/shell_line.c kernel/shell/shell_parse.c kernel/lib/fmt.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/shell/shell_line.h"
#include "kernel/shell/shell_parse.h"

/* ---- line editor ---- */

struct feed_result {
    char echo[4096];
    size_t echo_len;
    int completed;
    int cancelled;
    char last_line[SHELL_LINE_MAX + 1];
};

/* Feeds n bytes, concatenating the echo and remembering the last line. */
static void feed(struct shell_line *l, const char *bytes, size_t n, struct feed_result *r)
{
    for (size_t i = 0; i < n; i++) {
        char echo[SHELL_LINE_ECHO_MAX];
        size_t len = 99;
        enum shell_line_event ev = shell_line_feed(l, (uint8_t)bytes[i], echo, &len);

        assert_true(len <= SHELL_LINE_ECHO_MAX);
        assert_true(r->echo_len + len < sizeof(r->echo));
        memcpy(r->echo + r->echo_len, echo, len);
        r->echo_len += len;
        r->echo[r->echo_len] = '\0';
        if (ev == SHELL_LINE_COMPLETE) {
            r->completed++;
            assert_int_equal(strlen(l->text), l->len);
            strcpy(r->last_line, l->text);
        } else if (ev == SHELL_LINE_CANCELLED) {
            r->cancelled++;
        }
    }
}

#define FEED(l, s, r) feed((l), (s), sizeof(s) - 1, (r))

static void test_line_plain(void **state)
{
    struct shell_line l;
    struct feed_result r = {0};

    shell_line_init(&l);
    FEED(&l, "pci -v\r", &r);
    assert_int_equal(r.completed, 1);
    assert_string_equal(r.last_line, "pci -v");
    assert_string_equal(r.echo, "pci -v\n");
}

static void test_line_backspace_at_start(void **state)
{
    struct shell_line l;
    struct feed_result r = {0};

    shell_line_init(&l);
    FEED(&l, "\b\x7f\bab\r", &r);
    assert_string_equal(r.echo, "ab\n"); /* nothing erased on screen */
    assert_string_equal(r.last_line, "ab");
}

static void test_line_backspace_mid_line(void **state)
{
    struct shell_line l;
    struct feed_result r = {0};

    shell_line_init(&l);
    FEED(&l, "helx\x7fp\r", &r);
    assert_string_equal(r.last_line, "help");
    assert_string_equal(r.echo, "helx\b \bp\n");

    /* Backspace (0x08) works the same, and erasing everything is fine. */
    memset(&r, 0, sizeof(r));
    FEED(&l, "ab\b\b\bc\n", &r);
    assert_string_equal(r.last_line, "c");
    assert_string_equal(r.echo, "ab\b \b\b \bc\n");
}

static void test_line_crlf_counted_once(void **state)
{
    struct shell_line l;
    struct feed_result r = {0};

    shell_line_init(&l);
    FEED(&l, "a\r\nb\r\n", &r);
    assert_int_equal(r.completed, 2);
    assert_string_equal(r.last_line, "b");
    assert_string_equal(r.echo, "a\nb\n");

    /* LF alone ends a line, LF LF is two (empty second) lines, CR CR too. */
    memset(&r, 0, sizeof(r));
    FEED(&l, "x\n\n", &r);
    assert_int_equal(r.completed, 2);
    assert_string_equal(r.last_line, "");
    memset(&r, 0, sizeof(r));
    FEED(&l, "\r\r", &r);
    assert_int_equal(r.completed, 2);
    /* An LF that does not directly follow a CR is a line of its own. */
    memset(&r, 0, sizeof(r));
    FEED(&l, "\rq\n", &r);
    assert_int_equal(r.completed, 2);
    assert_string_equal(r.last_line, "q");
}

static void test_line_too_long(void **state)
{
    struct shell_line l;
    struct feed_result r = {0};
    char input[SHELL_LINE_MAX + 11];

    shell_line_init(&l);
    memset(input, 'x', sizeof(input) - 1);
    input[SHELL_LINE_MAX + 9] = '\r';
    feed(&l, input, SHELL_LINE_MAX + 10, &r);
    assert_int_equal(r.completed, 1);
    assert_int_equal(strlen(r.last_line), SHELL_LINE_MAX);
    /* SHELL_LINE_MAX echoed, then a bell for each of the 9 refused. */
    assert_int_equal(r.echo_len, SHELL_LINE_MAX + 9 + 1);
    for (size_t i = SHELL_LINE_MAX; i < SHELL_LINE_MAX + 9; i++)
        assert_int_equal(r.echo[i], '\a');

    /* At the limit, Backspace makes room again. */
    memset(&r, 0, sizeof(r));
    feed(&l, input, SHELL_LINE_MAX + 2, &r);
    FEED(&l, "\x7fyz\r", &r);
    assert_int_equal(strlen(r.last_line), SHELL_LINE_MAX);
    assert_int_equal(r.last_line[SHELL_LINE_MAX - 1], 'y');
}

static void test_line_ctrl_c(void **state)
{
    struct shell_line l;
    struct feed_result r = {0};

    shell_line_init(&l);
    FEED(&l, "reboot\x03", &r);
    assert_int_equal(r.cancelled, 1);
    assert_int_equal(r.completed, 0);
    assert_string_equal(r.echo, "reboot^C\n");
    FEED(&l, "help\r", &r);
    assert_int_equal(r.completed, 1);
    assert_string_equal(r.last_line, "help");
}

static void test_line_ignores_nonprintable(void **state)
{
    struct shell_line l;
    struct feed_result r = {0};

    shell_line_init(&l);
    FEED(&l,
         "a\x01\x02\t\x00\x80\xff"
         "b\r",
         &r);
    assert_string_equal(r.last_line, "ab");
    assert_string_equal(r.echo, "ab\n");
}

static void test_line_skips_escape_sequences(void **state)
{
    struct shell_line l;
    struct feed_result r = {0};

    shell_line_init(&l);
    /* Up arrow, Right arrow, Delete key (ESC [ 3 ~), F1 (ESC O P). */
    FEED(&l, "a\x1b[A\x1b[C\x1b[3~\x1bOPb\r", &r);
    assert_string_equal(r.last_line, "ab");
    assert_string_equal(r.echo, "ab\n");
    /* ESC then Enter: the Enter still counts. */
    memset(&r, 0, sizeof(r));
    FEED(&l, "c\x1b\r", &r);
    assert_int_equal(r.completed, 1);
    assert_string_equal(r.last_line, "c");
}

/* ---- tokenizer ---- */

static void test_tokenize_spaces(void **state)
{
    char line[] = "   pci \t -v   x  ";
    char *argv[SHELL_MAX_ARGS + 1];

    assert_int_equal(shell_tokenize(line, argv, SHELL_MAX_ARGS), 3);
    assert_string_equal(argv[0], "pci");
    assert_string_equal(argv[1], "-v");
    assert_string_equal(argv[2], "x");
    assert_null(argv[3]);
}

static void test_tokenize_empty(void **state)
{
    char empty[] = "";
    char blank[] = " \t  ";
    char *argv[4];

    assert_int_equal(shell_tokenize(empty, argv, 3), 0);
    assert_null(argv[0]);
    assert_int_equal(shell_tokenize(blank, argv, 3), 0);
    assert_null(argv[0]);
}

static void test_tokenize_too_many(void **state)
{
    char exact[] = "a b c";
    char over[] = "a b c d";
    char over_trailing[] = "a b c   ";
    char *argv[4];

    assert_int_equal(shell_tokenize(exact, argv, 3), 3);
    assert_null(argv[3]);
    assert_int_equal(shell_tokenize(over, argv, 3), -1);
    /* Trailing blanks are not a word. */
    assert_int_equal(shell_tokenize(over_trailing, argv, 3), 3);
}

/* ---- lookup and dispatch ---- */

static int last_argc;
static char last_args[4][16];

static int cmd_record(int argc, char **argv)
{
    last_argc = argc;
    for (int i = 0; i < argc && i < 4; i++)
        strcpy(last_args[i], argv[i]);
    return 7;
}

static const struct shell_cmd table[] = {
    {"uptime", "", "time since boot", cmd_record},
    {"pci", "[-v]", "PCI", cmd_record},
    {"help", "", "commands", cmd_record},
    {"pcie", "", "a longer name sharing a prefix", cmd_record},
    {"help", "", "a duplicate", cmd_record},
};
#define TABLE_N (sizeof(table) / sizeof(table[0]))

static void test_find_command(void **state)
{
    assert_ptr_equal(shell_find_command(table, TABLE_N, "pci"), &table[1]);
    assert_ptr_equal(shell_find_command(table, TABLE_N, "pcie"), &table[3]);
    assert_ptr_equal(shell_find_command(table, TABLE_N, "uptime"), &table[0]);
    /* A prefix of a longer name, or a longer word, is not a match. */
    assert_null(shell_find_command(table, TABLE_N, "up"));
    assert_null(shell_find_command(table, TABLE_N, "pc"));
    assert_null(shell_find_command(table, TABLE_N, "uptimex"));
    assert_null(shell_find_command(table, TABLE_N, "xyz"));
    assert_null(shell_find_command(table, TABLE_N, ""));
    assert_null(shell_find_command(table, 0, "pci"));
}

static void test_next_by_name(void **state)
{
    const struct shell_cmd *order[TABLE_N + 1];
    size_t n = 0;

    for (const struct shell_cmd *c = shell_next_by_name(table, TABLE_N, NULL); c;
         c = shell_next_by_name(table, TABLE_N, c)) {
        assert_true(n < TABLE_N);
        order[n++] = c;
    }
    assert_int_equal(n, TABLE_N);
    assert_ptr_equal(order[0], &table[2]); /* help */
    assert_ptr_equal(order[1], &table[4]); /* help (duplicate, later in table) */
    assert_ptr_equal(order[2], &table[1]); /* pci */
    assert_ptr_equal(order[3], &table[3]); /* pcie */
    assert_ptr_equal(order[4], &table[0]); /* uptime */
    assert_null(shell_next_by_name(table, 0, NULL));
}

static char said[8][128];
static int said_count;

static void say(const char *line)
{
    assert_true(said_count < 8);
    assert_true(strlen(line) < sizeof(said[0]));
    strcpy(said[said_count++], line);
}

static void reset_dispatch(void)
{
    said_count = 0;
    last_argc = -1;
}

static void test_execute(void **state)
{
    char ok[] = "  pci  -v ";
    char unknown[] = "xyz 1 2";
    char prefix[] = "pc";
    char blank[] = "   ";
    char many[] = "pci 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16";
    char max[] = "pci 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15";

    reset_dispatch();
    assert_int_equal(shell_execute(table, TABLE_N, ok, say), 7);
    assert_int_equal(last_argc, 2);
    assert_string_equal(last_args[0], "pci");
    assert_string_equal(last_args[1], "-v");
    assert_int_equal(said_count, 0);

    reset_dispatch();
    assert_int_equal(shell_execute(table, TABLE_N, unknown, say), -1);
    assert_int_equal(last_argc, -1);
    assert_int_equal(said_count, 1);
    assert_string_equal(said[0], "unknown command 'xyz' (type help)");

    reset_dispatch();
    assert_int_equal(shell_execute(table, TABLE_N, prefix, say), -1);
    assert_string_equal(said[0], "unknown command 'pc' (type help)");

    reset_dispatch();
    assert_int_equal(shell_execute(table, TABLE_N, blank, say), 0);
    assert_int_equal(said_count, 0);
    assert_int_equal(last_argc, -1);

    reset_dispatch();
    assert_int_equal(shell_execute(table, TABLE_N, many, say), -1);
    assert_int_equal(said_count, 1);
    assert_int_equal(last_argc, -1);
    assert_string_equal(said[0], "too many arguments (at most 16 words)");

    reset_dispatch();
    assert_int_equal(shell_execute(table, TABLE_N, max, say), 7);
    assert_int_equal(last_argc, SHELL_MAX_ARGS);
}

static void test_execute_long_unknown_name_is_cut(void **state)
{
    char line[SHELL_LINE_MAX + 1];

    memset(line, 'z', SHELL_LINE_MAX);
    line[SHELL_LINE_MAX] = '\0';
    reset_dispatch();
    assert_int_equal(shell_execute(table, TABLE_N, line, say), -1);
    assert_int_equal(said_count, 1);
    /* One line, the name shortened, the hint still there. */
    assert_non_null(strstr(said[0], "' (type help)"));
    assert_true(strlen(said[0]) < 80);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_plain),
        cmocka_unit_test(test_line_backspace_at_start),
        cmocka_unit_test(test_line_backspace_mid_line),
        cmocka_unit_test(test_line_crlf_counted_once),
        cmocka_unit_test(test_line_too_long),
        cmocka_unit_test(test_line_ctrl_c),
        cmocka_unit_test(test_line_ignores_nonprintable),
        cmocka_unit_test(test_line_skips_escape_sequences),
        cmocka_unit_test(test_tokenize_spaces),
        cmocka_unit_test(test_tokenize_empty),
        cmocka_unit_test(test_tokenize_too_many),
        cmocka_unit_test(test_find_command),
        cmocka_unit_test(test_next_by_name),
        cmocka_unit_test(test_execute),
        cmocka_unit_test(test_execute_long_unknown_name_is_cut),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
