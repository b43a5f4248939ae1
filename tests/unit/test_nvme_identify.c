/* SPDX-License-Identifier: MIT */
/*
 * Host tests of Identify parsing (controller strings trimmed, MDTS, NN,
 * ONCS, VWC, entry sizes; namespace size and LBA format with NLBAF/FLBAS
 * out of bounds, bad LBADS, metadata; the active namespace list) and of the
 * CAP/CC/CSTS helpers against QEMU 7.2's CAP value.
 */
/* test-sources: drivers/nvme/nvme_identify.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/nvme/nvme_identify.h"
#include "drivers/nvme/nvme_regs.h"

static uint8_t buf[NVME_IDENTIFY_SIZE];

static void put32(unsigned off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        buf[off + i] = (uint8_t)(v >> (8 * i));
}

static void put64(unsigned off, uint64_t v)
{
    put32(off, (uint32_t)v);
    put32(off + 4, (uint32_t)(v >> 32));
}

static void pad(unsigned off, unsigned len, const char *s)
{
    memset(buf + off, ' ', len);
    memcpy(buf + off, s, strlen(s));
}

static void make_ctrl(void)
{
    memset(buf, 0, sizeof(buf));
    buf[0] = 0x36; /* VID 1b36 */
    buf[1] = 0x1b;
    pad(4, 20, "deadbeef");
    pad(24, 40, "QEMU NVMe Ctrl");
    pad(64, 8, "7.2.0");
    buf[77] = 7;
    put32(80, 0x00010400);
    buf[512] = 0x66;
    buf[513] = 0x44;
    put32(516, 256);
    buf[520] = 0x5f; /* compare, WU, DSM, WZ, save, timestamp */
    buf[525] = 0x07;
}

static void test_ctrl(void **state)
{
    struct nvme_ctrl_info c;

    make_ctrl();
    assert_int_equal(nvme_identify_parse_ctrl(buf, &c), NVME_ID_OK);
    assert_int_equal(c.vid, 0x1b36);
    assert_string_equal(c.serial, "deadbeef");
    assert_string_equal(c.model, "QEMU NVMe Ctrl");
    assert_string_equal(c.firmware, "7.2.0");
    assert_int_equal(c.mdts, 7);
    assert_int_equal(c.nn, 256);
    assert_int_equal(c.version, 0x00010400);
    assert_true(c.oncs & NVME_ONCS_DSM);
    assert_true(c.oncs & NVME_ONCS_WRITE_ZEROES);
    assert_true(c.vwc);
}

static void test_ctrl_strings_full_width_and_junk(void **state)
{
    struct nvme_ctrl_info c;

    make_ctrl();
    memset(buf + 4, 'S', 20);             /* no padding at all */
    memcpy(buf + 24, "Model\x01\xff", 7); /* unprintable bytes */
    memset(buf + 31, 0, 33);              /* NUL padding */
    memset(buf + 64, ' ', 8);             /* all blank */
    assert_int_equal(nvme_identify_parse_ctrl(buf, &c), NVME_ID_OK);
    assert_int_equal(strlen(c.serial), 20);
    assert_string_equal(c.model, "Model??");
    assert_string_equal(c.firmware, "");
}

static void test_ctrl_entry_sizes(void **state)
{
    struct nvme_ctrl_info c;

    make_ctrl();
    buf[512] = 0x77; /* SQ entries must be 128 bytes */
    assert_int_equal(nvme_identify_parse_ctrl(buf, &c), NVME_ID_BAD_ENTRY_SIZE);
    make_ctrl();
    buf[513] = 0x33; /* CQ entries at most 8 bytes */
    assert_int_equal(nvme_identify_parse_ctrl(buf, &c), NVME_ID_BAD_ENTRY_SIZE);
    make_ctrl();
    buf[520] = 0;
    buf[525] = 0;
    assert_int_equal(nvme_identify_parse_ctrl(buf, &c), NVME_ID_OK);
    assert_false(c.oncs & NVME_ONCS_DSM);
    assert_false(c.vwc);
}

