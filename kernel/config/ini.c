/* SPDX-License-Identifier: MIT */
#include "kernel/config/ini.h"

#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static bool is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

/* Trims [*b, *e) of surrounding white space. */
static void trim(const char **b, const char **e)
{
    while (*b < *e && is_space(**b))
        (*b)++;
    while (*e > *b && is_space((*e)[-1]))
        (*e)--;
}

/* Copies [b, e) into dst; false if it does not fit. */
static bool copy_span(char *dst, size_t size, const char *b, const char *e)
{
    size_t n = (size_t)(e - b);

    if (n >= size)
        return false;
    memcpy(dst, b, n);
    dst[n] = '\0';
    return true;
}

static bool all_word_chars(const char *b, const char *e)
{
    if (b == e)
        return false;
    for (const char *p = b; p < e; p++) {
        if (!is_word_char(*p))
            return false;
    }
    return true;
}

struct parser {
    const struct ini_handlers *h;
    struct ini_item item;
    unsigned errors;
};

static void error(struct parser *p, const char *msg)
{
    p->errors++;
    if (p->h->error)
        p->h->error(p->h->ctx, p->item.line, msg);
}

/* A header that is rejected ends the current section too: the lines after
 * it must not be taken for the previous section's. */
static void header_error(struct parser *p, const char *msg)
{
    p->item.section[0] = '\0';
    p->item.name[0] = '\0';
    error(p, msg);
}

static void parse_header(struct parser *p, const char *b, const char *e)
{
    /* b points at '[' */
    const char *close = b;
    while (close < e && *close != ']')
        close++;
    if (close == e) {
        header_error(p, "section header without ']'");
        return;
    }
    const char *rest = close + 1;
    trim(&rest, &e);
    if (rest != e) {
        header_error(p, "text after the section header");
        return;
    }
    const char *sb = b + 1, *se = close;
    trim(&sb, &se);
    const char *space = sb;
    while (space < se && !is_space(*space))
        space++;
    const char *nb = space, *ne = se;
    trim(&nb, &ne);
    if (!all_word_chars(sb, space)) {
        header_error(p, "bad section name");
        return;
    }
    if (nb != ne && !all_word_chars(nb, ne)) {
        header_error(p, "bad name in section header (letters, digits, _ - . only)");
        return;
    }
    if (!copy_span(p->item.section, sizeof(p->item.section), sb, space) ||
        !copy_span(p->item.name, sizeof(p->item.name), nb, ne)) {
        header_error(p, "section header too long");
        return;
    }
    if (p->h->section)
        p->h->section(p->h->ctx, p->item.line, p->item.section, p->item.name);
}

static void parse_assignment(struct parser *p, const char *b, const char *e)
{
    const char *eq = b;
    while (eq < e && *eq != '=')
        eq++;
    if (eq == e) {
        error(p, "expected 'key = value' or '[section]'");
        return;
    }
    const char *kb = b, *ke = eq, *vb = eq + 1, *ve = e;
    trim(&kb, &ke);
    trim(&vb, &ve);
    if (!all_word_chars(kb, ke)) {
        error(p, "bad key name");
        return;
    }
    if (!copy_span(p->item.key, sizeof(p->item.key), kb, ke) ||
        !copy_span(p->item.value, sizeof(p->item.value), vb, ve)) {
        error(p, "key or value too long");
        return;
    }
    for (const char *c = vb; c < ve; c++) {
        if ((unsigned char)*c < 0x20 && *c != '\t') {
            error(p, "control character in value");
            return;
        }
    }
    if (p->h->item)
        p->h->item(p->h->ctx, &p->item);
}

unsigned ini_parse(const char *text, size_t len, const struct ini_handlers *h)
{
    struct parser p;
    const char *pos = text, *end = text + len;

    memset(&p, 0, sizeof(p));
    p.h = h;
    while (pos < end) {
        const char *line_end = pos;
        while (line_end < end && *line_end != '\n')
            line_end++;
        p.item.line++;

        const char *b = pos, *e = line_end;
        for (const char *c = b; c < e; c++) {
            if (*c == '#') {
                e = c;
                break;
            }
        }
        trim(&b, &e);
        if (memchr(b, '\0', (size_t)(e - b)))
            error(&p, "NUL byte in line");
        else if (b == e)
            ; /* blank or comment */
        else if (*b == '[')
            parse_header(&p, b, e);
        else
            parse_assignment(&p, b, e);
        pos = line_end < end ? line_end + 1 : end;
    }
    return p.errors;
}
