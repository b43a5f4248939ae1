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
    com1_write(&u, 4, 0x03, out, &s); /* loopback off: line up */
    assert_int_equal(com1_read(&u, 6), 0xb0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_and_status),
        cmocka_unit_test(test_divisor_latch),
        cmocka_unit_test(test_loopback),
    };
    return cmocka_run_group_tests_name("com1", tests, NULL, NULL);
}
