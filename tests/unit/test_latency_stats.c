/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the latency histogram: the bucket arithmetic (every value
 * lands in the bucket whose range holds it, buckets tile the whole 64-bit
 * range, widths stay within 1/32 of their lowest value), exact count, sum,
 * mean, minimum and maximum, and percentiles of known distributions
 * (uniform, exponential-like, bimodal with a 1% tail, constant, tiny and
 * huge values) against the exact nearest-rank percentiles of the sorted
 * samples, within the documented relative error.
 */
/* test-sources: drivers/block/latency_stats.c kernel/lib/fmt.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/block/latency_stats.h"

static struct latency_stats st;

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* The exact nearest-rank quantile of sorted v[0..n-1]. */
static uint64_t exact_quantile(const uint64_t *v, size_t n, uint32_t num, uint32_t den)
{
    uint64_t rank = ((uint64_t)n * num + den - 1) / den;

    if (rank == 0)
        rank = 1;
    return v[rank - 1];
}

/* Relative error of got against want, in parts per million. */
static uint64_t error_ppm(uint64_t got, uint64_t want)
{
    uint64_t diff = got > want ? got - want : want - got;

    if (want == 0)
        return got == 0 ? 0 : UINT64_MAX;
    return (uint64_t)((unsigned __int128)diff * 1000000 / want);
}

/* The bound the header promises: half a bucket, 2^-(SUB_BITS+1). */
#define MAX_ERROR_PPM (1000000u >> (LATENCY_SUB_BITS + 1))

static void check_against_exact(uint64_t *v, size_t n)
{
    static const uint32_t q[][2] = {{1, 2}, {9, 10}, {99, 100}, {999, 1000}, {1, 1}, {0, 1}};
    unsigned __int128 sum = 0;
    uint64_t mean;

    latency_stats_reset(&st);
    for (size_t i = 0; i < n; i++) {
        latency_stats_add(&st, v[i]);
        sum += v[i];
    }
    qsort(v, n, sizeof(*v), cmp_u64);
    assert_int_equal(st.count, n);
    assert_int_equal(st.min_ns, v[0]);
    assert_int_equal(st.max_ns, v[n - 1]);
    mean = (uint64_t)((sum + n / 2) / n);
    if (sum <= UINT64_MAX)
        assert_int_equal(latency_stats_mean(&st), mean);
    for (unsigned i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        uint64_t want = exact_quantile(v, n, q[i][0], q[i][1]);
        uint64_t got = latency_stats_quantile(&st, q[i][0], q[i][1]);

        if (error_ppm(got, want) > MAX_ERROR_PPM)
            fail_msg("quantile %u/%u: got %llu, exact %llu", q[i][0], q[i][1],
                     (unsigned long long)got, (unsigned long long)want);
    }
    /* The last rank is the exact maximum, not a bucket middle. */
    assert_int_equal(latency_stats_quantile(&st, 1, 1), v[n - 1]);
}

static void test_buckets_tile_the_range(void **state)
{
    uint64_t next = 0;

    for (unsigned b = 0; b < LATENCY_BUCKETS; b++) {
        uint64_t low = latency_stats_bucket_low(b), width = latency_stats_bucket_width(b);

        assert_int_equal(low, next); /* no gap, no overlap */
        assert_int_equal(latency_stats_bucket(low), b);
        assert_int_equal(latency_stats_bucket(low + (width - 1)), b);
        if (b >= LATENCY_SUB)
            assert_true(width * LATENCY_SUB <= low);
        next = low + width;
    }
    assert_int_equal(next, 0); /* the last bucket ends at 2^64 */
    assert_int_equal(latency_stats_bucket(UINT64_MAX), LATENCY_BUCKETS - 1);
    for (unsigned i = 0; i < 100000; i++) {
        uint64_t v = rng() >> (rng() % 64);
        unsigned b = latency_stats_bucket(v);

        assert_true(b < LATENCY_BUCKETS);
        assert_true(v >= latency_stats_bucket_low(b));
        assert_true(v - latency_stats_bucket_low(b) < latency_stats_bucket_width(b));
    }
}

static void test_empty(void **state)
{
    char buf[16];

    latency_stats_reset(&st);
    assert_int_equal(latency_stats_mean(&st), 0);
    assert_int_equal(latency_stats_quantile(&st, 99, 100), 0);
    latency_format_us(buf, sizeof(buf), 0);
    assert_string_equal(buf, "0.0");
}

