/* SPDX-License-Identifier: MIT */
/* Unit tests for the virtual local APIC: the x2APIC register rules, priority
 * and EOI, the three timer modes against a fake clock, ICR decoding and
 * target resolution, and acceptance from another thread racing the owner.
 * test-sources: vmm/dev/vlapic.c vmm/dev/apic_dest.c
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

#include "vmm/dev/vlapic.h"

#define MSR(reg)     (0x800u + (reg))
#define R_ID         MSR(0x02)
#define R_VER        MSR(0x03)
#define R_TPR        MSR(0x08)
#define R_PPR        MSR(0x0a)
#define R_EOI        MSR(0x0b)
#define R_LDR        MSR(0x0d)
#define R_SVR        MSR(0x0f)
#define R_ISR(i)     MSR(0x10 + (i))
#define R_TMR(i)     MSR(0x18 + (i))
#define R_IRR(i)     MSR(0x20 + (i))
#define R_ESR        MSR(0x28)
#define R_CMCI       MSR(0x2f)
#define R_ICR        MSR(0x30)
#define R_LVTT       MSR(0x32)
#define R_THERM      MSR(0x33)
#define R_PERF       MSR(0x34)
#define R_LINT0      MSR(0x35)
#define R_LINT1      MSR(0x36)
#define R_LVTERR     MSR(0x37)
#define R_TMICT      MSR(0x38)
#define R_TMCCT      MSR(0x39)
#define R_TDCR       MSR(0x3e)
#define R_SELF       MSR(0x3f)
#define TSC_DEADLINE 0x6e0u

#define MASKED   (1u << 16)
#define PERIODIC (1u << 17)
#define DEADLINE (2u << 17)
#define DIV1     0xbu

static struct vlapic_write_effect last;

static bool wr(struct vlapic *v, uint32_t msr, uint64_t value, uint64_t now)
{
    return vlapic_msr_write(v, msr, value, now, &last);
}

static uint64_t rd(struct vlapic *v, uint32_t msr, uint64_t now)
{
    uint64_t value = 0xdeadbeef;
    assert_true(vlapic_msr_read(v, msr, now, &value));
    return value;
}

static bool rd_ok(struct vlapic *v, uint32_t msr)
{
    uint64_t value;
    return vlapic_msr_read(v, msr, 0, &value);
}

static bool irr_has(struct vlapic *v, unsigned vec)
{
    return (rd(v, R_IRR(vec / 32), 0) >> (vec % 32)) & 1;
}

/* A vCPU as Linux leaves it after setup: software-enabled, TPR 0. */
static void make_enabled(struct vlapic *v, uint32_t id)
{
    assert_true(vlapic_init(v, id, 1, 1));
    assert_true(wr(v, R_SVR, 0x1ff, 0));
}

/* Takes the next interrupt as the run loop would; returns it or -1. */
static int take(struct vlapic *v)
{
    int vec = vlapic_next_interrupt(v);
    if (vec >= 0)
        vlapic_intr_delivered(v, (uint8_t)vec);
    return vec;
}

static int eoi(struct vlapic *v)
{
    assert_true(wr(v, R_EOI, 0, 0));
    return last.level_eoi_vector;
}

/* --- registers --- */

static void test_reset_state(void **state)
{
    struct vlapic v;
    static const uint32_t ids[] = {0, 5, 15, 16, 17, 35};

    for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        assert_true(vlapic_init(&v, ids[i], 1, 1));
        assert_int_equal(rd(&v, R_ID, 0), ids[i]);
        assert_int_equal(rd(&v, R_LDR, 0), ((ids[i] >> 4) << 16) | (1u << (ids[i] & 15)));
    }
    assert_int_equal(rd(&v, R_VER, 0), 0x00060014);
    assert_int_equal(rd(&v, R_SVR, 0), 0xff);
    assert_int_equal(rd(&v, R_TPR, 0), 0);
    assert_int_equal(rd(&v, R_PPR, 0), 0);
    assert_int_equal(rd(&v, R_ESR, 0), 0);
    assert_int_equal(rd(&v, R_ICR, 0), 0);
    assert_int_equal(rd(&v, R_TMICT, 0), 0);
    assert_int_equal(rd(&v, R_TMCCT, 0), 0);
    assert_int_equal(rd(&v, R_TDCR, 0), 0);
    const uint32_t lvts[] = {R_CMCI, R_LVTT, R_THERM, R_PERF, R_LINT0, R_LINT1, R_LVTERR};
    for (unsigned i = 0; i < 7; i++)
        assert_int_equal(rd(&v, lvts[i], 0), MASKED);
    for (unsigned i = 0; i < 8; i++) {
        assert_int_equal(rd(&v, R_ISR(i), 0), 0);
        assert_int_equal(rd(&v, R_TMR(i), 0), 0);
        assert_int_equal(rd(&v, R_IRR(i), 0), 0);
    }
    /* Bad clock ratios are refused. */
    assert_false(vlapic_init(&v, 0, 0, 1));
    assert_false(vlapic_init(&v, 0, 1, 0));
    assert_false(vlapic_init(&v, 0, (1u << 24) + 1, 1));
}

