/* SPDX-License-Identifier: MIT */
/* Unit tests for the local APIC's xAPIC register page: the offset/size
 * decode, the registers that differ from x2APIC mode (ID, LDR, DFR, the
 * two ICR halves with an 8-bit destination, EOI with any value, no SELF
 * IPI, no faults), interrupts, TPR and the timer through the page, and
 * state kept or reset across the mode switches of IA32_APIC_BASE.
 * test-sources: vmm/dev/vlapic.c vmm/dev/vlapic_xapic.c vmm/dev/apic_dest.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dev/vlapic.h"

#define X_ID     0x020u
#define X_VER    0x030u
#define X_TPR    0x080u
#define X_APR    0x090u
#define X_PPR    0x0a0u
#define X_EOI    0x0b0u
#define X_LDR    0x0d0u
#define X_DFR    0x0e0u
#define X_SVR    0x0f0u
#define X_ISR(i) (0x100u + 0x10u * (i))
#define X_TMR(i) (0x180u + 0x10u * (i))
#define X_IRR(i) (0x200u + 0x10u * (i))
#define X_ESR    0x280u
#define X_ICRLO  0x300u
#define X_ICRHI  0x310u
#define X_LVTT   0x320u
#define X_LVTERR 0x370u
#define X_TMICT  0x380u
#define X_TMCCT  0x390u
#define X_TDCR   0x3e0u
#define X_SELF   0x3f0u

static struct vlapic_write_effect last;

static void w(struct vlapic *v, uint32_t off, uint32_t value, uint64_t now)
{
    vlapic_mmio_write(v, off, 4, value, now, &last);
}

static uint32_t r(struct vlapic *v, uint32_t off, uint64_t now)
{
    return vlapic_mmio_read(v, off, 4, now);
}

static void make_xapic(struct vlapic *v, uint32_t id)
{
    assert_true(vlapic_init(v, id, 1, 1));
    vlapic_set_mode(v, VLAPIC_MODE_XAPIC);
    w(v, X_SVR, 0x1ff, 0);
}

static int take(struct vlapic *v)
{
    int vec = vlapic_next_interrupt(v);
    if (vec >= 0)
        vlapic_intr_delivered(v, (uint8_t)vec);
    return vec;
}

static void test_decode(void **state)
{
    (void)state;
    assert_int_equal(vlapic_xapic_reg(0x020, 4), 0x02);
    assert_int_equal(vlapic_xapic_reg(0x300, 4), 0x30);
    assert_int_equal(vlapic_xapic_reg(0x310, 4), 0x31);
    assert_int_equal(vlapic_xapic_reg(0xff0, 4), 0xff);
    assert_int_equal(vlapic_xapic_reg(0x000, 4), 0x00);
    /* not at a register's start, another size, past the page */
    assert_int_equal(vlapic_xapic_reg(0x024, 4), -1);
    assert_int_equal(vlapic_xapic_reg(0x028, 4), -1);
    assert_int_equal(vlapic_xapic_reg(0x021, 4), -1);
    assert_int_equal(vlapic_xapic_reg(0x020, 1), -1);
    assert_int_equal(vlapic_xapic_reg(0x020, 2), -1);
    assert_int_equal(vlapic_xapic_reg(0x020, 8), -1);
    assert_int_equal(vlapic_xapic_reg(0x1000, 4), -1);
    assert_int_equal(vlapic_xapic_reg(0xffffffff, 4), -1);
}

