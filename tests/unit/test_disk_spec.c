/* SPDX-License-Identifier: MIT */
/* Unit tests for guests' `disk =` values: every accepted form, one exact
 * message per kind of mistake, overlap of NVMe windows and the formatting
 * used to name a disk in messages.
 * test-sources: vmm/disk_spec.c kernel/lib/str.c kernel/lib/fmt.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/disk_spec.h"

#define GIB (1ull << 30)

static struct disk_spec parse_ok(const char *value)
{
    struct disk_spec d;
    char why[160];

    memset(&d, 0x5a, sizeof(d));
    if (!disk_spec_parse(value, &d, why, sizeof(why))) {
        print_message("'%s' refused: %s\n", value, why);
        fail();
    }
    return d;
}

static void expect_refused(const char *value, const char *message)
{
    struct disk_spec d, before;
    char why[160];

    memset(&d, 0x5a, sizeof(d));
    before = d;
    assert_false(disk_spec_parse(value, &d, why, sizeof(why)));
    if (strcmp(why, message) != 0) {
        print_message("'%s': want \"%s\", got \"%s\"\n", value, message, why);
        fail();
    }
    /* A refused value leaves the output alone. */
    assert_memory_equal(&d, &before, sizeof(d));
}

static void test_ram(void **state)
{
    struct disk_spec d = parse_ok("ram:guests/disk.img");
    assert_int_equal(d.kind, DISK_RAM);
    assert_string_equal(d.path, "guests/disk.img");

    /* Spaces around the path are dropped, as the UEFI loader does. */
    d = parse_ok("ram:  guests/disk.img \t");
    assert_string_equal(d.path, "guests/disk.img");
    /* Everything after "ram:" is the path, colons included. */
    d = parse_ok("ram:a:b");
    assert_string_equal(d.path, "a:b");

    char value[8 + DISK_PATH_LEN];
    snprintf(value, sizeof(value), "ram:%0*d", DISK_PATH_LEN - 1, 0); /* 95 characters */
    d = parse_ok(value);
    assert_int_equal(strlen(d.path), DISK_PATH_LEN - 1);
    snprintf(value, sizeof(value), "ram:%0*d", DISK_PATH_LEN, 0);
    expect_refused(value, "path too long (96 characters, at most 95)");

    expect_refused("ram:", "needs a file name (ram:PATH)");
    expect_refused("ram:   ", "needs a file name (ram:PATH)");
}

static void test_nvme_whole(void **state)
{
    struct disk_spec d = parse_ok("nvme:0:1");
    assert_int_equal(d.kind, DISK_NVME);
    assert_int_equal(d.ctrl, 0);
    assert_int_equal(d.nsid, 1);
    assert_true(d.whole);
    assert_int_equal(d.start, 0);
    assert_int_equal(d.length, 0);

    d = parse_ok("nvme:255:4294967294");
    assert_int_equal(d.ctrl, 255);
    assert_int_equal(d.nsid, 0xfffffffe);
    d = parse_ok("nvme:0x2:0x10");
    assert_int_equal(d.ctrl, 2);
    assert_int_equal(d.nsid, 16);
}

static void test_nvme_window(void **state)
{
    struct disk_spec d = parse_ok("nvme:1:2:1G+4G");
    assert_int_equal(d.kind, DISK_NVME);
    assert_int_equal(d.ctrl, 1);
    assert_int_equal(d.nsid, 2);
    assert_false(d.whole);
    assert_int_equal(d.start, GIB);
    assert_int_equal(d.length, 4 * GIB);

    d = parse_ok("nvme:0:1:0+512");
    assert_int_equal(d.start, 0);
    assert_int_equal(d.length, 512);
    d = parse_ok("nvme:0:1:64k+1m");
    assert_int_equal(d.start, 65536);
    assert_int_equal(d.length, 1 << 20);
    d = parse_ok("nvme:0:1:1536+2048");
    assert_int_equal(d.start, 1536);
    assert_int_equal(d.length, 2048);
    /* Up to the last possible sector exactly. */
    d = parse_ok("nvme:0:1:0xfffffffffffffc00+512");
    assert_int_equal(d.start + d.length, 0xfffffffffffffe00ull);
}

static void test_kind_refused(void **state)
{
    static const char usage[] = "must be ram:PATH, nvme:CTRL:NSID, nvme:CTRL:NSID:START+LENGTH "
                                "or null:SIZE[:LATENCY]";
    expect_refused("", usage);
    expect_refused("guests/disk.img", usage);
    expect_refused("RAM:disk.img", usage);
    expect_refused("nvme", usage);
    expect_refused("nvme0n1", usage);
    expect_refused(" ram:disk.img", usage);
}

