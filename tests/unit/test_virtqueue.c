/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the split virtqueue, both sides against each other: the
 * driver model (virtq_driver.c) lays out rings and adds chains, the device
 * (virtqueue.c) pops and completes them. Covered: simple and indirect
 * chains, 16-bit index wraparound, a full ring, interrupt and notification
 * suppression with and without EVENT_IDX, ring placement refused at start,
 * a start with chains already pending, and every malformed chain the device
 * must refuse, each leaving the queue broken for good.
 */
/* test-sources: virtio/virtqueue.c virtio/virtq_driver.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "virtio/virtq_driver.h"
#include "virtio/virtqueue.h"

#define MEM_SIZE  (1u << 20)
#define RING_GPA  0x1000u
#define DATA_GPA  0x40000u /* buffers, 0x100 apart */
#define TABLE_GPA 0x80000u /* indirect tables */

struct env {
    struct vmem mem;
    struct virtq_driver drv;
    struct virtq q;
    struct virtq_chain chain;
};

static struct env *env_new(uint16_t size, bool event_idx, bool indirect, uint16_t first_idx)
{
    struct env *e = calloc(1, sizeof(*e));

    assert_non_null(e);
    e->mem.base = aligned_alloc(4096, MEM_SIZE);
    assert_non_null(e->mem.base);
    memset(e->mem.base, 0, MEM_SIZE);
    e->mem.size = MEM_SIZE;
    assert_true(virtq_driver_init(&e->drv, &e->mem, RING_GPA, size, event_idx, first_idx));
    e->q.size = size;
    e->q.desc_gpa = e->drv.desc_gpa;
    e->q.avail_gpa = e->drv.avail_gpa;
    e->q.used_gpa = e->drv.used_gpa;
    e->q.event_idx = event_idx;
    e->q.indirect = indirect;
    return e;
}

static struct env *env_started(uint16_t size, bool event_idx, bool indirect, uint16_t first_idx)
{
    struct env *e = env_new(size, event_idx, indirect, first_idx);

    assert_true(virtq_start(&e->q, &e->mem));
    assert_null(e->q.error);
    return e;
}

static void env_free(struct env *e)
{
    free(e->mem.base);
    free(e);
}

static uint64_t data_gpa(unsigned k)
{
    return DATA_GPA + 0x100u * k;
}

/* Adds a chain of nr readable and nw writable 0x40-byte buffers. */
static int add_chain(struct env *e, unsigned nr, unsigned nw)
{
    struct virtq_sg sg[VIRTQ_MAX_SIZE];

    for (unsigned k = 0; k < nr + nw; k++) {
        sg[k].gpa = data_gpa(k);
        sg[k].len = 0x40;
    }
    return virtq_driver_add(&e->drv, sg, nr, nw);
}

/* The device pops one chain, "writes" written bytes, pushes and publishes;
 * the driver takes it back. Returns what publish said. */
static bool complete_one(struct env *e, int head, uint32_t written)
{
    uint16_t id;
    uint32_t len;
    bool irq;

    assert_int_equal(virtq_pop(&e->q, &e->chain), 1);
    assert_int_equal(e->chain.head, head);
    virtq_push(&e->q, e->chain.head, written);
    irq = virtq_publish(&e->q);
    assert_int_equal(virtq_driver_take_used(&e->drv, &id, &len), 1);
    assert_int_equal(id, head);
    assert_int_equal(len, written);
    return irq;
}

/* Raw descriptor i of the ring (for malformed chains). */
static void put_desc(struct env *e, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    struct virtq_desc d = {addr, len, flags, next};

    memcpy(e->drv.desc + 16 * i, &d, sizeof(d));
}

static void put_table(struct env *e, uint64_t gpa, unsigned i, uint64_t addr, uint32_t len,
                      uint16_t flags, uint16_t next)
{
    struct virtq_desc d = {addr, len, flags, next};

    memcpy(e->mem.base + gpa + 16 * i, &d, sizeof(d));
}

static uint16_t avail_event(struct env *e)
{
    uint16_t v;

    memcpy(&v, e->drv.used + 4 + 8 * e->drv.size, 2);
    return v;
}

/* The queue broke with a message containing want, and stays broken: a
 * well-formed chain added afterwards is refused too. */