static void test_small_values_exact(void **state)
{
    uint64_t v[LATENCY_SUB * 3];

    for (unsigned i = 0; i < LATENCY_SUB * 3; i++)
        v[i] = i % LATENCY_SUB; /* three of each value below 32 */
    latency_stats_reset(&st);
    for (unsigned i = 0; i < LATENCY_SUB * 3; i++)
        latency_stats_add(&st, v[i]);
    qsort(v, LATENCY_SUB * 3, sizeof(v[0]), cmp_u64);
    for (uint32_t p = 1; p <= 100; p++)
        assert_int_equal(latency_stats_quantile(&st, p, 100),
                         exact_quantile(v, LATENCY_SUB * 3, p, 100));
}

static void test_uniform(void **state)
{
    size_t n = 100000;
    uint64_t *v = malloc(n * sizeof(*v));

    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = 1000 + rng() % 1000000; /* 1 us .. 1 ms */
    check_against_exact(v, n);
    /* A uniform distribution's p99 sits near 99% of its span. */
    uint64_t p99 = latency_stats_quantile(&st, 99, 100);
    assert_true(p99 > 980000 && p99 < 1005000);
    free(v);
}

static void test_exponential_like(void **state)
{
    size_t n = 50000;
    uint64_t *v = malloc(n * sizeof(*v));

    assert_non_null(v);
    /* Geometric: each doubling half as likely; spans many powers of two. */
    for (size_t i = 0; i < n; i++) {
        unsigned k = (unsigned)__builtin_ctzll(rng() | (1ull << 40));
        v[i] = (20000ull << k) + rng() % (20000ull << k);
    }
    check_against_exact(v, n);
    free(v);
}

static void test_bimodal_tail(void **state)
{
    size_t n = 10000;
    uint64_t *v = malloc(n * sizeof(*v));

    assert_non_null(v);
    /* 98.5% near 80 us, 1.5% near 5 ms: p99 must be in the tail, p90 not. */
    for (size_t i = 0; i < n; i++)
        v[i] = i % 200 < 3 ? 5000000 + rng() % 100000 : 80000 + rng() % 2000;
    check_against_exact(v, n);
    assert_true(latency_stats_quantile(&st, 99, 100) >= 5000000);
    assert_true(latency_stats_quantile(&st, 9, 10) < 83000);
    free(v);
}

static void test_constant_and_huge(void **state)
{
    uint64_t v[1000];

    for (unsigned i = 0; i < 1000; i++)
        v[i] = 123456789;
    check_against_exact(v, 1000);
    /* Clamped to min/max: a constant distribution is reported exactly. */
    assert_int_equal(latency_stats_quantile(&st, 99, 100), 123456789);
    assert_int_equal(latency_stats_mean(&st), 123456789);

    for (unsigned i = 0; i < 1000; i++)
        v[i] = (1ull << 62) + rng() % (1ull << 61);
    check_against_exact(v, 1000);
    /* The sum saturated, but count, min, max and quantiles still hold. */
    assert_int_equal(st.sum_ns, UINT64_MAX);
}

static void test_single_sample_and_mean_rounding(void **state)
{
    latency_stats_reset(&st);
    latency_stats_add(&st, 5000);
    assert_int_equal(latency_stats_quantile(&st, 99, 100), 5000);
    assert_int_equal(latency_stats_quantile(&st, 1, 1000), 5000);
    latency_stats_add(&st, 5001);
    assert_int_equal(latency_stats_mean(&st), 5001); /* 5000.5 rounds up */
    latency_stats_add(&st, 5000);
    assert_int_equal(latency_stats_mean(&st), 5000); /* 5000.33 rounds down */
}

static void test_format_us(void **state)
{
    char buf[32];

    latency_format_us(buf, sizeof(buf), 81249);
    assert_string_equal(buf, "81.2");
    latency_format_us(buf, sizeof(buf), 81250);
    assert_string_equal(buf, "81.3");
    latency_format_us(buf, sizeof(buf), 49);
    assert_string_equal(buf, "0.0");
    latency_format_us(buf, sizeof(buf), 1999950);
    assert_string_equal(buf, "2000.0");
    latency_format_us(buf, sizeof(buf), UINT64_MAX);
    assert_string_equal(buf, "18446744073709551.6");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets_tile_the_range),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_small_values_exact),
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_exponential_like),
        cmocka_unit_test(test_bimodal_tail),
        cmocka_unit_test(test_constant_and_huge),
        cmocka_unit_test(test_single_sample_and_mean_rounding),
        cmocka_unit_test(test_format_us),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
