/* SPDX-License-Identifier: MIT */
/* Unit tests for the virtual IOAPIC: register access through IOREGSEL/IOWIN,
 * redirection entries, edge and level pins, masking, remote IRR with EOI
 * re-delivery, a callback that re-enters, and pins driven from threads.
 * test-sources: vmm/dev/vioapic.c
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dev/vioapic.h"

#define MAX_MSGS 64

struct sink {
    struct vioapic_msg msg[MAX_MSGS];
    unsigned n;
    struct vioapic *io; /* for the re-entering callback */
    unsigned eoi_budget;
};

static void collect(void *ctx, const struct vioapic_msg *m)
{
    struct sink *s = ctx;
    if (s->n < MAX_MSGS)
        s->msg[s->n] = *m;
    s->n++;
}

static uint32_t reg_read(struct vioapic *io, uint32_t reg)
{
    vioapic_mmio_write(io, VIOAPIC_IOREGSEL, reg);
    return vioapic_mmio_read(io, VIOAPIC_IOWIN);
}

static void reg_write(struct vioapic *io, uint32_t reg, uint32_t value)
{
    vioapic_mmio_write(io, VIOAPIC_IOREGSEL, reg);
    vioapic_mmio_write(io, VIOAPIC_IOWIN, value);
}

static void set_entry(struct vioapic *io, unsigned pin, uint64_t e)
{
    reg_write(io, 0x10 + 2 * pin + 1, (uint32_t)(e >> 32));
    reg_write(io, 0x10 + 2 * pin, (uint32_t)e);
}

#define LEVEL      (1ull << 15)
#define MASK       (1ull << 16)
#define REMOTE_IRR (1ull << 14)
#define LOGICAL    (1ull << 11)
#define DEST(d)    ((uint64_t)(d) << 56)

static void test_registers(void **state)
{
    struct vioapic io;
    struct sink s = {0};
    vioapic_init(&io, 2, collect, &s);

    assert_int_equal(reg_read(&io, 0x00), 2u << 24);
    assert_int_equal(reg_read(&io, 0x01), 0x00170020);
    assert_int_equal(reg_read(&io, 0x02), 2u << 24);
    reg_write(&io, 0x00, 0xffffffff); /* only ID bits 27:24 are writable */
    assert_int_equal(reg_read(&io, 0x00), 0x0f000000);
    reg_write(&io, 0x01, 0); /* read-only */
    assert_int_equal(reg_read(&io, 0x01), 0x00170020);
    reg_write(&io, 0x02, 0);
    assert_int_equal(reg_read(&io, 0x02), 0x0f000000);
    assert_int_equal(reg_read(&io, 0x03), 0);
    assert_int_equal(reg_read(&io, 0x40), 0); /* past the 24 entries */
    reg_write(&io, 0x40, 0x1234);
    assert_int_equal(reg_read(&io, 0x40), 0);

    /* IOREGSEL reads back (8 bits); unknown offsets read 0. */
    vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 0x1ff);
    assert_int_equal(vioapic_mmio_read(&io, VIOAPIC_IOREGSEL), 0xff);
    assert_int_equal(vioapic_mmio_read(&io, 0x20), 0);
    assert_int_equal(vioapic_mmio_read(&io, VIOAPIC_EOI), 0);
    vioapic_mmio_write(&io, 0x30, 0xdead);

    /* Reset: every entry masked, everything else clear. */
    for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++) {
        assert_int_equal(reg_read(&io, 0x10 + 2 * pin), 0x10000);
        assert_int_equal(reg_read(&io, 0x11 + 2 * pin), 0);
    }
    assert_int_equal(s.n, 0);
}