static void test_register_gp_rules(void **state)
{
    struct vlapic v;
    make_enabled(&v, 3);

    /* Read-only registers refuse writes, even of their own value. */
    const uint32_t ro[] = {R_ID,     R_VER,    R_PPR,    R_LDR,    R_ISR(0),
                           R_ISR(7), R_TMR(3), R_IRR(0), R_IRR(7), R_TMCCT};
    for (unsigned i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
        uint64_t cur = rd(&v, ro[i], 0);
        assert_false(wr(&v, ro[i], cur, 0));
    }
    /* Write-only registers refuse reads. */
    assert_false(rd_ok(&v, R_EOI));
    assert_false(rd_ok(&v, R_SELF));
    /* Registers x2APIC does not have (APR, RRD, DFR, ICR high, ...). */
    const uint32_t undef[] = {MSR(0),    MSR(1),    MSR(4),    MSR(9),    MSR(0xc),
                              MSR(0xe),  MSR(0x29), MSR(0x2e), MSR(0x31), MSR(0x3a),
                              MSR(0x3d), MSR(0x40), 0x8ff,     0xbff};
    for (unsigned i = 0; i < sizeof(undef) / sizeof(undef[0]); i++) {
        assert_false(rd_ok(&v, undef[i]));
        assert_false(wr(&v, undef[i], 0, 0));
        assert_true(vlapic_handles_msr(undef[i]));
    }
    assert_false(vlapic_handles_msr(0x7ff));
    assert_false(vlapic_handles_msr(0xc00));
    assert_true(vlapic_handles_msr(TSC_DEADLINE));

    /* Reserved bits. */
    assert_false(wr(&v, R_TPR, 0x100, 0));
    assert_false(wr(&v, R_TPR, 1ull << 32, 0));         /* upper halves are reserved */
    assert_false(wr(&v, R_SVR, 0x1ff | (1u << 12), 0)); /* no EOI-broadcast suppression */
    assert_false(wr(&v, R_ESR, 1, 0));
    assert_false(wr(&v, R_EOI, 1, 0));
    assert_false(wr(&v, R_TDCR, 0x4, 0));
    assert_false(wr(&v, R_TDCR, 0x10, 0));
    assert_false(wr(&v, R_LVTT, 0x100 | 0x40, 0));      /* timer has no delivery mode */
    assert_false(wr(&v, R_LVTT, (3u << 17) | 0x40, 0)); /* reserved timer mode */
    assert_false(wr(&v, R_LVTERR, 0x400 | 0x40, 0));
    assert_false(wr(&v, R_LINT0, 1u << 17, 0));
    assert_false(wr(&v, R_SELF, 0x140, 0));
    assert_false(wr(&v, R_ICR, (1ull << 13) | 0x40, 0));
    assert_false(wr(&v, R_ICR, (1ull << 16) | 0x40, 0));
    assert_false(wr(&v, R_ICR, (1ull << 20) | 0x40, 0));
    assert_false(wr(&v, R_ICR, (1ull << 12) | 0x40, 0)); /* no delivery status in x2APIC */
    /* None of that changed anything. */
    assert_int_equal(rd(&v, R_TPR, 0), 0);
    assert_int_equal(rd(&v, R_SVR, 0), 0x1ff);
    assert_int_equal(rd(&v, R_LVTT, 0), MASKED);
    assert_int_equal(rd(&v, R_ICR, 0), 0);

    /* Good writes read back; read-only LVT bits (delivery status, remote
     * IRR) are ignored rather than refused. */
    assert_true(wr(&v, R_TPR, 0x7f, 0));
    assert_int_equal(rd(&v, R_TPR, 0), 0x7f);
    assert_true(wr(&v, R_SVR, 0x3ff, 0)); /* focus-check disable as Linux may set it */
    assert_int_equal(rd(&v, R_SVR, 0), 0x3ff);
    assert_true(wr(&v, R_LINT0, 0x1a7ff | (1u << 12) | (1u << 14), 0));
    assert_int_equal(rd(&v, R_LINT0, 0), 0x1a7ff);
    assert_true(wr(&v, R_LINT1, 0x400, 0)); /* NMI, unmasked */
    assert_int_equal(rd(&v, R_LINT1, 0), 0x400);
    assert_true(wr(&v, R_CMCI, 0x000f2, 0));
    assert_int_equal(rd(&v, R_CMCI, 0), 0xf2);
    assert_true(wr(&v, R_PERF, 0x400, 0));
    assert_true(wr(&v, R_THERM, 0x100fa, 0));
    assert_int_equal(rd(&v, R_THERM, 0), 0x100fa);
    assert_true(wr(&v, R_LVTT, PERIODIC | 0xec, 0));
    assert_int_equal(rd(&v, R_LVTT, 0), PERIODIC | 0xec);
    assert_true(wr(&v, R_TDCR, 0xb, 0));
    assert_int_equal(rd(&v, R_TDCR, 0), 0xb);
    assert_true(wr(&v, R_ICR, 0x0000000500004041ull, 0));
    assert_int_equal(rd(&v, R_ICR, 0), 0x0000000500004041ull);

    /* Out of x2APIC mode the whole range #GPs; IA32_TSC_DEADLINE stays. */
    vlapic_set_mode(&v, VLAPIC_MODE_XAPIC);
    assert_false(rd_ok(&v, R_ID));
    assert_false(wr(&v, R_TPR, 0, 0));
    assert_true(rd_ok(&v, TSC_DEADLINE));
    vlapic_set_mode(&v, VLAPIC_MODE_X2APIC);
    assert_int_equal(rd(&v, R_TPR, 0), 0x7f); /* xAPIC -> x2APIC keeps state */
}

