/* SPDX-License-Identifier: MIT */
/*
 * The shell's connection to the machine: reads bytes from the console
 * without blocking, feeds them to the line editor, writes the echo, and runs
 * finished lines against the commands the linker gathered in .shell_cmds.
 * Meant to be polled from the boot CPU's idle loop.
 */
#include "kernel/shell/shell.h"

#include <stdint.h>

#include "kernel/console/console.h"
#include "kernel/shell/shell_line.h"
#include "kernel/shell/shell_parse.h"
#include "kernel/shell/shell_table.h"

#define SHELL_PROMPT "sidecore> "

/* Bytes handled per shell_poll(): enough for a pasted line, small enough
 * that the idle loop gets the CPU back soon. */
#define SHELL_POLL_BUDGET 256

extern const struct shell_cmd __shell_cmds_start[], __shell_cmds_end[];

static struct shell_line editor;
static shell_input_fn divert_fn;
static shell_tick_fn divert_tick;
static void *divert_ctx;

void shell_divert_input_ticking(shell_input_fn fn, shell_tick_fn tick, void *ctx)
{
    divert_ctx = ctx;
    divert_tick = tick;
    divert_fn = fn;
}

void shell_divert_input(shell_input_fn fn, void *ctx)
{
    shell_divert_input_ticking(fn, NULL, ctx);
}

const struct shell_cmd *shell_commands(size_t *n)
{
    *n = (size_t)(__shell_cmds_end - __shell_cmds_start);
    return __shell_cmds_start;
}

static void shell_say(const char *line)
{
    console_printf("%s\n", line);
}

static void shell_prompt(void)
{
    console_write(SHELL_PROMPT, sizeof(SHELL_PROMPT) - 1);
}

void shell_start(void)
{
    shell_line_init(&editor);
    console_write("\n", 1);
    shell_prompt();
}

void shell_poll(void)
{
    if (divert_fn && divert_tick)
        divert_tick(divert_ctx);
    for (int budget = SHELL_POLL_BUDGET; budget > 0; budget--) {
        int c = console_getc();
        char echo[SHELL_LINE_ECHO_MAX];
        size_t echo_len;
        size_t ncmds;

        if (c < 0)
            return;
        if (divert_fn) {
            if (!divert_fn(divert_ctx, (uint8_t)c)) {
                divert_fn = NULL;
                divert_tick = NULL;
                console_write("\n", 1);
                shell_prompt();
            }
            continue;
        }
        enum shell_line_event ev = shell_line_feed(&editor, (uint8_t)c, echo, &echo_len);
        if (echo_len)
            console_write(echo, echo_len);
        switch (ev) {
        case SHELL_LINE_COMPLETE: {
            const struct shell_cmd *cmds = shell_commands(&ncmds);
            shell_execute(cmds, ncmds, editor.text, shell_say);
            if (!divert_fn) /* a command that took the console prompts later */
                shell_prompt();
            break;
        }
        case SHELL_LINE_CANCELLED: shell_prompt(); break;
        case SHELL_LINE_PENDING: break;
        }
    }
}
