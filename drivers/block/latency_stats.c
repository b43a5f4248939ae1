/* SPDX-License-Identifier: MIT */
/*
 * The log-linear latency histogram (latency_stats.h). Bucket b < SUB holds
 * the value b; above that, bucket (g << SUB_BITS) + k for group g >= 1
 * holds [(SUB + k) << (g - 1), (SUB + k + 1) << (g - 1)): the top
 * SUB_BITS + 1 bits of a value pick its bucket, so the width of a bucket is
 * at most 1/SUB of its lowest value.
 */
#include "drivers/block/latency_stats.h"

#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"

void latency_stats_reset(struct latency_stats *s)
{
    memset(s, 0, sizeof(*s));
}

unsigned latency_stats_bucket(uint64_t ns)
{
    unsigned top, shift;

    if (ns < LATENCY_SUB)
        return (unsigned)ns;
    top = 63u - (unsigned)__builtin_clzll(ns); /* >= SUB_BITS */
    shift = top - LATENCY_SUB_BITS;
    return ((shift + 1) << LATENCY_SUB_BITS) + (unsigned)((ns >> shift) & (LATENCY_SUB - 1));
}

uint64_t latency_stats_bucket_low(unsigned bucket)
{
    unsigned group = bucket >> LATENCY_SUB_BITS;

    if (group == 0)
        return bucket;
    return ((uint64_t)LATENCY_SUB + (bucket & (LATENCY_SUB - 1))) << (group - 1);
}

uint64_t latency_stats_bucket_width(unsigned bucket)
{
    unsigned group = bucket >> LATENCY_SUB_BITS;

    return group == 0 ? 1 : 1ull << (group - 1);
}

void latency_stats_add(struct latency_stats *s, uint64_t ns)
{
    if (s->count == 0 || ns < s->min_ns)
        s->min_ns = ns;
    if (ns > s->max_ns)
        s->max_ns = ns;
    s->count++;
    s->sum_ns = s->sum_ns + ns < s->sum_ns ? UINT64_MAX : s->sum_ns + ns;
    s->bucket[latency_stats_bucket(ns)]++;
}

uint64_t latency_stats_mean(const struct latency_stats *s)
{
    if (s->count == 0)
        return 0;
    return s->sum_ns / s->count + (s->sum_ns % s->count >= (s->count + 1) / 2);
}

uint64_t latency_stats_quantile(const struct latency_stats *s, uint32_t num, uint32_t den)
{
    uint64_t rank, seen = 0;

    if (s->count == 0 || den == 0)
        return 0;
    if (num > den)
        num = den;
    /* ceil(count * num / den) without a 128-bit product (the kernel has
     * no libgcc for 128-bit division). */
    rank = s->count / den * num + ((s->count % den) * num + den - 1) / den;
    if (rank <= 1)
        return s->min_ns; /* the extremes are known exactly */
    if (rank >= s->count)
        return s->max_ns;
    for (unsigned b = 0; b < LATENCY_BUCKETS; b++) {
        uint64_t mid;

        seen += s->bucket[b];
        if (seen < rank)
            continue;
        mid = latency_stats_bucket_low(b) + latency_stats_bucket_width(b) / 2;
        if (mid < s->min_ns)
            mid = s->min_ns;
        if (mid > s->max_ns)
            mid = s->max_ns;
        return mid;
    }
    return s->max_ns; /* unreachable while the buckets add up to count */
}

void latency_format_us(char *buf, size_t size, uint64_t ns)
{
    uint64_t tenths = ns / 100 + (ns % 100 >= 50);

    fmt_snprintf(buf, size, "%llu.%llu", (unsigned long long)(tenths / 10),
                 (unsigned long long)(tenths % 10));
}