static void test_software_disable(void **state)
{
    struct vlapic v;
    assert_true(vlapic_init(&v, 0, 1, 1));

    /* Disabled at reset: LVT mask bits cannot be cleared, nothing is taken. */
    assert_true(wr(&v, R_LVTT, 0xec, 0));
    assert_int_equal(rd(&v, R_LVTT, 0), MASKED | 0xec);
    assert_false(vlapic_accept(&v, 0x40, false));
    assert_false(irr_has(&v, 0x40));

    assert_true(wr(&v, R_SVR, 0x1ff, 0));
    assert_true(wr(&v, R_LVTT, 0xec, 0));
    assert_true(wr(&v, R_LVTERR, 0xfe, 0));
    assert_int_equal(rd(&v, R_LVTT, 0), 0xec);
    assert_true(vlapic_accept(&v, 0x40, false));
    assert_int_equal(vlapic_next_interrupt(&v), 0x40);

    /* Disabling masks every LVT; pending IRR is held but not offered. */
    assert_true(wr(&v, R_SVR, 0xff, 0));
    assert_int_equal(rd(&v, R_LVTT, 0), MASKED | 0xec);
    assert_int_equal(rd(&v, R_LVTERR, 0), MASKED | 0xfe);
    assert_true(irr_has(&v, 0x40));
    assert_int_equal(vlapic_next_interrupt(&v), -1);
    assert_false(vlapic_accept(&v, 0x41, false));
    /* Re-enabled: held interrupt comes back, LVTs stay masked. */
    assert_true(wr(&v, R_SVR, 0x1ff, 0));
    assert_int_equal(vlapic_next_interrupt(&v), 0x40);
    assert_int_equal(rd(&v, R_LVTT, 0), MASKED | 0xec);

    /* Global disable resets; INIT resets but keeps the ID and mode. */
    vlapic_set_mode(&v, VLAPIC_MODE_DISABLED);
    assert_false(vlapic_accept(&v, 0x42, false));
    vlapic_set_mode(&v, VLAPIC_MODE_XAPIC);
    vlapic_set_mode(&v, VLAPIC_MODE_X2APIC);
    assert_int_equal(rd(&v, R_SVR, 0), 0xff);
    assert_false(irr_has(&v, 0x40));

    make_enabled(&v, 9);
    assert_true(wr(&v, R_TPR, 0x20, 0));
    assert_true(vlapic_accept(&v, 0x50, true));
    vlapic_init_signal(&v);
    assert_int_equal(rd(&v, R_ID, 0), 9);
    assert_int_equal(rd(&v, R_TPR, 0), 0);
    assert_int_equal(rd(&v, R_SVR, 0), 0xff);
    assert_false(irr_has(&v, 0x50));
    assert_int_equal(rd(&v, R_TMR(2), 0), 0);
}

/* --- priority, IRR/ISR, EOI --- */

static void test_ppr_and_tpr(void **state)
{
    struct vlapic v;
    make_enabled(&v, 0);

    assert_true(vlapic_accept(&v, 0x45, false));
    assert_true(wr(&v, R_TPR, 0x50, 0));
    assert_int_equal(rd(&v, R_PPR, 0), 0x50);
    assert_int_equal(vlapic_next_interrupt(&v), -1); /* class 4 under TPR class 5 */
    assert_true(wr(&v, R_TPR, 0x40, 0));
    assert_int_equal(vlapic_next_interrupt(&v), -1); /* same class is not above */
    assert_true(wr(&v, R_TPR, 0x3f, 0));
    assert_int_equal(vlapic_next_interrupt(&v), 0x45);

    /* In service 0x61: PPR is the ISR class unless TPR's class is as high. */
    assert_true(wr(&v, R_TPR, 0, 0));
    assert_true(vlapic_accept(&v, 0x61, false));
    assert_int_equal(take(&v), 0x61);
    assert_true(wr(&v, R_TPR, 0x30, 0));
    assert_int_equal(rd(&v, R_PPR, 0), 0x60);
    assert_int_equal(vlapic_ppr(&v), 0x60);
    assert_true(wr(&v, R_TPR, 0x65, 0));
    assert_int_equal(rd(&v, R_PPR, 0), 0x65);
    assert_true(wr(&v, R_TPR, 0x75, 0));
    assert_int_equal(rd(&v, R_PPR, 0), 0x75);
    assert_int_equal(vlapic_next_interrupt(&v), -1);
    assert_true(wr(&v, R_TPR, 0, 0));
    assert_int_equal(vlapic_next_interrupt(&v), -1); /* 0x45 is below the 0x61 in service */
    assert_int_equal(eoi(&v), -1);
    assert_int_equal(rd(&v, R_PPR, 0), 0);
    assert_int_equal(take(&v), 0x45);
}

static void test_nested_priorities_through_eoi(void **state)
{
    struct vlapic v;
    make_enabled(&v, 0);

    assert_true(vlapic_accept(&v, 0x30, false));
    assert_int_equal(take(&v), 0x30);
    assert_true(vlapic_accept(&v, 0x50, false));
    assert_int_equal(take(&v), 0x50); /* higher class preempts */
    assert_true(vlapic_accept(&v, 0x40, false));
    assert_true(vlapic_accept(&v, 0x55, false));
    assert_int_equal(vlapic_next_interrupt(&v), -1);               /* both blocked by 0x50 */
    assert_int_equal(rd(&v, R_ISR(1), 0), 1u << 16);               /* 0x30 */
    assert_int_equal(rd(&v, R_ISR(2), 0), 1u << 16);               /* 0x50 */
    assert_int_equal(rd(&v, R_IRR(2), 0), (1u << 0) | (1u << 21)); /* 0x40, 0x55 */

    assert_int_equal(eoi(&v), -1); /* retires 0x50, the highest */
    assert_int_equal(rd(&v, R_ISR(2), 0), 0);
    assert_int_equal(rd(&v, R_PPR, 0), 0x30);
    assert_int_equal(take(&v), 0x55);
    assert_int_equal(vlapic_next_interrupt(&v), -1); /* 0x40 under 0x55 */
    assert_int_equal(eoi(&v), -1);
    assert_int_equal(take(&v), 0x40);
    assert_int_equal(eoi(&v), -1);
    assert_int_equal(rd(&v, R_ISR(1), 0), 1u << 16); /* 0x30 still in service */
    assert_int_equal(eoi(&v), -1);
    assert_int_equal(rd(&v, R_ISR(1), 0), 0);
    assert_int_equal(eoi(&v), -1); /* nothing in service: harmless */
    assert_int_equal(vlapic_next_interrupt(&v), -1);

    /* The same vector may be pending again while in service. */
    assert_true(vlapic_accept(&v, 0x80, false));
    assert_int_equal(take(&v), 0x80);
    assert_true(vlapic_accept(&v, 0x80, false));
    assert_int_equal(vlapic_next_interrupt(&v), -1);
    assert_int_equal(eoi(&v), -1);
    assert_int_equal(take(&v), 0x80);
}

