/* SPDX-License-Identifier: MIT */
/*
 * Host tests of the shell's names for sidecore queues
 * (vmm/sidecore/queue_id.h): GUEST:DEVICE:QUEUE from a disk queue's label,
 * other labels joined by ':', truncation, and what `sidecore move`
 * accepts (the queue as 1 or q1) and refuses.
 * test-sources: vmm/sidecore/queue_id.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/sidecore/queue_id.h"

static void test_id_from_label(void **state)
{
    char id[64];

    queue_id_from_label("web0 disk0 q1", id, sizeof(id));
    assert_string_equal(id, "web0:disk0:1");
    queue_id_from_label("a disk3 q15", id, sizeof(id));
    assert_string_equal(id, "a:disk3:15");
    queue_id_from_label("switch lan", id, sizeof(id));
    assert_string_equal(id, "switch:lan");
    queue_id_from_label("lan", id, sizeof(id));
    assert_string_equal(id, "lan");
    queue_id_from_label("q1", id, sizeof(id)); /* one word: kept as it is */
    assert_string_equal(id, "q1");
    queue_id_from_label("g net0 qx", id, sizeof(id)); /* not q + digits */
    assert_string_equal(id, "g:net0:qx");
    queue_id_from_label("web0 disk0 q1", id, 6);
    assert_string_equal(id, "web0:");
    queue_id_from_label("", id, sizeof(id));
    assert_string_equal(id, "");
}

static void test_matches(void **state)
{
    assert_true(queue_id_matches("web0:disk0:1", "web0 disk0 q1"));
    assert_true(queue_id_matches("web0:disk0:q1", "web0 disk0 q1"));
    assert_false(queue_id_matches("web0:disk0:2", "web0 disk0 q1"));
    assert_false(queue_id_matches("web0:disk0:11", "web0 disk0 q1"));
    assert_false(queue_id_matches("web0:disk1:1", "web0 disk0 q1"));
    assert_false(queue_id_matches("Web0:disk0:1", "web0 disk0 q1"));
    assert_false(queue_id_matches("web0 disk0 q1", "web0 disk0 q1"));
    assert_false(queue_id_matches("", "web0 disk0 q1"));
    assert_false(queue_id_matches("web0:disk0:", "web0 disk0 q1"));
    assert_true(queue_id_matches("switch:lan", "switch lan"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_from_label),
        cmocka_unit_test(test_matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
