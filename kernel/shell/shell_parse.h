/* SPDX-License-Identifier: MIT */
/*
 * The shell's command-line handling that needs no console: splitting a line
 * into words, finding a command in a table, ordering commands by name for
 * `help`, and running one line. Pure code, also built for the host tests.
 */
#ifndef SIDECORE_SHELL_SHELL_PARSE_H
#define SIDECORE_SHELL_SHELL_PARSE_H

#include <stddef.h>

#include "kernel/shell/shell.h"

#define SHELL_MAX_ARGS 16 /* words in one command line, the command included */

/*
 * Splits line in place on spaces and tabs. argv must have room for max + 1
 * pointers; argv[argc] is set to NULL. Returns argc (0 for a blank line), or
 * -1 when the line has more than max words.
 */
int shell_tokenize(char *line, char **argv, int max);

/* The command whose name is exactly name, or NULL. */
const struct shell_cmd *shell_find_command(const struct shell_cmd *table, size_t n,
                                           const char *name);

/* The command after prev in name order (the first when prev is NULL), or
 * NULL after the last. Equal names keep their table order. */
const struct shell_cmd *shell_next_by_name(const struct shell_cmd *table, size_t n,
                                           const struct shell_cmd *prev);

/* Receives one line of the shell's own messages (no newline). */
typedef void (*shell_say_fn)(const char *line);

/*
 * Tokenizes line (in place), finds the command and runs it. A blank line
 * does nothing and returns 0; too many words or an unknown command are
 * reported with one line through say and return -1; otherwise returns what
 * the command returned.
 */
int shell_execute(const struct shell_cmd *table, size_t n, char *line, shell_say_fn say);

#endif
