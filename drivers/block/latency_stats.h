/* SPDX-License-Identifier: MIT */
/*
 * Latency statistics of a run of I/O requests (`blktest`): count, mean,
 * minimum, maximum and percentiles of nanosecond samples, kept in a
 * fixed-size log-linear histogram so recording is O(1), allocates nothing
 * and costs the same at the millionth sample as at the first. Values below
 * 2^LATENCY_SUB_BITS are counted exactly; above, each power of two is cut
 * into 2^LATENCY_SUB_BITS equal buckets, so a percentile (reported as the
 * middle of its bucket, clamped to the observed minimum and maximum; the
 * first and last rank are the exact minimum and maximum) is
 * within 2^-(LATENCY_SUB_BITS+1) of the exact sample it stands for. Count,
 * sum, minimum and maximum are exact. Pure code, host-tested; integers
 * only (the hypervisor is built without floating point).
 */
#ifndef SIDECORE_BLOCK_LATENCY_STATS_H
#define SIDECORE_BLOCK_LATENCY_STATS_H

#include <stddef.h>
#include <stdint.h>

#define LATENCY_SUB_BITS 5
#define LATENCY_SUB      (1u << LATENCY_SUB_BITS)
/* One group of exact values, then one group per power of two above. */
#define LATENCY_BUCKETS ((64 - LATENCY_SUB_BITS + 1) * LATENCY_SUB)

struct latency_stats {
    uint64_t count;
    uint64_t sum_ns; /* saturates instead of wrapping */
    uint64_t min_ns, max_ns;
    uint64_t bucket[LATENCY_BUCKETS];
};

void latency_stats_reset(struct latency_stats *s);
void latency_stats_add(struct latency_stats *s, uint64_t ns);

/* Mean, rounded to the nearest nanosecond; 0 with no samples. */
uint64_t latency_stats_mean(const struct latency_stats *s);

/* The num/den quantile (99/100 for p99) by the nearest-rank rule: the
 * sample at rank ceil(count * num / den) (at least 1) in sorted order, to
 * within the histogram's relative error. num <= den, den > 0; 0 with no
 * samples. */
uint64_t latency_stats_quantile(const struct latency_stats *s, uint32_t num, uint32_t den);

/* The bucket a value falls in, and the bucket's lowest value and width
 * (exposed for the tests). */
unsigned latency_stats_bucket(uint64_t ns);
uint64_t latency_stats_bucket_low(unsigned bucket);
uint64_t latency_stats_bucket_width(unsigned bucket);

/* Writes ns as microseconds with one decimal ("81.2"), rounded to the
 * nearest tenth. */
void latency_format_us(char *buf, size_t size, uint64_t ns);

#endif
