/* SPDX-License-Identifier: MIT */
/* Host tests of NVMe completion status decoding: field positions in the
 * status word, names, block statuses and the retry decision. */
/* test-sources: drivers/nvme/nvme_status.c drivers/block/blk_names.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/block/blk.h"
#include "drivers/nvme/nvme_status.h"

/* The 16-bit word as it sits in a completion entry: phase in bit 0. */
static uint16_t word(unsigned sct, unsigned sc, bool more, bool dnr, unsigned phase)
{
    return (uint16_t)(phase | sc << 1 | sct << 9 | (unsigned)more << 14 | (unsigned)dnr << 15);
}

static void test_fields(void **state)
{
    struct nvme_status s = nvme_status_decode(word(2, 0x81, true, true, 1));

    assert_int_equal(s.sct, 2);
    assert_int_equal(s.sc, 0x81);
    assert_true(s.more);
    assert_true(s.dnr);
    s = nvme_status_decode(0x0001); /* phase only: success */
    assert_true(nvme_status_ok(s));
    assert_false(s.dnr);
    s = nvme_status_decode(word(0, 0, false, false, 0) | (3u << 12)); /* CRD = 3 */
    assert_int_equal(s.crd, 3);
    assert_true(nvme_status_ok(s));
}

static void test_names(void **state)
{
    assert_string_equal(nvme_status_name(nvme_status_decode(word(0, 0x80, 0, 1, 0))),
                        "LBA out of range");
    assert_string_equal(nvme_status_name(nvme_status_decode(word(0, 0x02, 0, 1, 1))),
                        "invalid field in command");
    assert_string_equal(nvme_status_name(nvme_status_decode(word(0, 0x13, 0, 1, 1))),
                        "PRP offset invalid");
    assert_string_equal(nvme_status_name(nvme_status_decode(word(1, 0x01, 0, 1, 1))),
                        "invalid queue identifier");
    assert_string_equal(nvme_status_name(nvme_status_decode(word(2, 0x81, 0, 0, 1))),
                        "unrecovered read error");
    assert_string_equal(nvme_status_name(nvme_status_decode(word(0, 0x7f, 0, 0, 1))),
                        "unknown generic status");
    assert_string_equal(nvme_status_name(nvme_status_decode(word(7, 0x01, 0, 0, 1))),
                        "vendor specific status");
    assert_string_equal(nvme_status_name(nvme_status_decode(word(5, 0x01, 0, 0, 1))),
                        "reserved status code type");
}

static void test_block_status(void **state)
{
    assert_int_equal(nvme_status_to_blk(nvme_status_decode(word(0, 0, 0, 0, 1))), BLK_OK);
    assert_int_equal(nvme_status_to_blk(nvme_status_decode(word(0, 0x80, 0, 1, 1))), BLK_ERANGE);
    assert_int_equal(nvme_status_to_blk(nvme_status_decode(word(0, 0x01, 0, 1, 1))), BLK_EINVAL);
    assert_int_equal(nvme_status_to_blk(nvme_status_decode(word(0, 0x08, 0, 0, 1))), BLK_EABORTED);
    assert_int_equal(nvme_status_to_blk(nvme_status_decode(word(0, 0x20, 0, 1, 1))),
                     BLK_EPROTECTED);
    assert_int_equal(nvme_status_to_blk(nvme_status_decode(word(2, 0x81, 0, 0, 1))), BLK_EMEDIA);
    assert_int_equal(nvme_status_to_blk(nvme_status_decode(word(2, 0x86, 0, 0, 1))),
                     BLK_EPROTECTED);
    assert_int_equal(nvme_status_to_blk(nvme_status_decode(word(0, 0x06, 0, 0, 1))), BLK_EIO);
    assert_int_equal(nvme_status_to_blk(nvme_status_decode(word(7, 0x06, 0, 0, 1))), BLK_EIO);
    assert_string_equal(blk_status_name(BLK_ERANGE), "out of range");
}

static void test_retry(void **state)
{
    /* Internal error without DNR: one more try is worth it. */
    assert_true(nvme_status_retryable(nvme_status_decode(word(0, 0x06, 0, 0, 1))));
    /* Same with DNR: no. */
    assert_false(nvme_status_retryable(nvme_status_decode(word(0, 0x06, 0, 1, 1))));
    /* An invalid field never gets better. */
    assert_false(nvme_status_retryable(nvme_status_decode(word(0, 0x02, 0, 0, 1))));
    assert_false(nvme_status_retryable(nvme_status_decode(word(0, 0x80, 0, 0, 1))));
    assert_false(nvme_status_retryable(nvme_status_decode(word(0, 0x00, 0, 0, 1))));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_block_status),
        cmocka_unit_test(test_retry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