static void test_reset_state(void **state)
{
    (void)state;
    struct vlapic v;
    assert_true(vlapic_init(&v, 3, 1, 1));
    vlapic_set_mode(&v, VLAPIC_MODE_XAPIC);
    assert_int_equal(r(&v, X_ID, 0), 3u << 24);
    assert_int_equal(r(&v, X_VER, 0), VLAPIC_VERSION);
    assert_int_equal(r(&v, X_SVR, 0), 0xff);
    assert_int_equal(r(&v, X_LDR, 0), 0);
    assert_int_equal(r(&v, X_DFR, 0), 0xffffffffu);
    assert_int_equal(r(&v, X_LVTT, 0), 1u << 16);
    assert_int_equal(r(&v, X_LVTERR, 0), 1u << 16);
    assert_int_equal(r(&v, X_TPR, 0), 0);
    /* the x2APIC MSRs are not there in xAPIC mode */
    uint64_t val;
    assert_false(vlapic_msr_read(&v, 0x802, 0, &val));
    assert_false(vlapic_msr_write(&v, 0x808, 0x10, 0, &last));
    /* but IA32_TSC_DEADLINE is */
    assert_true(vlapic_msr_read(&v, 0x6e0, 0, &val));
}

static void test_odd_accesses(void **state)
{
    (void)state;
    struct vlapic v;
    make_xapic(&v, 1);
    /* partial or misaligned accesses read 0 and do nothing */
    assert_int_equal(vlapic_mmio_read(&v, X_ID, 1, 0), 0);
    assert_int_equal(vlapic_mmio_read(&v, X_ID + 4, 4, 0), 0);
    vlapic_mmio_write(&v, X_TPR, 2, 0x20, 0, &last);
    vlapic_mmio_write(&v, X_TPR + 8, 4, 0x20, 0, &last);
    assert_int_equal(r(&v, X_TPR, 0), 0);
    /* read-only registers and unknown offsets ignore writes, never fault */
    w(&v, X_ID, 0x7f000000, 0);
    assert_int_equal(r(&v, X_ID, 0), 1u << 24);
    w(&v, X_VER, 0, 0);
    assert_int_equal(r(&v, X_VER, 0), VLAPIC_VERSION);
    w(&v, X_PPR, 0xff, 0);
    w(&v, 0x400, 0xffffffff, 0);
    assert_int_equal(r(&v, 0x400, 0), 0);
    assert_int_equal(r(&v, X_EOI, 0), 0);
    assert_int_equal(r(&v, X_APR, 0), 0);
    /* no SELF IPI register in xAPIC mode */
    w(&v, X_SELF, 0x40, 0);
    assert_int_equal(vlapic_next_interrupt(&v), -1);
    /* reserved bits are dropped, not refused */
    w(&v, X_TPR, 0xffffff35, 0);
    assert_int_equal(r(&v, X_TPR, 0), 0x35);
    w(&v, X_TDCR, 0xfffffff0 | 0xb, 0);
    assert_int_equal(r(&v, X_TDCR, 0), 0xb);
    w(&v, X_LVTERR, 0xfff000fe, 0);
    assert_int_equal(r(&v, X_LVTERR, 0), 0xfe);
    w(&v, X_SVR, 0xfffff1ff, 0);
    assert_int_equal(r(&v, X_SVR, 0), 0x1ff);
}

static void test_ldr_dfr(void **state)
{
    (void)state;
    struct vlapic v;
    make_xapic(&v, 2);
    w(&v, X_LDR, 0x04ffffff, 0);
    assert_int_equal(r(&v, X_LDR, 0), 0x04000000);
    w(&v, X_DFR, 0x0, 0);
    assert_int_equal(r(&v, X_DFR, 0), 0x0fffffff); /* cluster model */
    w(&v, X_DFR, 0xf0000000, 0);
    assert_int_equal(r(&v, X_DFR, 0), 0xffffffff); /* flat */
}

