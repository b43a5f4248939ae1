/* SPDX-License-Identifier: MIT */
#include "kernel/lib/fmt.h"

#include <stdbool.h>
#include <stdint.h>

#include "kernel/lib/string.h"

struct spec {
    bool left;  /* '-' */
    bool zero;  /* '0' */
    bool plus;  /* '+' */
    bool space; /* ' ' */
    bool alt;   /* '#': 0x prefix for %x, leading 0 for %o */
    int width;
    int precision; /* -1: none */
};

struct out {
    fmt_sink_fn sink;
    void *ctx;
    int count;
};

static void emit(struct out *o, const char *s, size_t n)
{
    if (n) {
        o->sink(o->ctx, s, n);
        o->count += (int)n;
    }
}

static void emit_repeat(struct out *o, char c, int n)
{
    char buf[16];

    memset(buf, c, sizeof(buf));
    while (n > 0) {
        int k = n < (int)sizeof(buf) ? n : (int)sizeof(buf);
        emit(o, buf, (size_t)k);
        n -= k;
    }
}

/* Emits prefix (sign or 0x) and digits, padded to the spec's width. */
static void emit_number(struct out *o, const struct spec *sp, const char *prefix,
                        const char *digits, int ndigits)
{
    int plen = (int)strlen(prefix);
    int zeros = 0;

    if (sp->precision >= 0) {
        if (sp->precision > ndigits)
            zeros = sp->precision - ndigits;
    } else if (sp->zero && !sp->left && sp->width > plen + ndigits) {
        zeros = sp->width - plen - ndigits;
    }
    int pad = sp->width - plen - zeros - ndigits;
    if (!sp->left)
        emit_repeat(o, ' ', pad);
    emit(o, prefix, (size_t)plen);
    emit_repeat(o, '0', zeros);
    emit(o, digits, (size_t)ndigits);
    if (sp->left)
        emit_repeat(o, ' ', pad);
}

