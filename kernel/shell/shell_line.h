/* SPDX-License-Identifier: MIT */
/*
 * The shell's line editor as a state machine: fed one input byte at a time,
 * it says what to echo and when a line is finished. Pure code, also built for
 * the host unit tests.
 */
#ifndef SIDECORE_SHELL_SHELL_LINE_H
#define SIDECORE_SHELL_SHELL_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHELL_LINE_MAX      120 /* characters in one command line */
#define SHELL_LINE_ECHO_MAX 8   /* echo bytes one input byte can produce */

enum shell_line_event {
    SHELL_LINE_PENDING,   /* keep feeding */
    SHELL_LINE_COMPLETE,  /* Enter: the line is in text, NUL terminated */
    SHELL_LINE_CANCELLED, /* Ctrl-C: the line was thrown away */
};

struct shell_line {
    char text[SHELL_LINE_MAX + 1];
    size_t len;
    bool after_cr;  /* last byte was CR: an LF right after it is the same Enter */
    uint8_t escape; /* where we are in an ANSI escape sequence being skipped */
    bool finished;  /* text holds a finished or cancelled line */
};

void shell_line_init(struct shell_line *l);

/*
 * Feeds one byte. Writes what should be echoed to echo (at most
 * SHELL_LINE_ECHO_MAX bytes, "\n" for a new line) and its length to
 * *echo_len. After SHELL_LINE_COMPLETE, text stays valid until the next call.
 * Printable ASCII is added (refused with a bell once the line is full);
 * Backspace and DEL erase one character; CR, LF or CRLF end the line; Ctrl-C
 * cancels it; other control bytes and escape sequences (arrow keys) are
 * ignored.
 */
enum shell_line_event shell_line_feed(struct shell_line *l, uint8_t byte, char *echo,
                                      size_t *echo_len);

#endif