static void test_level_triggered_eoi(void **state)
{
    struct vlapic v;
    make_enabled(&v, 0);

    assert_true(vlapic_accept(&v, 0x60, true));
    assert_true(vlapic_accept(&v, 0x70, false));
    assert_int_equal(rd(&v, R_TMR(3), 0), 1u << 0);
    assert_int_equal(take(&v), 0x70);
    assert_int_equal(eoi(&v), -1);
    assert_int_equal(take(&v), 0x60);
    assert_int_equal(eoi(&v), 0x60);
    assert_int_equal(eoi(&v), -1);

    /* Edge acceptance clears the TMR bit again. */
    assert_true(vlapic_accept(&v, 0x60, false));
    assert_int_equal(rd(&v, R_TMR(3), 0), 0);
    assert_int_equal(take(&v), 0x60);
    assert_int_equal(eoi(&v), -1);
}

static void test_illegal_vectors_and_esr(void **state)
{
    struct vlapic v;
    make_enabled(&v, 0);
    assert_true(wr(&v, R_LVTERR, 0xfe, 0));

    assert_false(vlapic_accept(&v, 5, false));
    assert_int_equal(vlapic_next_interrupt(&v), -1); /* the owner signals at update */
    vlapic_update(&v, 0);
    assert_int_equal(take(&v), 0xfe);
    assert_int_equal(eoi(&v), -1);
    assert_int_equal(rd(&v, R_ESR, 0), 0); /* ESR shows errors only after a write */
    assert_true(wr(&v, R_ESR, 0, 0));
    assert_int_equal(rd(&v, R_ESR, 0), 0x40);
    assert_true(wr(&v, R_ESR, 0, 0));
    assert_int_equal(rd(&v, R_ESR, 0), 0);

    /* Sending an illegal vector: not sent, error raised at once. */
    assert_true(wr(&v, R_ICR, 0x0000000100000003ull, 0));
    assert_false(last.has_ipi);
    assert_int_equal(take(&v), 0xfe);
    assert_int_equal(eoi(&v), -1);
    assert_true(wr(&v, R_SELF, 7, 0));
    assert_int_equal(take(&v), 0xfe);
    assert_int_equal(eoi(&v), -1);
    assert_true(wr(&v, R_ESR, 0, 0));
    assert_int_equal(rd(&v, R_ESR, 0), 0x20);

    /* A masked LVT error logs without interrupting. */
    assert_true(wr(&v, R_LVTERR, MASKED | 0xfe, 0));
    assert_false(vlapic_accept(&v, 1, true));
    vlapic_update(&v, 0);
    assert_int_equal(vlapic_next_interrupt(&v), -1);
    assert_true(wr(&v, R_ESR, 0, 0));
    assert_int_equal(rd(&v, R_ESR, 0), 0x40);
}

static void test_self_ipi(void **state)
{
    struct vlapic v;
    make_enabled(&v, 2);

    assert_true(vlapic_accept(&v, 0x55, true));
    assert_true(wr(&v, R_SELF, 0x55, 0));
    assert_false(last.has_ipi);
    assert_true(irr_has(&v, 0x55));
    assert_int_equal(rd(&v, R_TMR(2), 0), 0); /* self IPIs are edge */
    assert_int_equal(take(&v), 0x55);
}

/* --- timer --- */

static void test_timer_one_shot(void **state)
{
    struct vlapic v;
    make_enabled(&v, 0);

    assert_true(wr(&v, R_TDCR, DIV1, 100));
    assert_true(wr(&v, R_LVTT, 0xef, 100));
    assert_int_equal(vlapic_timer_next(&v), 0);
    assert_true(wr(&v, R_TMICT, 1000, 100));
    assert_int_equal(vlapic_timer_next(&v), 1100);
    assert_int_equal(rd(&v, R_TMCCT, 100), 1000);
    assert_int_equal(rd(&v, R_TMCCT, 350), 750);
    assert_int_equal(rd(&v, R_TMCCT, 1099), 1);
    vlapic_update(&v, 1099);
    assert_false(irr_has(&v, 0xef));
    vlapic_update(&v, 1100);
    assert_true(irr_has(&v, 0xef));
    assert_int_equal(rd(&v, R_TMCCT, 1100), 0);
    assert_int_equal(vlapic_timer_next(&v), 0);
    assert_int_equal(take(&v), 0xef);
    assert_int_equal(eoi(&v), -1);
    vlapic_update(&v, 5000);
    assert_int_equal(vlapic_next_interrupt(&v), -1); /* fires once */
    assert_int_equal(rd(&v, R_TMICT, 5000), 1000);   /* initial count is kept */

    /* Rewriting the initial count restarts; 0 stops. */
    assert_true(wr(&v, R_TMICT, 10, 6000));
    assert_int_equal(vlapic_timer_next(&v), 6010);
    assert_true(wr(&v, R_TMICT, 0, 6005));
    assert_int_equal(vlapic_timer_next(&v), 0);
    vlapic_update(&v, 7000);
    assert_int_equal(vlapic_next_interrupt(&v), -1);
}

