/* SPDX-License-Identifier: MIT */
/* Unit tests for the posted-interrupt descriptor: its layout byte by byte
 * against the SDM / VT-d tables, posting and taking, notification
 * suppression, and concurrent posters against a taker that, like the CPU,
 * only looks at the descriptor when notified, checking no vector is lost.
 * test-sources: vmm/vmx/vmx_pi_desc.c
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "vmm/vmx/vmx_pi_desc.h"

/* Byte positions from the descriptor's bit positions (bits 511:0, little
 * endian): ON = bit 256, SN = bit 257, NV = bits 279:272, NDST = 319:288. */
#define BYTE_ON_SN 32
#define BYTE_NV    34
#define BYTE_NDST  36

static const uint8_t *raw(const struct pi_desc *d)
{
    return (const uint8_t *)d;
}

static uint32_t raw_ndst(const struct pi_desc *d)
{
    const uint8_t *b = raw(d) + BYTE_NDST;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static bool raw_bit(const struct pi_desc *d, unsigned bit)
{
    return (raw(d)[bit / 8] >> (bit % 8)) & 1;
}

static unsigned raw_popcount(const struct pi_desc *d, unsigned first_byte, unsigned end_byte)
{
    unsigned n = 0;
    for (unsigned i = first_byte; i < end_byte; i++)
        n += (unsigned)__builtin_popcount(raw(d)[i]);
    return n;
}

static void test_layout(void **state)
{
    struct pi_desc d;

    assert_int_equal(sizeof(struct pi_desc), 64);
    assert_int_equal(_Alignof(struct pi_desc), 64);
    assert_int_equal(offsetof(struct pi_desc, pir), 0);
    assert_int_equal(offsetof(struct pi_desc, control), 32);
    assert_int_equal(PI_DESC_BIT_ON, 256);
    assert_int_equal(PI_DESC_BIT_SN, 257);
    assert_int_equal(PI_DESC_BIT_NV_SHIFT, 272);
    assert_int_equal(PI_DESC_BIT_NDST_SHIFT, 288);

    memset(&d, 0xa5, sizeof(d));
    assert_true(pi_desc_init(&d, 0xf2, 0x12345678));
    assert_int_equal(raw_popcount(&d, 0, 32), 0); /* PIR empty */
    assert_int_equal(raw(&d)[BYTE_ON_SN], 0);     /* ON, SN clear */
    assert_int_equal(raw(&d)[33], 0);
    assert_int_equal(raw(&d)[BYTE_NV], 0xf2);
    assert_int_equal(raw(&d)[35], 0);
    assert_int_equal(raw_ndst(&d), 0x12345678);
    assert_int_equal(raw_popcount(&d, 40, 64), 0);
    assert_int_equal(pi_desc_nv(&d), 0xf2);
    assert_int_equal(pi_desc_dest(&d), 0x12345678);

    /* ON is descriptor bit 256; vector 0x20 is bit 32 (byte 4, bit 0). */
    assert_true(pi_desc_post(&d, 0x20));
    assert_true(raw_bit(&d, 256));
    assert_false(raw_bit(&d, 257));
    assert_true(raw_bit(&d, 0x20));
    assert_int_equal(raw(&d)[4], 0x01);
    assert_true(pi_desc_on(&d));

    pi_desc_set_suppress(&d, true);
    assert_true(raw_bit(&d, 257));
    assert_true(pi_desc_sn(&d));
    assert_int_equal(raw(&d)[BYTE_ON_SN], 0x03);

    /* Migration changes NDST only. */
    pi_desc_set_dest(&d, 0xaabbccdd);
    assert_int_equal(raw_ndst(&d), 0xaabbccdd);
    assert_int_equal(raw(&d)[BYTE_NV], 0xf2);
    assert_int_equal(raw(&d)[BYTE_ON_SN], 0x03);
    assert_int_equal(raw(&d)[33], 0);
    assert_int_equal(raw(&d)[35], 0);
}

static void test_ndst_encoding(void **state)
{
    uint32_t ndst = 0;
    struct pi_desc d;

    assert_true(pi_desc_ndst(0x12345, true, &ndst));
    assert_int_equal(ndst, 0x12345);
    /* xAPIC: the 8-bit ID in NDST bits 15:8, i.e. descriptor byte 37. */
    assert_true(pi_desc_ndst(0x5a, false, &ndst));
    assert_int_equal(ndst, 0x5a00);
    assert_true(pi_desc_init(&d, 0x40, ndst));
    assert_int_equal(raw(&d)[36], 0);
    assert_int_equal(raw(&d)[37], 0x5a);
    assert_int_equal(raw(&d)[38], 0);
    assert_int_equal(raw(&d)[39], 0);
    ndst = 7;
    assert_false(pi_desc_ndst(0x100, false, &ndst));
    assert_int_equal(ndst, 7);
}

static void test_init_rejects_exception_vectors(void **state)
{
    struct pi_desc d;
    uint8_t before[64];

    memset(&d, 0x5c, sizeof(d));
    memcpy(before, &d, sizeof(d));
    for (unsigned nv = 0; nv < PI_DESC_MIN_NV; nv++) {
        assert_false(pi_desc_init(&d, (uint8_t)nv, 0));
        assert_memory_equal(&d, before, sizeof(d));
    }
    assert_true(pi_desc_init(&d, PI_DESC_MIN_NV, 0));
    assert_true(pi_desc_init(&d, 0xff, 0));
}

static void test_post_sets_its_bit(void **state)
{
    for (unsigned v = 0x20; v <= 0xff; v++) {
        struct pi_desc d;
        uint32_t out[8];

        assert_true(pi_desc_init(&d, 0xf2, 3));
        assert_true(pi_desc_post(&d, (uint8_t)v));
        assert_true(raw_bit(&d, v));
        assert_int_equal(raw_popcount(&d, 0, 32), 1);
        assert_true(pi_desc_pending(&d));
        assert_true(pi_desc_on(&d));

        memset(out, 0xff, sizeof(out));
        assert_true(pi_desc_take(&d, out));
        for (unsigned w = 0; w < 8; w++)
            assert_int_equal(out[w], w == v / 32 ? 1u << (v % 32) : 0);
        assert_int_equal(raw_popcount(&d, 0, 32), 0);
        assert_false(pi_desc_on(&d));
        assert_false(pi_desc_pending(&d));
        /* NV and NDST survive the take. */
        assert_int_equal(raw(&d)[BYTE_NV], 0xf2);
        assert_int_equal(raw_ndst(&d), 3);
    }
}

static void test_only_first_post_notifies(void **state)
{
    struct pi_desc d;
    uint32_t out[8];

    assert_true(pi_desc_init(&d, 0xf2, 0));
    assert_true(pi_desc_post(&d, 0x31));
    assert_false(pi_desc_post(&d, 0x80)); /* ON already set */
    assert_false(pi_desc_post(&d, 0x31)); /* same vector again: coalesced */
    assert_false(pi_desc_post(&d, 0xff));
    assert_true(pi_desc_on(&d));

    assert_true(pi_desc_take(&d, out));
    assert_int_equal(out[1], 1u << 17); /* 0x31 */
    assert_int_equal(out[4], 1u << 0);  /* 0x80 */
    assert_int_equal(out[7], 1u << 31); /* 0xff */
    assert_int_equal(out[0] | out[2] | out[3] | out[5] | out[6], 0);
    assert_false(pi_desc_on(&d));

    /* After a take the next post notifies again. */
    assert_true(pi_desc_post(&d, 0x40));
    assert_false(pi_desc_post(&d, 0x41));
}

static void test_suppress_keeps_requests(void **state)
{
    struct pi_desc d;
    uint32_t out[8];

    assert_true(pi_desc_init(&d, 0xf2, 0));
    /* Clearing SN with nothing posted asks for nothing. */
    assert_false(pi_desc_set_suppress(&d, true));
    assert_false(pi_desc_set_suppress(&d, false));
    assert_false(pi_desc_on(&d));

    assert_false(pi_desc_set_suppress(&d, true));
    assert_false(pi_desc_post(&d, 0x55));
    assert_false(pi_desc_post(&d, 0x99));
    assert_false(pi_desc_on(&d));
    assert_true(raw_bit(&d, 0x55));
    assert_true(raw_bit(&d, 0x99));
    assert_true(pi_desc_pending(&d));

    /* Un-suppressing with requests waiting sets ON once: notify now. */
    assert_true(pi_desc_set_suppress(&d, false));
    assert_true(pi_desc_on(&d));
    assert_false(pi_desc_sn(&d));
    assert_false(pi_desc_post(&d, 0x56)); /* covered by that notification */

    assert_true(pi_desc_take(&d, out));
    assert_int_equal(out[2], (1u << 21) | (1u << 22)); /* 0x55, 0x56 */
    assert_int_equal(out[4], 1u << 25);                /* 0x99 */
    assert_false(pi_desc_pending(&d));

    /* SN set while a notification is outstanding leaves ON alone. */
    assert_true(pi_desc_post(&d, 0x60));
    pi_desc_set_suppress(&d, true);
    assert_true(pi_desc_on(&d));
    assert_false(pi_desc_post(&d, 0x61));
    assert_true(pi_desc_take(&d, out));
    assert_int_equal(out[3], 3u); /* 0x60, 0x61 */
    assert_true(pi_desc_sn(&d));  /* a take does not touch SN */
}

static void test_take_returns_everything(void **state)
{
    struct pi_desc d;
    uint32_t want[8] = {0}, out[8];
    uint32_t seed = 12345;

    assert_true(pi_desc_init(&d, 0xf2, 0));
    for (int i = 0; i < 100; i++) {
        seed = seed * 1103515245u + 12345u;
        uint8_t v = (uint8_t)(32 + (seed >> 16) % 224);
        want[v / 32] |= 1u << (v % 32);
        pi_desc_post(&d, v);
    }
    assert_true(pi_desc_take(&d, out));
    assert_memory_equal(out, want, sizeof(want));
    assert_int_equal(raw_popcount(&d, 0, 33), 0); /* PIR and ON */

    memset(out, 0xff, sizeof(out));
    assert_false(pi_desc_take(&d, out));
    for (unsigned w = 0; w < 8; w++)
        assert_int_equal(out[w], 0);
}

/* ---- concurrent posters against one notification-driven taker ----
 *
 * The taker plays the target CPU: it looks at the descriptor when the
 * notification arrives (the doorbell, which like an IRR bit holds one
 * pending notification however many are sent) and, in the mixed variant,
 * also at random moments as the hypervisor does before each VM entry. The
 * work comes in rounds: in each, every poster posts its share of vectors
 * (distinct within the round) and says it is done. Once all are done and no
 * notification is pending, every vector of the round must have been taken
 * exactly once; a vector still in PIR then is lost for good on hardware
 * (nothing would ever notify for it), even if later posts would rescue it.
 */

#define POSTERS       3
#define STALL_SECONDS 20

struct race {
    struct pi_desc desc;
    bool strict; /* the taker takes only when notified */
    unsigned per_round;
    int doorbell; /* the notification vector's IRR bit at the target */
    int outstanding[256];
    uint64_t posted[256], seen[256];
    uint64_t notifications, takes, empty_takes;
    unsigned round, last_round;
    int posters_done; /* in this round */
    int failed;
    const char *why;
};

static struct race race;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static bool race_failed(void)
{
    return __atomic_load_n(&race.failed, __ATOMIC_ACQUIRE);
}

static void fail_race(const char *why)
{
    if (!__atomic_exchange_n(&race.failed, 1, __ATOMIC_SEQ_CST))
        race.why = why;
}

/* The vectors poster id owns: 32 + id, 32 + id + POSTERS, ... */
static unsigned vector_of(unsigned id, unsigned k)
{
    return 32 + id + k * POSTERS;
}

static void *poster(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    unsigned round = 0;

    for (;;) {
        /* Wait for the round to start (all posters start together). */
        unsigned now;
        while ((now = __atomic_load_n(&race.round, __ATOMIC_ACQUIRE)) == round)
            sched_yield();
        if (now == ~0u)
            return NULL; /* the taker's "stop" (also after a failure) */
        round = now;
        for (unsigned k = 0; k < race.per_round; k++) {
            unsigned v = vector_of(id, k);
            __atomic_store_n(&race.outstanding[v], 1, __ATOMIC_RELEASE);
            __atomic_fetch_add(&race.posted[v], 1, __ATOMIC_RELAXED);
            if (pi_desc_post(&race.desc, (uint8_t)v)) {
                __atomic_fetch_add(&race.notifications, 1, __ATOMIC_RELAXED);
                __atomic_store_n(&race.doorbell, 1, __ATOMIC_RELEASE);
            }
        }
        __atomic_fetch_add(&race.posters_done, 1, __ATOMIC_ACQ_REL);
    }
}

static void take_once(void)
{
    uint32_t out[8];

    race.takes++;
    if (!pi_desc_take(&race.desc, out)) {
        race.empty_takes++;
        return;
    }
    for (unsigned w = 0; w < 8; w++) {
        for (uint32_t b = out[w]; b; b &= b - 1) {
            unsigned v = w * 32 + (unsigned)__builtin_ctz(b);
            if (!__atomic_load_n(&race.outstanding[v], __ATOMIC_ACQUIRE)) {
                fail_race("a take returned a vector nobody had posted (or returned it twice)");
                return;
            }
            race.seen[v]++;
            __atomic_store_n(&race.outstanding[v], 0, __ATOMIC_RELEASE);
        }
    }
}

static bool all_seen(void)
{
    for (unsigned v = 0; v < 256; v++) {
        if (__atomic_load_n(&race.outstanding[v], __ATOMIC_ACQUIRE))
            return false;
    }
    return true;
}

/* Runs the rounds; on failure race.failed and race.why say why. */
static void run_taker(unsigned rounds)
{
    uint32_t seed = 1;
    double round_start = now_s();

    __atomic_store_n(&race.round, 1, __ATOMIC_RELEASE);
    while (!race_failed()) {
        if (__atomic_exchange_n(&race.doorbell, 0, __ATOMIC_ACQ_REL)) {
            take_once(); /* the CPU processing a notification */
            continue;
        }
        seed = seed * 1103515245u + 12345u;
        if (!race.strict && (seed >> 16) % 5 == 0) {
            take_once(); /* the hypervisor's take before a VM entry */
            continue;
        }
        if (__atomic_load_n(&race.posters_done, __ATOMIC_ACQUIRE) == POSTERS) {
            /* Every post of the round is complete and so is every
             * notification it sent; none is pending (checked last). */
            if (__atomic_exchange_n(&race.doorbell, 0, __ATOMIC_ACQ_REL)) {
                take_once();
                continue;
            }
            if (!all_seen()) {
                fail_race("a posted vector was lost: still in PIR, no notification pending");
                break;
            }
            if (race.round == rounds)
                break;
            __atomic_store_n(&race.posters_done, 0, __ATOMIC_RELEASE);
            __atomic_fetch_add(&race.round, 1, __ATOMIC_ACQ_REL);
            round_start = now_s();
            continue;
        }
        if (now_s() - round_start > STALL_SECONDS) {
            fail_race("the posters did not finish a round in time");
            break;
        }
        sched_yield(); /* nothing to do: let the posters run (the host may be busy) */
    }
    race.last_round = race.round;
    __atomic_store_n(&race.round, ~0u, __ATOMIC_RELEASE);
}

static void run_race(bool strict, unsigned rounds, unsigned per_round)
{
    pthread_t posters[POSTERS];

    memset(&race, 0, sizeof(race));
    race.strict = strict;
    race.per_round = per_round;
    assert_true(vector_of(POSTERS - 1, per_round - 1) <= 255);
    assert_true(pi_desc_init(&race.desc, 0xf2, 1));
    for (unsigned i = 0; i < POSTERS; i++)
        assert_int_equal(pthread_create(&posters[i], NULL, poster, (void *)(uintptr_t)i), 0);
    run_taker(rounds);
    for (unsigned i = 0; i < POSTERS; i++)
        pthread_join(posters[i], NULL);

    if (race.failed)
        fail_msg("round %u: %s", race.last_round, race.why);
    uint64_t total = 0;
    for (unsigned v = 0; v < 256; v++) {
        assert_int_equal(race.seen[v], race.posted[v]);
        total += race.posted[v];
    }
    assert_int_equal(total, (uint64_t)rounds * POSTERS * per_round);
    /* ON is set once per notification and cleared only by a take. */
    assert_true(race.notifications <= race.takes + 1);
    uint32_t out[8];
    assert_false(pi_desc_take(&race.desc, out));
    assert_false(pi_desc_on(&race.desc));
    print_message("    %s: %u rounds, %lu posts, %lu notifications, %lu takes (%lu empty)\n",
                  strict ? "notification-driven" : "mixed", rounds, (unsigned long)total,
                  (unsigned long)race.notifications, (unsigned long)race.takes,
                  (unsigned long)race.empty_takes);
}

static void test_race_one_vector_each(void **state)
{
    run_race(true, 100000, 1);
}

static void test_race_bursts(void **state)
{
    run_race(true, 5000, 74);
}

static void test_race_with_entry_syncs(void **state)
{
    run_race(false, 30000, 6);
}

/* A poster that finds, after posting, that the owner stopped reading the
 * descriptor takes its vector back unless a take already had it. */
static void test_reclaim_is_exactly_once(void **state)
{
    struct pi_desc d;
    uint32_t out[8];

    assert_true(pi_desc_init(&d, 0xf2, 0));
    assert_true(pi_desc_post(&d, 0x41));
    assert_true(pi_desc_post(&d, 0x42) == false); /* ON already set */
    assert_true(pi_desc_reclaim(&d, 0x41));
    assert_false(raw_bit(&d, 0x41));
    assert_true(raw_bit(&d, 0x42)); /* the other vector stays */
    assert_false(pi_desc_reclaim(&d, 0x41));
    assert_true(pi_desc_take(&d, out));
    assert_int_equal(out[2], 1u << 2);       /* 0x42 only */
    assert_false(pi_desc_reclaim(&d, 0x42)); /* the take had it */
}

/* Posters that post and at once reclaim, against a taker: every vector is
 * delivered exactly once, by the reclaim or by a take. */
struct reclaim_race {
    struct pi_desc d;
    unsigned rounds;
    volatile bool go;
    unsigned long reclaimed[2], taken[2];
};

static void *reclaim_poster(void *arg)
{
    struct reclaim_race *r = arg;
    static unsigned next;
    unsigned me = __atomic_fetch_add(&next, 1, __ATOMIC_SEQ_CST) % 2;
    uint8_t vector = (uint8_t)(0x40 + 0x40 * me); /* 0x40 and 0x80: other PIR words */

    while (!__atomic_load_n(&r->go, __ATOMIC_ACQUIRE))
        ;
    for (unsigned i = 0; i < r->rounds; i++) {
        pi_desc_post(&r->d, vector);
        /* A varying gap, so takes land on both sides of the reclaim. */
        for (volatile unsigned spin = 0; spin < (i * 37u) % 4000u; spin++)
            ;
        if (pi_desc_reclaim(&r->d, vector))
            __atomic_fetch_add(&r->reclaimed[me], 1, __ATOMIC_SEQ_CST);
        /* Wait until this round's vector is gone either way. */
        while (__atomic_load_n(&r->d.pir[vector / 64], __ATOMIC_SEQ_CST) & (1ull << (vector % 64)))
            sched_yield();
    }
    return NULL;
}

static void test_reclaim_race(void **state)
{
    static struct reclaim_race r;
    pthread_t t[2];
    uint32_t out[8];

    memset(&r, 0, sizeof(r));
    r.rounds = 20000;
    assert_true(pi_desc_init(&r.d, 0xf2, 0));
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, reclaim_poster, &r), 0);
    __atomic_store_n(&r.go, true, __ATOMIC_RELEASE);
    bool done = false;
    while (!done) {
        unsigned long rec0 = __atomic_load_n(&r.reclaimed[0], __ATOMIC_SEQ_CST);
        unsigned long rec1 = __atomic_load_n(&r.reclaimed[1], __ATOMIC_SEQ_CST);
        done = rec0 + r.taken[0] == r.rounds && rec1 + r.taken[1] == r.rounds;
        if (pi_desc_take(&r.d, out)) {
            r.taken[0] += out[2] & 1u;
            r.taken[1] += out[4] & 1u;
        }
        /* Twice (a reclaim and a take of one post) would overshoot. */
        assert_true(__atomic_load_n(&r.reclaimed[0], __ATOMIC_SEQ_CST) + r.taken[0] <= r.rounds);
        assert_true(__atomic_load_n(&r.reclaimed[1], __ATOMIC_SEQ_CST) + r.taken[1] <= r.rounds);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_false(pi_desc_take(&r.d, out));
    print_message("reclaim race: reclaimed %lu/%lu, taken %lu/%lu\n", r.reclaimed[0],
                  r.reclaimed[1], r.taken[0], r.taken[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_ndst_encoding),
        cmocka_unit_test(test_init_rejects_exception_vectors),
        cmocka_unit_test(test_post_sets_its_bit),
        cmocka_unit_test(test_only_first_post_notifies),
        cmocka_unit_test(test_suppress_keeps_requests),
        cmocka_unit_test(test_take_returns_everything),
        cmocka_unit_test(test_race_one_vector_each),
        cmocka_unit_test(test_race_bursts),
        cmocka_unit_test(test_race_with_entry_syncs),
        cmocka_unit_test(test_reclaim_is_exactly_once),
        cmocka_unit_test(test_reclaim_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