static void test_nvme_refused(void **state)
{
    static const char shape[] = "write it as nvme:CTRL:NSID or nvme:CTRL:NSID:START+LENGTH";
    expect_refused("nvme:", shape);
    expect_refused("nvme:0", shape);
    expect_refused("nvme:0:1:0+1G:x", shape);
    expect_refused("nvme:0:1:0:1:2:3", shape);

    expect_refused("nvme:x:1", "controller 'x' is not a number");
    expect_refused("nvme::1", "controller '' is not a number");
    expect_refused("nvme:-1:1", "controller '-1' is not a number");
    expect_refused("nvme:256:1", "controller 256: must be 0 to 255");
    expect_refused("nvme:0:one", "namespace 'one' is not a number");
    expect_refused("nvme:0:", "namespace '' is not a number");
    expect_refused("nvme:0:0", "namespace 0: must be 1 to 4294967294");
    expect_refused("nvme:0:4294967295", "namespace 4294967295: must be 1 to 4294967294");
    expect_refused("nvme:0:99999999999999999999999", "namespace '99999999999999999999999' is "
                                                     "not a number");
}

static void test_window_refused(void **state)
{
    expect_refused("nvme:0:1:1G", "the range must be START+LENGTH (like 1G+4G)");
    expect_refused("nvme:0:1:", "the range must be START+LENGTH (like 1G+4G)");
    expect_refused("nvme:0:1:1Q+1G", "start '1Q' is not a size (write it like 0, 4096, 64M or 1G)");
    expect_refused("nvme:0:1:+1G", "start '' is not a size (write it like 0, 4096, 64M or 1G)");
    expect_refused("nvme:0:1:1G+", "length '' is not a size (write it like 0, 4096, 64M or 1G)");
    expect_refused("nvme:0:1:1G+4G+1M",
                   "length '4G+1M' is not a size (write it like 0, 4096, 64M or 1G)");
    expect_refused("nvme:0:1:1G-4G", "the range must be START+LENGTH (like 1G+4G)");
    expect_refused("nvme:0:1:100+4096", "start 100 is not a multiple of 512");
    expect_refused("nvme:0:1:0+1000", "length 1000 is not a multiple of 512");
    expect_refused("nvme:0:1:1G+0",
                   "the length must not be 0 (leave the range out for the whole namespace)");
    expect_refused("nvme:0:1:0xfffffffffffffe00+1K",
                   "the range ends past the largest possible disk");
    expect_refused("nvme:0:1:16777215T+1T", "the range ends past the largest possible disk");
    expect_refused("nvme:0:1:0+99999999999999999999",
                   "length '99999999999999999999' is not a size (write it like 0, 4096, 64M or "
                   "1G)");
    /* Long fields are shortened in the message. */
    expect_refused("nvme:0:1:0+123456789012345678901234567890",
                   "length '12345678901234567890...' is not a size (write it like 0, 4096, 64M "
                   "or 1G)");
}

static void test_why_size_respected(void **state)
{
    struct disk_spec d;
    char why[8];

    memset(why, 'x', sizeof(why));
    assert_false(disk_spec_parse("nvme:0:0", &d, why, sizeof(why)));
    assert_string_equal(why, "namespa");
    /* A zero-sized buffer is not written at all. */
    assert_false(disk_spec_parse("nvme:0:0", &d, why, 0));
    assert_string_equal(why, "namespa");
}

/* ---- overlap ---- */

static bool overlaps(const char *a, const char *b)
{
    struct disk_spec da = parse_ok(a), db = parse_ok(b);
    bool ab = disk_spec_overlaps(&da, &db), ba = disk_spec_overlaps(&db, &da);
    assert_int_equal(ab, ba); /* symmetric */
    return ab;
}

static void test_overlaps(void **state)
{
    /* The whole namespace overlaps everything on it, itself included. */
    assert_true(overlaps("nvme:0:1", "nvme:0:1"));
    assert_true(overlaps("nvme:0:1", "nvme:0:1:0+512"));
    assert_true(overlaps("nvme:0:1", "nvme:0:1:1000G+1G"));
    /* Windows. */
    assert_true(overlaps("nvme:0:1:0+1G", "nvme:0:1:0+1G"));
    assert_true(overlaps("nvme:0:1:0+1G", "nvme:0:1:512M+1G"));
    assert_true(overlaps("nvme:0:1:0+4G", "nvme:0:1:1G+1G"));        /* contained */
    assert_true(overlaps("nvme:0:1:1023M+1M", "nvme:0:1:1022M+2M")); /* same end */
    assert_true(overlaps("nvme:0:1:0+1536", "nvme:0:1:1024+512"));   /* last sector shared */
    /* Windows that only touch share nothing. */
    assert_false(overlaps("nvme:0:1:0+1G", "nvme:0:1:1G+1G"));
    assert_false(overlaps("nvme:0:1:0+512", "nvme:0:1:512+512"));
    assert_false(overlaps("nvme:0:1:2G+1G", "nvme:0:1:0+1G"));
    /* At the very end of the address space, without wrapping. */
    assert_true(overlaps("nvme:0:1:0xfffffffffffffc00+512", "nvme:0:1:0xfffffffffffff000+3584"));
    assert_false(overlaps("nvme:0:1:0xfffffffffffffc00+512", "nvme:0:1:0+1G"));
    /* Other namespaces and other controllers are other disks. */
    assert_false(overlaps("nvme:0:1", "nvme:0:2"));
    assert_false(overlaps("nvme:0:1", "nvme:1:1"));
    assert_false(overlaps("nvme:0:1:0+1G", "nvme:1:1:0+1G"));
    assert_false(overlaps("nvme:0:1:0+1G", "nvme:0:2:0+1G"));
    /* RAM disks are each guest's own copy. */
    assert_false(overlaps("ram:disk.img", "ram:disk.img"));
    assert_false(overlaps("ram:disk.img", "nvme:0:1"));
    struct disk_spec none, whole = parse_ok("nvme:0:1");
    memset(&none, 0, sizeof(none));
    assert_false(disk_spec_overlaps(&none, &whole));
    assert_false(disk_spec_overlaps(&none, &none));
}