static void test_entry_round_trip(void **state)
{
    struct vioapic io;
    struct sink s = {0};
    vioapic_init(&io, 0, collect, &s);

    for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++) {
        /* All bits written: delivery status (12) and remote IRR (14) are
         * read-only, high dword keeps only the destination byte. */
        reg_write(&io, 0x11 + 2 * pin, 0xffffffff);
        reg_write(&io, 0x10 + 2 * pin, 0xffffffff);
        assert_int_equal(reg_read(&io, 0x10 + 2 * pin), 0x1afff);
        assert_int_equal(reg_read(&io, 0x11 + 2 * pin), 0xff000000);
        /* A distinct value per pin, to catch entries aliasing. */
        uint32_t lo = 0x10000 | (0x20 + pin) | ((pin & 1) ? 0x8000 : 0) | ((pin & 2) ? 0x2000 : 0);
        reg_write(&io, 0x10 + 2 * pin, lo);
        reg_write(&io, 0x11 + 2 * pin, pin << 24);
    }
    for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++) {
        uint32_t lo = 0x10000 | (0x20 + pin) | ((pin & 1) ? 0x8000 : 0) | ((pin & 2) ? 0x2000 : 0);
        assert_int_equal(reg_read(&io, 0x10 + 2 * pin), lo);
        assert_int_equal(reg_read(&io, 0x11 + 2 * pin), pin << 24);
        assert_int_equal(vioapic_entry(&io, pin), ((uint64_t)pin << 56) | lo);
    }
    assert_int_equal(vioapic_entry(&io, 24), 0);
    assert_int_equal(s.n, 0); /* writing masked entries sends nothing */
}

static void test_edge_pin(void **state)
{
    struct vioapic io;
    struct sink s = {0};
    vioapic_init(&io, 0, collect, &s);
    set_entry(&io, 4, DEST(1) | 0x34);

    assert_true(vioapic_set_irq(&io, 4, true));
    assert_int_equal(s.n, 1);
    assert_int_equal(s.msg[0].vector, 0x34);
    assert_int_equal(s.msg[0].dest, 1);
    assert_false(s.msg[0].logical);
    assert_false(s.msg[0].level);
    assert_int_equal(s.msg[0].delivery_mode, 0);
    assert_true(vioapic_set_irq(&io, 4, true)); /* no new edge */
    assert_int_equal(s.n, 1);
    assert_true(vioapic_set_irq(&io, 4, false));
    assert_int_equal(s.n, 1);
    assert_true(vioapic_set_irq(&io, 4, true));
    assert_int_equal(s.n, 2);
    /* Edge entries never hold remote IRR; EOI does nothing for them. */
    assert_int_equal(vioapic_entry(&io, 4) & REMOTE_IRR, 0);
    vioapic_eoi(&io, 0x34);
    assert_int_equal(s.n, 2);

    /* Masked: the edge is lost, and unmasking does not replay it. */
    assert_true(vioapic_set_irq(&io, 4, false));
    set_entry(&io, 4, DEST(1) | MASK | 0x34);
    assert_true(vioapic_set_irq(&io, 4, true));
    assert_int_equal(s.n, 2);
    set_entry(&io, 4, DEST(1) | 0x34);
    assert_int_equal(s.n, 2);

    assert_false(vioapic_set_irq(&io, 24, true));
    assert_false(vioapic_set_irq(&io, 1000, true));
}

static void test_level_pin_remote_irr(void **state)
{
    struct vioapic io;
    struct sink s = {0};
    vioapic_init(&io, 0, collect, &s);
    set_entry(&io, 9, DEST(0) | LEVEL | 0x39);

    assert_true(vioapic_set_irq(&io, 9, true));
    assert_int_equal(s.n, 1);
    assert_true(s.msg[0].level);
    assert_int_equal(s.msg[0].vector, 0x39);
    assert_true(vioapic_entry(&io, 9) & REMOTE_IRR);
    assert_true(reg_read(&io, 0x10 + 18) & REMOTE_IRR);
    assert_true(vioapic_set_irq(&io, 9, true)); /* still waiting for EOI */
    assert_int_equal(s.n, 1);

    vioapic_eoi(&io, 0x38); /* another vector: no effect */
    assert_int_equal(s.n, 1);
    vioapic_eoi(&io, 0x39); /* still asserted: delivered again */
    assert_int_equal(s.n, 2);
    assert_true(vioapic_entry(&io, 9) & REMOTE_IRR);

    assert_true(vioapic_set_irq(&io, 9, false));
    vioapic_eoi(&io, 0x39); /* deasserted: remote IRR clears, nothing sent */
    assert_int_equal(s.n, 2);
    assert_false(vioapic_entry(&io, 9) & REMOTE_IRR);
    assert_true(vioapic_set_irq(&io, 9, true));
    assert_int_equal(s.n, 3);

    /* The EOI register (version 0x20) does the same. */
    vioapic_mmio_write(&io, VIOAPIC_EOI, 0x39);
    assert_int_equal(s.n, 4);

    /* A guest write to the entry keeps remote IRR (it is read-only)... */
    set_entry(&io, 9, DEST(0) | LEVEL | 0x39);
    assert_true(vioapic_entry(&io, 9) & REMOTE_IRR);
    assert_int_equal(s.n, 4);
    /* ...but switching the entry to edge clears it. */
    set_entry(&io, 9, DEST(0) | 0x39);
    assert_false(vioapic_entry(&io, 9) & REMOTE_IRR);
    assert_int_equal(s.n, 4);
    /* Back to level with the line still high: sent at once. */
    set_entry(&io, 9, DEST(0) | LEVEL | 0x39);
    assert_int_equal(s.n, 5);
}

