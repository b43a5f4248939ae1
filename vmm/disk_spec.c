/* SPDX-License-Identifier: MIT */
/*
 * Parsing and comparing guests' `disk =` values (vmm/disk_spec.h). The text
 * is split at ':' into a kind and its fields, and each field gets its own
 * message, because "nvme:0:1:1G+4000" is easy to get slightly wrong and the
 * operator should learn which part is. Overlap is decided here too, so the
 * config parser refuses two guests sharing NVMe blocks before anything runs.
 * Pure code: host-tested and fuzzed through vmm/guest_config.c.
 */
#include "vmm/disk_spec.h"

#include "kernel/lib/fmt.h"
#include "kernel/lib/str.h"
#include "kernel/lib/string.h"

/* Longest field quoted back in a message. */
#define FIELD_QUOTE 24
/* Longest value looked at: the tokenizer's limit. */
#define VALUE_MAX 512

static const char usage[] =
    "must be ram:PATH, nvme:CTRL:NSID, nvme:CTRL:NSID:START+LENGTH or null:SIZE[:LATENCY]";

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Copies field [p, p+n) for quoting, shortened with "..." if long. */
static void quote_field(char *dst, size_t size, const char *p, size_t n)
{
    if (n < size) {
        memcpy(dst, p, n);
        dst[n] = '\0';
        return;
    }
    memcpy(dst, p, size - 4);
    memcpy(dst + size - 4, "...", 4);
}

/* A byte count the way a config would write it, exactly: "4G", "1M", "512". */
static void format_exact_size(char *buf, size_t size, uint64_t bytes)
{
    if (bytes && bytes % (1ull << 30) == 0)
        fmt_snprintf(buf, size, "%luG", (unsigned long)(bytes >> 30));
    else if (bytes && bytes % (1ull << 20) == 0)
        fmt_snprintf(buf, size, "%luM", (unsigned long)(bytes >> 20));
    else if (bytes && bytes % (1ull << 10) == 0)
        fmt_snprintf(buf, size, "%luK", (unsigned long)(bytes >> 10));
    else
        fmt_snprintf(buf, size, "%lu", (unsigned long)bytes);
}

static bool parse_ram(const char *rest, struct disk_spec *out, char *why, size_t why_size)
{
    size_t n;

    while (is_space(*rest))
        rest++;
    n = strlen(rest);
    while (n && is_space(rest[n - 1]))
        n--;
    if (n == 0) {
        fmt_snprintf(why, why_size, "needs a file name (ram:PATH)");
        return false;
    }
    if (n >= DISK_PATH_LEN) {
        fmt_snprintf(why, why_size, "path too long (%zu characters, at most %u)", n,
                     (unsigned)(DISK_PATH_LEN - 1));
        return false;
    }
    out->kind = DISK_RAM;
    memcpy(out->path, rest, n);
    out->path[n] = '\0';
    return true;
}

/* Parses one START or LENGTH of a window; what names it in messages. */
static bool parse_window_size(const char *text, const char *what, uint64_t *v, char *why,
                              size_t why_size)
{
    char shown[FIELD_QUOTE];

    quote_field(shown, sizeof(shown), text, strlen(text));
    if (!str_to_size(text, v)) {
        fmt_snprintf(why, why_size, "%s '%s' is not a size (write it like 0, 4096, 64M or 1G)",
                     what, shown);
        return false;
    }
    if (*v % DISK_SECTOR) {
        fmt_snprintf(why, why_size, "%s %s is not a multiple of 512", what, shown);
        return false;
    }
    return true;
}

static bool parse_window(char *text, struct disk_spec *out, char *why, size_t why_size)
{
    char *plus = strchr(text, '+');

    if (!plus) {
        fmt_snprintf(why, why_size, "the range must be START+LENGTH (like 1G+4G)");
        return false;
    }
    *plus = '\0';
    if (!parse_window_size(text, "start", &out->start, why, why_size) ||
        !parse_window_size(plus + 1, "length", &out->length, why, why_size))
        return false;
    if (out->length == 0) {
        fmt_snprintf(why, why_size,
                     "the length must not be 0 (leave the range out for the whole namespace)");
        return false;
    }
    if (out->start > UINT64_MAX - out->length) {
        fmt_snprintf(why, why_size, "the range ends past the largest possible disk");
        return false;
    }
    return true;
}

/* Parses CTRL or NSID; what names it in messages. */
static bool parse_nvme_number(const char *text, const char *what, uint64_t min, uint64_t max,
                              uint32_t *dst, char *why, size_t why_size)
{
    char shown[FIELD_QUOTE];
    uint64_t v;

    quote_field(shown, sizeof(shown), text, strlen(text));
    if (!str_to_u64(text, &v)) {
        fmt_snprintf(why, why_size, "%s '%s' is not a number", what, shown);
        return false;
    }
    if (v < min || v > max) {
        fmt_snprintf(why, why_size, "%s %s: must be %lu to %lu", what, shown, (unsigned long)min,
                     (unsigned long)max);
        return false;
    }
    *dst = (uint32_t)v;
    return true;
}