static void expect_broken(struct env *e, const char *want)
{
    const char *was;

    assert_int_equal(virtq_pop(&e->q, &e->chain), -1);
    assert_non_null(e->q.error);
    if (!strstr(e->q.error, want))
        fail_msg("error \"%s\" does not say \"%s\"", e->q.error, want);
    was = e->q.error;
    put_desc(e, 0, data_gpa(0), 16, 0, 0);
    virtq_driver_post(&e->drv, 0);
    assert_int_equal(virtq_pop(&e->q, &e->chain), -1);
    assert_int_equal(virtq_avail_count(&e->q), 0);
    assert_false(virtq_publish(&e->q));
    assert_ptr_equal(e->q.error, was);
    assert_non_null(strstr(e->q.error, want));
}

/* --- well-formed traffic ------------------------------------------------- */

static void test_simple_chain(void **state)
{
    struct env *e = env_started(16, false, false, 0);
    int head;
    uint16_t id;
    uint32_t len;

    assert_int_equal(virtq_pop(&e->q, &e->chain), 0); /* empty ring */
    head = add_chain(e, 2, 1);
    assert_true(head >= 0);
    assert_int_equal(e->drv.num_free, 13);
    assert_true(virtq_driver_kick_needed(&e->drv));
    assert_int_equal(virtq_avail_count(&e->q), 1);

    assert_int_equal(virtq_pop(&e->q, &e->chain), 1);
    assert_int_equal(e->chain.head, head);
    assert_int_equal(e->chain.nbuf, 3);
    assert_int_equal(e->chain.nread, 2);
    assert_int_equal(e->chain.read_bytes, 0x80);
    assert_int_equal(e->chain.write_bytes, 0x40);
    for (unsigned k = 0; k < 3; k++) {
        assert_int_equal(e->chain.buf[k].gpa, data_gpa(k));
        assert_ptr_equal(e->chain.buf[k].host, e->mem.base + data_gpa(k));
        assert_int_equal(e->chain.buf[k].len, 0x40);
        assert_int_equal(e->chain.buf[k].write, k == 2);
    }
    assert_int_equal(virtq_pop(&e->q, &e->chain), 0);

    /* Pushed but not published: the driver sees nothing yet. */
    virtq_push(&e->q, head, 7);
    assert_int_equal(virtq_driver_take_used(&e->drv, &id, &len), 0);
    assert_true(virtq_publish(&e->q));
    assert_false(virtq_publish(&e->q)); /* nothing new */
    assert_int_equal(virtq_driver_take_used(&e->drv, &id, &len), 1);
    assert_int_equal(id, head);
    assert_int_equal(len, 7);
    assert_int_equal(e->drv.num_free, 16);
    assert_int_equal(virtq_driver_take_used(&e->drv, &id, &len), 0);
    assert_null(e->q.error);
    assert_null(e->drv.error);
    env_free(e);
}

/* Indices start just below 65536 so they wrap during the test; chains of
 * varying length recycle descriptors through the free list. */
static void test_index_wraparound(void **state)
{
    struct env *e = env_started(4, false, false, 65533);

    assert_int_equal(e->q.last_avail, 65533);
    for (unsigned round = 0; round < 40; round++) {
        int head = add_chain(e, 1 + round % 2, round % 3 == 0);

        assert_true(head >= 0);
        assert_true(complete_one(e, head, round));
    }
    assert_int_equal(e->q.last_avail, (uint16_t)(65533 + 40));
    assert_int_equal(e->q.used_idx, (uint16_t)(65533 + 40));
    assert_int_equal(e->drv.num_free, 4);

    /* A full batch of four, across another wrap of the ring slots. */
    for (unsigned k = 0; k < 4; k++)
        assert_true(add_chain(e, 1, 0) >= 0);
    assert_int_equal(virtq_avail_count(&e->q), 4);
    for (unsigned k = 0; k < 4; k++) {
        assert_int_equal(virtq_pop(&e->q, &e->chain), 1);
        virtq_push(&e->q, e->chain.head, 0);
    }
    assert_true(virtq_publish(&e->q));
    for (unsigned k = 0; k < 4; k++) {
        uint16_t id;
        uint32_t len;
        assert_int_equal(virtq_driver_take_used(&e->drv, &id, &len), 1);
    }
    assert_int_equal(e->drv.num_free, 4);
    assert_null(e->q.error);
    env_free(e);
}