static void test_icr(void **state)
{
    (void)state;
    struct vlapic v;
    make_xapic(&v, 0);
    w(&v, X_ICRHI, 0x03abcdef, 0);
    assert_int_equal(r(&v, X_ICRHI, 0), 0x03000000);
    assert_false(last.has_ipi); /* the high half only sets the destination */
    /* fixed, physical, vector 0x41, reserved bits and delivery status ignored */
    w(&v, X_ICRLO, 0xfff01041, 0);
    assert_true(last.has_ipi);
    assert_true(last.ipi.dest8);
    assert_int_equal(last.ipi.dest, 3);
    assert_int_equal(last.ipi.vector, 0x41);
    assert_int_equal(last.ipi.mode, VLAPIC_DM_FIXED);
    assert_int_equal(last.ipi.shorthand, VLAPIC_SH_NONE);
    assert_false(last.ipi.logical);
    assert_int_equal(r(&v, X_ICRLO, 0) & (1u << 12), 0); /* never busy */
    /* logical, all-but-self shorthand, NMI */
    w(&v, X_ICRHI, 0xff000000, 0);
    w(&v, X_ICRLO, (3u << 18) | (1u << 11) | (4u << 8), 0);
    assert_true(last.has_ipi);
    assert_int_equal(last.ipi.dest, 0xff);
    assert_true(last.ipi.logical);
    assert_int_equal(last.ipi.mode, VLAPIC_DM_NMI);
    assert_int_equal(last.ipi.shorthand, VLAPIC_SH_OTHERS);
    /* INIT assert, level; INIT de-assert; STARTUP with its page */
    w(&v, X_ICRHI, 0x01000000, 0);
    w(&v, X_ICRLO, 0x0000c500, 0);
    assert_int_equal(last.ipi.mode, VLAPIC_DM_INIT);
    w(&v, X_ICRLO, 0x00008500, 0);
    assert_int_equal(last.ipi.mode, VLAPIC_DM_INIT_DEASSERT);
    w(&v, X_ICRLO, 0x00004608, 0);
    assert_int_equal(last.ipi.mode, VLAPIC_DM_STARTUP);
    assert_int_equal(last.ipi.vector, 0x08);
    assert_int_equal(last.ipi.dest, 1);
    /* an illegal vector is not sent and is logged in the ESR */
    w(&v, X_ICRLO, 0x0000000f, 0);
    assert_false(last.has_ipi);
    w(&v, X_ESR, 0, 0);
    assert_int_equal(r(&v, X_ESR, 0), 1u << 5);
}

static void test_interrupts_eoi_tpr(void **state)
{
    (void)state;
    struct vlapic v;
    make_xapic(&v, 0);
    assert_true(vlapic_accept(&v, 0x51, false));
    assert_true(vlapic_accept(&v, 0x62, true));
    assert_int_equal(r(&v, X_IRR(0x51 / 32), 0), 1u << (0x51 % 32));
    assert_int_equal(r(&v, X_TMR(0x62 / 32), 0), 1u << (0x62 % 32));
    /* TPR 0x60 holds both back (class 6 and 5 <= 6) */
    w(&v, X_TPR, 0x60, 0);
    assert_int_equal(vlapic_next_interrupt(&v), -1);
    assert_int_equal(r(&v, X_PPR, 0), 0x60);
    w(&v, X_TPR, 0x50, 0);
    assert_int_equal(take(&v), 0x62);
    assert_int_equal(r(&v, X_ISR(0x62 / 32), 0), 1u << (0x62 % 32));
    assert_int_equal(r(&v, X_PPR, 0), 0x60);
    assert_int_equal(vlapic_next_interrupt(&v), -1); /* 0x51 is below the ISR's class */
    /* EOI takes any value in xAPIC mode; a level vector goes to the IOAPIC */
    w(&v, X_EOI, 0xdeadbeef, 0);
    assert_int_equal(last.level_eoi_vector, 0x62);
    assert_int_equal(r(&v, X_ISR(0x62 / 32), 0), 0);
    w(&v, X_TPR, 0, 0);
    assert_int_equal(take(&v), 0x51);
    w(&v, X_EOI, 0, 0);
    assert_int_equal(last.level_eoi_vector, -1);
    assert_int_equal(vlapic_next_interrupt(&v), -1);
}

