/* SPDX-License-Identifier: MIT */
/*
 * The operator's shell on the serial console (prompt "sidecore> ").
 *
 * Any file can add a command with SHELL_COMMAND(); the linker gathers them
 * into one table (section .shell_cmds), so the shell needs no list of them.
 * A command prints with console_printf() and returns 0, or prints one line
 * saying what was wrong and returns non-zero.
 */
#ifndef SIDECORE_SHELL_SHELL_H
#define SIDECORE_SHELL_SHELL_H

#include <stdbool.h>
#include <stdint.h>

struct shell_cmd {
    const char *name;
    const char *usage; /* arguments, e.g. "[NAME]"; "" when none */
    const char *help;  /* one line */
    int (*fn)(int argc, char **argv);
};

#define SHELL_COMMAND(cmd_name, cmd_usage, cmd_help, cmd_fn)                                       \
    static const struct shell_cmd shell_cmd_##cmd_fn                                               \
        __attribute__((used, section(".shell_cmds"), aligned(8))) = {                              \
            .name = cmd_name, .usage = cmd_usage, .help = cmd_help, .fn = cmd_fn}

/* Diverts console input (e.g. to a guest's console): while set, every byte
 * goes to fn instead of the line editor. fn returns false to hand the console
 * back; the shell then prints its prompt again. */
typedef bool (*shell_input_fn)(void *ctx, uint8_t c);
void shell_divert_input(shell_input_fn fn, void *ctx);

/* The same, and while diverted every shell_poll() also calls tick(ctx)
 * first: a command that keeps running (`stats watch`) does its work from
 * the console CPU's idle loop instead of holding that CPU in a loop. */
typedef void (*shell_tick_fn)(void *ctx);
void shell_divert_input_ticking(shell_input_fn fn, shell_tick_fn tick, void *ctx);

/* Prints the prompt. */
void shell_start(void);
/* Reads whatever input is waiting and runs complete lines; never blocks. */
void shell_poll(void);

#endif
