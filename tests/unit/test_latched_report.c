/* SPDX-License-Identifier: MIT */
/* Unit tests for the console's lossless reports (a device's "broken" line):
 * a post is pending until taken, several posts before a take make one report
 * that counts them all with the latest reason, a take refused while the
 * reason is being written leaves the report pending, long reasons are cut,
 * and posting threads racing a consumer lose no event: the counts the
 * consumer saw add up to the posts. Also the case the message ring loses: a
 * full ring drops a line, a report posted at that moment still arrives.
 * test-sources: kernel/console/latched_report.c kernel/console/msg_ring.c
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/console/latched_report.h"
#include "kernel/console/msg_ring.h"

static void test_nothing_pending_at_first(void **state)
{
    struct latched_report r = {0};
    char out[64];
    uint64_t n = 99;

    assert_false(latched_report_pending(&r));
    assert_false(latched_report_take(&r, out, sizeof(out), &n));
    assert_int_equal(n, 99);
}

static void test_one_post_one_report(void **state)
{
    struct latched_report r = {0};
    char out[64];
    uint64_t n = 0;

    latched_report_post(&r, "queue 1: chain at head 0: too long or loops");
    assert_true(latched_report_pending(&r));
    assert_true(latched_report_take(&r, out, sizeof(out), &n));
    assert_int_equal(n, 1);
    assert_string_equal(out, "queue 1: chain at head 0: too long or loops");
    assert_false(latched_report_pending(&r));
    assert_false(latched_report_take(&r, out, sizeof(out), &n));
}

/* A guest that breaks and resets its device faster than the console prints:
 * one report, every breakage counted, the latest reason. */
static void test_posts_between_takes_are_counted(void **state)
{
    struct latched_report r = {0};
    char out[64];
    uint64_t n = 0;

    latched_report_post(&r, "first");
    latched_report_post(&r, "second");
    latched_report_post(&r, "third");
    assert_true(latched_report_take(&r, out, sizeof(out), &n));
    assert_int_equal(n, 3);
    assert_string_equal(out, "third");
    latched_report_post(&r, "fourth");
    assert_true(latched_report_take(&r, out, sizeof(out), &n));
    assert_int_equal(n, 1);
    assert_string_equal(out, "fourth");
}

/* The consumer met a poster in the middle of writing the reason: nothing is
 * taken and the report stays pending for the next try. */
static void test_take_while_writing_stays_pending(void **state)
{
    struct latched_report r = {0};
    char out[64];
    uint64_t n = 0;

    latched_report_post(&r, "done");
    r.seq++; /* a second poster is writing */
    assert_false(latched_report_take(&r, out, sizeof(out), &n));
    assert_true(latched_report_pending(&r));
    r.seq++;
    assert_true(latched_report_take(&r, out, sizeof(out), &n));
    assert_int_equal(n, 1);
    assert_string_equal(out, "done");
}

/* A poster that finds another one writing the reason still counts. */
static void test_concurrent_poster_counts_without_waiting(void **state)
{
    struct latched_report r = {0};
    char out[64];
    uint64_t n = 0;

    latched_report_post(&r, "first");
    r.writing = 1; /* someone else owns the reason */
    latched_report_post(&r, "second");
    r.writing = 0;
    assert_true(latched_report_take(&r, out, sizeof(out), &n));
    assert_int_equal(n, 2);
    assert_string_equal(out, "first");
}

static void test_long_reason_cut(void **state)
{
    struct latched_report r = {0};
    char why[LATCHED_REPORT_WHY_MAX * 2];
    char out[LATCHED_REPORT_WHY_MAX * 2];
    char small[8];
    uint64_t n = 0;

    memset(why, 'x', sizeof(why) - 1);
    why[sizeof(why) - 1] = '\0';
    latched_report_post(&r, why);
    assert_true(latched_report_take(&r, out, sizeof(out), &n));
    assert_int_equal(strlen(out), LATCHED_REPORT_WHY_MAX - 1);
    latched_report_post(&r, "abcdefghijkl");
    assert_true(latched_report_take(&r, small, sizeof(small), &n));
    assert_string_equal(small, "abcdefg");
    latched_report_post(&r, NULL);
    assert_true(latched_report_take(&r, out, sizeof(out), &n));
    assert_string_equal(out, "");
}

/* What the net-break test lost once: the console ring is full of other
 * guests' lines when the device breaks, so a queued "broken" line is
 * dropped (counted, but gone); the report is not. */
static void test_report_survives_a_full_ring(void **state)
{
    static _Alignas(8) uint8_t buf[256];
    struct msg_ring ring;
    struct latched_report r = {0};
    char line[MSG_RING_MSG_MAX];
    uint64_t n = 0;
    int got = 0;

    memset(buf, 0, sizeof(buf));
    msg_ring_init(&ring, buf, sizeof(buf));
    while (msg_ring_put(&ring, "[net-a] a line of boot output", 29))
        ;
    assert_false(msg_ring_put(&ring, "sidecore: guest net-bad: net 0 broken", 37));
    latched_report_post(&r, "queue 1: chain at head 0: too long or loops");
    while (msg_ring_get(&ring, line, sizeof(line)) >= 0)
        got++;
    assert_true(got > 0);
    assert_true(msg_ring_take_dropped(&ring) >= 1);
    assert_true(latched_report_take(&r, line, sizeof(line), &n));
    assert_int_equal(n, 1);
    assert_string_equal(line, "queue 1: chain at head 0: too long or loops");
}

#define POSTERS  3
#define PER_POST 20000

static struct latched_report race;
static volatile int posters_done;

static void *poster(void *arg)
{
    char why[32];

    for (int i = 0; i < PER_POST; i++) {
        snprintf(why, sizeof(why), "poster %ld event %d", (long)(intptr_t)arg, i);
        latched_report_post(&race, why);
    }
    __atomic_fetch_add(&posters_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Every taken reason is one a poster wrote, whole; the counts add up. */
static void test_racing_posters_lose_nothing(void **state)
{
    pthread_t t[POSTERS];
    char out[LATCHED_REPORT_WHY_MAX];
    uint64_t total = 0, n, takes = 0;

    for (long i = 0; i < POSTERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, poster, (void *)(intptr_t)i), 0);
    for (;;) {
        bool done = __atomic_load_n(&posters_done, __ATOMIC_ACQUIRE) == POSTERS;
        while (latched_report_take(&race, out, sizeof(out), &n)) {
            long who;
            int ev;
            assert_int_equal(sscanf(out, "poster %ld event %d", &who, &ev), 2);
            assert_true(who >= 0 && who < POSTERS && ev >= 0 && ev < PER_POST);
            total += n;
            takes++;
        }
        if (done && !latched_report_pending(&race))
            break;
    }
    for (int i = 0; i < POSTERS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(total, (uint64_t)POSTERS * PER_POST);
    assert_true(takes > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_pending_at_first),
        cmocka_unit_test(test_one_post_one_report),
        cmocka_unit_test(test_posts_between_takes_are_counted),
        cmocka_unit_test(test_take_while_writing_stays_pending),
        cmocka_unit_test(test_concurrent_poster_counts_without_waiting),
        cmocka_unit_test(test_long_reason_cut),
        cmocka_unit_test(test_report_survives_a_full_ring),
        cmocka_unit_test(test_racing_posters_lose_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
