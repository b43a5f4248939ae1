/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the queue handoff between sidecores: the single-threaded
 * rules (who may visit, refused requests, a move asked during a visit
 * happens at its end), then threads: three "sidecores" visit two queues
 * fed by producer threads while a "monitor" keeps moving the queues
 * between them. Each queue's consumer state is plain memory touched only
 * inside visits; every item must come out once, in order, and no two
 * cores may ever be inside a visit of one queue at once.
 */
/* test-sources: vmm/sidecore/handoff.c */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "vmm/sidecore/handoff.h"

static void test_rules(void **state)
{
    struct queue_handoff h;

    handoff_init(&h, 0);
    assert_int_equal(handoff_owner(&h), 0);
    assert_true(handoff_begin(&h, 0));
    assert_false(handoff_begin(&h, 1)); /* not the owner */
    handoff_end(&h, 0);
    assert_false(handoff_request(&h, 0)); /* already there */
    assert_false(handoff_request(&h, HANDOFF_NONE));
    /* Asked during a visit: the owner finishes, then lets go. */
    assert_true(handoff_begin(&h, 0));
    assert_true(handoff_request(&h, 2));
    assert_false(handoff_request(&h, 1)); /* one move at a time */
    assert_true(handoff_pending(&h));
    assert_false(handoff_begin(&h, 2)); /* the old owner is still inside */
    handoff_end(&h, 0);
    assert_false(handoff_pending(&h));
    assert_int_equal(handoff_owner(&h), 2);
    assert_int_equal(h.moves, 1);
    assert_false(handoff_begin(&h, 0));
    assert_true(handoff_begin(&h, 2));
    handoff_end(&h, 2);
    /* Asked between visits: the next begin lets go instead of visiting. */
    assert_true(handoff_request(&h, 1));
    assert_false(handoff_begin(&h, 2));
    assert_int_equal(handoff_owner(&h), 1);
    assert_true(handoff_begin(&h, 1));
    handoff_end(&h, 1);
    assert_int_equal(h.moves, 2);
}

/* ---- threads ---- */

#define NQUEUES 2
#define NCORES  3
#define ITEMS   10000u
#define RING    64u

struct tq {
    struct queue_handoff h;
    /* Producer side. */
    uint32_t ring[RING];
    uint32_t head;     /* written by the producer (release) */
    uint32_t produced; /* how many in all, once the producer is done */
    /* Consumer side: plain, touched only by the owner inside a visit. */
    uint32_t tail_shadow; /* where the consumer is; published to tail */
    uint32_t next_expected;
    uint32_t bad;  /* items out of order or duplicated */
    uint32_t tail; /* published by the owner at the end of a visit (release) */
    int inside;    /* cores inside a visit (atomic) */
    int overlaps;
};

static struct tq queues[NQUEUES];
static int stop;
static unsigned requested; /* accepted move requests (atomic) */
#define MIN_MOVES 300u

static void *producer(void *arg)
{
    struct tq *q = arg;

    /* At least ITEMS, and on until the monitor has moved queues often. */
    for (uint32_t i = 0;; i++) {
        if (i >= ITEMS && __atomic_load_n(&requested, __ATOMIC_ACQUIRE) >= MIN_MOVES) {
            __atomic_store_n(&q->produced, i, __ATOMIC_RELEASE);
            break;
        }
        while (__atomic_load_n(&q->head, __ATOMIC_RELAXED) -
                   __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE) >=
               RING) {
            if (__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
                __atomic_store_n(&q->produced, i, __ATOMIC_RELEASE);
                return NULL; /* the test gave up */
            }
            sched_yield();
        }
        q->ring[q->head % RING] = i;
        __atomic_store_n(&q->head, q->head + 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

/* A visit: up to 8 items, checked against the plain consumer state, then
 * published (as a device publishes its used ring). */
static void visit(struct tq *q)
{
    if (__atomic_fetch_add(&q->inside, 1, __ATOMIC_ACQ_REL) != 0)
        __atomic_fetch_add(&q->overlaps, 1, __ATOMIC_RELAXED);
    uint32_t head = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);
    for (unsigned n = 0; n < 8 && q->tail_shadow != head; n++) {
        uint32_t item = q->ring[q->tail_shadow % RING];
        if (item != q->next_expected)
            q->bad++;
        q->next_expected = item + 1;
        q->tail_shadow++;
        /* Some work per item, so a broken protocol's overlap would show. */
        for (volatile unsigned spin = 0; spin < 3000; spin++)
            ;
    }
    __atomic_store_n(&q->tail, q->tail_shadow, __ATOMIC_RELEASE);
    __atomic_fetch_sub(&q->inside, 1, __ATOMIC_ACQ_REL);
}

static void *core(void *arg)
{
    uint32_t self = (uint32_t)(uintptr_t)arg;

    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        for (unsigned i = 0; i < NQUEUES; i++) {
            struct tq *q = &queues[i];
            if (!handoff_begin(&q->h, self))
                continue;
            visit(q);
            handoff_end(&q->h, self);
        }
        sched_yield(); /* test machines have few cores and many threads */
    }
    return NULL;
}