static int to_digits(char *buf, uint64_t v, unsigned base, bool upper)
{
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;

    do {
        tmp[n++] = set[v % base];
        v /= base;
    } while (v);
    for (int i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

static void emit_string(struct out *o, const struct spec *sp, const char *s)
{
    if (!s)
        s = "(null)";
    size_t len = sp->precision >= 0 ? strnlen(s, (size_t)sp->precision) : strlen(s);
    int pad = sp->width - (int)len;

    if (!sp->left)
        emit_repeat(o, ' ', pad);
    emit(o, s, len);
    if (sp->left)
        emit_repeat(o, ' ', pad);
}

enum length { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE };

static uint64_t fetch_unsigned(va_list *ap, enum length len)
{
    switch (len) {
    case LEN_CHAR: return (unsigned char)va_arg(*ap, unsigned int);
    case LEN_SHORT: return (unsigned short)va_arg(*ap, unsigned int);
    case LEN_LONG: return va_arg(*ap, unsigned long);
    case LEN_LLONG: return va_arg(*ap, unsigned long long);
    case LEN_SIZE: return va_arg(*ap, size_t);
    default: return va_arg(*ap, unsigned int);
    }
}

static int64_t fetch_signed(va_list *ap, enum length len)
{
    switch (len) {
    case LEN_CHAR: return (signed char)va_arg(*ap, int);
    case LEN_SHORT: return (short)va_arg(*ap, int);
    case LEN_LONG: return va_arg(*ap, long);
    case LEN_LLONG: return va_arg(*ap, long long);
    case LEN_SIZE: return (int64_t)va_arg(*ap, size_t);
    default: return va_arg(*ap, int);
    }
}

static const char *parse_spec(const char *f, struct spec *sp, enum length *len, va_list *ap)
{
    *sp = (struct spec){.precision = -1};
    for (;; f++) {
        if (*f == '-')
            sp->left = true;
        else if (*f == '0')
            sp->zero = true;
        else if (*f == '+')
            sp->plus = true;
        else if (*f == ' ')
            sp->space = true;
        else if (*f == '#')
            sp->alt = true;
        else
            break;
    }
    if (*f == '*') {
        sp->width = va_arg(*ap, int);
        if (sp->width < 0) {
            sp->left = true;
            sp->width = -sp->width;
        }
        f++;
    } else {
        while (*f >= '0' && *f <= '9')
            sp->width = sp->width * 10 + (*f++ - '0');
    }
    if (*f == '.') {
        f++;
        sp->precision = 0;
        if (*f == '*') {
            sp->precision = va_arg(*ap, int);
            if (sp->precision < 0)
                sp->precision = -1;
            f++;
        } else {
            while (*f >= '0' && *f <= '9')
                sp->precision = sp->precision * 10 + (*f++ - '0');
        }
    }
    *len = LEN_INT;
    if (f[0] == 'h' && f[1] == 'h') {
        *len = LEN_CHAR;
        f += 2;
    } else if (f[0] == 'h') {
        *len = LEN_SHORT;
        f++;
    } else if (f[0] == 'l' && f[1] == 'l') {
        *len = LEN_LLONG;
        f += 2;
    } else if (f[0] == 'l') {
        *len = LEN_LONG;
        f++;
    } else if (f[0] == 'z') {
        *len = LEN_SIZE;
        f++;
    }
    return f;
}

int fmt_format(fmt_sink_fn sink, void *ctx, const char *f, va_list ap_in)
{
    struct out o = {.sink = sink, .ctx = ctx};
    va_list ap;
    char digits[24];

    va_copy(ap, ap_in);
    while (*f) {
        const char *start = f;
        while (*f && *f != '%')
            f++;
        emit(&o, start, (size_t)(f - start));
        if (!*f)
            break;
        f++; /* '%' */

        struct spec sp;
        enum length len;
        f = parse_spec(f, &sp, &len, &ap);
        char conv = *f;
        if (!conv)
            break;
        f++;

        switch (conv) {
        case 'd':
        case 'i': {
            int64_t v = fetch_signed(&ap, len);
            uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
            const char *prefix = v < 0 ? "-" : sp.plus ? "+" : sp.space ? " " : "";
            int n = (v == 0 && sp.precision == 0) ? 0 : to_digits(digits, mag, 10, false);
            emit_number(&o, &sp, prefix, digits, n);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uint64_t v = fetch_unsigned(&ap, len);
            unsigned base = conv == 'u' ? 10 : conv == 'o' ? 8 : 16;
            int n = (v == 0 && sp.precision == 0) ? 0 : to_digits(digits, v, base, conv == 'X');
            const char *prefix = "";
            if (sp.alt && v != 0)
                prefix = conv == 'x' ? "0x" : conv == 'X' ? "0X" : conv == 'o' ? "0" : "";
            emit_number(&o, &sp, prefix, digits, n);
            break;
        }
        case 'p': {
            uint64_t v = (uintptr_t)va_arg(ap, void *);
            int n = to_digits(digits, v, 16, false);
            emit_number(&o, &sp, "0x", digits, n);
            break;
        }
        case 's': emit_string(&o, &sp, va_arg(ap, const char *)); break;
        case 'c': {
            char c[2] = {(char)va_arg(ap, int), 0};
            struct spec cs = sp;
            cs.precision = 1;
            if (!c[0]) {
                /* A NUL character still counts as one character of output. */
                int pad = sp.width - 1;
                if (!sp.left)
                    emit_repeat(&o, ' ', pad);
                emit(&o, c, 1);
                if (sp.left)
                    emit_repeat(&o, ' ', pad);
            } else {
                emit_string(&o, &cs, c);
            }
            break;
        }
        case '%': emit(&o, "%", 1); break;
        default:
            /* Unknown conversion: print it as written so the bug is visible. */
            emit(&o, "%", 1);
            emit(&o, &conv, 1);
            break;
        }
    }
    va_end(ap);
    return o.count;
}

struct buf_ctx {
    char *buf;
    size_t size;
    size_t used;
};

static void buf_sink(void *ctx, const char *s, size_t n)
{
    struct buf_ctx *b = ctx;

    for (size_t i = 0; i < n; i++) {
        if (b->used + 1 < b->size)
            b->buf[b->used] = s[i];
        b->used++;
    }
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buf_ctx b = {.buf = buf, .size = size};
    int n = fmt_format(buf_sink, &b, fmt, ap);

    if (size)
        buf[b.used < size ? b.used : size - 1] = '\0';
    return n;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
