/* SPDX-License-Identifier: MIT */
#include "kernel/lib/str.h"

#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"

size_t str_copy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);

    if (size) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses digits at *s in the given base; advances *s past them. */
static bool parse_digits(const char **s, unsigned base, uint64_t *out)
{
    uint64_t v = 0;
    const char *p = *s;
    int d;

    if (digit_value(*p) < 0 || (unsigned)digit_value(*p) >= base)
        return false;
    while ((d = digit_value(*p)) >= 0 && (unsigned)d < base) {
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            return false;
        v = v * base + (uint64_t)d;
        p++;
    }
    *s = p;
    *out = v;
    return true;
}

static bool parse_number_prefix(const char **s, uint64_t *out)
{
    if ((*s)[0] == '0' && ((*s)[1] == 'x' || (*s)[1] == 'X')) {
        *s += 2;
        return parse_digits(s, 16, out);
    }
    return parse_digits(s, 10, out);
}

bool str_to_u64(const char *s, uint64_t *out)
{
    uint64_t v;

    if (!parse_number_prefix(&s, &v) || *s)
        return false;
    *out = v;
    return true;
}

bool str_to_size(const char *s, uint64_t *out)
{
    uint64_t v;
    unsigned shift = 0;

    if (!parse_number_prefix(&s, &v))
        return false;
    switch (*s) {
    case 'k':
    case 'K':
        shift = 10;
        s++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        s++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        s++;
        break;
    case 't':
    case 'T':
        shift = 40;
        s++;
        break;
    default: break;
    }
    if (*s == 'b' || *s == 'B')
        s++;
    if (*s)
        return false;
    if (shift && v > (UINT64_MAX >> shift))
        return false;
    *out = v << shift;
    return true;
}

void str_format_size(char *buf, size_t size, uint64_t bytes)
{
    static const char units[] = "BKMGTP";
    unsigned u = 0;
    uint64_t scaled = bytes;

    while (scaled >= 1024 && u < sizeof(units) - 2) {
        scaled /= 1024;
        u++;
    }
    if (u == 0) {
        fmt_snprintf(buf, size, "%luB", (unsigned long)bytes);
        return;
    }
    uint64_t unit = 1ull << (10 * u);
    uint64_t tenths = (bytes % unit) * 10 / unit;
    if (tenths && scaled < 100)
        fmt_snprintf(buf, size, "%lu.%lu%c", (unsigned long)scaled, (unsigned long)tenths,
                     units[u]);
    else
        fmt_snprintf(buf, size, "%lu%c", (unsigned long)scaled, units[u]);
}
