/* SPDX-License-Identifier: MIT */
/* Unit tests for the guest's i8042 controller model, following the
 * sequences Linux's i8042 driver and its reboot code issue.
 * test-sources: vmm/dev/i8042.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/dev/i8042.h"

/* A controller command with an optional data byte and reply, as Linux's
 * i8042_command() runs it: wait for IBF clear, write, poll OBF, read. */
static int run(struct i8042 *k, uint8_t cmd, int data_byte)
{
    assert_int_equal(i8042_read(k, I8042_PORT_STATUS) & 0x02, 0); /* input buffer empty */
    assert_int_equal(i8042_write(k, I8042_PORT_STATUS, cmd), I8042_NONE);
    if (data_byte >= 0)
        assert_int_equal(i8042_write(k, I8042_PORT_DATA, (uint8_t)data_byte), I8042_NONE);
    if (!(i8042_read(k, I8042_PORT_STATUS) & I8042_STR_OBF))
        return -1;
    return i8042_read(k, I8042_PORT_DATA);
}

static void test_status_and_self_test(void **state)
{
    struct i8042 k;

    i8042_reset(&k);
    uint8_t st = i8042_read(&k, I8042_PORT_STATUS);
    assert_int_equal(st & (I8042_STR_OBF | 0x02), 0);
    assert_true(st & I8042_STR_SYS);
    assert_int_equal(run(&k, 0xaa, -1), 0x55);
    assert_int_equal(i8042_read(&k, I8042_PORT_STATUS) & I8042_STR_OBF, 0); /* consumed */
    assert_true(i8042_read(&k, I8042_PORT_STATUS) & I8042_STR_CMD);
    assert_int_equal(run(&k, 0xab, -1), 0x00);
    assert_int_equal(i8042_read(&k, 0x61), 0xff); /* not ours */
}

static void test_command_byte(void **state)
{
    struct i8042 k;

    i8042_reset(&k);
    int ctr = run(&k, 0x20, -1);
    assert_int_equal(ctr, 0x65);
    assert_int_equal(run(&k, 0x60, 0x00), -1);                       /* no reply */
    assert_false(i8042_read(&k, I8042_PORT_STATUS) & I8042_STR_CMD); /* data written last */
    assert_int_equal(run(&k, 0x20, -1), 0x00);
    assert_false(i8042_read(&k, I8042_PORT_STATUS) & I8042_STR_SYS); /* follows CTR bit 2 */
    assert_int_equal(run(&k, 0x60, 0x47), -1);
    assert_int_equal(run(&k, 0x20, -1), 0x47);
    assert_true(i8042_read(&k, I8042_PORT_STATUS) & I8042_STR_SYS);
    assert_int_equal(run(&k, 0x21, -1), 0x00); /* other RAM bytes read 0 */
}

static void test_port_enable_disable(void **state)
{
    struct i8042 k;

    i8042_reset(&k);
    run(&k, 0x60, 0x07); /* both ports "enabled" by the command byte */
    run(&k, 0xad, -1);
    assert_int_equal(run(&k, 0x20, -1), 0x17);
    run(&k, 0xae, -1);
    assert_int_equal(run(&k, 0x20, -1), 0x07);
    run(&k, 0xa7, -1);
    assert_int_equal(run(&k, 0x20, -1), 0x27);
    /* No AUX port: enabling it leaves the disable bit set, which is how
     * Linux's i8042_check_aux() learns there is none. */
    run(&k, 0xa8, -1);
    assert_int_equal(run(&k, 0x20, -1), 0x27);
    assert_int_equal(run(&k, 0xa9, -1), 0xff);
}

static void test_loop_writes_and_absent_keyboard(void **state)
{
    struct i8042 k;

    i8042_reset(&k);
    assert_int_equal(run(&k, 0xd3, 0x5a), 0x5a); /* AUX loop-back */
    assert_int_equal(run(&k, 0xd2, 0xa5), 0xa5); /* keyboard output buffer */
    i8042_write(&k, I8042_PORT_STATUS, 0xd3);
    i8042_write(&k, I8042_PORT_DATA, 0x11);
    assert_true(i8042_read(&k, I8042_PORT_STATUS) & I8042_STR_AUXB);
    i8042_read(&k, I8042_PORT_DATA);
    assert_false(i8042_read(&k, I8042_PORT_STATUS) & I8042_STR_AUXB);
    /* A byte for the keyboard (reset: 0xff) gets no answer. */
    assert_int_equal(i8042_write(&k, I8042_PORT_DATA, 0xff), I8042_NONE);
    assert_false(i8042_read(&k, I8042_PORT_STATUS) & I8042_STR_OBF);
    /* A command cancels a pending data byte: 0x60 then 0xaa leaves the CTR. */
    i8042_write(&k, I8042_PORT_STATUS, 0x60);
    i8042_write(&k, I8042_PORT_STATUS, 0xaa);
    assert_int_equal(i8042_read(&k, I8042_PORT_DATA), 0x55);
    i8042_write(&k, I8042_PORT_DATA, 0x00);
    assert_int_equal(run(&k, 0x20, -1), 0x65);
}

static void test_reset_requests(void **state)
{
    struct i8042 k;

    i8042_reset(&k);
    /* Linux's kbd reboot: wait for IBF clear, then pulse line 0. */
    assert_int_equal(i8042_read(&k, I8042_PORT_STATUS) & 0x02, 0);
    assert_int_equal(i8042_write(&k, I8042_PORT_STATUS, 0xfe), I8042_RESET);
    assert_int_equal(i8042_write(&k, I8042_PORT_STATUS, 0xf0), I8042_RESET);
    assert_int_equal(i8042_write(&k, I8042_PORT_STATUS, 0xff), I8042_NONE); /* pulses nothing */
    assert_int_equal(i8042_write(&k, I8042_PORT_STATUS, 0xfd), I8042_NONE); /* line 1 only */
    /* Writing the output port with bit 0 clear holds the CPU in reset. */
    assert_int_equal(run(&k, 0xd0, -1), 0x03);
    i8042_write(&k, I8042_PORT_STATUS, 0xd1);
    assert_int_equal(i8042_write(&k, I8042_PORT_DATA, 0x03), I8042_NONE);
    i8042_write(&k, I8042_PORT_STATUS, 0xd1);
    assert_int_equal(i8042_write(&k, I8042_PORT_DATA, 0x02), I8042_RESET);
    /* The same byte as data without the command is only keyboard data. */
    assert_int_equal(i8042_write(&k, I8042_PORT_DATA, 0xfe), I8042_NONE);
    assert_int_equal(i8042_write(&k, 0x65, 0xfe), I8042_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_and_self_test),
        cmocka_unit_test(test_command_byte),
        cmocka_unit_test(test_port_enable_disable),
        cmocka_unit_test(test_loop_writes_and_absent_keyboard),
        cmocka_unit_test(test_reset_requests),
    };
    return cmocka_run_group_tests_name("i8042", tests, NULL, NULL);
}