static void test_timer_periodic_no_drift(void **state)
{
    struct vlapic v;
    /* One timer tick = 3/4 TSC tick, divide by 1, initial 10: a period of
     * 7.5 TSC ticks, which rounding per period would drift from. */
    assert_true(vlapic_init(&v, 0, 3, 4));
    assert_true(wr(&v, R_SVR, 0x1ff, 0));
    assert_true(wr(&v, R_TDCR, DIV1, 0));
    assert_true(wr(&v, R_LVTT, PERIODIC | 0xe0, 0));
    assert_true(wr(&v, R_TMICT, 10, 1000));

    for (uint64_t k = 1; k <= 1000; k++) {
        uint64_t expect = 1000 + (15 * k + 1) / 2; /* ceil(7.5 k) */
        assert_int_equal(vlapic_timer_next(&v), expect);
        vlapic_update(&v, expect - 1);
        assert_int_equal(vlapic_next_interrupt(&v), -1);
        vlapic_update(&v, expect);
        assert_int_equal(take(&v), 0xe0);
        assert_int_equal(eoi(&v), -1);
    }
    assert_int_equal(vlapic_timer_next(&v), 1000 + 7500 + 8);

    /* The count reloads each period: 10 counts of 0.75 ticks. */
    assert_int_equal(rd(&v, R_TMCCT, 8500), 10);
    assert_int_equal(rd(&v, R_TMCCT, 8503), 6); /* 4 counts (3 ticks) gone */

    /* Missed periods collapse into one interrupt; the grid is kept. */
    vlapic_update(&v, 8500 + 79); /* 10.53 periods later */
    assert_int_equal(take(&v), 0xe0);
    assert_int_equal(vlapic_next_interrupt(&v), -1);
    assert_int_equal(eoi(&v), -1);
    assert_int_equal(vlapic_timer_next(&v), 8500 + 83); /* 11 periods = 82.5 */

    /* A read catches up too, and the count is the position in the period. */
    assert_int_equal(rd(&v, R_TMCCT, 8500 + 7500), 10);
    assert_true(irr_has(&v, 0xe0));
}

static void test_timer_tsc_deadline(void **state)
{
    struct vlapic v;
    make_enabled(&v, 0);

    /* Not in deadline mode: the MSR reads 0 and ignores writes. */
    assert_true(wr(&v, TSC_DEADLINE, 5000, 0));
    assert_int_equal(rd(&v, TSC_DEADLINE, 0), 0);

    assert_true(wr(&v, R_LVTT, DEADLINE | 0xec, 100));
    assert_true(wr(&v, R_TMICT, 1234, 100)); /* ignored in this mode */
    assert_int_equal(rd(&v, R_TMICT, 100), 0);
    assert_int_equal(rd(&v, R_TMCCT, 100), 0);
    assert_true(wr(&v, TSC_DEADLINE, 5000, 100));
    assert_int_equal(rd(&v, TSC_DEADLINE, 100), 5000);
    assert_int_equal(vlapic_timer_next(&v), 5000);
    vlapic_update(&v, 4999);
    assert_int_equal(vlapic_next_interrupt(&v), -1);
    vlapic_update(&v, 5000);
    assert_int_equal(take(&v), 0xec);
    assert_int_equal(eoi(&v), -1);
    assert_int_equal(rd(&v, TSC_DEADLINE, 5000), 0); /* disarmed by firing */
    assert_int_equal(vlapic_timer_next(&v), 0);
    vlapic_update(&v, 9000);
    assert_int_equal(vlapic_next_interrupt(&v), -1);

    /* Writing 0 disarms. */
    assert_true(wr(&v, TSC_DEADLINE, 10000, 9000));
    assert_true(wr(&v, TSC_DEADLINE, 0, 9001));
    assert_int_equal(vlapic_timer_next(&v), 0);
    vlapic_update(&v, 20000);
    assert_int_equal(vlapic_next_interrupt(&v), -1);

    /* A deadline already past fires at the next update. */
    assert_true(wr(&v, TSC_DEADLINE, 100, 20000));
    assert_int_equal(vlapic_timer_next(&v), 100);
    vlapic_update(&v, 20000);
    assert_int_equal(take(&v), 0xec);
    assert_int_equal(eoi(&v), -1);

    /* Re-arming before expiry moves the deadline. */
    assert_true(wr(&v, TSC_DEADLINE, 30000, 20001));
    assert_true(wr(&v, TSC_DEADLINE, 25000, 20002));
    vlapic_update(&v, 25000);
    assert_int_equal(take(&v), 0xec);
}

static void test_timer_divide_values(void **state)
{
    static const struct {
        uint32_t dcr;
        unsigned div;
    } codes[] = {{0x0, 2},  {0x1, 4},  {0x2, 8},   {0x3, 16},
                 {0x8, 32}, {0x9, 64}, {0xa, 128}, {0xb, 1}};

    for (unsigned i = 0; i < 8; i++) {
        struct vlapic v;
        make_enabled(&v, 0);
        assert_true(wr(&v, R_TDCR, codes[i].dcr, 0));
        assert_true(wr(&v, R_LVTT, 0xe1, 0));
        assert_true(wr(&v, R_TMICT, 100, 1000));
        uint64_t div = codes[i].div;
        assert_int_equal(vlapic_timer_next(&v), 1000 + 100 * div);
        /* The current count falls by one every div TSC ticks. */
        uint32_t prev = 100;
        for (uint64_t t = 1000; t < 1000 + 100 * div; t += div) {
            uint32_t c = (uint32_t)rd(&v, R_TMCCT, t);
            assert_int_equal(c, 100 - (t - 1000) / div);
            assert_true(c <= prev);
            prev = c;
            if (div > 1)
                assert_int_equal(rd(&v, R_TMCCT, t + div - 1), c);
        }
        vlapic_update(&v, 1000 + 100 * div - 1);
        assert_int_equal(vlapic_next_interrupt(&v), -1);
        vlapic_update(&v, 1000 + 100 * div);
        assert_int_equal(vlapic_next_interrupt(&v), 0xe1);
    }

    /* A new divisor mid-count keeps the count, at the new rate. */
    struct vlapic v;
    make_enabled(&v, 0);
    assert_true(wr(&v, R_TDCR, DIV1, 0));
    assert_true(wr(&v, R_LVTT, 0xe1, 0));
    assert_true(wr(&v, R_TMICT, 100, 0));
    assert_int_equal(rd(&v, R_TMCCT, 40), 60);
    assert_true(wr(&v, R_TDCR, 0x0, 40)); /* divide by 2 */
    assert_int_equal(rd(&v, R_TMCCT, 40), 60);
    assert_int_equal(rd(&v, R_TMCCT, 60), 50);
    assert_int_equal(vlapic_timer_next(&v), 40 + 120);
}

