/* SPDX-License-Identifier: MIT */
/*
 * Tokenizing, command lookup and dispatch for the shell, over a command
 * table passed in rather than the linker section, so the host tests can use
 * a table of their own. No allocation: words are cut in place in the line.
 */
#include "kernel/shell/shell_parse.h"

#include <stdbool.h>
#include <stdint.h>

#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int shell_tokenize(char *line, char **argv, int max)
{
    int argc = 0;
    char *p = line;

    for (;;) {
        while (is_blank(*p))
            p++;
        if (!*p)
            break;
        if (argc == max)
            return -1;
        argv[argc++] = p;
        while (*p && !is_blank(*p))
            p++;
        if (*p)
            *p++ = '\0';
    }
    argv[argc] = NULL;
    return argc;
}

const struct shell_cmd *shell_find_command(const struct shell_cmd *table, size_t n,
                                           const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (table[i].name && strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

/* Total order on table entries: by name, then by position. */
static bool cmd_before(const struct shell_cmd *a, const struct shell_cmd *b)
{
    int c = strcmp(a->name, b->name);

    return c < 0 || (c == 0 && (uintptr_t)a < (uintptr_t)b);
}

const struct shell_cmd *shell_next_by_name(const struct shell_cmd *table, size_t n,
                                           const struct shell_cmd *prev)
{
    const struct shell_cmd *best = NULL;

    for (size_t i = 0; i < n; i++) {
        const struct shell_cmd *c = &table[i];

        if (!c->name || (prev && !cmd_before(prev, c)))
            continue;
        if (!best || cmd_before(c, best))
            best = c;
    }
    return best;
}

int shell_execute(const struct shell_cmd *table, size_t n, char *line, shell_say_fn say)
{
    char *argv[SHELL_MAX_ARGS + 1];
    char msg[96];
    int argc = shell_tokenize(line, argv, SHELL_MAX_ARGS);

    if (argc < 0) {
        fmt_snprintf(msg, sizeof(msg), "too many arguments (at most %d words)", SHELL_MAX_ARGS);
        say(msg);
        return -1;
    }
    if (argc == 0)
        return 0;

    const struct shell_cmd *cmd = shell_find_command(table, n, argv[0]);
    if (!cmd || !cmd->fn) {
        fmt_snprintf(msg, sizeof(msg), "unknown command '%.40s' (type help)", argv[0]);
        say(msg);
        return -1;
    }
    return cmd->fn(argc, argv);
}