static void make_ns(uint64_t nsze, uint8_t nlbaf, uint8_t flbas)
{
    memset(buf, 0, sizeof(buf));
    put64(0, nsze);
    put64(8, nsze);
    buf[25] = nlbaf;
    buf[26] = flbas;
    /* Formats: 0 = 512 B, 1 = 512 B + 8 metadata, 2 = 4 KiB, 3 = LBADS 8 (bad) ... */
    put32(128 + 0, 9u << 16);
    put32(128 + 4, 9u << 16 | 8);
    put32(128 + 8, 12u << 16);
    put32(128 + 12, 8u << 16);
    for (unsigned i = 4; i < 64; i++)
        put32(128 + 4 * i, 12u << 16);
}

static void test_ns(void **state)
{
    struct nvme_ns_info n;

    make_ns(2048, 3, 0);
    assert_int_equal(nvme_identify_parse_ns(buf, &n), NVME_ID_OK);
    assert_int_equal(n.nsze, 2048);
    assert_int_equal(n.lba_shift, 9);
    make_ns(1ull << 33, 3, 2 | 0x10); /* bit 4 (metadata at end) does not pick the format */
    assert_int_equal(nvme_identify_parse_ns(buf, &n), NVME_ID_OK);
    assert_int_equal(n.lba_shift, 12);
    assert_int_equal(n.format, 2);
    assert_int_equal(n.nsze, 1ull << 33);
}

static void test_ns_bad_formats(void **state)
{
    struct nvme_ns_info n;

    make_ns(0, 3, 0);
    assert_int_equal(nvme_identify_parse_ns(buf, &n), NVME_ID_INACTIVE);
    make_ns(100, 3, 4); /* FLBAS selects format 4 of 0..3 */
    assert_int_equal(nvme_identify_parse_ns(buf, &n), NVME_ID_BAD_FLBAS);
    make_ns(100, 0, 15);
    assert_int_equal(nvme_identify_parse_ns(buf, &n), NVME_ID_BAD_FLBAS);
    make_ns(100, 64, 0); /* more formats than the structure can hold */
    assert_int_equal(nvme_identify_parse_ns(buf, &n), NVME_ID_BAD_NLBAF);
    make_ns(100, 255, 0);
    assert_int_equal(nvme_identify_parse_ns(buf, &n), NVME_ID_BAD_NLBAF);
    make_ns(100, 3, 3); /* LBADS 8: 256-byte blocks */
    assert_int_equal(nvme_identify_parse_ns(buf, &n), NVME_ID_BAD_LBADS);
    make_ns(100, 3, 0);
    put32(128, 0); /* LBADS 0 */
    assert_int_equal(nvme_identify_parse_ns(buf, &n), NVME_ID_BAD_LBADS);
    make_ns(100, 3, 0);
    put32(128, 40u << 16); /* absurd block size */
    assert_int_equal(nvme_identify_parse_ns(buf, &n), NVME_ID_BAD_LBADS);
    make_ns(100, 3, 1); /* metadata */
    assert_int_equal(nvme_identify_parse_ns(buf, &n), NVME_ID_METADATA);
}

static void test_ns_high_format_index(void **state)
{
    struct nvme_ns_info n;

    /* NVMe 2.0: with NLBAF > 15, FLBAS bits 6:5 are index bits 5:4. */
    make_ns(100, 40, (1u << 5) | 2); /* index 18 */
    assert_int_equal(nvme_identify_parse_ns(buf, &n), NVME_ID_OK);
    assert_int_equal(n.format, 18);
    make_ns(100, 40, (3u << 5) | 2); /* index 50 > 40 */
    assert_int_equal(nvme_identify_parse_ns(buf, &n), NVME_ID_BAD_FLBAS);
    make_ns(100, 15, (3u << 5) | 2); /* <= 16 formats: bits 6:5 ignored */
    assert_int_equal(nvme_identify_parse_ns(buf, &n), NVME_ID_OK);
    assert_int_equal(n.format, 2);
}