static void test_level_pin_mask(void **state)
{
    struct vioapic io;
    struct sink s = {0};
    vioapic_init(&io, 0, collect, &s);
    set_entry(&io, 10, DEST(3) | LEVEL | MASK | 0x4a);

    assert_true(vioapic_set_irq(&io, 10, true));
    assert_int_equal(s.n, 0);
    assert_false(vioapic_entry(&io, 10) & REMOTE_IRR);
    set_entry(&io, 10, DEST(3) | LEVEL | 0x4a); /* unmask while asserted */
    assert_int_equal(s.n, 1);
    assert_int_equal(s.msg[0].dest, 3);
    /* Masked with remote IRR set, EOI clears it but does not send. */
    set_entry(&io, 10, DEST(3) | LEVEL | MASK | 0x4a);
    vioapic_eoi(&io, 0x4a);
    assert_int_equal(s.n, 1);
    assert_false(vioapic_entry(&io, 10) & REMOTE_IRR);
    /* Deasserted before unmasking: nothing. */
    assert_true(vioapic_set_irq(&io, 10, false));
    set_entry(&io, 10, DEST(3) | LEVEL | 0x4a);
    assert_int_equal(s.n, 1);
}

static void test_shared_vector_eoi(void **state)
{
    struct vioapic io;
    struct sink s = {0};
    vioapic_init(&io, 0, collect, &s);
    set_entry(&io, 16, DEST(0) | LEVEL | 0x60);
    set_entry(&io, 17, DEST(1) | LEVEL | 0x60);

    assert_true(vioapic_set_irq(&io, 16, true));
    assert_true(vioapic_set_irq(&io, 17, true));
    assert_int_equal(s.n, 2);
    assert_true(vioapic_set_irq(&io, 16, false));
    vioapic_eoi(&io, 0x60); /* both entries' remote IRR; 17 still high */
    assert_int_equal(s.n, 3);
    assert_int_equal(s.msg[2].dest, 1);
    assert_false(vioapic_entry(&io, 16) & REMOTE_IRR);
    assert_true(vioapic_entry(&io, 17) & REMOTE_IRR);
}

static void test_destinations(void **state)
{
    struct vioapic io;
    struct sink s = {0};
    vioapic_init(&io, 0, collect, &s);

    set_entry(&io, 1, DEST(0xff) | 0x31); /* physical broadcast */
    set_entry(&io, 2, DEST(0x05) | LOGICAL | 0x32);
    set_entry(&io, 3, DEST(0x02) | (4ull << 8));                /* NMI */
    set_entry(&io, 5, DEST(0x02) | (1ull << 8) | LEVEL | 0x35); /* lowest priority */
    set_entry(&io, 6, DEST(0x01) | (7ull << 8) | LEVEL);        /* ExtINT: no remote IRR */
    for (unsigned pin = 1; pin <= 6; pin++)
        if (pin != 4)
            assert_true(vioapic_set_irq(&io, pin, true));
    assert_int_equal(s.n, 5);
    assert_int_equal(s.msg[0].dest, 0xffffffff);
    assert_false(s.msg[0].logical);
    assert_int_equal(s.msg[1].dest, 5);
    assert_true(s.msg[1].logical);
    assert_int_equal(s.msg[2].delivery_mode, 4);
    assert_int_equal(s.msg[3].delivery_mode, 1);
    assert_true(s.msg[3].level);
    assert_true(vioapic_entry(&io, 5) & REMOTE_IRR);
    assert_int_equal(s.msg[4].delivery_mode, 7);
    assert_false(s.msg[4].level);
    assert_false(vioapic_entry(&io, 6) & REMOTE_IRR);
}