static void *monitor(void *arg)
{
    uint32_t seed = 12345;

    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        seed = seed * 1103515245u + 12345u;
        struct tq *q = &queues[(seed >> 16) % NQUEUES];
        if (handoff_request(&q->h, (seed >> 8) % NCORES))
            __atomic_fetch_add(&requested, 1, __ATOMIC_RELEASE);
        sched_yield();
    }
    return NULL;
}

static void test_threads(void **state)
{
    pthread_t prod[NQUEUES], cores[NCORES], mon;

    for (unsigned i = 0; i < NQUEUES; i++) {
        queues[i] = (struct tq){0};
        handoff_init(&queues[i].h, i % NCORES);
    }
    stop = 0;
    requested = 0;
    for (uintptr_t c = 0; c < NCORES; c++)
        assert_int_equal(pthread_create(&cores[c], NULL, core, (void *)c), 0);
    assert_int_equal(pthread_create(&mon, NULL, monitor, NULL), 0);
    for (unsigned i = 0; i < NQUEUES; i++)
        assert_int_equal(pthread_create(&prod[i], NULL, producer, &queues[i]), 0);
    /* Wait until the producers are done and the consumers have taken
     * everything (a broken handoff could lose items: give up after 30 s
     * rather than hang). */
    time_t deadline = time(NULL) + 30;
    bool done = false;
    while (!done && time(NULL) < deadline) {
        done = true;
        for (unsigned i = 0; i < NQUEUES; i++) {
            uint32_t produced = __atomic_load_n(&queues[i].produced, __ATOMIC_ACQUIRE);
            done &= produced && __atomic_load_n(&queues[i].tail, __ATOMIC_ACQUIRE) == produced;
        }
        sched_yield();
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < NQUEUES; i++)
        pthread_join(prod[i], NULL);
    if (!done)
        for (unsigned i = 0; i < NQUEUES; i++)
            print_message(
                "queue %u: head %u tail %u produced %u owner %u move_to %u requested %u\n", i,
                queues[i].head, queues[i].tail, queues[i].produced, queues[i].h.owner,
                queues[i].h.move_to, requested);
    assert_true(done);
    for (unsigned c = 0; c < NCORES; c++)
        pthread_join(cores[c], NULL);
    pthread_join(mon, NULL);

    uint64_t moves = 0;
    for (unsigned i = 0; i < NQUEUES; i++) {
        struct tq *q = &queues[i];
        assert_int_equal(q->overlaps, 0);
        assert_int_equal(q->bad, 0);
        assert_true(q->produced >= ITEMS);
        assert_int_equal(q->next_expected, q->produced);
        assert_int_equal(q->tail_shadow, q->produced);
        moves += q->h.moves;
    }
    print_message("moves: %lu of %u requested\n", (unsigned long)moves, requested);
    assert_true(moves >= MIN_MOVES / 2);
    /* No move without a request (a request naming the core that was
     * just being handed the queue ends as no move). */
    assert_true(moves <= requested);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
