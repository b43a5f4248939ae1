/* SPDX-License-Identifier: MIT */
/*
 * The shell's line editor: a byte-at-a-time state machine with no I/O of its
 * own, so serial input quirks (CRLF from terminals, DEL vs Backspace, arrow
 * keys sending escape sequences) are handled in one testable place. Only
 * appending and erasing at the end are supported; that is all a serial
 * console operator needs, and it keeps the echo trivially correct.
 */
#include "kernel/shell/shell_line.h"

#define BYTE_CTRL_C 0x03
#define BYTE_BELL   0x07
#define BYTE_BS     0x08
#define BYTE_LF     0x0a
#define BYTE_CR     0x0d
#define BYTE_ESC    0x1b
#define BYTE_DEL    0x7f

enum {
    ESC_NONE,
    ESC_START, /* saw ESC */
    ESC_CSI,   /* saw ESC [ or ESC O: parameters until a final byte */
};

void shell_line_init(struct shell_line *l)
{
    l->text[0] = '\0';
    l->len = 0;
    l->after_cr = false;
    l->escape = ESC_NONE;
    l->finished = false;
}

static void echo_str(char *echo, size_t *n, const char *s)
{
    while (*s && *n < SHELL_LINE_ECHO_MAX)
        echo[(*n)++] = *s++;
}

/* True while the byte belongs to an escape sequence (and is swallowed). */
static bool skip_escape(struct shell_line *l, uint8_t byte)
{
    switch (l->escape) {
    case ESC_START:
        if (byte == '[' || byte == 'O') {
            l->escape = ESC_CSI;
            return true;
        }
        /* Alt+key sends ESC and the key: drop the key; a control byte
         * (Enter, Ctrl-C) still counts. */
        l->escape = ESC_NONE;
        return byte >= 0x20 && byte <= 0x7e;
    case ESC_CSI:
        /* Parameter and intermediate bytes are 0x20-0x3f; a final byte
         * (0x40-0x7e) ends the sequence. Anything else ends it too. */
        if (byte < 0x20 || byte > 0x3f)
            l->escape = ESC_NONE;
        return byte >= 0x20 && byte <= 0x7e;
    default:
        if (byte == BYTE_ESC) {
            l->escape = ESC_START;
            return true;
        }
        return false;
    }
}

enum shell_line_event shell_line_feed(struct shell_line *l, uint8_t byte, char *echo,
                                      size_t *echo_len)
{
    bool after_cr = l->after_cr;

    *echo_len = 0;
    l->after_cr = false;
    if (l->finished) {
        l->finished = false;
        l->len = 0;
        l->text[0] = '\0';
    }
    if (skip_escape(l, byte))
        return SHELL_LINE_PENDING;

    switch (byte) {
    case BYTE_LF:
        if (after_cr)
            return SHELL_LINE_PENDING; /* the LF of a CRLF */
        /* fall through */
    case BYTE_CR:
        l->after_cr = byte == BYTE_CR;
        l->text[l->len] = '\0';
        l->finished = true;
        echo_str(echo, echo_len, "\n");
        return SHELL_LINE_COMPLETE;
    case BYTE_CTRL_C:
        l->len = 0;
        l->text[0] = '\0';
        l->finished = true;
        echo_str(echo, echo_len, "^C\n");
        return SHELL_LINE_CANCELLED;
    case BYTE_BS:
    case BYTE_DEL:
        if (l->len > 0) {
            l->text[--l->len] = '\0';
            echo_str(echo, echo_len, "\b \b");
        }
        return SHELL_LINE_PENDING;
    default: break;
    }
    if (byte < 0x20 || byte > 0x7e)
        return SHELL_LINE_PENDING;
    if (l->len >= SHELL_LINE_MAX) {
        echo[(*echo_len)++] = BYTE_BELL;
        return SHELL_LINE_PENDING;
    }
    l->text[l->len++] = (char)byte;
    l->text[l->len] = '\0';
    echo[(*echo_len)++] = (char)byte;
    return SHELL_LINE_PENDING;
}
