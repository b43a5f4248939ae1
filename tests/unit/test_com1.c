/* SPDX-License-Identifier: MIT */
/* Unit tests for the guest's console UART model.
 * test-sources: vmm/dev/com1.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dev/com1.h"

struct sink {
    char buf[64];
    size_t n;
};

static void out(void *ctx, char c)
{
    struct sink *s = ctx;
    if (s->n < sizeof(s->buf) - 1)
        s->buf[s->n++] = c;
}

static void test_output_and_status(void **state)
{
    struct com1 u;
    struct sink s = {0};

    com1_reset(&u);
    for (const char *p = "hi\n"; *p; p++)
        com1_write(&u, 0, (uint8_t)*p, out, &s);
    assert_string_equal(s.buf, "hi\n");
    assert_int_equal(com1_read(&u, 5) & 0x60, 0x60); /* THRE and TEMT */
    assert_int_equal(com1_read(&u, 0), 0);           /* no input */
    assert_int_equal(com1_read(&u, 2) & 1, 1);       /* no interrupt pending */
    com1_write(&u, 2, 0x07, out, &s);                /* FIFOs on */
    assert_int_equal(com1_read(&u, 2), 0xc1);
}

static void test_divisor_latch(void **state)
{
    struct com1 u;
    struct sink s = {0};

    com1_reset(&u);
    com1_write(&u, 3, 0x80, out, &s); /* DLAB */
    com1_write(&u, 0, 0x0c, out, &s); /* 9600 baud: not output */
    com1_write(&u, 1, 0x00, out, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(com1_read(&u, 0), 0x0c);
    com1_write(&u, 3, 0x03, out, &s); /* 8N1, DLAB off */
    assert_int_equal(com1_read(&u, 3), 0x03);
    com1_write(&u, 1, 0xff, out, &s); /* IER keeps its 4 defined bits */
    assert_int_equal(com1_read(&u, 1), 0x0f);
    com1_write(&u, 7, 0x5a, out, &s); /* scratch, as drivers probe it */
    assert_int_equal(com1_read(&u, 7), 0x5a);
}

static void test_loopback(void **state)
{
    struct com1 u;
    struct sink s = {0};

    com1_reset(&u);
    com1_write(&u, 4, 0x1f, out, &s); /* loopback with all outputs on */
    com1_write(&u, 0, 'x', out, &s);  /* not sent in loopback */
    assert_int_equal(s.n, 0);
    assert_int_equal(com1_read(&u, 6) & 0xf0, 0xf0);
    com1_write(&u, 4, 0x10, out, &s);
    assert_int_equal(com1_read(&u, 6) & 0xf0, 0x00);
    com1_write(&u, 4, 0x03, out, &s);         /* loopback off: line up */
    assert_int_equal(com1_read(&u, 6), 0xbb); /* with DCTS, DDSR, DDCD */
    assert_int_equal(com1_read(&u, 6), 0xb0);
}

/* Brings the UART up as Linux's 8250 driver does: 8N1, FIFOs on with the
 * given trigger bits, DTR/RTS/OUT2 set, interrupts off. */
static void setup_linux_style(struct com1 *u, struct sink *s, uint8_t fcr)
{
    com1_reset(u);
    com1_write(u, 3, 0x03, out, s);
    com1_write(u, 2, fcr, out, s);
    com1_write(u, 4, 0x0b, out, s);
    com1_write(u, 1, 0x00, out, s);
    com1_read(u, 6); /* drop the modem deltas a setup may leave */
}

static void test_receive_fifo(void **state)
{
    struct com1 u;
    struct sink s = {0};

    setup_linux_style(&u, &s, 0x07); /* FIFOs on, trigger 1 byte */
    assert_true(com1_can_receive(&u));
    for (int i = 0; i < COM1_FIFO_SIZE; i++)
        assert_true(com1_receive(&u, (uint8_t)('a' + i)));
    assert_false(com1_can_receive(&u));
    assert_false(com1_receive(&u, 'z'));             /* full: the caller holds it */
    assert_int_equal(com1_read(&u, 5) & 0x03, 0x01); /* DR, no overrun */
    for (int i = 0; i < COM1_FIFO_SIZE; i++)
        assert_int_equal(com1_read(&u, 0), 'a' + i);
    assert_int_equal(com1_read(&u, 5) & 0x01, 0); /* empty */
    assert_true(com1_receive(&u, 'q'));
    com1_write(&u, 2, 0x03, out, &s); /* clear RX, FIFOs stay on */
    assert_int_equal(com1_read(&u, 5) & 0x01, 0);
    assert_int_equal(com1_read(&u, 2) & 0xc0, 0xc0);
}

static void test_receive_without_fifo(void **state)
{
    struct com1 u;
    struct sink s = {0};

    setup_linux_style(&u, &s, 0x00);
    assert_true(com1_receive(&u, 'x'));
    assert_false(com1_receive(&u, 'y'));      /* one-byte holding register */
    assert_int_equal(com1_read(&u, 2), 0x01); /* no FIFO bits, nothing enabled */
    com1_write(&u, 1, 0x01, out, &s);
    assert_int_equal(com1_read(&u, 2), 0x04); /* RDA, not timeout without FIFO */
    assert_int_equal(com1_read(&u, 0), 'x');
    assert_int_equal(com1_read(&u, 2), 0x01);
}

static void test_fifo_toggle_clears(void **state)
{
    struct com1 u;
    struct sink s = {0};

    setup_linux_style(&u, &s, 0x01);
    assert_true(com1_receive(&u, 'x'));
    com1_write(&u, 2, 0x00, out, &s); /* FIFOs off empties them */
    assert_int_equal(com1_read(&u, 5) & 0x01, 0);
    assert_int_equal(com1_read(&u, 2) & 0xc0, 0);
}

static void test_rda_and_timeout_interrupts(void **state)
{
    struct com1 u;
    struct sink s = {0};

    setup_linux_style(&u, &s, 0x81);  /* FIFOs on, trigger 8 */
    com1_write(&u, 1, 0x01, out, &s); /* ERBFI */
    assert_false(com1_irq_level(&u));
    assert_int_equal(com1_read(&u, 2), 0xc1);
    for (int i = 0; i < 7; i++)
        assert_true(com1_receive(&u, (uint8_t)i));
    /* Below the trigger level: the character timeout source. */
    assert_true(com1_irq_level(&u));
    assert_int_equal(com1_read(&u, 2), 0xcc);
    assert_true(com1_receive(&u, 7));
    assert_int_equal(com1_read(&u, 2), 0xc4); /* trigger reached */
    for (int i = 0; i < 8; i++)
        assert_int_equal(com1_read(&u, 0), i);
    assert_false(com1_irq_level(&u));
    assert_int_equal(com1_read(&u, 2), 0xc1);
}

static void test_out2_gates_irq(void **state)
{
    struct com1 u;
    struct sink s = {0};

    setup_linux_style(&u, &s, 0x01);
    com1_write(&u, 1, 0x01, out, &s);
    assert_true(com1_receive(&u, 'k'));
    assert_true(com1_irq_level(&u));
    com1_write(&u, 4, 0x03, out, &s); /* OUT2 off: the PC's IRQ gate closes */
    assert_false(com1_irq_level(&u));
    assert_int_equal(com1_read(&u, 2) & 0x0f, 0x04); /* still pending in IIR */
    com1_write(&u, 4, 0x0b, out, &s);
    assert_true(com1_irq_level(&u));
    com1_write(&u, 1, 0x00, out, &s); /* disabled in IER: no line either */
    assert_false(com1_irq_level(&u));
}

static void test_thre_interrupt_rules(void **state)
{
    struct com1 u;
    struct sink s = {0};

    setup_linux_style(&u, &s, 0x01);
    assert_false(com1_irq_level(&u));
    /* Enabling ETBEI with THR empty raises THRE at once. */
    com1_write(&u, 1, 0x02, out, &s);
    assert_true(com1_irq_level(&u));
    /* Reading IIR with THRE as the source acknowledges it. */
    assert_int_equal(com1_read(&u, 2), 0xc2);
    assert_false(com1_irq_level(&u));
    assert_int_equal(com1_read(&u, 2), 0xc1);
    /* Writing THR: the byte leaves and THR empties again: THRE again. */
    com1_write(&u, 0, 'A', out, &s);
    assert_true(com1_irq_level(&u));
    assert_int_equal(s.n, 1);
    /* Re-enabling after a disable raises it again (Linux's THRE test). */
    assert_int_equal(com1_read(&u, 2), 0xc2);
    com1_write(&u, 1, 0x00, out, &s);
    assert_int_equal(com1_read(&u, 2), 0xc1);
    com1_write(&u, 1, 0x02, out, &s);
    assert_int_equal(com1_read(&u, 2), 0xc2);
    /* Rewriting IER with ETBEI already set does not re-raise it. */
    com1_write(&u, 1, 0x02, out, &s);
    assert_int_equal(com1_read(&u, 2), 0xc1);
}

static void test_iir_priority(void **state)
{
    struct com1 u;
    struct sink s = {0};

    setup_linux_style(&u, &s, 0x01);
    com1_write(&u, 4, 0x10, out, &s); /* loopback to make an overrun */
    for (int i = 0; i < COM1_FIFO_SIZE + 1; i++)
        com1_write(&u, 0, (uint8_t)i, out, &s);
    assert_int_equal(s.n, 0);
    com1_write(&u, 4, 0x0b, out, &s); /* leave loopback: modem deltas */
    com1_write(&u, 1, 0x0f, out, &s); /* every source enabled */
    assert_true(com1_irq_level(&u));
    /* THRE is latched by the IER write, the FIFO is full, OE is set and
     * the modem lines changed: IIR shows them in priority order. */
    assert_int_equal(com1_read(&u, 2), 0xc6);        /* receiver line status */
    assert_int_equal(com1_read(&u, 5) & 0x03, 0x03); /* OE and DR; read clears OE */
    assert_int_equal(com1_read(&u, 5) & 0x02, 0);
    assert_int_equal(com1_read(&u, 2), 0xc4); /* data (16 >= trigger 1) */
    for (int i = 0; i < COM1_FIFO_SIZE; i++)
        assert_int_equal(com1_read(&u, 0), i);       /* the 17th byte was lost */
    assert_int_equal(com1_read(&u, 2), 0xc2);        /* THRE, acknowledged by this read */
    assert_int_equal(com1_read(&u, 2), 0xc0);        /* modem status */
    assert_int_equal(com1_read(&u, 6) & 0x0f, 0x0b); /* DCTS DDSR DDCD (no RI edge) */
    assert_int_equal(com1_read(&u, 2), 0xc1);
    assert_false(com1_irq_level(&u));
}

static void test_modem_deltas_in_loopback(void **state)
{
    struct com1 u;
    struct sink s = {0};

    com1_reset(&u);
    com1_write(&u, 4, 0x10, out, &s); /* loopback, all outputs off */
    com1_read(&u, 6);
    com1_write(&u, 4, 0x14, out, &s); /* OUT1 -> RI on: no TERI yet */
    assert_int_equal(com1_read(&u, 6), 0x40);
    com1_write(&u, 4, 0x10, out, &s); /* RI off: trailing edge */
    assert_int_equal(com1_read(&u, 6), 0x04);
    assert_int_equal(com1_read(&u, 6), 0x00); /* read cleared it */
    com1_write(&u, 4, 0x11, out, &s);         /* DTR -> DSR */
    assert_int_equal(com1_read(&u, 6), 0x22);
    com1_write(&u, 4, 0x13, out, &s); /* RTS -> CTS */
    assert_int_equal(com1_read(&u, 6), 0x31);
    /* Loopback: no host input, the byte written comes back instead. */
    assert_false(com1_receive(&u, 'h'));
    com1_write(&u, 0, 'L', out, &s);
    assert_int_equal(com1_read(&u, 0), 'L');
    com1_write(&u, 1, 0x0f, out, &s);
    assert_false(com1_irq_level(&u)); /* OUT2 pin inactive in loopback */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_and_status),
        cmocka_unit_test(test_divisor_latch),
        cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_receive_fifo),
        cmocka_unit_test(test_receive_without_fifo),
        cmocka_unit_test(test_fifo_toggle_clears),
        cmocka_unit_test(test_rda_and_timeout_interrupts),
        cmocka_unit_test(test_out2_gates_irq),
        cmocka_unit_test(test_thre_interrupt_rules),
        cmocka_unit_test(test_iir_priority),
        cmocka_unit_test(test_modem_deltas_in_loopback),
    };
    return cmocka_run_group_tests_name("com1", tests, NULL, NULL);
}
