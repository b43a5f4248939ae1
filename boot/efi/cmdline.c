/* SPDX-License-Identifier: MIT */
/*
 * LoadOptions -> ASCII command line. Binary options are recognised by any
 * code unit outside printable ASCII before the terminating NUL: they carry
 * no command line, so the result is empty rather than garbage.
 */
#include "boot/efi/cmdline.h"

static uint16_t unit_at(const uint8_t *p, size_t i)
{
    uint16_t u;
    __builtin_memcpy(&u, p + 2 * i, sizeof(u));
    return u;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* True when the word s[0..n) names an EFI image. */
static bool is_image_name(const char *s, size_t n)
{
    return n >= 4 && s[n - 4] == '.' && lower(s[n - 3]) == 'e' && lower(s[n - 2]) == 'f' &&
           lower(s[n - 1]) == 'i';
}

bool cmdline_from_load_options(const void *opts, size_t size, char *out, size_t out_size)
{
    const uint8_t *p = opts;
    size_t units = size / 2, n = 0;

    if (out_size == 0)
        return false;
    out[0] = '\0';
    if (opts == NULL)
        return units == 0;
    while (n < units && unit_at(p, n) != 0) {
        uint16_t u = unit_at(p, n);
        if (u != '\t' && (u < 0x20 || u > 0x7e))
            return false;
        n++;
    }

    /* Copy as ASCII, then cut off a leading image name. */
    size_t len = 0;
    for (size_t i = 0; i < n && len + 1 < out_size; i++) {
        uint16_t u = unit_at(p, i);
        out[len++] = u == '\t' ? ' ' : (char)u;
    }
    out[len] = '\0';

    size_t start = 0;
    while (start < len && out[start] == ' ')
        start++;
    size_t word_end = start;
    while (word_end < len && out[word_end] != ' ')
        word_end++;
    if (is_image_name(out + start, word_end - start))
        start = word_end;
    while (start < len && out[start] == ' ')
        start++;
    while (len > start && out[len - 1] == ' ')
        len--;
    for (size_t i = 0; start + i < len; i++)
        out[i] = out[start + i];
    out[len - start] = '\0';
    return true;
}