/* A callback that ends the interrupt at once, as a vCPU on the same CPU
 * might: it must not deadlock on the IOAPIC's lock. */
static void eoi_at_once(void *ctx, const struct vioapic_msg *m)
{
    struct sink *s = ctx;
    collect(ctx, m);
    if (s->eoi_budget) {
        s->eoi_budget--;
        vioapic_eoi(s->io, m->vector);
    }
}

static void test_reentrant_callback(void **state)
{
    struct vioapic io;
    struct sink s = {.io = &io, .eoi_budget = 3};
    vioapic_init(&io, 0, eoi_at_once, &s);
    set_entry(&io, 7, DEST(0) | LEVEL | 0x47);

    assert_true(vioapic_set_irq(&io, 7, true));
    /* First delivery + one per EOI while the line stays high. */
    assert_int_equal(s.n, 4);
    assert_true(vioapic_entry(&io, 7) & REMOTE_IRR);
}

/* Pins driven from two threads (one per CPU of a small host: the ticket lock
 * is meant for dedicated cores, and oversubscribing it only makes the test
 * slow): every rising edge arrives once. */
#define EDGE_THREADS 2
#define EDGE_TOGGLES 20000

struct counter {
    unsigned per_vector[256];
};

static void count_msg(void *ctx, const struct vioapic_msg *m)
{
    struct counter *c = ctx;
    __atomic_fetch_add(&c->per_vector[m->vector], 1, __ATOMIC_RELAXED);
}

struct toggler {
    struct vioapic *io;
    unsigned pin;
};

static void *toggle(void *arg)
{
    struct toggler *t = arg;
    for (unsigned i = 0; i < EDGE_TOGGLES; i++) {
        vioapic_set_irq(t->io, t->pin, true);
        vioapic_set_irq(t->io, t->pin, false);
        if (i % 64 == 0) /* and some register traffic in between */
            (void)vioapic_entry(t->io, (t->pin + 1) % VIOAPIC_PINS);
    }
    return NULL;
}

static void test_threads(void **state)
{
    static struct vioapic io;
    static struct counter c;
    cpu_set_t cpus;
    if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) < 2)
        skip(); /* a preempted ticket-lock holder stalls the other thread for a time slice */
    memset(&c, 0, sizeof(c));
    vioapic_init(&io, 0, count_msg, &c);
    for (unsigned pin = 0; pin < EDGE_THREADS; pin++)
        set_entry(&io, pin, DEST(pin) | (0x50 + pin));

    pthread_t th;
    struct toggler t[EDGE_THREADS];
    for (unsigned i = 0; i < EDGE_THREADS; i++)
        t[i] = (struct toggler){&io, i};
    assert_int_equal(pthread_create(&th, NULL, toggle, &t[1]), 0);
    /* This thread drives pin 0 and rewrites another entry through the window. */
    for (unsigned i = 0; i < EDGE_TOGGLES; i++) {
        vioapic_set_irq(&io, 0, true);
        set_entry(&io, 20, DEST(i & 0xff) | MASK | 0x70);
        vioapic_set_irq(&io, 0, false);
    }
    pthread_join(th, NULL);

    for (unsigned pin = 0; pin < EDGE_THREADS; pin++)
        assert_int_equal(c.per_vector[0x50 + pin], EDGE_TOGGLES);
    assert_int_equal(c.per_vector[0x70], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registers),      cmocka_unit_test(test_entry_round_trip),
        cmocka_unit_test(test_edge_pin),       cmocka_unit_test(test_level_pin_remote_irr),
        cmocka_unit_test(test_level_pin_mask), cmocka_unit_test(test_shared_vector_eoi),
        cmocka_unit_test(test_destinations),   cmocka_unit_test(test_reentrant_callback),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
