/* SPDX-License-Identifier: MIT */
#include "kernel/mm/range_set.h"

#include "kernel/lib/string.h"

void range_set_init(struct range_set *s)
{
    s->count = 0;
}

static void remove_at(struct range_set *s, unsigned i)
{
    memmove(&s->r[i], &s->r[i + 1], (s->count - i - 1) * sizeof(s->r[0]));
    s->count--;
}

static void insert_at(struct range_set *s, unsigned i, uint64_t start, uint64_t end)
{
    memmove(&s->r[i + 1], &s->r[i], (s->count - i) * sizeof(s->r[0]));
    s->r[i] = (struct range){start, end};
    s->count++;
}

bool range_set_add(struct range_set *s, uint64_t start, uint64_t end)
{
    if (start >= end)
        return true;

    /* First range that ends at or after start: the earliest we can touch. */
    unsigned i = 0;
    while (i < s->count && s->r[i].end < start)
        i++;
    if (i == s->count || s->r[i].start > end) {
        if (s->count == RANGE_SET_MAX)
            return false;
        insert_at(s, i, start, end);
        return true;
    }
    /* Merge into r[i] and swallow every following range we reach. */
    if (start < s->r[i].start)
        s->r[i].start = start;
    if (end > s->r[i].end)
        s->r[i].end = end;
    while (i + 1 < s->count && s->r[i + 1].start <= s->r[i].end) {
        if (s->r[i + 1].end > s->r[i].end)
            s->r[i].end = s->r[i + 1].end;
        remove_at(s, i + 1);
    }
    return true;
}

bool range_set_remove(struct range_set *s, uint64_t start, uint64_t end)
{
    if (start >= end)
        return true;
    /* A removal strictly inside one range splits it: check room first. */
    for (unsigned i = 0; i < s->count; i++) {
        if (s->r[i].start < start && s->r[i].end > end && s->count == RANGE_SET_MAX)
            return false;
    }
    for (unsigned i = 0; i < s->count;) {
        struct range *r = &s->r[i];
        if (r->end <= start || r->start >= end) {
            i++;
            continue;
        }
        if (r->start < start && r->end > end) {
            uint64_t old_end = r->end;
            r->end = start;
            insert_at(s, i + 1, end, old_end);
            return true;
        }
        if (r->start < start) {
            r->end = start;
            i++;
        } else if (r->end > end) {
            r->start = end;
            i++;
        } else {
            remove_at(s, i);
        }
    }
    return true;
}

uint64_t range_set_total(const struct range_set *s)
{
    uint64_t total = 0;

    for (unsigned i = 0; i < s->count; i++)
        total += s->r[i].end - s->r[i].start;
    return total;
}

bool range_set_contains(const struct range_set *s, uint64_t start, uint64_t end)
{
    for (unsigned i = 0; i < s->count; i++) {
        if (s->r[i].start <= start && end <= s->r[i].end)
            return true;
    }
    return false;
}

uint64_t range_set_take_top(struct range_set *s, uint64_t size, uint64_t align, uint64_t limit)
{
    if (size == 0 || align == 0 || (align & (align - 1)))
        return 0;
    for (unsigned i = s->count; i-- > 0;) {
        uint64_t top = s->r[i].end < limit ? s->r[i].end : limit;
        if (top < size || top - size < s->r[i].start)
            continue;
        uint64_t start = (top - size) & ~(align - 1);
        if (start < s->r[i].start || start == 0)
            continue;
        if (!range_set_remove(s, start, start + size))
            return 0;
        return start;
    }
    return 0;
}