static void test_timer(void **state)
{
    (void)state;
    struct vlapic v;
    make_xapic(&v, 0);
    w(&v, X_TDCR, 0xb, 0);               /* divide by 1 */
    w(&v, X_LVTT, (1u << 17) | 0x40, 0); /* periodic, vector 0x40 */
    w(&v, X_TMICT, 1000, 100);
    assert_int_equal(r(&v, X_TMICT, 100), 1000);
    assert_int_equal(r(&v, X_TMCCT, 600), 500);
    assert_int_equal(vlapic_timer_next(&v), 1100);
    vlapic_update(&v, 1100);
    assert_int_equal(take(&v), 0x40);
    w(&v, X_EOI, 0, 1100);
    assert_int_equal(vlapic_timer_next(&v), 2100);
    /* one-shot via a mode change: disarmed until a new count */
    w(&v, X_LVTT, 0x40, 1200);
    assert_int_equal(vlapic_timer_next(&v), 0);
    w(&v, X_TMICT, 10, 1300);
    vlapic_update(&v, 1310);
    assert_int_equal(take(&v), 0x40);
    /* a software-disabled APIC keeps the LVT masked */
    w(&v, X_SVR, 0xff, 1400);
    w(&v, X_LVTT, 0x40, 1400);
    assert_int_equal(r(&v, X_LVTT, 1400), (1u << 16) | 0x40);
}

static void test_mode_switches(void **state)
{
    (void)state;
    struct vlapic v;
    uint64_t val;
    make_xapic(&v, 5);
    w(&v, X_TPR, 0x20, 0);
    w(&v, X_LVTERR, 0xfe, 0);
    /* xAPIC -> x2APIC keeps the registers; the page goes quiet, the MSRs
     * answer, the LDR is the x2APIC one */
    vlapic_set_mode(&v, VLAPIC_MODE_X2APIC);
    assert_int_equal(r(&v, X_TPR, 0), 0);
    w(&v, X_TPR, 0x90, 0);
    assert_true(vlapic_msr_read(&v, 0x808, 0, &val));
    assert_int_equal(val, 0x20);
    assert_true(vlapic_msr_read(&v, 0x802, 0, &val));
    assert_int_equal(val, 5);
    assert_true(vlapic_msr_read(&v, 0x80d, 0, &val));
    assert_int_equal(val, vlapic_ldr_of(5));
    assert_true(vlapic_msr_read(&v, 0x837, 0, &val));
    assert_int_equal(val, 0xfe);
    /* -> disabled resets everything and accepts nothing */
    vlapic_set_mode(&v, VLAPIC_MODE_DISABLED);
    assert_false(vlapic_accept(&v, 0x40, false));
    assert_int_equal(r(&v, X_TPR, 0), 0);
    w(&v, X_SVR, 0x1ff, 0);
    /* -> xAPIC again: power-on values */
    vlapic_set_mode(&v, VLAPIC_MODE_XAPIC);
    assert_int_equal(r(&v, X_SVR, 0), 0xff);
    assert_int_equal(r(&v, X_LVTERR, 0), 1u << 16);
    assert_int_equal(r(&v, X_TPR, 0), 0);
    assert_int_equal(r(&v, X_DFR, 0), 0xffffffffu);
    assert_false(vlapic_accept(&v, 0x40, false)); /* software-disabled */
    w(&v, X_SVR, 0x1ff, 0);
    assert_true(vlapic_accept(&v, 0x40, false));
    /* INIT keeps the mode and the ID */
    vlapic_init_signal(&v);
    assert_int_equal(v.mode, VLAPIC_MODE_XAPIC);
    assert_int_equal(r(&v, X_ID, 0), 5u << 24);
    assert_int_equal(r(&v, X_IRR(2), 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),       cmocka_unit_test(test_reset_state),
        cmocka_unit_test(test_odd_accesses), cmocka_unit_test(test_ldr_dfr),
        cmocka_unit_test(test_icr),          cmocka_unit_test(test_interrupts_eoi_tpr),
        cmocka_unit_test(test_timer),        cmocka_unit_test(test_mode_switches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
