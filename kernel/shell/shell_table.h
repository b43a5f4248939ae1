/* SPDX-License-Identifier: MIT */
/* The table of every SHELL_COMMAND() in the image (the .shell_cmds linker
 * section), for the shell itself and for `help`. */
#ifndef SIDECORE_SHELL_SHELL_TABLE_H
#define SIDECORE_SHELL_SHELL_TABLE_H

#include <stddef.h>

#include "kernel/shell/shell.h"

/* Sets *n to the number of commands and returns the first. */
const struct shell_cmd *shell_commands(size_t *n);

#endif