static void test_ns_list(void **state)
{
    uint32_t ids[8];

    memset(buf, 0, sizeof(buf));
    put32(0, 1);
    put32(4, 2);
    put32(8, 7);
    assert_int_equal(nvme_identify_parse_ns_list(buf, 256, ids, 8), 3);
    assert_int_equal(ids[2], 7);
    assert_int_equal(nvme_identify_parse_ns_list(buf, 256, ids, 2), 2); /* caller's limit */
    assert_int_equal(nvme_identify_parse_ns_list(buf, 5, ids, 8), 2);   /* beyond NN */
    put32(8, 2);                                                        /* not increasing */
    assert_int_equal(nvme_identify_parse_ns_list(buf, 256, ids, 8), 2);
    memset(buf, 0xff, sizeof(buf));
    assert_int_equal(nvme_identify_parse_ns_list(buf, 0xffffffffu, ids, 8), 0);
}

static void test_regs_qemu_cap(void **state)
{
    uint64_t cap = 0x024018200f0107ffull;

    assert_int_equal(nvme_cap_max_entries(cap), 2048);
    assert_true(nvme_cap_contiguous_required(cap));
    assert_int_equal(nvme_cap_timeout_ms(cap), 7500);
    assert_int_equal(nvme_cap_dstrd(cap), 0);
    assert_true(nvme_cap_nvm_command_set(cap));
    assert_int_equal(nvme_cap_mps_min_shift(cap), 12);
    assert_int_equal(nvme_cap_mps_max_shift(cap), 16);
    assert_int_equal(nvme_sq_tail_doorbell(0, 0), 0x1000);
    assert_int_equal(nvme_cq_head_doorbell(0, 0), 0x1004);
    assert_int_equal(nvme_sq_tail_doorbell(3, 0), 0x1018);
    assert_int_equal(nvme_cq_head_doorbell(3, 2), 0x1000 + 7 * 16);
    assert_int_equal(nvme_bar_bytes_needed(64, 0), 0x1000 + 129 * 4 + 4);
}

static void test_regs_cc_csts(void **state)
{
    uint32_t cc = nvme_cc_value(12);

    assert_int_equal(cc & NVME_CC_EN, 0);
    assert_int_equal((cc >> 7) & 0xf, 0);  /* MPS 4 KiB */
    assert_int_equal((cc >> 16) & 0xf, 6); /* IOSQES */
    assert_int_equal((cc >> 20) & 0xf, 4); /* IOCQES */
    assert_int_equal((nvme_cc_value(13) >> 7) & 0xf, 1);
    assert_int_equal(nvme_aqa_value(32, 16), (15u << 16) | 31);
    assert_true(nvme_csts_ready(1));
    assert_false(nvme_csts_fatal(1));
    assert_true(nvme_csts_fatal(3));
    assert_true(nvme_csts_fatal(0xffffffffu));
    assert_true(nvme_csts_shutdown_done(0x9));
    assert_false(nvme_csts_shutdown_done(0x5)); /* 01b: in progress */
}

static void test_mdts(void **state)
{
    assert_int_equal(nvme_mdts_bytes(7, 12), 512 * 1024);
    assert_int_equal(nvme_mdts_bytes(0, 12), UINT64_MAX);
    assert_int_equal(nvme_mdts_bytes(255, 12), UINT64_MAX);
    assert_int_equal(nvme_mdts_bytes(5, 13), 256 * 1024);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctrl),
        cmocka_unit_test(test_ctrl_strings_full_width_and_junk),
        cmocka_unit_test(test_ctrl_entry_sizes),
        cmocka_unit_test(test_ns),
        cmocka_unit_test(test_ns_bad_formats),
        cmocka_unit_test(test_ns_high_format_index),
        cmocka_unit_test(test_ns_list),
        cmocka_unit_test(test_regs_qemu_cap),
        cmocka_unit_test(test_regs_cc_csts),
        cmocka_unit_test(test_mdts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