static void test_full_ring(void **state)
{
    struct env *e = env_started(8, false, false, 0);
    int heads[8];
    uint16_t id;
    uint32_t len;

    for (unsigned k = 0; k < 8; k++) {
        heads[k] = add_chain(e, 1, 0);
        assert_true(heads[k] >= 0);
    }
    assert_int_equal(add_chain(e, 1, 0), -1); /* no descriptor left */
    assert_int_equal(virtq_avail_count(&e->q), 8);
    for (unsigned k = 0; k < 8; k++) {
        assert_int_equal(virtq_pop(&e->q, &e->chain), 1);
        assert_int_equal(e->chain.head, heads[k]);
    }
    assert_int_equal(virtq_pop(&e->q, &e->chain), 0);
    /* Completed out of order. */
    for (int k = 7; k >= 0; k--)
        virtq_push(&e->q, heads[k], k);
    assert_true(virtq_publish(&e->q));
    for (int k = 7; k >= 0; k--) {
        assert_int_equal(virtq_driver_take_used(&e->drv, &id, &len), 1);
        assert_int_equal(id, heads[k]);
        assert_int_equal(len, k);
    }

    /* One chain as long as the ring. */
    int head = add_chain(e, 3, 5);
    assert_true(head >= 0);
    assert_int_equal(add_chain(e, 1, 0), -1);
    assert_int_equal(virtq_pop(&e->q, &e->chain), 1);
    assert_int_equal(e->chain.nbuf, 8);
    assert_int_equal(e->chain.nread, 3);
    virtq_push(&e->q, head, 0);
    virtq_publish(&e->q);
    assert_int_equal(virtq_driver_take_used(&e->drv, &id, &len), 1);
    assert_int_equal(e->drv.num_free, 8);
    assert_null(e->q.error);
    env_free(e);
}

static void test_longest_chain(void **state)
{
    struct env *e = env_started(256, false, false, 0);
    int head = add_chain(e, 10, VIRTQ_MAX_CHAIN - 10);

    assert_true(head >= 0);
    assert_true(complete_one(e, head, 1));
    assert_int_equal(e->chain.nbuf, VIRTQ_MAX_CHAIN);
    env_free(e);
}

