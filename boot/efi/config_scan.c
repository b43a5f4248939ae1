/* SPDX-License-Identifier: MIT */
/*
 * Scans config text line by line for the keys that name files. A line is
 * "key = value"; '#' starts a comment; whitespace around key and value does
 * not count. The text comes from a file on a stick or a TFTP server, so
 * every access is bounded by its length and nothing is assumed about it.
 */
#include "boot/efi/config_scan.h"

#include <stdbool.h>

struct span {
    const char *p;
    size_t n;
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static struct span trim(struct span s)
{
    while (s.n > 0 && is_space(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && is_space(s.p[s.n - 1]))
        s.n--;
    return s;
}

static bool span_equals(struct span s, const char *word)
{
    size_t i = 0;

    for (; i < s.n; i++)
        if (word[i] == '\0' || word[i] != s.p[i])
            return false;
    return word[i] == '\0';
}

static bool span_starts_with(struct span s, const char *prefix)
{
    for (size_t i = 0; prefix[i] != '\0'; i++)
        if (i >= s.n || s.p[i] != prefix[i])
            return false;
    return true;
}

/* A path must stay below the config's directory and be a plain string. */
static const char *path_problem(struct span path)
{
    if (path.n == 0)
        return "empty path";
    if (path.n >= HANDOFF_NAME_LEN)
        return "path too long";
    if (path.p[0] == '/' || path.p[0] == '\\')
        return "absolute path (paths are relative to the config's directory)";
    for (size_t i = 0; i < path.n; i++) {
        unsigned char c = (unsigned char)path.p[i];
        if (c < 0x20 || c > 0x7e)
            return "path holds a control or non-ASCII character";
        if (c == '\\')
            return "path uses '\\' (use '/')";
        if (c == '.' && i + 1 < path.n && path.p[i + 1] == '.')
            return "path contains \"..\"";
    }
    return NULL;
}

static bool list_contains(const struct config_file_list *list, struct span path)
{
    for (size_t i = 0; i < list->count; i++)
        if (span_equals(path, list->names[i]))
            return true;
    return false;
}

static void add_path(struct config_file_list *out, struct span path, unsigned line,
                     config_scan_warn_fn warn, void *ctx)
{
    const char *why = path_problem(path);

    if (why == NULL && list_contains(out, path))
        return;
    if (why == NULL && out->count >= CONFIG_SCAN_MAX_FILES)
        why = "too many files for the hand-off";
    if (why != NULL) {
        if (warn != NULL)
            warn(ctx, line, why);
        return;
    }
    char *dst = out->names[out->count++];
    for (size_t i = 0; i < path.n; i++)
        dst[i] = path.p[i];
    dst[path.n] = '\0';
}

static void scan_line(struct span line, unsigned line_no, struct config_file_list *out,
                      config_scan_warn_fn warn, void *ctx)
{
    for (size_t i = 0; i < line.n; i++) {
        if (line.p[i] == '#') {
            line.n = i;
            break;
        }
    }
    size_t eq = 0;
    while (eq < line.n && line.p[eq] != '=')
        eq++;
    if (eq == line.n)
        return;
    struct span key = trim((struct span){line.p, eq});
    struct span value = trim((struct span){line.p + eq + 1, line.n - eq - 1});

    if (span_equals(key, "kernel") || span_equals(key, "initrd")) {
        add_path(out, value, line_no, warn, ctx);
    } else if (span_equals(key, "disk") && span_starts_with(value, "ram:")) {
        value.p += 4;
        value.n -= 4;
        add_path(out, trim(value), line_no, warn, ctx);
    }
}

void config_scan_files(const char *text, size_t len, struct config_file_list *out,
                       config_scan_warn_fn warn, void *ctx)
{
    size_t start = 0;
    unsigned line_no = 1;

    out->count = 0;
    while (start < len) {
        size_t end = start;
        while (end < len && text[end] != '\n')
            end++;
        scan_line((struct span){text + start, end - start}, line_no, out, warn, ctx);
        start = end + 1;
        line_no++;
    }
}