/* ---- formatting ---- */

static void expect_format(const char *value, const char *want)
{
    struct disk_spec d = parse_ok(value);
    char buf[64];

    disk_spec_format(&d, buf, sizeof(buf));
    assert_string_equal(buf, want);
    /* What is printed parses back to the same disk. */
    struct disk_spec again = parse_ok(buf);
    assert_int_equal(again.kind, d.kind);
    assert_string_equal(again.path, d.path);
    assert_int_equal(again.ctrl, d.ctrl);
    assert_int_equal(again.nsid, d.nsid);
    assert_int_equal(again.size, d.size);
    assert_int_equal(again.latency_ns, d.latency_ns);
    assert_int_equal(again.whole, d.whole);
    assert_int_equal(again.start, d.start);
    assert_int_equal(again.length, d.length);
}

static void test_null(void **state)
{
    struct disk_spec d = parse_ok("null:1G:100us");
    assert_int_equal(d.kind, DISK_NULL);
    assert_int_equal(d.size, 1ull << 30);
    assert_int_equal(d.latency_ns, 100000);
    d = parse_ok("null:64M");
    assert_int_equal(d.size, 64ull << 20);
    assert_int_equal(d.latency_ns, 0);
    d = parse_ok("null:512:7ns");
    assert_int_equal(d.size, 512);
    assert_int_equal(d.latency_ns, 7);
    d = parse_ok("null:1T:1000ms");
    assert_int_equal(d.latency_ns, 1000000000ull);
    d = parse_ok("null:4K:2ms");
    assert_int_equal(d.latency_ns, 2000000);
    /* A null disk shares nothing with anything. */
    struct disk_spec n = parse_ok("nvme:0:1");
    assert_false(disk_spec_overlaps(&d, &n));
    assert_false(disk_spec_overlaps(&d, &d));

    expect_refused("null:", "size '' is not a size (write it like 64M or 1G)");
    expect_refused("null:0", "size 0 is not a non-zero multiple of 512");
    expect_refused("null:1000", "size 1000 is not a non-zero multiple of 512");
    expect_refused("null:1G:", "latency '' is not a time (write it like 100us, 2ms or 0ns)");
    expect_refused("null:1G:100", "latency '100' is not a time (write it like 100us, 2ms or 0ns)");
    expect_refused("null:1G:us", "latency 'us' is not a time (write it like 100us, 2ms or 0ns)");
    expect_refused("null:1G:10s", "latency '10s' is not a time (write it like 100us, 2ms or 0ns)");
    expect_refused("null:1G:100us:x",
                   "latency '100us:x' is not a time (write it like 100us, 2ms or 0ns)");
    expect_refused("null:1G:-1us",
                   "latency '-1us' is not a time (write it like 100us, 2ms or 0ns)");
    expect_refused("null:1G:1001ms", "latency 1001ms: at most 1000ms");
    expect_refused("null:1G:99999999999999999999999ns",
                   "latency 99999999999999999999...: at most 1000ms");
}

static void test_format(void **state)
{
    expect_format("null:1073741824:100us", "null:1G:100us");
    expect_format("null:64M", "null:64M:0us");
    expect_format("null:1536:2000us", "null:1536:2ms");
    expect_format("null:4K:1500ns", "null:4K:1500ns");
    expect_format("ram: guests/disk.img", "ram:guests/disk.img");
    expect_format("nvme:0x1:7", "nvme:1:7");
    expect_format("nvme:0:1:1073741824+4G", "nvme:0:1:1G+4G");
    expect_format("nvme:0:1:0+1536", "nvme:0:1:0+1536");
    expect_format("nvme:0:1:1536K+3M", "nvme:0:1:1536K+3M");
    expect_format("nvme:2:3:1024G+512", "nvme:2:3:1024G+512");

    struct disk_spec none;
    char buf[16];
    memset(&none, 0, sizeof(none));
    disk_spec_format(&none, buf, sizeof(buf));
    assert_string_equal(buf, "none");
    /* Truncated, still terminated. */
    struct disk_spec d = parse_ok("nvme:0:1:1G+4G");
    disk_spec_format(&d, buf, 6);
    assert_string_equal(buf, "nvme:");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ram),
        cmocka_unit_test(test_nvme_whole),
        cmocka_unit_test(test_nvme_window),
        cmocka_unit_test(test_kind_refused),
        cmocka_unit_test(test_nvme_refused),
        cmocka_unit_test(test_window_refused),
        cmocka_unit_test(test_why_size_respected),
        cmocka_unit_test(test_overlaps),
        cmocka_unit_test(test_null),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