static void test_timer_mode_switch_disarms(void **state)
{
    struct vlapic v;
    make_enabled(&v, 0);

    /* One-shot armed, then periodic: disarmed. */
    assert_true(wr(&v, R_TDCR, DIV1, 0));
    assert_true(wr(&v, R_LVTT, 0xe2, 0));
    assert_true(wr(&v, R_TMICT, 100, 0));
    assert_true(wr(&v, R_LVTT, PERIODIC | 0xe2, 10));
    assert_int_equal(vlapic_timer_next(&v), 0);
    assert_int_equal(rd(&v, R_TMICT, 10), 0);
    assert_int_equal(rd(&v, R_TMCCT, 10), 0);
    vlapic_update(&v, 1000);
    assert_int_equal(vlapic_next_interrupt(&v), -1);

    /* Same mode rewritten (vector change, mask toggle): still armed. */
    assert_true(wr(&v, R_TMICT, 100, 1000));
    assert_true(wr(&v, R_LVTT, PERIODIC | 0xe3, 1010));
    assert_int_equal(vlapic_timer_next(&v), 1100);

    /* Deadline armed, then one-shot: disarmed and the MSR reads 0. */
    assert_true(wr(&v, R_LVTT, DEADLINE | 0xe2, 1020));
    assert_int_equal(vlapic_timer_next(&v), 0); /* the periodic count is gone */
    assert_true(wr(&v, TSC_DEADLINE, 2000, 1020));
    assert_true(wr(&v, R_LVTT, 0xe2, 1030));
    assert_int_equal(rd(&v, TSC_DEADLINE, 1030), 0);
    assert_int_equal(vlapic_timer_next(&v), 0);
    vlapic_update(&v, 3000);
    assert_int_equal(vlapic_next_interrupt(&v), -1);
    /* Back to deadline: the old deadline did not survive. */
    assert_true(wr(&v, R_LVTT, DEADLINE | 0xe2, 3000));
    assert_int_equal(rd(&v, TSC_DEADLINE, 3000), 0);
}

static void test_timer_masked(void **state)
{
    struct vlapic v;
    make_enabled(&v, 0);

    /* Masked one-shot counts down and expires silently; unmasking after
     * the expiry does not deliver it late. */
    assert_true(wr(&v, R_TDCR, DIV1, 0));
    assert_true(wr(&v, R_LVTT, MASKED | 0xe4, 0));
    assert_true(wr(&v, R_TMICT, 100, 0));
    assert_int_equal(vlapic_timer_next(&v), 0); /* nothing to wake for */
    assert_int_equal(rd(&v, R_TMCCT, 50), 50);
    vlapic_update(&v, 200);
    assert_int_equal(vlapic_next_interrupt(&v), -1);
    assert_int_equal(rd(&v, R_TMCCT, 200), 0);
    assert_true(wr(&v, R_LVTT, 0xe4, 300));
    vlapic_update(&v, 400);
    assert_int_equal(vlapic_next_interrupt(&v), -1);

    /* Masked periodic keeps its grid; unmasked, it fires on it. */
    assert_true(wr(&v, R_LVTT, PERIODIC | MASKED | 0xe4, 1000));
    assert_true(wr(&v, R_TMICT, 100, 1000));
    vlapic_update(&v, 1350);
    assert_int_equal(vlapic_next_interrupt(&v), -1);
    assert_true(wr(&v, R_LVTT, PERIODIC | 0xe4, 1350));
    assert_int_equal(vlapic_timer_next(&v), 1400);
    vlapic_update(&v, 1400);
    assert_int_equal(vlapic_next_interrupt(&v), 0xe4);

    /* Deadline passing while masked: consumed, MSR cleared. */
    assert_true(wr(&v, R_LVTT, DEADLINE | MASKED | 0xe5, 2000));
    assert_true(wr(&v, TSC_DEADLINE, 2500, 2000));
    assert_int_equal(vlapic_timer_next(&v), 0);
    vlapic_update(&v, 3000);
    assert_int_equal(rd(&v, TSC_DEADLINE, 3000), 0);
    assert_false(irr_has(&v, 0xe5));
}

/* --- ICR and destinations --- */

static struct vlapic_ipi icr(struct vlapic *v, uint64_t value)
{
    assert_true(wr(v, R_ICR, value, 0));
    assert_true(last.has_ipi);
    return last.ipi;
}

