/* SPDX-License-Identifier: MIT */
/*
 * The tokenizer for sidecore.cfg: an INI-style text of `[section]` or
 * `[section NAME]` headers and `key = value` lines, `#` comments, blank
 * lines. It only splits the text; what the keys mean is the caller's.
 * Pure code, host-tested and fuzzed.
 */
#ifndef SIDECORE_CONFIG_INI_H
#define SIDECORE_CONFIG_INI_H

#include <stdbool.h>
#include <stddef.h>

#define INI_MAX_TOKEN 128

struct ini_item {
    unsigned line;               /* 1-based */
    char section[INI_MAX_TOKEN]; /* e.g. "hypervisor", "guest" ("" before any) */
    char name[INI_MAX_TOKEN];    /* e.g. "web0" in [guest web0]; "" if none */
    char key[INI_MAX_TOKEN];
    char value[INI_MAX_TOKEN * 4]; /* trimmed, comment removed */
};

/* Called once per key = value line; the bool return is ignored for now and
 * reserved for stopping early. */
typedef void (*ini_item_fn)(void *ctx, const struct ini_item *item);
/* Called once per line that is not valid syntax, with a message. */
typedef void (*ini_error_fn)(void *ctx, unsigned line, const char *message);
/* Called at each section header (so empty sections are seen too). */
typedef void (*ini_section_fn)(void *ctx, unsigned line, const char *section, const char *name);

struct ini_handlers {
    ini_section_fn section;
    ini_item_fn item;
    ini_error_fn error;
    void *ctx;
};

/* Walks the text (not NUL-terminated; len bytes). Returns the number of
 * syntax errors reported. */
unsigned ini_parse(const char *text, size_t len, const struct ini_handlers *h);

#endif
