/* SPDX-License-Identifier: MIT */
/*
 * The formatter behind printf and snprintf: one routine writing through a
 * small sink, so console output and string formatting share the parsing of
 * conversions. Unknown conversions are copied through literally.
 */
#include <stdbool.h>
#include <stdint.h>
#include "printf.h"
#include "serial.h"
#include "div64.h"

struct sink {
    char *buf; /* NULL: write to the serial port */
    size_t size;
    size_t len;
};

static void sink_put(struct sink *s, char c)
{
    if (!s->buf)
        serial_putc(c);
    else if (s->len + 1 < s->size)
        s->buf[s->len] = c;
    s->len++;
}

static void sink_pad(struct sink *s, char c, int n)
{
    while (n-- > 0)
        sink_put(s, c);
}

struct spec {
    bool zero, left, alt;
    int width;
};

static void put_field(struct sink *s, const struct spec *sp, const char *prefix, const char *body,
                      int body_len)
{
    int prefix_len = 0;

    while (prefix[prefix_len])
        prefix_len++;
    int pad = sp->width - prefix_len - body_len;
    if (!sp->left && !sp->zero)
        sink_pad(s, ' ', pad);
    for (int i = 0; i < prefix_len; i++)
        sink_put(s, prefix[i]);
    if (!sp->left && sp->zero)
        sink_pad(s, '0', pad);
    for (int i = 0; i < body_len; i++)
        sink_put(s, body[i]);
    if (sp->left)
        sink_pad(s, ' ', pad);
}

static void put_number(struct sink *s, const struct spec *sp, uint64_t v, unsigned base,
                       bool negative, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = sizeof(tmp);

    do {
        uint64_t r;
        if (base == 16) {
            r = v & 15;
            v >>= 4;
        } else {
            v = u64_divmod(v, base, &r);
        }
        tmp[--n] = digits[r];
    } while (v);
    const char *prefix = negative ? "-" : (sp->alt && base == 16) ? (upper ? "0X" : "0x") : "";
    put_field(s, sp, prefix, tmp + n, (int)sizeof(tmp) - n);
}

static int format(struct sink *s, const char *fmt, va_list ap)
{
    while (*fmt) {
        if (*fmt != '%') {
            sink_put(s, *fmt++);
            continue;
        }
        const char *start = fmt++;
        struct spec sp = {0};
        for (;; fmt++) {
            if (*fmt == '0')
                sp.zero = true;
            else if (*fmt == '-')
                sp.left = true;
            else if (*fmt == '#')
                sp.alt = true;
            else
                break;
        }
        while (*fmt >= '0' && *fmt <= '9')
            sp.width = sp.width * 10 + (*fmt++ - '0');
        int longs = 0;
        while (*fmt == 'l' || *fmt == 'z') {
            longs += *fmt == 'z' ? (sizeof(size_t) == 8 ? 2 : 1) : 1;
            fmt++;
        }
        char conv = *fmt;
        if (conv)
            fmt++;
        switch (conv) {
        case '%': sink_put(s, '%'); break;
        case 'c': {
            char c = (char)va_arg(ap, int);
            put_field(s, &sp, "", &c, 1);
            break;
        }
        case 's': {
            const char *str = va_arg(ap, const char *);
            int len = 0;
            if (!str)
                str = "(null)";
            while (str[len])
                len++;
            sp.zero = false;
            put_field(s, &sp, "", str, len);
            break;
        }
        case 'd':
        case 'i': {
            int64_t v = longs >= 2 ? va_arg(ap, long long)
                        : longs    ? va_arg(ap, long)
                                   : va_arg(ap, int);
            bool neg = v < 0;
            put_number(s, &sp, neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, 10, neg, false);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = longs >= 2 ? va_arg(ap, unsigned long long)
                         : longs    ? va_arg(ap, unsigned long)
                                    : va_arg(ap, unsigned int);
            put_number(s, &sp, v, conv == 'u' ? 10 : 16, false, conv == 'X');
            break;
        }
        case 'p':
            sp.alt = true;
            put_number(s, &sp, (uintptr_t)va_arg(ap, void *), 16, false, false);
            break;
        default:
            while (start < fmt)
                sink_put(s, *start++);
            break;
        }
    }
    return (int)s->len;
}

int vprintf(const char *fmt, va_list ap)
{
    struct sink s = {0};
    return format(&s, fmt, ap);
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct sink s = {.buf = buf, .size = size};
    int n = format(&s, fmt, ap);
    if (size)
        buf[s.len < size ? s.len : size - 1] = '\0';
    return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