static void test_icr_encodings(void **state)
{
    struct vlapic v;
    make_enabled(&v, 1);
    struct vlapic_ipi ipi;

    ipi = icr(&v, 0x0000000300000040ull); /* fixed, physical, dest 3 */
    assert_int_equal(ipi.mode, VLAPIC_DM_FIXED);
    assert_int_equal(ipi.vector, 0x40);
    assert_int_equal(ipi.dest, 3);
    assert_false(ipi.logical);
    assert_int_equal(ipi.shorthand, VLAPIC_SH_NONE);

    ipi = icr(&v, (0x00020005ull << 32) | 0x800 | 0x100 | 0x41); /* lowest, logical */
    assert_int_equal(ipi.mode, VLAPIC_DM_LOWEST);
    assert_true(ipi.logical);
    assert_int_equal(ipi.dest, 0x00020005);
    assert_int_equal(ipi.vector, 0x41);

    ipi = icr(&v, (7ull << 32) | 0x400); /* NMI */
    assert_int_equal(ipi.mode, VLAPIC_DM_NMI);
    ipi = icr(&v, (2ull << 32) | 0x200); /* SMI */
    assert_int_equal(ipi.mode, VLAPIC_DM_SMI);
    ipi = icr(&v, (2ull << 32) | 0xc500); /* INIT assert, level (as Linux sends) */
    assert_int_equal(ipi.mode, VLAPIC_DM_INIT);
    assert_int_equal(ipi.dest, 2);
    ipi = icr(&v, (2ull << 32) | 0x8500); /* INIT de-assert */
    assert_int_equal(ipi.mode, VLAPIC_DM_INIT_DEASSERT);
    ipi = icr(&v, (2ull << 32) | 0x4500); /* INIT, edge */
    assert_int_equal(ipi.mode, VLAPIC_DM_INIT);
    ipi = icr(&v, (2ull << 32) | 0x4600 | 0x9a); /* SIPI at 0x9a000 */
    assert_int_equal(ipi.mode, VLAPIC_DM_STARTUP);
    assert_int_equal(ipi.vector, 0x9a);
    ipi = icr(&v, 0x700); /* ExtINT */
    assert_int_equal(ipi.mode, VLAPIC_DM_EXTINT);

    ipi = icr(&v, (1u << 18) | 0xf0);
    assert_int_equal(ipi.shorthand, VLAPIC_SH_SELF);
    ipi = icr(&v, (2u << 18) | 0xf1);
    assert_int_equal(ipi.shorthand, VLAPIC_SH_ALL);
    ipi = icr(&v, (3u << 18) | 0xf2 | (1u << 15));
    assert_int_equal(ipi.shorthand, VLAPIC_SH_OTHERS);
    assert_false(ipi.level); /* trigger mode is ignored for fixed IPIs: edge */
    ipi = icr(&v, (2ull << 32) | 0xc500);
    assert_true(ipi.level); /* INIT keeps it */

    /* Reserved delivery mode 011: accepted, nothing sent. */
    assert_true(wr(&v, R_ICR, 0x300 | 0x40, 0));
    assert_false(last.has_ipi);
}

static unsigned bits_of(const uint64_t *bm, unsigned n, unsigned *out)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++)
        if (bm[i / 64] & (1ull << (i % 64)))
            out[k++] = i;
    return k;
}

static void test_ipi_targets(void **state)
{
    uint64_t bm[2];
    unsigned t[128];
    struct vlapic_ipi ipi = {.mode = VLAPIC_DM_FIXED, .vector = 0x40};

    /* Physical. */
    ipi.dest = 2;
    memset(bm, 0xff, sizeof(bm));
    assert_int_equal(vlapic_ipi_targets(&ipi, 0, 4, bm), 1);
    assert_int_equal(bm[0], 1u << 2);
    ipi.dest = 9;
    assert_int_equal(vlapic_ipi_targets(&ipi, 0, 4, bm), 0);
    assert_int_equal(bm[0], 0);
    ipi.dest = 0xffffffff;
    assert_int_equal(vlapic_ipi_targets(&ipi, 0, 4, bm), 4);
    assert_int_equal(bm[0], 0xf);
    ipi.dest = 0xff; /* not a broadcast in x2APIC: ID 255 */
    assert_int_equal(vlapic_ipi_targets(&ipi, 0, 4, bm), 0);

    /* Logical, x2APIC clusters of 16, with 70 vCPUs (two bitmap words). */
    ipi.logical = true;
    ipi.dest = (1u << 16) | 0x5; /* cluster 1, members 0 and 2 */
    memset(bm, 0xff, sizeof(bm));
    assert_int_equal(vlapic_ipi_targets(&ipi, 0, 70, bm), 2);
    assert_int_equal(bits_of(bm, 70, t), 2);
    assert_int_equal(t[0], 16);
    assert_int_equal(t[1], 18);
    assert_int_equal(bm[1], 0);
    ipi.dest = (4u << 16) | 0x8043; /* cluster 4: IDs 64, 65, 70 (absent), 79 (absent) */
    assert_int_equal(vlapic_ipi_targets(&ipi, 0, 70, bm), 2);
    assert_int_equal(bits_of(bm, 70, t), 2);
    assert_int_equal(t[0], 64);
    assert_int_equal(t[1], 65);
    ipi.dest = 0xffff; /* cluster 0, everyone in it */
    assert_int_equal(vlapic_ipi_targets(&ipi, 0, 70, bm), 16);
    ipi.dest = (1u << 16); /* no members */
    assert_int_equal(vlapic_ipi_targets(&ipi, 0, 70, bm), 0);
    ipi.dest = 0xffffffff;
    assert_int_equal(vlapic_ipi_targets(&ipi, 0, 70, bm), 70);
    assert_int_equal(bm[1], 0x3f);

    /* Lowest priority goes to the first match only. */
    ipi.mode = VLAPIC_DM_LOWEST;
    ipi.dest = (1u << 16) | 0xc; /* IDs 18, 19 */
    assert_int_equal(vlapic_ipi_targets(&ipi, 0, 70, bm), 1);
    assert_int_equal(bits_of(bm, 70, t), 1);
    assert_int_equal(t[0], 18);

    /* Shorthands ignore the destination. */
    ipi.mode = VLAPIC_DM_FIXED;
    ipi.dest = 3;
    ipi.logical = false;
    ipi.shorthand = VLAPIC_SH_SELF;
    assert_int_equal(vlapic_ipi_targets(&ipi, 66, 70, bm), 1);
    assert_int_equal(bm[0], 0);
    assert_int_equal(bm[1], 1u << 2);
    ipi.shorthand = VLAPIC_SH_ALL;
    assert_int_equal(vlapic_ipi_targets(&ipi, 66, 70, bm), 70);
    ipi.shorthand = VLAPIC_SH_OTHERS;
    assert_int_equal(vlapic_ipi_targets(&ipi, 66, 70, bm), 69);
    assert_int_equal(bm[0], ~0ull);
    assert_int_equal(bm[1], 0x3b);
    assert_int_equal(vlapic_ipi_targets(&ipi, 0, 1, bm), 0); /* alone */

    /* An INIT to one AP, from the BSP, as Linux sends it. */
    struct vlapic v;
    make_enabled(&v, 0);
    ipi = icr(&v, (1ull << 32) | 0xc500);
    assert_int_equal(vlapic_ipi_targets(&ipi, 0, 2, bm), 1);
    assert_int_equal(bm[0], 2);

    /* Destination alone, as the IOAPIC path uses it. */
    assert_int_equal(vlapic_dest_targets(1, false, 2, bm), 1);
    assert_int_equal(vlapic_dest_targets(0xffffffff, false, 2, bm), 2);
    assert_int_equal(vlapic_dest_targets(0x3, true, 2, bm), 2); /* cluster 0, IDs 0-1 */
}