static bool parse_nvme(const char *rest, struct disk_spec *out, char *why, size_t why_size)
{
    char buf[VALUE_MAX];
    char *field[4];
    unsigned nfields = 0;

    if (str_copy(buf, rest, sizeof(buf)) >= sizeof(buf)) {
        fmt_snprintf(why, why_size, "too long");
        return false;
    }
    for (char *p = buf;;) {
        char *colon = strchr(p, ':');
        if (nfields == 4) {
            nfields++; /* one field too many */
            break;
        }
        field[nfields++] = p;
        if (!colon)
            break;
        *colon = '\0';
        p = colon + 1;
    }
    if (nfields < 2 || nfields > 3) {
        fmt_snprintf(why, why_size, "write it as nvme:CTRL:NSID or nvme:CTRL:NSID:START+LENGTH");
        return false;
    }
    if (!parse_nvme_number(field[0], "controller", 0, DISK_NVME_CTRL_MAX, &out->ctrl, why,
                           why_size) ||
        !parse_nvme_number(field[1], "namespace", 1, DISK_NVME_NSID_MAX, &out->nsid, why, why_size))
        return false;
    out->kind = DISK_NVME;
    if (nfields == 2) {
        out->whole = true;
        return true;
    }
    return parse_window(field[2], out, why, why_size);
}

/* A latency: a whole number with ns, us or ms ("100us", "0ns", "2ms"). */
static bool parse_latency(const char *text, uint64_t *ns, char *why, size_t why_size)
{
    static const struct {
        const char *unit;
        uint64_t scale;
    } units[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}};
    char shown[FIELD_QUOTE], digits[24];
    size_t n = 0;
    uint64_t v;

    quote_field(shown, sizeof(shown), text, strlen(text));
    while (text[n] >= '0' && text[n] <= '9' && n < sizeof(digits) - 1) {
        digits[n] = text[n];
        n++;
    }
    digits[n] = '\0';
    for (unsigned i = 0; n && i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(text + n, units[i].unit) != 0)
            continue;
        if (!str_to_u64(digits, &v) || v > DISK_NULL_LATENCY_MAX_NS / units[i].scale) {
            fmt_snprintf(why, why_size, "latency %s: at most 1000ms", shown);
            return false;
        }
        *ns = v * units[i].scale;
        return true;
    }
    fmt_snprintf(why, why_size, "latency '%s' is not a time (write it like 100us, 2ms or 0ns)",
                 shown);
    return false;
}

/* null:SIZE[:LATENCY] */
static bool parse_null(const char *rest, struct disk_spec *out, char *why, size_t why_size)
{
    char buf[VALUE_MAX], shown[FIELD_QUOTE];
    char *colon;

    if (str_copy(buf, rest, sizeof(buf)) >= sizeof(buf)) {
        fmt_snprintf(why, why_size, "too long");
        return false;
    }
    colon = strchr(buf, ':');
    if (colon)
        *colon = '\0';
    quote_field(shown, sizeof(shown), buf, strlen(buf));
    if (!str_to_size(buf, &out->size)) {
        fmt_snprintf(why, why_size, "size '%s' is not a size (write it like 64M or 1G)", shown);
        return false;
    }
    if (out->size == 0 || out->size % DISK_SECTOR) {
        fmt_snprintf(why, why_size, "size %s is not a non-zero multiple of 512", shown);
        return false;
    }
    out->kind = DISK_NULL;
    return !colon || parse_latency(colon + 1, &out->latency_ns, why, why_size);
}

bool disk_spec_parse(const char *value, struct disk_spec *out, char *why, size_t why_size)
{
    struct disk_spec d;
    bool ok;

    memset(&d, 0, sizeof(d));
    if (why_size)
        why[0] = '\0';
    if (starts_with(value, "ram:"))
        ok = parse_ram(value + 4, &d, why, why_size);
    else if (starts_with(value, "nvme:"))
        ok = parse_nvme(value + 5, &d, why, why_size);
    else if (starts_with(value, "null:"))
        ok = parse_null(value + 5, &d, why, why_size);
    else {
        fmt_snprintf(why, why_size, "%s", usage);
        ok = false;
    }
    if (ok)
        *out = d;
    return ok;
}

bool disk_spec_overlaps(const struct disk_spec *a, const struct disk_spec *b)
{
    if (a->kind != DISK_NVME || b->kind != DISK_NVME)
        return false;
    if (a->ctrl != b->ctrl || a->nsid != b->nsid)
        return false;
    if (a->whole || b->whole)
        return true;
    /* Both windows are non-empty and end at most at UINT64_MAX (parse). */
    return a->start < b->start + b->length && b->start < a->start + a->length;
}

void disk_spec_format(const struct disk_spec *d, char *buf, size_t size)
{
    char start[24], length[24];

    switch (d->kind) {
    case DISK_RAM: fmt_snprintf(buf, size, "ram:%s", d->path); return;
    case DISK_NVME:
        if (d->whole) {
            fmt_snprintf(buf, size, "nvme:%u:%u", d->ctrl, d->nsid);
            return;
        }
        format_exact_size(start, sizeof(start), d->start);
        format_exact_size(length, sizeof(length), d->length);
        fmt_snprintf(buf, size, "nvme:%u:%u:%s+%s", d->ctrl, d->nsid, start, length);
        return;
    case DISK_NULL:
        format_exact_size(start, sizeof(start), d->size);
        if (d->latency_ns % 1000000 == 0 && d->latency_ns)
            fmt_snprintf(buf, size, "null:%s:%lums", start,
                         (unsigned long)(d->latency_ns / 1000000));
        else if (d->latency_ns % 1000 == 0)
            fmt_snprintf(buf, size, "null:%s:%luus", start, (unsigned long)(d->latency_ns / 1000));
        else
            fmt_snprintf(buf, size, "null:%s:%luns", start, (unsigned long)d->latency_ns);
        return;
    case DISK_NONE: break;
    }
    fmt_snprintf(buf, size, "none");
}