static void test_indirect_chain(void **state)
{
    struct env *e = env_started(8, false, true, 0);
    struct virtq_sg sg[VIRTQ_MAX_CHAIN];
    int head;

    for (unsigned k = 0; k < VIRTQ_MAX_CHAIN; k++) {
        sg[k].gpa = data_gpa(k);
        sg[k].len = 0x10 + k;
    }
    head = virtq_driver_add_indirect(&e->drv, sg, 1, 2, TABLE_GPA);
    assert_true(head >= 0);
    assert_int_equal(e->drv.num_free, 7); /* one ring descriptor */
    assert_int_equal(virtq_pop(&e->q, &e->chain), 1);
    assert_int_equal(e->chain.head, head);
    assert_int_equal(e->chain.nbuf, 3);
    assert_int_equal(e->chain.nread, 1);
    assert_int_equal(e->chain.buf[2].gpa, data_gpa(2));
    assert_int_equal(e->chain.buf[2].len, 0x12);
    assert_true(e->chain.buf[2].write);
    virtq_push(&e->q, head, 3);
    assert_true(virtq_publish(&e->q));
    uint16_t id;
    uint32_t len;
    assert_int_equal(virtq_driver_take_used(&e->drv, &id, &len), 1);
    assert_int_equal(e->drv.num_free, 8);

    /* The longest indirect chain. */
    head = virtq_driver_add_indirect(&e->drv, sg, 0, VIRTQ_MAX_CHAIN, TABLE_GPA);
    assert_true(head >= 0);
    assert_true(complete_one(e, head, 9));
    assert_int_equal(e->chain.nbuf, VIRTQ_MAX_CHAIN);

    /* Direct descriptors followed by an indirect one (valid, 2.7.5.3.2),
     * its table not 16-byte aligned and chained out of order. */
    put_desc(e, 4, data_gpa(0), 8, VIRTQ_DESC_F_NEXT, 5);
    put_desc(e, 5, TABLE_GPA + 4, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
    put_table(e, TABLE_GPA + 4, 0, data_gpa(1), 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    put_table(e, TABLE_GPA + 4, 1, data_gpa(2), 24, VIRTQ_DESC_F_WRITE, 0);
    virtq_driver_post(&e->drv, 4);
    assert_int_equal(virtq_pop(&e->q, &e->chain), 1);
    assert_int_equal(e->chain.head, 4);
    assert_int_equal(e->chain.nbuf, 3);
    assert_int_equal(e->chain.nread, 1);
    assert_int_equal(e->chain.read_bytes, 8);
    assert_int_equal(e->chain.write_bytes, 40);
    assert_int_equal(e->chain.buf[2].gpa, data_gpa(2));
    assert_null(e->q.error);
    env_free(e);
}

/* --- interrupts and notifications ---------------------------------------- */

static void test_interrupt_flag(void **state)
{
    struct env *e = env_started(8, false, false, 0);

    assert_false(virtq_driver_set_interrupt(&e->drv, false));
    for (unsigned k = 0; k < 5; k++)
        assert_false(complete_one(e, add_chain(e, 1, 0), 0));
    /* Enabling reports nothing pending; the next completion interrupts. */
    assert_false(virtq_driver_set_interrupt(&e->drv, true));
    assert_true(complete_one(e, add_chain(e, 1, 0), 0));

    /* A completion published while interrupts were off is reported by
     * enabling them, so the driver cannot sleep on it. */
    virtq_driver_set_interrupt(&e->drv, false);
    int head = add_chain(e, 1, 0);
    assert_int_equal(virtq_pop(&e->q, &e->chain), 1);
    virtq_push(&e->q, head, 0);
    assert_false(virtq_publish(&e->q));
    assert_true(virtq_driver_set_interrupt(&e->drv, true));
    env_free(e);
}

static void test_event_idx_interrupts(void **state)
{
    struct env *e = env_started(8, true, false, 65530);
    int heads[8];

    /* Right after start the driver asks for the first entry (65530). */
    assert_true(complete_one(e, add_chain(e, 1, 0), 0));

    /* Ask for the entry three ahead: 65531 and 65532 pass silently, 65533
     * interrupts, the entries after it do not. */
    virtq_driver_interrupt_at(&e->drv, 65533);
    assert_false(complete_one(e, add_chain(e, 1, 0), 0));
    assert_false(complete_one(e, add_chain(e, 1, 0), 0));
    assert_true(complete_one(e, add_chain(e, 1, 0), 0));
    assert_false(complete_one(e, add_chain(e, 1, 0), 0));

    /* A batch across the wrap containing the wanted entry: one publish of
     * entries 65535, 0, 1, 2, 3, 4 interrupts. */
    virtq_driver_interrupt_at(&e->drv, 2);
    for (unsigned k = 0; k < 6; k++)
        heads[k] = add_chain(e, 1, 0);
    for (unsigned k = 0; k < 6; k++) {
        assert_int_equal(virtq_pop(&e->q, &e->chain), 1);
        virtq_push(&e->q, heads[k], 0);
    }
    assert_true(virtq_publish(&e->q));
    /* A batch that ends just before it does not. */
    virtq_driver_interrupt_at(&e->drv, 7);
    for (unsigned k = 0; k < 6; k++) {
        uint16_t id;
        uint32_t len;
        assert_int_equal(virtq_driver_take_used(&e->drv, &id, &len), 1);
    }
    for (unsigned k = 0; k < 2; k++)
        heads[k] = add_chain(e, 1, 0);
    for (unsigned k = 0; k < 2; k++) {
        assert_int_equal(virtq_pop(&e->q, &e->chain), 1);
        virtq_push(&e->q, heads[k], 0);
    }
    assert_int_equal(e->q.used_idx, 7);
    assert_false(virtq_publish(&e->q)); /* entries 5 and 6 */
    for (unsigned k = 0; k < 2; k++) {
        uint16_t id;
        uint32_t len;
        assert_int_equal(virtq_driver_take_used(&e->drv, &id, &len), 1);
    }
    assert_true(complete_one(e, add_chain(e, 1, 0), 0)); /* entry 7 */

    /* Off: used_event half the index space away, never reached by a long
     * run (including more than one wrap of the ring). */
    assert_false(virtq_driver_set_interrupt(&e->drv, false));
    for (unsigned k = 0; k < 1000; k++)
        assert_false(complete_one(e, add_chain(e, 1, 0), 0));
    assert_false(virtq_driver_set_interrupt(&e->drv, true));
    assert_true(complete_one(e, add_chain(e, 1, 0), 0));

    /* used_event names one entry: without a new wish, no more interrupts. */
    assert_false(complete_one(e, add_chain(e, 1, 0), 0));

    /* The flag is ignored under EVENT_IDX (2.7.7.2). */
    e->drv.avail[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
    assert_false(virtq_driver_set_interrupt(&e->drv, true));
    assert_true(complete_one(e, add_chain(e, 1, 0), 0));
    env_free(e);
}

static void test_notify_flag(void **state)
{
    struct env *e = env_started(8, false, false, 0);

    int head = add_chain(e, 1, 0);

    assert_true(virtq_driver_kick_needed(&e->drv));
    complete_one(e, head, 0);
    virtq_set_notify(&e->q, false);
    assert_int_equal(e->drv.used[0], VIRTQ_USED_F_NO_NOTIFY);
    for (unsigned k = 0; k < 20; k++) {
        head = add_chain(e, 1, 0);
        assert_false(virtq_driver_kick_needed(&e->drv));
        complete_one(e, head, 0);
    }
    env_free(e);
}

static void test_notify_flag_on_off(void **state)
{
    struct env *e = env_started(8, false, false, 0);
    int head;

    virtq_set_notify(&e->q, false);
    head = add_chain(e, 1, 0);
    assert_false(virtq_driver_kick_needed(&e->drv));
    complete_one(e, head, 0);
    virtq_set_notify(&e->q, true);
    assert_int_equal(e->drv.used[0], 0);
    head = add_chain(e, 1, 0);
    assert_true(virtq_driver_kick_needed(&e->drv));
    complete_one(e, head, 0);
    env_free(e);
}

static void test_event_idx_notify(void **state)
{
    struct env *e = env_started(8, true, false, 65000);
    int a, b;

    /* Notifications start on: the first chain added is announced, a
     * second before the device looked is not. */
    a = add_chain(e, 1, 0);
    assert_true(virtq_driver_kick_needed(&e->drv));
    b = add_chain(e, 1, 0);
    assert_false(virtq_driver_kick_needed(&e->drv));
    complete_one(e, a, 0);
    complete_one(e, b, 0);
    /* Each pop moved avail_event along, so the next chain is announced. */
    assert_int_equal(avail_event(e), e->q.last_avail);
    a = add_chain(e, 1, 0);
    assert_true(virtq_driver_kick_needed(&e->drv));
    complete_one(e, a, 0);

    /* Off: no kick over a run long enough to wrap the 16-bit index (and
     * the device's refresh of avail_event) more than once, with batches. */
    virtq_set_notify(&e->q, false);
    assert_int_equal(avail_event(e), (uint16_t)(e->q.last_avail + 0x8000));
    for (unsigned k = 0; k < 140000; k++) {
        int heads[3];
        unsigned n = 1 + k % 3;

        for (unsigned j = 0; j < n; j++)
            heads[j] = add_chain(e, 1, 0);
        assert_false(virtq_driver_kick_needed(&e->drv));
        for (unsigned j = 0; j < n; j++)
            complete_one(e, heads[j], 0);
    }
    /* On again: the next chain is announced. */
    virtq_set_notify(&e->q, true);
    a = add_chain(e, 1, 0);
    assert_true(virtq_driver_kick_needed(&e->drv));
    complete_one(e, a, 0);
    assert_null(e->q.error);
    env_free(e);
}

/* A chain added while notifications were off and not yet popped: turning
 * them on does not announce it, which is why a poller looks again. */
static void test_event_idx_notify_race(void **state)
{
    struct env *e = env_started(8, true, false, 0);

    virtq_set_notify(&e->q, false);
    int head = add_chain(e, 1, 0);
    assert_false(virtq_driver_kick_needed(&e->drv));
    virtq_set_notify(&e->q, true);
    assert_int_equal(virtq_avail_count(&e->q), 1); /* the look again */
    complete_one(e, head, 0);
    env_free(e);
}

/* --- starting ------------------------------------------------------------ */

static void expect_start_fails(struct env *e, const char *want)
{
    assert_false(virtq_start(&e->q, &e->mem));
    assert_non_null(e->q.error);
    if (!strstr(e->q.error, want))
        fail_msg("error \"%s\" does not say \"%s\"", e->q.error, want);
}

static void test_start_refused(void **state)
{
    struct env *e = env_new(8, false, false, 0);
    struct virtq good = e->q;

    e->q.size = 0;
    expect_start_fails(e, "queue size 0");
    e->q.size = 12;
    expect_start_fails(e, "queue size 12");
    e->q.size = 512;
    expect_start_fails(e, "not a power of two");
    e->q = good;
    e->q.desc_gpa += 8;
    expect_start_fails(e, "descriptor table at 0x1008 is not aligned to 16");
    e->q = good;
    e->q.avail_gpa += 1;
    expect_start_fails(e, "available ring");
    e->q = good;
    e->q.used_gpa += 2;
    expect_start_fails(e, "used ring");
    e->q = good;
    e->q.desc_gpa = MEM_SIZE - 64; /* 8 descriptors need 128 bytes */
    expect_start_fails(e, "outside guest memory");
    e->q = good;
    e->q.avail_gpa = MEM_SIZE - 20; /* 6 + 2 * 8 = 22 bytes */
    expect_start_fails(e, "available ring at 0xfffec (22 bytes) outside guest memory");
    e->q = good;
    e->q.used_gpa = 0xfffffffffffffff0ull;
    expect_start_fails(e, "used ring");
    e->q = good;
    e->q.used_gpa = MEM_SIZE - 68; /* 6 + 8 * 8 = 70 bytes */
    expect_start_fails(e, "outside guest memory");
    e->q = good;
    assert_true(virtq_start(&e->q, &e->mem));
    assert_null(e->q.error);
    env_free(e);
}

/* The driver made chains available before the device started (as a
 * virtio-net driver filling its receive queue before DRIVER_OK does), with
 * indices not at 0. */
static void test_start_with_pending_chains(void **state)
{
    struct env *e = env_new(8, false, false, 100);
    int heads[3];

    for (unsigned k = 0; k < 3; k++)
        heads[k] = add_chain(e, 1, 1);
    assert_true(virtq_start(&e->q, &e->mem));
    assert_int_equal(e->q.last_avail, 100);
    assert_int_equal(virtq_avail_count(&e->q), 3);
    for (unsigned k = 0; k < 3; k++)
        assert_true(complete_one(e, heads[k], 1));
    assert_int_equal(virtq_pop(&e->q, &e->chain), 0);
    env_free(e);
}

static void test_start_avail_too_far_ahead(void **state)
{
    struct env *e = env_new(8, false, false, 100);
    uint16_t bad = 109;

    memcpy(e->drv.avail + 2, &bad, 2);
    expect_start_fails(e, "avail->idx 109 is more than the queue size ahead");
    env_free(e);
}

/* --- malformed chains ---------------------------------------------------- */

static void test_bad_head(void **state)
{
    struct env *e = env_started(8, false, false, 0);

    virtq_driver_post(&e->drv, 8);
    expect_broken(e, "head 8 beyond the queue size 8");
    env_free(e);
}

static void test_bad_next(void **state)
{
    struct env *e = env_started(8, false, false, 0);

    put_desc(e, 2, data_gpa(0), 16, VIRTQ_DESC_F_NEXT, 9);
    virtq_driver_post(&e->drv, 2);
    expect_broken(e, "descriptor 2: next beyond the queue size");
    env_free(e);
}

static void test_loop(void **state)
{
    struct env *e = env_started(8, false, false, 0);

    put_desc(e, 1, data_gpa(0), 16, VIRTQ_DESC_F_NEXT, 3);
    put_desc(e, 3, data_gpa(1), 16, VIRTQ_DESC_F_NEXT, 1);
    virtq_driver_post(&e->drv, 1);
    expect_broken(e, "chain at head 1: too long or loops");
    env_free(e);
}

static void test_self_loop(void **state)
{
    struct env *e = env_started(1, false, false, 0);

    put_desc(e, 0, data_gpa(0), 16, VIRTQ_DESC_F_NEXT, 0);
    virtq_driver_post(&e->drv, 0);
    expect_broken(e, "loops");
    env_free(e);
}

static void test_chain_too_long(void **state)
{
    struct env *e = env_started(256, false, false, 0);

    assert_true(add_chain(e, 1, VIRTQ_MAX_CHAIN) >= 0);
    expect_broken(e, "chain at head 0: too long");
    env_free(e);
}

static void test_indirect_not_negotiated(void **state)
{
    struct env *e = env_started(8, false, false, 0);
    struct virtq_sg sg = {data_gpa(0), 16};

    assert_true(virtq_driver_add_indirect(&e->drv, &sg, 1, 0, TABLE_GPA) >= 0);
    expect_broken(e, "descriptor 0: INDIRECT flag but indirect descriptors not negotiated");
    env_free(e);
}

static void test_indirect_bad_length(void **state)
{
    static const uint32_t lens[] = {0, 24, 8};

    for (unsigned k = 0; k < 3; k++) {
        struct env *e = env_started(8, false, true, 0);

        put_table(e, TABLE_GPA, 0, data_gpa(0), 16, 0, 0);
        put_desc(e, 0, TABLE_GPA, lens[k], VIRTQ_DESC_F_INDIRECT, 0);
        virtq_driver_post(&e->drv, 0);
        expect_broken(e, "indirect table length not a non-zero multiple of 16");
        env_free(e);
    }
}

static void test_indirect_table_outside(void **state)
{
    struct env *e = env_started(8, false, true, 0);

    put_desc(e, 0, MEM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
    virtq_driver_post(&e->drv, 0);
    expect_broken(e, "descriptor 0: indirect table at 0xffff0 length 32 outside guest memory");
    env_free(e);
}

static void test_indirect_nested(void **state)
{
    struct env *e = env_started(8, false, true, 0);

    put_table(e, TABLE_GPA, 0, data_gpa(0), 16, VIRTQ_DESC_F_NEXT, 1);
    put_table(e, TABLE_GPA, 1, TABLE_GPA + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
    put_desc(e, 0, TABLE_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
    virtq_driver_post(&e->drv, 0);
    expect_broken(e, "indirect descriptor 1: INDIRECT inside an indirect table");
    env_free(e);
}

static void test_indirect_with_next(void **state)
{
    struct env *e = env_started(8, false, true, 0);

    put_table(e, TABLE_GPA, 0, data_gpa(0), 16, 0, 0);
    put_desc(e, 0, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
    put_desc(e, 1, data_gpa(1), 16, 0, 0);
    virtq_driver_post(&e->drv, 0);
    expect_broken(e, "descriptor 0: both INDIRECT and NEXT set");
    env_free(e);
}

static void test_indirect_loop(void **state)
{
    struct env *e = env_started(8, false, true, 0);

    put_table(e, TABLE_GPA, 0, data_gpa(0), 16, VIRTQ_DESC_F_NEXT, 1);
    put_table(e, TABLE_GPA, 1, data_gpa(1), 16, VIRTQ_DESC_F_NEXT, 0);
    put_desc(e, 0, TABLE_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
    virtq_driver_post(&e->drv, 0);
    expect_broken(e, "indirect table of descriptor 0: chain loops");
    env_free(e);
}

static void test_indirect_next_outside_table(void **state)
{
    struct env *e = env_started(8, false, true, 0);

    put_table(e, TABLE_GPA, 0, data_gpa(0), 16, VIRTQ_DESC_F_NEXT, 2);
    put_desc(e, 0, TABLE_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
    virtq_driver_post(&e->drv, 0);
    expect_broken(e, "indirect descriptor 0: next beyond the indirect table");
    env_free(e);
}

/* Direct and indirect descriptors together may not exceed VIRTQ_MAX_CHAIN. */
static void test_indirect_total_too_long(void **state)
{
    struct env *e = env_started(8, false, true, 0);

    for (unsigned k = 0; k < VIRTQ_MAX_CHAIN; k++)
        put_table(e, TABLE_GPA, k, data_gpa(k % 8), 16, k + 1 < VIRTQ_MAX_CHAIN ? 1 : 0, k + 1);
    put_desc(e, 0, data_gpa(0), 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc(e, 1, TABLE_GPA, 16 * VIRTQ_MAX_CHAIN, VIRTQ_DESC_F_INDIRECT, 0);
    virtq_driver_post(&e->drv, 0);
    expect_broken(e, "chain at head 0: more than 130 buffers");
    env_free(e);
}

static void test_buffer_outside_memory(void **state)
{
    struct env *e = env_started(8, false, false, 0);

    put_desc(e, 0, data_gpa(0), 16, VIRTQ_DESC_F_NEXT, 5);
    put_desc(e, 5, MEM_SIZE - 0x10, 0x1000, VIRTQ_DESC_F_WRITE, 0);
    virtq_driver_post(&e->drv, 0);
    expect_broken(e, "descriptor 5: address 0xffff0 length 4096 outside guest memory");
    env_free(e);

    /* An address that wraps around 2^64 with its length. */
    e = env_started(8, false, false, 0);
    put_desc(e, 0, 0xfffffffffffffff0ull, 0x20, 0, 0);
    virtq_driver_post(&e->drv, 0);
    expect_broken(e, "address 0xfffffffffffffff0 length 32 outside guest memory");
    env_free(e);

    /* The same inside an indirect table. */
    e = env_started(8, false, true, 0);
    put_table(e, TABLE_GPA, 0, MEM_SIZE, 1, 0, 0);
    put_desc(e, 0, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
    virtq_driver_post(&e->drv, 0);
    expect_broken(e, "indirect descriptor 0: address 0x100000 length 1 outside guest memory");
    env_free(e);
}

/* Zero-length buffers are refused (as QEMU does): they carry nothing, and
 * a device that skipped them would report buffer counts the driver did not
 * mean. */
static void test_zero_length_buffer(void **state)
{
    struct env *e = env_started(8, false, false, 0);

    put_desc(e, 3, data_gpa(0), 0, 0, 0);
    virtq_driver_post(&e->drv, 3);
    expect_broken(e, "descriptor 3: zero-length buffer");
    env_free(e);
}

static void test_readable_after_writable(void **state)
{
    struct env *e = env_started(8, false, false, 0);

    put_desc(e, 0, data_gpa(0), 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    put_desc(e, 1, data_gpa(1), 16, 0, 0);
    virtq_driver_post(&e->drv, 0);
    expect_broken(e, "descriptor 1: device-readable buffer after a device-writable one");
    env_free(e);

    /* Across the step from the direct chain into an indirect table. */
    e = env_started(8, false, true, 0);
    put_table(e, TABLE_GPA, 0, data_gpa(1), 16, 0, 0);
    put_desc(e, 0, data_gpa(0), 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    put_desc(e, 1, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
    virtq_driver_post(&e->drv, 0);
    expect_broken(e, "indirect descriptor 0: device-readable buffer after");
    env_free(e);
}

static void test_avail_idx_too_far_ahead(void **state)
{
    struct env *e = env_started(8, false, false, 65530);
    uint16_t bad = (uint16_t)(65530 + 9);

    assert_true(complete_one(e, add_chain(e, 1, 0), 0));
    memcpy(e->drv.avail + 2, &bad, 2); /* 8 ahead of the device's 65531 is fine */
    assert_int_equal(virtq_avail_count(&e->q), 8);
    bad++;
    memcpy(e->drv.avail + 2, &bad, 2);
    expect_broken(e, "avail->idx 4 is more than the queue size ahead of the device's 65531");
    env_free(e);
}

/* The driver model refuses a device that hands back what is not in flight. */
static void test_driver_checks_device(void **state)
{
    struct env *e = env_started(8, false, false, 0);
    uint16_t id;
    uint32_t len;
    int head = add_chain(e, 1, 0);

    assert_int_equal(virtq_pop(&e->q, &e->chain), 1);
    virtq_push(&e->q, head + 1, 0); /* not a head in flight */
    virtq_publish(&e->q);
    assert_int_equal(virtq_driver_take_used(&e->drv, &id, &len), -1);
    assert_non_null(strstr(e->drv.error, "not in flight"));
    env_free(e);

    e = env_started(8, false, false, 0);
    add_chain(e, 1, 0);
    uint16_t far = 2;
    memcpy(e->drv.used + 2, &far, 2);
    assert_int_equal(virtq_driver_take_used(&e->drv, &id, &len), -1);
    assert_non_null(strstr(e->drv.error, "ahead"));
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_chain),
        cmocka_unit_test(test_index_wraparound),
        cmocka_unit_test(test_full_ring),
        cmocka_unit_test(test_longest_chain),
        cmocka_unit_test(test_indirect_chain),
        cmocka_unit_test(test_interrupt_flag),
        cmocka_unit_test(test_event_idx_interrupts),
        cmocka_unit_test(test_notify_flag),
        cmocka_unit_test(test_notify_flag_on_off),
        cmocka_unit_test(test_event_idx_notify),
        cmocka_unit_test(test_event_idx_notify_race),
        cmocka_unit_test(test_start_refused),
        cmocka_unit_test(test_start_with_pending_chains),
        cmocka_unit_test(test_start_avail_too_far_ahead),
        cmocka_unit_test(test_bad_head),
        cmocka_unit_test(test_bad_next),
        cmocka_unit_test(test_loop),
        cmocka_unit_test(test_self_loop),
        cmocka_unit_test(test_chain_too_long),
        cmocka_unit_test(test_indirect_not_negotiated),
        cmocka_unit_test(test_indirect_bad_length),
        cmocka_unit_test(test_indirect_table_outside),
        cmocka_unit_test(test_indirect_nested),
        cmocka_unit_test(test_indirect_with_next),
        cmocka_unit_test(test_indirect_loop),
        cmocka_unit_test(test_indirect_next_outside_table),
        cmocka_unit_test(test_indirect_total_too_long),
        cmocka_unit_test(test_buffer_outside_memory),
        cmocka_unit_test(test_zero_length_buffer),
        cmocka_unit_test(test_readable_after_writable),
        cmocka_unit_test(test_avail_idx_too_far_ahead),
        cmocka_unit_test(test_driver_checks_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