/* --- concurrency --- */

/* Fewer sends on a one-CPU host, where the threads only interleave at
 * preemption and every wait costs a time slice. */
static unsigned race_sends = 100000;

struct race {
    struct vlapic v;
    uint32_t sent[256];
    uint32_t handled[256];
    int stop;
    int refused; /* cmocka asserts are not for other threads */
};

static uint8_t race_vector(unsigned i)
{
    return (uint8_t)(0x22 + (i * 37) % (256 - 0x22)); /* avoid the owner's timer, 0x21 */
}

/* Another CPU: sends each vector again only once the owner took the last
 * one, so every send must come out exactly once. Odd vectors are level. */
static void *race_sender(void *arg)
{
    struct race *r = arg;

    for (unsigned i = 0; i < race_sends && !__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE); i++) {
        uint8_t vec = race_vector(i);
        while (__atomic_load_n(&r->handled[vec], __ATOMIC_ACQUIRE) !=
               __atomic_load_n(&r->sent[vec], __ATOMIC_RELAXED)) {
            if (__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
                return NULL;
            sched_yield(); /* lets the owner run on a one-CPU host */
        }
        __atomic_store_n(&r->sent[vec], r->sent[vec] + 1, __ATOMIC_RELEASE);
        if (!vlapic_accept(&r->v, vec, vec & 1))
            __atomic_store_n(&r->refused, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void test_concurrent_accept(void **state)
{
    static struct race r;
    memset(&r, 0, sizeof(r));
    cpu_set_t cpus;
    if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) < 2)
        race_sends = 5000;
    make_enabled(&r.v, 0);
    /* The owner also runs a fast periodic timer into the same IRR words. */
    assert_true(wr(&r.v, R_TDCR, DIV1, 0));
    assert_true(wr(&r.v, R_LVTT, PERIODIC | 0x21, 0));
    assert_true(wr(&r.v, R_TMICT, 3, 0));

    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, race_sender, &r), 0);

    uint8_t stack[16];
    unsigned depth = 0, total = 0, timer_hits = 0, idle = 0;
    uint64_t now = 0, rng = 88172645463325252ull;
    /* A lost interrupt stalls the sender for good; give up after 10 s
     * without progress (generous: the host may be busy). */
    time_t last_progress = time(NULL);
    unsigned last_total = 0;
    while (total < race_sends) {
        if ((now & 0xfff) == 0 && total != last_total) {
            last_total = total;
            last_progress = time(NULL);
        } else if ((now & 0xfff) == 0 && time(NULL) - last_progress > 10) {
            break;
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        now += 1;
        vlapic_update(&r.v, now);
        if ((rng & 0x3f) == 0)
            assert_true(wr(&r.v, R_TPR, (rng >> 8) & 0xf0 & ((rng & 0x40) ? 0xff : 0x30), now));

        int vec = vlapic_next_interrupt(&r.v);
        if (vec >= 0 && depth < 16) {
            vlapic_intr_delivered(&r.v, (uint8_t)vec);
            stack[depth++] = (uint8_t)vec;
            if (vec == 0x21) {
                timer_hits++;
            } else {
                __atomic_store_n(&r.handled[vec], r.handled[vec] + 1, __ATOMIC_RELEASE);
                total++;
            }
        }
        idle = (vec < 0 && depth == 0) ? idle + 1 : 0;
        if (idle > 1000)
            sched_yield(); /* idle a while: let the sender run on a one-CPU host */
        if (depth && (vec < 0 || (rng & 0x300) == 0)) {
            uint8_t top = stack[--depth];
            int level = eoi(&r.v);
            /* EOI retires the newest in service, reporting level ones. */
            assert_int_equal(level, (top != 0x21 && (top & 1)) ? top : -1);
        }
    }
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);

    unsigned sent_total = 0;
    for (unsigned i = 0; i < 256; i++) {
        assert_int_equal(r.handled[i], r.sent[i]);
        sent_total += r.sent[i];
    }
    assert_int_equal(total, race_sends);
    assert_int_equal(sent_total, race_sends);
    assert_true(timer_hits > 0);
    assert_false(r.refused);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_state),
        cmocka_unit_test(test_register_gp_rules),
        cmocka_unit_test(test_software_disable),
        cmocka_unit_test(test_ppr_and_tpr),
        cmocka_unit_test(test_nested_priorities_through_eoi),
        cmocka_unit_test(test_level_triggered_eoi),
        cmocka_unit_test(test_illegal_vectors_and_esr),
        cmocka_unit_test(test_self_ipi),
        cmocka_unit_test(test_timer_one_shot),
        cmocka_unit_test(test_timer_periodic_no_drift),
        cmocka_unit_test(test_timer_tsc_deadline),
        cmocka_unit_test(test_timer_divide_values),
        cmocka_unit_test(test_timer_mode_switch_disarms),
        cmocka_unit_test(test_timer_masked),
        cmocka_unit_test(test_icr_encodings),
        cmocka_unit_test(test_ipi_targets),
        cmocka_unit_test(test_concurrent_accept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
