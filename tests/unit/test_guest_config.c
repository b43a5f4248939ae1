/* SPDX-License-Identifier: MIT */
/* Unit tests for the [guest NAME] sections of sidecore.cfg: every kind of
 * bad input gets one message on the right line and drops only its guest;
 * guests are fitted to the machine's cores and memory in file order.
 * test-sources: vmm/guest_config.c vmm/disk_spec.c kernel/config/ini.c kernel/lib/str.c kernel/lib/fmt.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/guest_config.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)

struct boot_file {
    const char *name;
    uint64_t size;
};

static const struct boot_file boot_files[] = {
    {"guests/test.elf", 81920}, {"guests/initrd.gz", 4096}, {"guests/other.elf", 12288},
    {"guests/empty.elf", 0},    {"guests/empty.img", 0},    {"guests/disk.img", 1 << 20},
    {"guests/odd.img", 1000},   {"guests/sector.img", 512},
};

static bool fake_file_exists(void *ctx, const char *name, uint64_t *size)
{
    unsigned *calls = ctx;
    (*calls)++;
    for (size_t i = 0; i < sizeof(boot_files) / sizeof(boot_files[0]); i++) {
        if (strcmp(boot_files[i].name, name) == 0) {
            *size = boot_files[i].size;
            return true;
        }
    }
    return false;
}

struct error {
    unsigned line;
    char msg[400];
};

struct record {
    struct error errors[128];
    unsigned count;
    unsigned file_calls;
    struct guest_config_set set;
};

static void on_error(void *ctx, unsigned line, const char *msg)
{
    struct record *r = ctx;
    if (r->count < sizeof(r->errors) / sizeof(r->errors[0])) {
        r->errors[r->count].line = line;
        snprintf(r->errors[r->count].msg, sizeof(r->errors[r->count].msg), "%s", msg);
    }
    r->count++;
}

/* NICs the fake machine has (uplink = nic:N). */
static unsigned test_nics = 2;

static struct record *parse_limits(const char *text, size_t len, uint32_t cpus, uint64_t mem,
                                   bool no_sidecores)
{
    static struct record r;
    memset(&r, 0xa5, sizeof(r)); /* the parser must clear its output */
    r.count = 0;
    r.file_calls = 0;
    struct guest_config_limits limits = {
        .cpus_available = cpus,
        .memory_available = mem,
        .file_exists = fake_file_exists,
        .ctx = &r.file_calls,
        .no_sidecores = no_sidecores,
        .nics = test_nics,
    };
    guest_config_parse(text, len, &limits, &r.set, on_error, &r);
    /* Every problem is reported exactly once and counted. */
    assert_int_equal(r.set.errors, r.count);
    return &r;
}

static struct record *parse_with(const char *text, size_t len, uint32_t cpus, uint64_t mem)
{
    return parse_limits(text, len, cpus, mem, false);
}

static struct record *parse(const char *text)
{
    return parse_with(text, strlen(text), 8, 4 * GIB);
}

static struct record *parse_fit(const char *text, uint32_t cpus, uint64_t mem)
{
    return parse_with(text, strlen(text), cpus, mem);
}

static void print_errors(const struct record *r)
{
    for (unsigned i = 0; i < r->count && i < 128; i++)
        print_message("  line %u: %s\n", r->errors[i].line, r->errors[i].msg);
}

/* Exactly one problem, on `line`, with `phrase` in its message. */
static void expect_one_error(const struct record *r, unsigned line, const char *phrase)
{
    if (r->count != 1 || r->errors[0].line != line || !strstr(r->errors[0].msg, phrase)) {
        print_message("want one error at line %u containing \"%s\", got %u:\n", line, phrase,
                      r->count);
        print_errors(r);
        fail();
    }
}

/* Some problem on `line` with `phrase` in its message. */
static void expect_error(const struct record *r, unsigned line, const char *phrase)
{
    for (unsigned i = 0; i < r->count && i < 128; i++) {
        if (r->errors[i].line == line && strstr(r->errors[i].msg, phrase))
            return;
    }
    print_message("want an error at line %u containing \"%s\", got:\n", line, phrase);
    print_errors(r);
    fail();
}

/* A problem on `line` whose message is exactly `message`. */
static void expect_exact_error(const struct record *r, unsigned line, const char *message)
{
    for (unsigned i = 0; i < r->count && i < 128; i++) {
        if (r->errors[i].line == line && strcmp(r->errors[i].msg, message) == 0)
            return;
    }
    print_message("want an error at line %u saying \"%s\", got:\n", line, message);
    print_errors(r);
    fail();
}

static void expect_guests(const struct record *r, const char *const *names, unsigned n)
{
    if (r->set.count != n) {
        print_message("want %u guests, got %u\n", n, r->set.count);
        print_errors(r);
    }
    assert_int_equal(r->set.count, n);
    for (unsigned i = 0; i < n; i++)
        assert_string_equal(r->set.guests[i].name, names[i]);
}

#define GUEST(name)                                                                                \
    "[guest " name "]\n"                                                                           \
    "cpus = 1\n"                                                                                   \
    "memory = 64M\n"                                                                               \
    "kernel = guests/other.elf\n"

/* ---- the example and defaults ---- */

static const char example[] = "[hypervisor]\n"                                  /* 1 */
                              "console = com1,115200\n"                         /* 2 */
                              "\n"                                              /* 3 */
                              "[guest web0]\n"                                  /* 4 */
                              "cpus = 1                    # dedicated cores\n" /* 5 */
                              "memory = 256M\n"                                 /* 6 */
                              "kernel = guests/test.elf    # relative path\n"   /* 7 */
                              "initrd = guests/initrd.gz   # optional\n"        /* 8 */
                              "cmdline = console=ttyS0     # optional\n"        /* 9 */
                              "on_poweroff = stop          # stop | restart\n"  /* 10 */
                              "on_reboot = restart         # restart | stop\n"; /* 11 */

static void check_example_guest(const struct record *r)
{
    assert_int_equal(r->count, 0);
    assert_int_equal(r->set.count, 1);
    const struct guest_config *g = &r->set.guests[0];
    assert_string_equal(g->name, "web0");
    assert_int_equal(g->line, 4);
    assert_int_equal(g->cpus, 1);
    assert_int_equal(g->memory, 256 * MIB);
    assert_string_equal(g->kernel, "guests/test.elf");
    assert_string_equal(g->initrd, "guests/initrd.gz");
    assert_string_equal(g->cmdline, "console=ttyS0");
    assert_int_equal(g->on_poweroff, GUEST_STOP);
    assert_int_equal(g->on_reboot, GUEST_RESTART);
    assert_int_equal(r->set.cpus_used, 1);
    assert_int_equal(r->set.memory_used, 256 * MIB);
}

static void test_example_config(void **state)
{
    struct record *r = parse(example);
    check_example_guest(r);
    assert_int_equal(r->file_calls, 2); /* kernel and initrd were looked up */
}

static void test_defaults(void **state)
{
    struct record *r = parse("[guest min]\ncpus=2\nmemory=1G\nkernel=guests/test.elf\n");
    assert_int_equal(r->count, 0);
    assert_int_equal(r->set.count, 1);
    const struct guest_config *g = &r->set.guests[0];
    assert_int_equal(g->cpus, 2);
    assert_int_equal(g->memory, GIB);
    assert_string_equal(g->initrd, "");
    assert_string_equal(g->cmdline, "");
    assert_int_equal(g->on_poweroff, GUEST_STOP);
    assert_int_equal(g->on_reboot, GUEST_RESTART);
    assert_string_equal(guest_on_event_name(g->on_poweroff), "stop");
    assert_string_equal(guest_on_event_name(g->on_reboot), "restart");
}

static void test_events_swapped(void **state)
{
    struct record *r = parse(GUEST("a") "on_poweroff = restart\non_reboot = stop\n");
    assert_int_equal(r->count, 0);
    assert_int_equal(r->set.guests[0].on_poweroff, GUEST_RESTART);
    assert_int_equal(r->set.guests[0].on_reboot, GUEST_STOP);
}

static void test_several_guests_in_order(void **state)
{
    static const char *const names[] = {"a", "b-2", "C_3"};
    struct record *r = parse(GUEST("a") "\n# comment\n" GUEST("b-2") GUEST("C_3"));
    assert_int_equal(r->count, 0);
    expect_guests(r, names, 3);
    assert_int_equal(r->set.guests[1].line, 7);
    assert_int_equal(r->set.guests[2].line, 11);
    assert_int_equal(r->set.cpus_used, 3);
    assert_int_equal(r->set.memory_used, 3 * 64 * MIB);
}

static void test_hypervisor_keys_ignored(void **state)
{
    struct record *r = parse("[hypervisor]\nconsole = com2,9600\nsidecores = 1\nwhatever = x\n"
                             "[hypervisor]\nconsole = 0x3f8\n" GUEST("a"));
    assert_int_equal(r->count, 0);
    assert_int_equal(r->set.count, 1);
}

static void test_empty_config(void **state)
{
    struct record *r = parse("");
    assert_int_equal(r->count, 0);
    assert_int_equal(r->set.count, 0);
    assert_int_equal(r->set.cpus_used, 0);
    assert_int_equal(r->set.memory_used, 0);
}

/* ---- sections ---- */

static void test_unknown_section(void **state)
{
    static const char *const names[] = {"a", "b"};
    struct record *r = parse(GUEST("a") "[network]\n" /* 5 */
                                        "cpus = 1\n"  /* keys of an unknown section: ignored */
                             GUEST("b"));
    expect_one_error(r, 5,
                     "unknown section [network] (sections are [hypervisor], [guest NAME] and "
                     "[switch NAME])");
    expect_guests(r, names, 2);
}

static void test_unknown_section_suggestion(void **state)
{
    struct record *r = parse("[gust web]\ncpus = 1\n" GUEST("a") "[hypervsor]\n");
    assert_int_equal(r->count, 2);
    expect_error(r, 1, "unknown section [gust] (did you mean [guest NAME]?)");
    expect_error(r, 7, "unknown section [hypervsor] (did you mean [hypervisor]?)");
    assert_int_equal(r->set.count, 1);
}

static void test_guest_without_name(void **state)
{
    static const char *const names[] = {"a", "b"};
    struct record *r = parse(GUEST("a") "[guest]\ncpus = 1\nmemory = 64M\n"
                                        "kernel = guests/test.elf\n" GUEST("b"));
    expect_one_error(r, 5, "[guest] needs a name: [guest NAME]");
    expect_guests(r, names, 2);
}

static void test_duplicate_guest_name(void **state)
{
    static const char *const names[] = {"web0", "other"};
    struct record *r = parse(GUEST("web0") GUEST("web0") GUEST("other"));
    expect_one_error(r, 5, "duplicate guest name 'web0' (first at line 1)");
    expect_guests(r, names, 2);
    /* The first one is kept, not the second. */
    assert_int_equal(r->set.guests[0].line, 1);
}

static void test_duplicate_of_a_dropped_guest(void **state)
{
    /* The first 'x' is bad, the second is still a duplicate of it. */
    struct record *r =
        parse("[guest x]\ncpus = 0\nmemory = 64M\nkernel = guests/test.elf\n" GUEST("x"));
    assert_int_equal(r->count, 2);
    expect_error(r, 2, "cpus = 0: must be 1 to 64");
    expect_error(r, 5, "duplicate guest name 'x' (first at line 1)");
    assert_int_equal(r->set.count, 0);
}

static void test_bad_guest_names(void **state)
{
    static const char *const names[] = {"ok", "abcdefghijklmnopqrstuvwxyz01234"};
    struct record *r = parse(GUEST("web.0")                             /* 1 */
                             GUEST("ok")                                /* 5 */
                             GUEST("abcdefghijklmnopqrstuvwxyz012345")  /* 9: 32 chars */
                             GUEST("abcdefghijklmnopqrstuvwxyz01234")); /* 13: 31 chars */
    assert_int_equal(r->count, 2);
    expect_error(r, 1, "bad guest name 'web.0' (letters, digits, - and _, at most 31 characters)");
    expect_error(r, 9, "bad guest name 'abcdefghijklmnopqrstuvwxyz012345'");
    expect_guests(r, names, 2);
}

static void test_bad_header_syntax_passed_through(void **state)
{
    static const char *const names[] = {"a", "c"};
    /* The tokenizer rejects line 5; its keys must not land in guest 'a'
     * (which would make them "given twice") nor make a guest of their own. */
    struct record *r = parse(GUEST("a") "[guest b c]\n"
                                        "cpus = 2\nmemory = 64M\nkernel = guests/test.elf\n"
                                        "[guest a?\n" /* 9 */
                                        "cpus = 1\n" GUEST("c"));
    assert_int_equal(r->count, 2);
    expect_error(r, 5, "bad name in section header");
    expect_error(r, 9, "section header without ']'");
    expect_guests(r, names, 2);
    assert_int_equal(r->set.guests[0].cpus, 1);
}

static void test_key_before_any_section(void **state)
{
    struct record *r = parse("cpus = 1\n" GUEST("a"));
    expect_one_error(r, 1, "key 'cpus' before any section");
    assert_int_equal(r->set.count, 1);
}

/* ---- keys ---- */

static void test_unknown_key_suggestions(void **state)
{
    static const char *const names[] = {"ok"};
    struct record *r = parse("[guest web0]\n" /* 1 */
                             "cpus = 1\n"     /* 2 */
                             "memory = 64M\n" /* 3 */
                             "kernel = guests/test.elf\n"
                             "cpu = 1\n"   /* 5 */
                             GUEST("ok")   /* 6 */
                             "[guest m]\n" /* 10 */
                             "mem = 64M\n" /* 11 */
                             "cpus = 1\n"
                             "memory = 64M\n"
                             "kernel = guests/test.elf\n"
                             "on_powerof = stop\n" /* 15 */
                             "Kernel = x\n"        /* 16 */
                             "colour = blue\n");   /* 17 */
    assert_int_equal(r->count, 5);
    expect_error(r, 5, "unknown key 'cpu' in [guest web0] (did you mean 'cpus'?)");
    expect_error(r, 11, "unknown key 'mem' in [guest m] (did you mean 'memory'?)");
    expect_error(r, 15, "(did you mean 'on_poweroff'?)");
    expect_error(r, 16, "(did you mean 'kernel'?)");
    expect_error(r, 17, "unknown key 'colour' in [guest m]");
    assert_null(strstr(r->errors[4].msg, "did you mean"));
    expect_guests(r, names, 1);
}

static void test_key_given_twice(void **state)
{
    static const char *const names[] = {"b"};
    struct record *r = parse(GUEST("a") "memory = 128M\n" GUEST("b"));
    expect_one_error(r, 5, "'memory' given twice in [guest a] (first at line 3)");
    expect_guests(r, names, 1);
}

static void test_missing_required_keys(void **state)
{
    static const char *const names[] = {"a"};
    struct record *r = parse("[guest db]\n" /* 1 */
                             "cpus = 1\n"
                             "memory = 64M\n"
                             "\n" GUEST("a")   /* 5 */
                             "[guest empty]\n" /* 9 */
                             "[guest two]\n"   /* 10 */
                             "memory = 64M\n");
    assert_int_equal(r->count, 3);
    expect_error(r, 1, "guest 'db' needs 'kernel ='");
    expect_error(r, 9, "guest 'empty' needs 'cpus =', 'memory =' and 'kernel ='");
    expect_error(r, 10, "guest 'two' needs 'cpus =' and 'kernel ='");
    expect_guests(r, names, 1);
}

static void test_missing_key_reported_with_other_problems(void **state)
{
    /* A bad value does not count as missing; a missing key is still reported
     * for a guest that already has another problem. */
    struct record *r = parse("[guest db]\ncpus = many\nmemory = 64M\n");
    assert_int_equal(r->count, 2);
    expect_error(r, 2, "cpus = many: not a number");
    expect_error(r, 1, "guest 'db' needs 'kernel ='");
    assert_int_equal(r->set.count, 0);
}

static void test_bad_cpus(void **state)
{
    static const char *const names[] = {"ok"};
    struct record *r =
        parse("[guest a]\ncpus = two\nmemory = 64M\nkernel = guests/test.elf\n"
              "[guest b]\ncpus = 0\nmemory = 64M\nkernel = guests/test.elf\n"
              "[guest c]\ncpus = 65\nmemory = 64M\nkernel = guests/test.elf\n"
              "[guest d]\ncpus = -1\nmemory = 64M\nkernel = guests/test.elf\n"
              "[guest e]\ncpus = 99999999999999999999999\nmemory = 64M\n"
              "kernel = guests/test.elf\n"
              "[guest max]\ncpus = 64\nmemory = 64M\nkernel = guests/test.elf\n" /* 21 */
              GUEST("ok"));
    assert_int_equal(r->count, 6);
    expect_error(r, 2, "cpus = two: not a number");
    expect_error(r, 6, "cpus = 0: must be 1 to 64");
    expect_error(r, 10, "cpus = 65: must be 1 to 64");
    expect_error(r, 14, "cpus = -1: not a number");
    expect_error(r, 18, "not a number");
    /* 'max' is valid but asks for 64 of 8 cores: it does not fit, 'ok' does. */
    expect_error(r, 21, "guest 'max' does not fit: it asks for 64 cores");
    expect_guests(r, names, 1);
}

static void test_cpus_at_the_maximum(void **state)
{
    struct record *r =
        parse_fit("[guest max]\ncpus = 64\nmemory = 64M\nkernel = guests/test.elf\n", 64, GIB);
    assert_int_equal(r->count, 0);
    assert_int_equal(r->set.count, 1);
    assert_int_equal(r->set.guests[0].cpus, GUEST_MAX_VCPUS);
}

static void test_bad_memory(void **state)
{
    static const char *const names[] = {"ok"};
    struct record *r = parse("[guest a]\ncpus = 1\nkernel = guests/test.elf\n"
                             "memory = 3M\n" /* 4 */
                             "[guest b]\ncpus = 1\nkernel = guests/test.elf\n"
                             "memory = 2M\n" /* 8 */
                             "[guest c]\ncpus = 1\nkernel = guests/test.elf\n"
                             "memory = 256Q\n" /* 12 */
                             "[guest d]\ncpus = 1\nkernel = guests/test.elf\n"
                             "memory = 1025M\n" /* 16 */
                             "[guest e]\ncpus = 1\nkernel = guests/test.elf\n"
                             "memory = 1M\n" /* 20 */
                             "[guest f]\ncpus = 1\nkernel = guests/test.elf\n"
                             "memory = 1.5G\n" /* 24 */
                             "[guest g]\ncpus = 1\nkernel = guests/test.elf\n"
                             "memory = 1000000\n" /* 28 */
                             "[guest h]\ncpus = 1\nkernel = guests/test.elf\n"
                             "memory = 0\n" /* 32 */
                             "[guest i]\ncpus = 1\nkernel = guests/test.elf\n"
                             "memory = 99999999999T\n" /* 36 */
                             "[guest j]\ncpus = 1\nkernel = guests/test.elf\n"
                             "memory =\n" /* 40 */
                             "[guest k]\ncpus = 1\nkernel = guests/test.elf\n"
                             "memory = 1G+3M\n" /* 44 */
                             "[guest l]\ncpus = 1\nkernel = guests/test.elf\n"
                             "memory = 1027M\n" /* 48 */
                             GUEST("ok"));
    assert_int_equal(r->count, 12);
    expect_error(r, 4, "memory = 3M: not a multiple of 2M (try 4M)");
    expect_error(r, 8, "memory = 2M: less than the minimum of 4M");
    expect_error(r, 12, "memory = 256Q: not a size (write it like 256M, 1G or 65536K)");
    expect_error(r, 16, "memory = 1025M: not a multiple of 2M (try 1026M)");
    expect_error(r, 20, "memory = 1M: not a multiple of 2M (try 4M)");
    expect_error(r, 24, "memory = 1.5G: not a size");
    expect_error(r, 28, "memory = 1000000: not a multiple of 2M (try 4M)");
    expect_error(r, 32, "memory = 0: less than the minimum of 4M");
    expect_error(r, 36, "memory = 99999999999T: not a size");
    expect_error(r, 40, "memory = : not a size");
    expect_error(r, 44, "memory = 1G+3M: not a size");
    expect_error(r, 48, "memory = 1027M: not a multiple of 2M (try 1028M)");
    expect_guests(r, names, 1);
}

static void test_memory_units(void **state)
{
    struct record *r = parse("[guest a]\ncpus=1\nkernel=guests/test.elf\nmemory = 65536K\n"
                             "[guest b]\ncpus=1\nkernel=guests/test.elf\nmemory = 1g\n"
                             "[guest c]\ncpus=1\nkernel=guests/test.elf\nmemory = 6MB\n"
                             "[guest d]\ncpus=1\nkernel=guests/test.elf\nmemory = 8388608\n"
                             "[guest e]\ncpus=1\nkernel=guests/test.elf\nmemory = 0x400000\n");
    assert_int_equal(r->count, 0);
    assert_int_equal(r->set.count, 5);
    assert_int_equal(r->set.guests[0].memory, 64 * MIB);
    assert_int_equal(r->set.guests[1].memory, GIB);
    assert_int_equal(r->set.guests[2].memory, 6 * MIB);
    assert_int_equal(r->set.guests[3].memory, 8 * MIB);
    assert_int_equal(r->set.guests[4].memory, 4 * MIB);
}

static void test_bad_kernel_and_initrd(void **state)
{
    static const char *const names[] = {"ok", "nord"};
    struct record *r = parse("[guest a]\ncpus = 1\nmemory = 64M\n"
                             "kernel = guests/missing.elf\n" /* 4 */
                             "[guest b]\ncpus = 1\nmemory = 64M\n"
                             "kernel = guests/empty.elf\n" /* 8 */
                             "[guest c]\ncpus = 1\nmemory = 64M\nkernel = guests/test.elf\n"
                             "initrd = guests/missing.gz\n" /* 13 */
                             "[guest d]\ncpus = 1\nmemory = 64M\n"
                             "kernel = ../secret.elf\n" /* 17 */
                             "[guest e]\ncpus = 1\nmemory = 64M\n"
                             "kernel = /boot/vmlinuz\n" /* 21 */
                             "[guest f]\ncpus = 1\nmemory = 64M\n"
                             "kernel =\n"                  /* 25 */
                             GUEST("ok")                   /* 26 */
                             "initrd = guests/empty.img\n" /* an empty initrd is allowed */
                             "[guest nord]\ncpus = 1\nmemory = 64M\nkernel = guests/test.elf\n"
                             "initrd =\n"); /* says: none */
    assert_int_equal(r->count, 6);
    expect_error(r, 4, "kernel = guests/missing.elf: no such file among the boot files");
    expect_error(r, 8, "kernel = guests/empty.elf: the file is empty");
    expect_error(r, 13, "initrd = guests/missing.gz: no such file among the boot files");
    expect_error(r, 17, "kernel = ../secret.elf: the path must stay below the config file's");
    expect_error(r, 21, "kernel = /boot/vmlinuz: the path must stay below");
    expect_error(r, 25, "kernel = : needs a file name");
    expect_guests(r, names, 2);
    assert_string_equal(r->set.guests[0].initrd, "guests/empty.img");
    assert_string_equal(r->set.guests[1].initrd, "");
}

static void test_modules(void **state)
{
    static const char *const names[] = {"mods", "none"};
    struct record *r = parse(GUEST("mods")                                /* 1-4 */
                             "module = guests/initrd.gz\n"                /* 5 */
                             "module = guests/other.elf  root=x  quiet\n" /* 6 */
                             "module = guests/empty.img\n"                /* 7: empty is fine */
                             "module = guests/sector.img a\n"             /* 8 */
                             GUEST("five")                                /* 9-12 */
                             "module = guests/initrd.gz\nmodule = guests/initrd.gz\n"
                             "module = guests/initrd.gz\nmodule = guests/initrd.gz\n"
                             "module = guests/disk.img\n" /* 17: a fifth */
                             "[guest bad]\ncpus = 1\nmemory = 64M\nkernel = guests/test.elf\n"
                             "module = guests/missing.bin arg\n" /* 22 */
                             "module = ../up.bin\n"              /* 23 */
                             "module =\n"                        /* 24 */
                             GUEST("none"));
    expect_error(r, 17, "module = guests/disk.img: more than 4 modules");
    expect_error(r, 22, "module = guests/missing.bin arg: no such file among the boot files");
    expect_error(r, 23, "the path must stay below the config file's directory");
    expect_error(r, 24, "module = : needs a file name");
    expect_guests(r, names, 2);
    const struct guest_config *g = &r->set.guests[0];
    assert_int_equal(g->nmodules, 4);
    assert_string_equal(g->modules[0].path, "guests/initrd.gz");
    assert_string_equal(g->modules[0].string, "guests/initrd.gz");
    assert_string_equal(g->modules[1].path, "guests/other.elf");
    assert_string_equal(g->modules[1].string, "guests/other.elf  root=x  quiet");
    assert_string_equal(g->modules[2].path, "guests/empty.img");
    assert_string_equal(g->modules[3].string, "guests/sector.img a");
    assert_int_equal(r->set.guests[1].nmodules, 0);
}

static void test_no_file_check_without_callback(void **state)
{
    struct guest_config_limits limits = {.cpus_available = 1, .memory_available = GIB};
    struct record r;
    const char *text = "[guest a]\ncpus=1\nmemory=4M\nkernel=anything.elf\n";
    memset(&r, 0, sizeof(r));
    guest_config_parse(text, strlen(text), &limits, &r.set, on_error, &r);
    assert_int_equal(r.count, 0);
    assert_int_equal(r.set.count, 1);
    assert_string_equal(r.set.guests[0].kernel, "anything.elf");
}

static void test_bad_events(void **state)
{
    static const char *const names[] = {"ok"};
    struct record *r = parse(GUEST("a") "on_poweroff = halt\n"  /* 5 */
                             GUEST("b") "on_reboot = Restart\n" /* 10 */
                             GUEST("ok"));
    assert_int_equal(r->count, 2);
    expect_error(r, 5, "on_poweroff = halt: must be 'stop' or 'restart'");
    expect_error(r, 10, "on_reboot = Restart: must be 'stop' or 'restart'");
    expect_guests(r, names, 1);
}

static void test_values_too_long(void **state)
{
    static const char *const names[] = {"ok", "longcmd"};
    char text[4096];
    char path[128], cmdline[600];

    memset(path, 'p', sizeof(path));
    memcpy(path, "guests/", 7);
    path[120] = '\0'; /* 120 characters: more than GUEST_PATH_LEN - 1 */
    memset(cmdline, 'c', sizeof(cmdline));
    cmdline[520] = '\0'; /* more than the tokenizer takes */
    char cmd511[512];
    memset(cmd511, 'x', sizeof(cmd511));
    cmd511[511] = '\0';
    snprintf(text, sizeof(text),
             "[guest a]\ncpus = 1\nmemory = 64M\nkernel = %s\n"                            /* 4 */
             "[guest b]\ncpus = 1\nmemory = 64M\nkernel = guests/test.elf\ncmdline = %s\n" /* 9 */
             GUEST("ok")                                                                   /* 10 */
             "[guest longcmd]\ncpus = 1\nmemory = 64M\nkernel = guests/test.elf\ncmdline = %s\n",
             path, cmdline, cmd511);
    struct record *r = parse(text);
    assert_int_equal(r->count, 2);
    expect_error(r, 4, "path too long (120 characters, at most 95)");
    expect_error(r, 4, "kernel = guests/ppp");
    expect_error(r, 4, "...");
    expect_error(r, 9, "key or value too long");
    expect_guests(r, names, 2);
    assert_int_equal(strlen(r->set.guests[1].cmdline), 511);
}

static void test_syntax_error_drops_its_guest(void **state)
{
    static const char *const names[] = {"b"};
    struct record *r = parse(GUEST("a") "this is not a key\n" /* 5 */
                             GUEST("b"));
    expect_one_error(r, 5, "expected 'key = value' or '[section]'");
    expect_guests(r, names, 1);
}

static void test_too_many_guests(void **state)
{
    char text[8192];
    size_t n = 0;

    for (unsigned i = 0; i < GUEST_MAX + 2; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "[guest g%u]\ncpus = 1\nmemory = 4M\nkernel = guests/test.elf\n", i);
    struct record *r = parse_with(text, n, 64, 64 * GIB);
    assert_int_equal(r->count, 2);
    expect_error(r, 4 * GUEST_MAX + 1, "guest 'g16' is one too many: at most 16 guests");
    expect_error(r, 4 * GUEST_MAX + 5, "guest 'g17' is one too many");
    assert_int_equal(r->set.count, GUEST_MAX);
    assert_string_equal(r->set.guests[GUEST_MAX - 1].name, "g15");
    assert_int_equal(r->set.cpus_used, GUEST_MAX);
}

static void test_bad_guests_do_not_count_towards_the_maximum(void **state)
{
    char text[8192];
    size_t n = 0;

    n += (size_t)snprintf(text + n, sizeof(text) - n, "[guest bad]\ncpus = 0\n");
    for (unsigned i = 0; i < GUEST_MAX; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "[guest g%u]\ncpus = 1\nmemory = 4M\nkernel = guests/test.elf\n", i);
    struct record *r = parse_with(text, n, 64, 64 * GIB);
    assert_int_equal(r->count, 2); /* cpus = 0, and the missing keys */
    assert_int_equal(r->set.count, GUEST_MAX);
}

/* ---- fitting to the machine ---- */

static void test_fit_cores_exhausted(void **state)
{
    static const char *const names[] = {"a", "b", "d"};
    struct record *r = parse_fit("[guest a]\ncpus = 2\nmemory = 64M\nkernel = guests/test.elf\n"
                                 "[guest b]\ncpus = 1\nmemory = 64M\nkernel = guests/test.elf\n"
                                 "[guest c]\ncpus = 2\nmemory = 64M\nkernel = guests/test.elf\n"
                                 "[guest d]\ncpus = 1\nmemory = 64M\nkernel = guests/test.elf\n"
                                 "[guest e]\ncpus = 1\nmemory = 64M\nkernel = guests/test.elf\n",
                                 4, GIB);
    assert_int_equal(r->count, 2);
    expect_error(r, 9,
                 "guest 'c' does not fit: it asks for 2 cores and 64M, 1 core and 896M are left");
    expect_error(r, 17,
                 "guest 'e' does not fit: it asks for 1 core and 64M, 0 cores and 832M are left");
    expect_guests(r, names, 3);
    assert_int_equal(r->set.cpus_used, 4);
    assert_int_equal(r->set.memory_used, 192 * MIB);
}

static void test_fit_memory_exhausted(void **state)
{
    static const char *const names[] = {"a", "c"};
    struct record *r = parse_fit("[guest a]\ncpus = 1\nmemory = 1G\nkernel = guests/test.elf\n"
                                 "[guest b]\ncpus = 1\nmemory = 2G\nkernel = guests/test.elf\n"
                                 "[guest c]\ncpus = 1\nmemory = 510M\nkernel = guests/test.elf\n"
                                 "[guest d]\ncpus = 1\nmemory = 4M\nkernel = guests/test.elf\n",
                                 8, GIB + 512 * MIB);
    assert_int_equal(r->count, 2);
    expect_error(r, 5,
                 "guest 'b' does not fit: it asks for 1 core and 2G, 7 cores and 512M are left");
    expect_error(r, 13,
                 "guest 'd' does not fit: it asks for 1 core and 4M, 6 cores and 2M are left");
    expect_guests(r, names, 2);
    assert_int_equal(r->set.memory_used, GIB + 510 * MIB);
}

static void test_fit_exact(void **state)
{
    static const char *const names[] = {"a", "b"};
    struct record *r = parse_fit("[guest a]\ncpus = 3\nmemory = 1G\nkernel = guests/test.elf\n"
                                 "[guest b]\ncpus = 1\nmemory = 1G\nkernel = guests/test.elf\n",
                                 4, 2 * GIB);
    assert_int_equal(r->count, 0);
    expect_guests(r, names, 2);
    assert_int_equal(r->set.cpus_used, 4);
    assert_int_equal(r->set.memory_used, 2 * GIB);
}

static void test_no_room_at_all(void **state)
{
    struct record *r = parse_fit(GUEST("a"), 0, 0);
    expect_one_error(r, 1,
                     "guest 'a' does not fit: it asks for 1 core and 64M, 0 cores and 0M are left");
    assert_int_equal(r->set.count, 0);

    struct record r2;
    const char *text = GUEST("a");
    memset(&r2, 0, sizeof(r2));
    guest_config_parse(text, strlen(text), NULL, &r2.set, on_error, &r2);
    assert_int_equal(r2.count, 1);
    assert_int_equal(r2.set.count, 0);
}

/* ---- text shapes ---- */

static void test_crlf(void **state)
{
    char text[sizeof(example) * 2];
    size_t n = 0;
    for (const char *p = example; *p; p++) {
        if (*p == '\n')
            text[n++] = '\r';
        text[n++] = *p;
    }
    struct record *r = parse_with(text, n, 8, 4 * GIB);
    check_example_guest(r);
}

static void test_no_final_newline(void **state)
{
    struct record *r = parse("[guest a]\ncpus = 1\nmemory = 64M\nkernel = guests/test.elf");
    assert_int_equal(r->count, 0);
    assert_int_equal(r->set.count, 1);
    assert_string_equal(r->set.guests[0].kernel, "guests/test.elf");

    /* A problem on the last line, without a newline, has the right number. */
    r = parse("[guest a]\ncpus = 1\nkernel = guests/test.elf\nmemory = 5M");
    expect_one_error(r, 4, "memory = 5M: not a multiple of 2M (try 6M)");
}

static void test_text_not_nul_terminated(void **state)
{
    /* Only len bytes are read: the "9" after them must not become cpus = 19. */
    const char text[] = "[guest a]\nmemory = 64M\nkernel = guests/test.elf\ncpus = 19";
    struct record *r = parse_with(text, sizeof(text) - 2, 8, GIB);
    assert_int_equal(r->count, 0);
    assert_int_equal(r->set.guests[0].cpus, 1);
}

static void test_null_error_callback(void **state)
{
    struct guest_config_limits limits = {.cpus_available = 1, .memory_available = GIB};
    struct guest_config_set set;
    const char *text = "[bad]\n[guest a]\ncpus = 0\n";
    guest_config_parse(text, strlen(text), &limits, &set, NULL, NULL);
    assert_int_equal(set.errors, 3);
    assert_int_equal(set.count, 0);
}

static void check_invariants(const struct record *r, uint32_t cpus, uint64_t mem)
{
    uint32_t total_cpus = 0;
    uint64_t total_mem = 0;

    assert_true(r->set.count <= GUEST_MAX);
    for (unsigned i = 0; i < r->set.count; i++) {
        const struct guest_config *g = &r->set.guests[i];
        assert_true(g->cpus >= 1 && g->cpus <= GUEST_MAX_VCPUS);
        assert_true(g->memory >= GUEST_MEMORY_MIN && g->memory % GUEST_MEMORY_ALIGN == 0);
        assert_true(memchr(g->name, 0, sizeof(g->name)) && g->name[0]);
        assert_true(memchr(g->kernel, 0, sizeof(g->kernel)) && g->kernel[0]);
        assert_true(memchr(g->initrd, 0, sizeof(g->initrd)));
        assert_true(memchr(g->cmdline, 0, sizeof(g->cmdline)));
        total_cpus += g->cpus;
        total_mem += g->memory;
    }
    assert_true(total_cpus <= cpus && total_mem <= mem);
    assert_int_equal(total_cpus, r->set.cpus_used);
    assert_int_equal(total_mem, r->set.memory_used);
}

static void test_garbage_64k(void **state)
{
    static char text[64 * 1024];
    uint64_t x = 0x9e3779b97f4a7c15ull;

    /* Random bytes, then the same with config-like pieces mixed in. */
    for (int round = 0; round < 2; round++) {
        static const char *const pieces[] = {
            "[guest g", "]\n", "cpus = 1\n", "memory = 4M\n",  "kernel = guests/test.elf\n",
            "\r\n",     "=",   "#",          "[hypervisor]\n", "\n"};
        size_t n = 0;
        while (n < sizeof(text)) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if (round == 1 && (x & 3) == 0) {
                const char *p = pieces[(x >> 8) % 10];
                while (*p && n < sizeof(text))
                    text[n++] = *p++;
            } else {
                text[n++] = (char)(x >> 24);
            }
        }
        struct record *r = parse_with(text, sizeof(text), 6, 512 * MIB);
        assert_true(r->count > 0);
        check_invariants(r, 6, 512 * MIB);
    }
}

static void test_many_guest_sections(void **state)
{
    /* More sections than the duplicate-name memory holds: still no crash,
     * the maximum still applies, and a late duplicate of an accepted guest
     * is still found. */
    static char text[32768];
    size_t n = 0;
    for (unsigned i = 0; i < 100; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "[guest g%u]\ncpus = 1\nmemory = 4M\nkernel = guests/test.elf\n", i);
    n += (size_t)snprintf(text + n, sizeof(text) - n,
                          "[guest g3]\ncpus = 1\nmemory = 4M\nkernel = guests/test.elf\n");
    struct record *r = parse_with(text, n, 200, 64 * GIB);
    assert_int_equal(r->set.count, GUEST_MAX);
    assert_int_equal(r->count, 100 - GUEST_MAX + 1);
    expect_error(r, 401, "duplicate guest name 'g3' (first at line 13)");
}

/* ---- disks, disk queues and I/O mode ---- */

static void test_disk_defaults(void **state)
{
    struct record *r = parse("[guest a]\ncpus = 3\nmemory = 64M\nkernel = guests/test.elf\n"
                             "[guest b]\ncpus = 40\nmemory = 64M\nkernel = guests/test.elf\n");
    /* b asks for more cores than there are, but was parsed to the end. */
    assert_int_equal(r->set.count, 1);
    const struct guest_config *g = &r->set.guests[0];
    assert_int_equal(g->ndisks, 0);
    assert_int_equal(g->disk_queues, 0);
    assert_int_equal(g->io, GUEST_IO_SIDECORE);
    assert_string_equal(guest_io_mode_name(g->io), "sidecore");
    assert_string_equal(guest_io_mode_name(GUEST_IO_TRAP), "trap");
    /* One queue per vCPU by default, at most 16. */
    assert_int_equal(guest_disk_queues(g), 3);
    struct guest_config big = *g;
    big.cpus = 40;
    assert_int_equal(guest_disk_queues(&big), GUEST_DISK_QUEUES_MAX);
    big.cpus = 17;
    assert_int_equal(guest_disk_queues(&big), 16);
    big.cpus = 16;
    assert_int_equal(guest_disk_queues(&big), 16);
    big.cpus = 15;
    assert_int_equal(guest_disk_queues(&big), 15);
    big.disk_queues = 2;
    assert_int_equal(guest_disk_queues(&big), 2);
    /* Only kernel was looked up. */
    assert_int_equal(r->file_calls, 2);
}

static void test_disk_ram(void **state)
{
    struct record *r = parse(GUEST("a")                                       /* 1 */
                             "disk = ram:guests/disk.img\n"                   /* 5 */
                             GUEST("b")                                       /* 6 */
                             "disk = ram: guests/sector.img   # one sector\n" /* 10 */
                             GUEST("c")                                       /* 11 */
                             "disk = ram:guests/disk.img\n"); /* the same image: a copy each */
    assert_int_equal(r->count, 0);
    assert_int_equal(r->set.count, 3);
    assert_int_equal(r->set.guests[0].disks[0].kind, DISK_RAM);
    assert_string_equal(r->set.guests[0].disks[0].path, "guests/disk.img");
    assert_int_equal(r->set.guests[1].disks[0].kind, DISK_RAM);
    assert_string_equal(r->set.guests[1].disks[0].path, "guests/sector.img");
    assert_string_equal(r->set.guests[2].disks[0].path, "guests/disk.img");
    assert_int_equal(r->file_calls, 6); /* three kernels, three disks */
}

static void test_disk_ram_bad(void **state)
{
    static const char *const names[] = {"ok"};
    struct record *r = parse(GUEST("a") "disk = ram:guests/missing.img\n" /* 5 */
                             GUEST("b") "disk = ram:guests/empty.img\n"   /* 10 */
                             GUEST("c") "disk = ram:guests/odd.img\n"     /* 15 */
                             GUEST("d") "disk = ram:../disk.img\n"        /* 20 */
                             GUEST("e") "disk = ram:/guests/disk.img\n"   /* 25 */
                             GUEST("f") "disk = ram:\n"                   /* 30 */
                             GUEST("ok") "disk = ram:guests/disk.img\n");
    assert_int_equal(r->count, 6);
    expect_exact_error(r, 5, "disk = ram:guests/missing.img: no such file among the boot files");
    expect_exact_error(r, 10,
                       "disk = ram:guests/empty.img: the file is empty (a disk image is a "
                       "non-zero multiple of 512 bytes)");
    expect_exact_error(r, 15,
                       "disk = ram:guests/odd.img: the file is 1000 bytes, not a multiple of 512");
    expect_exact_error(r, 20,
                       "disk = ram:../disk.img: the path must stay below the config file's "
                       "directory");
    expect_exact_error(r, 25,
                       "disk = ram:/guests/disk.img: the path must stay below the config file's "
                       "directory");
    expect_exact_error(r, 30, "disk = ram:: needs a file name (ram:PATH)");
    expect_guests(r, names, 1);
}

static void test_disk_ram_size_unknown(void **state)
{
    /* Without a boot-file callback the path is only checked for shape. */
    struct guest_config_limits limits = {.cpus_available = 1, .memory_available = GIB};
    struct record r;
    const char *text = GUEST("a") "disk = ram:whatever.img\n";
    memset(&r, 0, sizeof(r));
    guest_config_parse(text, strlen(text), &limits, &r.set, on_error, &r);
    assert_int_equal(r.count, 0);
    assert_int_equal(r.set.count, 1);
    assert_int_equal(r.set.guests[0].disks[0].kind, DISK_RAM);
    assert_string_equal(r.set.guests[0].disks[0].path, "whatever.img");
}

static void test_disk_nvme(void **state)
{
    struct record *r = parse(GUEST("a")                     /* 1 */
                             "disk = nvme:0:1\n"            /* 5 */
                             GUEST("b")                     /* 6 */
                             "disk = nvme:1:2:1G+4G\n"      /* 10 */
                             GUEST("c")                     /* 11 */
                             "disk = nvme:1:2:512+1536\n"); /* 15 */
    assert_int_equal(r->count, 0);
    assert_int_equal(r->set.count, 3);
    const struct disk_spec *d = &r->set.guests[0].disks[0];
    assert_int_equal(d->kind, DISK_NVME);
    assert_int_equal(d->ctrl, 0);
    assert_int_equal(d->nsid, 1);
    assert_true(d->whole);
    d = &r->set.guests[1].disks[0];
    assert_int_equal(d->kind, DISK_NVME);
    assert_int_equal(d->ctrl, 1);
    assert_int_equal(d->nsid, 2);
    assert_false(d->whole);
    assert_int_equal(d->start, GIB);
    assert_int_equal(d->length, 4 * GIB);
    d = &r->set.guests[2].disks[0];
    assert_int_equal(d->start, 512);
    assert_int_equal(d->length, 1536);
    assert_int_equal(r->file_calls, 3); /* NVMe disks are no boot files */
}

static void test_disk_null(void **state)
{
    /* Two null disks and an NVMe whole namespace: null disks store
     * nothing, so they overlap nothing and are no boot files. */
    struct record *r = parse(GUEST("a")                  /* 1 */
                             "disk = null:1G:100us\n"    /* 5 */
                             "disk = null:64M\n"         /* 6 */
                             "disk = nvme:0:1\n"         /* 7 */
                             GUEST("b")                  /* 8 */
                             "disk = null:1G:100us\n"    /* 12 */
                             "disk = null:1G:2000ms\n"); /* 13 */
    assert_int_equal(r->count, 1);
    expect_exact_error(r, 13, "disk = null:1G:2000ms: latency 2000ms: at most 1000ms");
    assert_int_equal(r->set.count, 1); /* b is dropped for its bad line */
    const struct guest_config *g = &r->set.guests[0];
    assert_int_equal(g->ndisks, 3);
    assert_int_equal(g->disks[0].kind, DISK_NULL);
    assert_int_equal(g->disks[0].size, GIB);
    assert_int_equal(g->disks[0].latency_ns, 100000);
    assert_int_equal(g->disks[1].kind, DISK_NULL);
    assert_int_equal(g->disks[1].latency_ns, 0);
    assert_int_equal(g->disks[2].kind, DISK_NVME);
    assert_int_equal(r->file_calls, 2); /* the kernels only */
}

static void test_disk_bad_values(void **state)
{
    static const char *const names[] = {"ok"};
    struct record *r = parse(GUEST("a") "disk = guests/disk.img\n"  /* 5 */
                             GUEST("b") "disk = nvme:0\n"           /* 10 */
                             GUEST("c") "disk = nvme:x:1\n"         /* 15 */
                             GUEST("d") "disk = nvme:0:0\n"         /* 20 */
                             GUEST("e") "disk = nvme:0:1:1G\n"      /* 25 */
                             GUEST("f") "disk = nvme:0:1:100+1G\n"  /* 30 */
                             GUEST("g") "disk = nvme:0:1:0+1000\n"  /* 35 */
                             GUEST("h") "disk = nvme:0:1:1G+0\n"    /* 40 */
                             GUEST("i") "disk = nvme:0:1:1Q+1G\n"   /* 45 */
                             GUEST("j") "disk = nvme:300:1\n"       /* 50 */
                             GUEST("ok") "disk = nvme:0:1:0+1G\n"); /* 55 */
    assert_int_equal(r->count, 10);
    expect_exact_error(r, 5,
                       "disk = guests/disk.img: must be ram:PATH, nvme:CTRL:NSID, "
                       "nvme:CTRL:NSID:START+LENGTH or null:SIZE[:LATENCY]");
    expect_exact_error(r, 10,
                       "disk = nvme:0: write it as nvme:CTRL:NSID or nvme:CTRL:NSID:START+LENGTH");
    expect_exact_error(r, 15, "disk = nvme:x:1: controller 'x' is not a number");
    expect_exact_error(r, 20, "disk = nvme:0:0: namespace 0: must be 1 to 4294967294");
    expect_exact_error(r, 25, "disk = nvme:0:1:1G: the range must be START+LENGTH (like 1G+4G)");
    expect_exact_error(r, 30, "disk = nvme:0:1:100+1G: start 100 is not a multiple of 512");
    expect_exact_error(r, 35, "disk = nvme:0:1:0+1000: length 1000 is not a multiple of 512");
    expect_exact_error(r, 40,
                       "disk = nvme:0:1:1G+0: the length must not be 0 (leave the range out for "
                       "the whole namespace)");
    expect_exact_error(r, 45,
                       "disk = nvme:0:1:1Q+1G: start '1Q' is not a size (write it like 0, 4096, "
                       "64M or 1G)");
    expect_exact_error(r, 50, "disk = nvme:300:1: controller 300: must be 0 to 255");
    /* Bad disks are not remembered: 'ok' overlaps none of them. */
    expect_guests(r, names, 1);
}

static void test_several_disks(void **state)
{
    static const char *const names[] = {"a", "c"};
    struct record *r = parse(GUEST("a") "disk = nvme:0:1:0+1G\n"       /* 5 */
                                        "disk = ram:guests/disk.img\n" /* 6 */
                                        "disk =\n"                     /* 7: adds none */
                                        "disk = nvme:0:1:1G+1G\n"      /* 8 */
                             GUEST("b") "disk = nvme:0:1:2G+1G\n"      /* 13 */
                                        "disk = nvme:0:1:2G+4K\n"      /* 14: its own first */
                             GUEST("c") "disk = nvme:0:1:3G+1G\n");
    expect_one_error(r, 14,
                     "disk = nvme:0:1:2G+4K: overlaps nvme:0:1:2G+1G of [guest b] at line 9");
    expect_guests(r, names, 2);
    const struct guest_config *g = &r->set.guests[0];
    assert_int_equal(g->ndisks, 3);
    assert_int_equal(g->disks[0].kind, DISK_NVME);
    assert_int_equal(g->disks[1].kind, DISK_RAM);
    assert_string_equal(g->disks[1].path, "guests/disk.img");
    assert_int_equal(g->disks[2].kind, DISK_NVME);
    assert_int_equal(g->disks[2].start, 1ull << 30);
    assert_int_equal(r->set.guests[1].ndisks, 1);

    /* At most GUEST_DISKS_MAX. */
    char text[1024];
    size_t n = (size_t)snprintf(text, sizeof(text), "%s", GUEST("m"));
    for (unsigned i = 0; i <= GUEST_DISKS_MAX; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "disk = nvme:0:2:%uG+1G\n", i);
    r = parse(text);
    expect_one_error(r, 5 + GUEST_DISKS_MAX, "one disk too many (at most 8 a guest)");
}

static void test_disk_empty_means_none(void **state)
{
    struct record *r = parse(GUEST("a") "disk =\n" GUEST("b") "disk = nvme:0:1\n");
    assert_int_equal(r->count, 0);
    assert_int_equal(r->set.count, 2);
    assert_int_equal(r->set.guests[0].disks[0].kind, DISK_NONE);
    assert_int_equal(r->set.guests[1].disks[0].kind, DISK_NVME);
}

/* ---- NVMe disks shared between guests ---- */

static void test_disk_overlap_whole_then_range(void **state)
{
    static const char *const names[] = {"a", "c"};
    struct record *r = parse(GUEST("a") "disk = nvme:0:1\n"         /* 1, 5 */
                             GUEST("b") "disk = nvme:0:1:4G+1G\n"   /* 6, 10 */
                             GUEST("c") "disk = nvme:0:2:4G+1G\n"); /* another namespace */
    expect_one_error(r, 10, "");
    expect_exact_error(r, 10, "disk = nvme:0:1:4G+1G: overlaps nvme:0:1 of [guest a] at line 1");
    expect_guests(r, names, 2);
}

static void test_disk_overlap_range_then_whole(void **state)
{
    static const char *const names[] = {"a", "c"};
    struct record *r = parse(GUEST("a") "disk = nvme:2:7:1G+1G\n" /* 1, 5 */
                             GUEST("b") "disk = nvme:2:7\n"       /* 6, 10 */
                             GUEST("c") "disk = nvme:3:7\n");     /* another controller */
    expect_one_error(r, 10, "");
    expect_exact_error(r, 10, "disk = nvme:2:7: overlaps nvme:2:7:1G+1G of [guest a] at line 1");
    expect_guests(r, names, 2);
}

static void test_disk_overlap_ranges(void **state)
{
    static const char *const names[] = {"a", "b", "c", "e"};
    struct record *r = parse(GUEST("a") "disk = nvme:0:1:0+1G\n"            /* 1 */
                             GUEST("b") "disk = nvme:0:1:1G+1G\n"           /* adjacent */
                             GUEST("c") "disk = nvme:0:1:3G+1G\n"           /* 11 */
                             GUEST("d") "disk = nvme:0:1:3584M+1G\n"        /* 16, 20: hits c */
                             GUEST("e") "disk = nvme:0:1:2G+1G\n"           /* the gap, exactly */
                             GUEST("f") "disk = nvme:0:1:1536M+1024M\n"     /* 26, 30: b and e */
                             GUEST("g") "disk = nvme:0:1:1073741312+1K\n"); /* 31, 35: a and b */
    assert_int_equal(r->count, 3);
    expect_exact_error(r, 20,
                       "disk = nvme:0:1:3584M+1G: overlaps nvme:0:1:3G+1G of [guest c] at line 11");
    /* The first earlier disk it overlaps is named. */
    expect_exact_error(r, 30,
                       "disk = nvme:0:1:1536M+1024M: overlaps nvme:0:1:1G+1G of [guest b] at "
                       "line 6");
    expect_exact_error(r, 35,
                       "disk = nvme:0:1:1073741312+1K: overlaps nvme:0:1:0+1G of [guest a] at "
                       "line 1");
    expect_guests(r, names, 4);
}

static void test_disk_overlap_with_dropped_guest(void **state)
{
    /* A conflict in the file is one whether or not the earlier guest was
     * kept: 'a' has a bad cpus, 'b' does not fit; both still claim blocks. */
    static const char *const names[] = {"e"};
    struct record *r = parse_fit("[guest a]\ncpus = 0\nmemory = 64M\nkernel = guests/test.elf\n"
                                 "disk = nvme:0:1:0+1G\n" /* 5 */
                                 "[guest b]\ncpus = 9\nmemory = 64M\nkernel = guests/test.elf\n"
                                 "disk = nvme:0:2\n"                    /* 10 */
                                 GUEST("c") "disk = nvme:0:1:512M+1G\n" /* 15 */
                                 GUEST("d") "disk = nvme:0:2:0+4K\n"    /* 20 */
                                 GUEST("e") "disk = nvme:0:1:1G+1G\n",  /* 25 */
                                 8, GIB);
    assert_int_equal(r->count, 4);
    expect_exact_error(r, 2, "cpus = 0: must be 1 to 64");
    expect_error(r, 6, "guest 'b' does not fit");
    expect_exact_error(r, 15,
                       "disk = nvme:0:1:512M+1G: overlaps nvme:0:1:0+1G of [guest a] at line 1");
    expect_exact_error(r, 20, "disk = nvme:0:2:0+4K: overlaps nvme:0:2 of [guest b] at line 6");
    /* 'c' and 'd' were dropped for their overlaps, so their windows block
     * nothing: 'e' only touches 'a', and is kept. */
    expect_guests(r, names, 1);
}

static void test_disk_overlap_unnamed_guest(void **state)
{
    struct record *r = parse("[guest]\ncpus = 1\nmemory = 64M\nkernel = guests/test.elf\n"
                             "disk = nvme:0:1\n" GUEST("b") "disk = nvme:0:1:0+1G\n"); /* 10 */
    assert_int_equal(r->count, 2);
    expect_exact_error(r, 1, "[guest] needs a name: [guest NAME]");
    expect_exact_error(r, 10, "disk = nvme:0:1:0+1G: overlaps nvme:0:1 of [guest] at line 1");
    assert_int_equal(r->set.count, 0);
}

static void test_disk_overlap_past_the_memory(void **state)
{
    /* More NVMe disks than the parser remembers: 40 bad sections, each on its
     * own namespace, then a good guest; a later overlap with the good one is
     * still found through the accepted guests. */
    static char text[16384];
    size_t n = 0;
    for (unsigned i = 0; i < 40; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "[guest bad%u]\ncpus = 0\nmemory = 4M\nkernel = guests/test.elf\n"
                              "disk = nvme:0:%u\n",
                              i, i + 1);
    unsigned good = 40 * 5 + 1;
    n += (size_t)snprintf(text + n, sizeof(text) - n,
                          GUEST("good")                            /* good */
                          "disk = nvme:0:100:0+1G\n"               /* good + 4 */
                          GUEST("late")                            /* good + 5 */
                          "disk = nvme:0:100:1023M+1M\n"           /* good + 9 */
                          "[guest first]\ncpus = 1\nmemory = 4M\n" /* good + 10 */
                          "kernel = guests/test.elf\n"             /* good + 13 */
                          "disk = nvme:0:1:0+1G\n");               /* good + 14 */
    struct record *r = parse_with(text, n, 8, GIB);
    assert_int_equal(r->count, 40 + 2);
    expect_exact_error(r, good + 9,
                       "disk = nvme:0:100:1023M+1M: overlaps nvme:0:100:0+1G of [guest good] at "
                       "line 201");
    /* A remembered one is found too. */
    expect_exact_error(r, good + 14,
                       "disk = nvme:0:1:0+1G: overlaps nvme:0:1 of [guest bad0] at line 1");
    assert_int_equal(r->set.count, 1);
    assert_string_equal(r->set.guests[0].name, "good");
}

/* ---- disk_queues and io ---- */

static void test_disk_queues(void **state)
{
    static const char *const names[] = {"a", "b", "c", "nodisk"};
    struct record *r = parse(GUEST("a")            /* 1 */
                             "disk = nvme:0:1\n"   /* 5 */
                             "disk_queues = 1\n"   /* 6 */
                             GUEST("b")            /* 7 */
                             "disk = nvme:0:2\n"   /* 11 */
                             "disk_queues = 16\n"  /* 12 */
                             GUEST("c")            /* 13 */
                             "disk = nvme:0:3\n"   /* 17 */
                             "disk_queues = 0x4\n" /* 18 */
                             GUEST("nodisk")       /* 19: no disk, accepted anyway */
                             "disk_queues = 2\n"   /* 23 */
                             GUEST("z")            /* 24 */
                             "disk = nvme:0:4\n"   /* 28 */
                             "disk_queues = 0\n"   /* 29 */
                             GUEST("y")            /* 30 */
                             "disk = nvme:0:5\n"   /* 34 */
                             "disk_queues = 17\n"  /* 35 */
                             GUEST("x")            /* 36 */
                             "disk = nvme:0:6\n"   /* 40 */
                             "disk_queues = all\n" /* 41 */
                             GUEST("w")            /* 42 */
                             "disk = nvme:0:7\n"   /* 46 */
                             "disk_queues = -1\n"  /* 47 */
                             GUEST("v")            /* 48 */
                             "disk_queues = 2\n"   /* 52 */
                             "disk_queues = 2\n"); /* 53 */
    assert_int_equal(r->count, 5);
    expect_exact_error(r, 29, "disk_queues = 0: must be 1 to 16");
    expect_exact_error(r, 35, "disk_queues = 17: must be 1 to 16");
    expect_exact_error(r, 41, "disk_queues = all: not a number");
    expect_exact_error(r, 47, "disk_queues = -1: not a number");
    expect_exact_error(r, 53, "'disk_queues' given twice in [guest v] (first at line 52)");
    expect_guests(r, names, 4);
    assert_int_equal(r->set.guests[0].disk_queues, 1);
    assert_int_equal(r->set.guests[1].disk_queues, 16);
    assert_int_equal(r->set.guests[2].disk_queues, 4);
    assert_int_equal(r->set.guests[3].disk_queues, 2);
    assert_int_equal(guest_disk_queues(&r->set.guests[2]), 4);
}

static void test_io_mode(void **state)
{
    static const char *const names[] = {"a", "b"};
    struct record *r = parse(GUEST("a") "io = trap\n"     /* 1, 5 */
                             GUEST("b") "io = sidecore\n" /* 6, 10 */
                             GUEST("c") "io = Trap\n"     /* 11, 15 */
                             GUEST("d") "io = exitless\n" /* 16, 20 */
                             GUEST("e") "io =\n");        /* 21, 25 */
    assert_int_equal(r->count, 3);
    expect_exact_error(r, 15, "io = Trap: must be 'sidecore' or 'trap'");
    expect_exact_error(r, 20, "io = exitless: must be 'sidecore' or 'trap'");
    expect_exact_error(r, 25, "io = : must be 'sidecore' or 'trap'");
    expect_guests(r, names, 2);
    assert_int_equal(r->set.guests[0].io, GUEST_IO_TRAP);
    assert_int_equal(r->set.guests[1].io, GUEST_IO_SIDECORE);
}

static void test_interrupt_coalescing(void **state)
{
    static const char *const names[] = {"a", "b", "c"};
    struct record *r = parse(GUEST("a") "interrupt_coalescing = off\n"      /* 1, 5 */
                             GUEST("b") "interrupt_coalescing = adaptive\n" /* 6, 10 */
                             GUEST("c")                                     /* 11: no key */
                             GUEST("d") "interrupt_coalescing = Off\n"      /* 15, 19 */
                             GUEST("e") "interrupt_coalescing = on\n");     /* 20, 24 */
    assert_int_equal(r->count, 2);
    expect_exact_error(r, 19, "interrupt_coalescing = Off: must be 'adaptive' or 'off'");
    expect_exact_error(r, 24, "interrupt_coalescing = on: must be 'adaptive' or 'off'");
    expect_guests(r, names, 3);
    assert_true(r->set.guests[0].coalescing_off);
    assert_false(r->set.guests[1].coalescing_off);
    assert_false(r->set.guests[2].coalescing_off); /* adaptive by default */
}

static void test_halt(void **state)
{
    static const char *const names[] = {"a", "b", "c"};
    struct record *r = parse(GUEST("a") "halt = guest\n"      /* 1, 5 */
                             GUEST("b") "halt = hypervisor\n" /* 6, 10 */
                             GUEST("c")                       /* 11: no key */
                             GUEST("d") "halt = Guest\n"      /* 15, 19 */
                             GUEST("e") "halt =\n");          /* 20, 24 */
    assert_int_equal(r->count, 2);
    expect_exact_error(r, 19, "halt = Guest: must be 'hypervisor' or 'guest'");
    expect_exact_error(r, 24, "halt = : must be 'hypervisor' or 'guest'");
    expect_guests(r, names, 3);
    assert_true(r->set.guests[0].halt_in_guest);
    assert_false(r->set.guests[1].halt_in_guest);
    assert_false(r->set.guests[2].halt_in_guest); /* the hypervisor's by default */
}

static void test_virtio_console_key(void **state)
{
    static const char *const names[] = {"a", "b", "c"};
    struct record *r = parse(GUEST("a") "virtio_console = on\n"              /* 1, 5 */
                             GUEST("b") "virtio_console = off\n"             /* 6, 10 */
                             GUEST("c")                                      /* 11: no key */
                             GUEST("d") "virtio_console = yes\n"             /* 15, 19 */
                             GUEST("e") "io = trap\nvirtio_console = on\n"); /* 20, 24, 25 */
    assert_int_equal(r->count, 2);
    expect_exact_error(r, 19, "virtio_console = yes: must be 'on' or 'off'");
    expect_exact_error(r, 25, "guest 'e': virtio_console = on needs io = sidecore and a sidecore");
    expect_guests(r, names, 3);
    assert_true(r->set.guests[0].virtio_console);
    assert_false(r->set.guests[1].virtio_console);
    assert_false(r->set.guests[2].virtio_console); /* off by default */

    /* No sidecore at all: refused too. */
    const char *text = GUEST("f") "virtio_console = on\n";
    r = parse_limits(text, strlen(text), 8, 4 * GIB, true);
    expect_one_error(r, 5, "guest 'f': virtio_console = on needs io = sidecore and a sidecore");
}

static void test_no_sidecores(void **state)
{
    static const char *const names[] = {"trapped", "nodisk"};
    const char *text = GUEST("dflt") "disk = nvme:0:1:0+1G\n"           /* 1 */
        GUEST("explicit") "io = sidecore\ndisk = ram:guests/disk.img\n" /* 6, 10 */
        GUEST("trapped") "disk = nvme:0:1:1G+1G\nio = trap\n"           /* 12 */
        GUEST("nodisk");                                                /* 18 */
    struct record *r = parse_limits(text, strlen(text), 8, 4 * GIB, true);
    assert_int_equal(r->count, 2);
    expect_exact_error(r, 1,
                       "guest 'dflt' needs a sidecore for its disk, but [hypervisor] sidecores = "
                       "0 (write 'io = trap')");
    expect_exact_error(r, 10,
                       "guest 'explicit' needs a sidecore for its disk, but [hypervisor] "
                       "sidecores = 0 (write 'io = trap')");
    expect_guests(r, names, 2);

    /* A bad disk line is its only problem: no disk is left to need a sidecore. */
    const char *bad = GUEST("a") "disk = ram:guests/odd.img\n";
    r = parse_limits(bad, strlen(bad), 8, 4 * GIB, true);
    expect_one_error(r, 5, "disk = ram:guests/odd.img: the file is 1000 bytes");
    /* Nor does a bad io value get a second message. */
    bad = GUEST("a") "disk = nvme:0:1\nio = Trap\n";
    r = parse_limits(bad, strlen(bad), 8, 4 * GIB, true);
    expect_one_error(r, 6, "io = Trap: must be 'sidecore' or 'trap'");

    /* With sidecores, the same text is fine. */
    r = parse(text);
    assert_int_equal(r->count, 0);
    assert_int_equal(r->set.count, 4);
}

static void test_new_key_suggestions(void **state)
{
    struct record *r = parse(GUEST("a") "disks = nvme:0:1\n"  /* 5 */
                                        "disk_queue = 2\n"    /* 6 */
                                        "oi = trap\n"         /* 7 */
                                        "Disk = nvme:0:1\n"); /* 8 */
    assert_int_equal(r->count, 4);
    expect_exact_error(r, 5, "unknown key 'disks' in [guest a] (did you mean 'disk'?)");
    expect_exact_error(r, 6, "unknown key 'disk_queue' in [guest a] (did you mean 'disk_queues'?)");
    expect_exact_error(r, 7, "unknown key 'oi' in [guest a] (did you mean 'io'?)");
    expect_exact_error(r, 8, "unknown key 'Disk' in [guest a] (did you mean 'disk'?)");
    assert_int_equal(r->set.count, 0);
}

static void test_full_guest_with_disk(void **state)
{
    /* Every key at once, in an unusual order, with comments. */
    struct record *r = parse("[hypervisor]\nsidecores = auto\n"
                             "[guest db]\n"
                             "io = trap                 # exits on each notify\n"
                             "disk = nvme:0:1:1G+4G     # a window of namespace 1\n"
                             "disk_queues = 2\n"
                             "cmdline = root=/dev/vda\n"
                             "kernel = guests/test.elf\n"
                             "memory = 512M\n"
                             "cpus = 4\n");
    assert_int_equal(r->count, 0);
    assert_int_equal(r->set.count, 1);
    const struct guest_config *g = &r->set.guests[0];
    assert_int_equal(g->io, GUEST_IO_TRAP);
    assert_int_equal(g->disks[0].kind, DISK_NVME);
    assert_int_equal(g->disks[0].start, GIB);
    assert_int_equal(g->disks[0].length, 4 * GIB);
    assert_int_equal(g->disk_queues, 2);
    assert_int_equal(guest_disk_queues(g), 2);
    assert_string_equal(g->cmdline, "root=/dev/vda");
}

/* ---- networking: net =, net_queues =, [switch] ---- */

static void test_net_defaults(void **state)
{
    uint8_t mac0[6], mac1[6];
    struct record *r = parse(
        GUEST("a") "net = lan\nnet = dmz\n" GUEST("b") "net = lan\n"
                                                       "cpus = 2\n" /* twice: b is dropped */);
    expect_one_error(r, 12, "'cpus' given twice");
    r = parse("[guest a]\ncpus = 2\nmemory = 64M\nkernel = guests/test.elf\n"
              "net = lan\nnet = dmz\n" GUEST("b") "net = lan\n");
    assert_int_equal(r->count, 0);
    assert_int_equal(r->set.count, 2);
    const struct guest_config *a = &r->set.guests[0], *b = &r->set.guests[1];
    assert_int_equal(a->nnets, 2);
    assert_string_equal(a->nets[0].sw, "lan");
    assert_string_equal(a->nets[1].sw, "dmz");
    assert_false(a->nets[0].mac_given);
    assert_int_equal(a->nets[1].line, 6);
    /* Default MACs: locally administered unicast, stable, one per index. */
    guest_net_default_mac("a", 0, mac0);
    guest_net_default_mac("a", 1, mac1);
    assert_memory_equal(a->nets[0].mac, mac0, 6);
    assert_memory_equal(a->nets[1].mac, mac1, 6);
    assert_int_equal(mac0[0], 0x02);
    assert_memory_not_equal(mac0, mac1, 6);
    assert_memory_not_equal(a->nets[0].mac, b->nets[0].mac, 6);
    /* One pair per vCPU unless net_queues says. */
    assert_int_equal(a->net_queues, 0);
    assert_int_equal(guest_net_queues(a), 2);
    assert_int_equal(guest_net_queues(b), 1);
    /* Switches are implicit: every name a kept guest uses, once. */
    assert_int_equal(r->set.nswitches, 2);
    const struct guest_switch_config *lan = guest_config_switch(&r->set, "lan");
    assert_non_null(lan);
    assert_int_equal(lan->nguests, 2);
    assert_int_equal(lan->uplink_nic, -1);
    assert_int_equal(lan->line, 0);
    assert_false(lan->trap);
    assert_int_equal(guest_config_switch(&r->set, "dmz")->nguests, 1);
    assert_null(guest_config_switch(&r->set, "wan"));
}

static void test_net_mac_given(void **state)
{
    struct record *r = parse(GUEST("a") "net = lan , mac=02:00:00:00:00:0A\n"
                                        "net = lan,mac=02-00-00-00-00-0b\n");
    assert_int_equal(r->count, 0);
    const struct guest_config *a = &r->set.guests[0];
    static const uint8_t want0[6] = {2, 0, 0, 0, 0, 10}, want1[6] = {2, 0, 0, 0, 0, 11};
    assert_true(a->nets[0].mac_given);
    assert_memory_equal(a->nets[0].mac, want0, 6);
    assert_memory_equal(a->nets[1].mac, want1, 6);
    assert_string_equal(a->nets[0].sw, "lan");
    /* Two ports of one guest on a switch: the switch counts the guest once. */
    assert_int_equal(guest_config_switch(&r->set, "lan")->nguests, 1);
}

static void test_net_bad_values(void **state)
{
    static const char *const names[] = {"ok"};
    struct record *r;

    r = parse(GUEST("a") "net = lan,mac=01:00:00:00:00:01\n" GUEST("ok"));
    expect_one_error(r, 5, "net = lan,mac=01:00:00:00:00:01: the MAC must be a unicast, non-zero");
    expect_guests(r, names, 1);
    r = parse(GUEST("a") "net = lan,mac=00:00:00:00:00:00\n" GUEST("ok"));
    expect_one_error(r, 5, "unicast, non-zero");
    r = parse(GUEST("a") "net = lan,mac=02:00:00:00:00\n" GUEST("ok"));
    expect_one_error(r, 5, "only ',mac=XX:XX:XX:XX:XX:XX' may follow");
    r = parse(GUEST("a") "net = lan,speed=10G\n" GUEST("ok"));
    expect_one_error(r, 5, "only ',mac=XX:XX:XX:XX:XX:XX' may follow");
    r = parse(GUEST("a") "net = l@n\n" GUEST("ok"));
    expect_one_error(r, 5, "net = l@n: bad switch name");
    r = parse(GUEST("a") "net =\n" GUEST("ok"));
    expect_one_error(r, 5, "needs a switch name");
    r = parse(GUEST("a") "net = a\nnet = b\nnet = c\nnet = d\nnet = e\n" GUEST("ok"));
    expect_one_error(r, 9, "net = e: one network device too many (at most 4 a guest)");
    expect_guests(r, names, 1);
    r = parse(GUEST("a") "net_queues = 8\n" GUEST("ok"));
    expect_one_error(r, 5, "net_queues = 8: must be 1 to 7");
    r = parse(GUEST("a") "net_queues = x\n" GUEST("ok"));
    expect_one_error(r, 5, "net_queues = x: not a number");
    r = parse(GUEST("a") "net_queues = 3\n");
    assert_int_equal(r->count, 0);
    assert_int_equal(guest_net_queues(&r->set.guests[0]), 3);
}

static void test_net_duplicate_mac(void **state)
{
    static const char *const names[] = {"a", "c"};
    struct record *r = parse(GUEST("a") "net = lan,mac=02:00:00:00:00:01\n" /* 5 */
                             GUEST("b") "net = dmz,mac=02:00:00:00:00:01\n" /* 10 */
                             GUEST("c") "net = lan,mac=02:00:00:00:00:02\n"
                                        "net = dmz,mac=02:00:00:00:00:02\n"); /* 16 */
    assert_int_equal(r->count, 2);
    expect_exact_error(r, 10,
                       "net = dmz,mac=02:00:00:00:00:01: MAC 02:00:00:00:00:01 is already "
                       "a's (line 5)");
    expect_exact_error(r, 16,
                       "net = dmz,mac=02:00:00:00:00:02: MAC 02:00:00:00:00:02 is already "
                       "this guest's (line 15)");
    (void)names;
    assert_int_equal(r->set.count, 1);
    /* A derived MAC someone took explicitly: the message says how to fix it. */
    uint8_t m[6];
    char line[200];
    guest_net_default_mac("z", 0, m);
    snprintf(line, sizeof(line),
             GUEST("a") "net = lan,mac=%02x:%02x:%02x:%02x:%02x:%02x\n" GUEST("z") "net = lan\n",
             m[0], m[1], m[2], m[3], m[4], m[5]);
    r = parse(line);
    expect_one_error(r, 10, "is already a's (line 5); give this one with ',mac='");
}

static void test_switch_uplink(void **state)
{
    struct record *r = parse(
        "[switch lan]\nuplink = nic:1\n" GUEST("a") "net = lan\n"
                                                    "[switch dmz]\n" /* 8: declared, no guest */
                                                    "uplink = nic:0\n");
    assert_int_equal(r->count, 0);
    assert_int_equal(r->set.nswitches, 2);
    const struct guest_switch_config *lan = guest_config_switch(&r->set, "lan");
    assert_int_equal(lan->line, 1);
    assert_int_equal(lan->uplink_nic, 1);
    assert_int_equal(lan->uplink_line, 2);
    assert_int_equal(lan->nguests, 1);
    assert_int_equal(guest_config_switch(&r->set, "dmz")->uplink_nic, 0);
    assert_int_equal(guest_config_switch(&r->set, "dmz")->nguests, 0);
    /* The section may follow the guests that use the switch. */
    r = parse(GUEST("a") "net = lan\n[switch lan]\nuplink = nic:0\n");
    assert_int_equal(r->count, 0);
    assert_int_equal(guest_config_switch(&r->set, "lan")->uplink_nic, 0);
}

static void test_switch_errors(void **state)
{
    struct record *r;

    r = parse("[switch lan]\nuplink = nic:2\n");
    expect_one_error(r, 2, "uplink = nic:2: there is no such NIC (found nic0 to nic1)");
    test_nics = 0;
    r = parse("[switch lan]\nuplink = nic:0\n");
    test_nics = 2;
    expect_one_error(r, 2, "uplink = nic:0: no NIC was found");
    r = parse("[switch lan]\nuplink = eth0\n");
    expect_one_error(r, 2, "uplink = eth0: must be nic:N");
    r = parse("[switch lan]\nuplink = nic:0\nuplink = nic:1\n");
    expect_one_error(r, 3, "'uplink' given twice in [switch lan] (first at line 2)");
    r = parse("[switch lan]\nvlan = 4\n");
    expect_one_error(r, 2, "unknown key 'vlan' in [switch lan]");
    r = parse("[switch lan]\n[switch lan]\n");
    expect_one_error(r, 2, "duplicate section [switch lan] (first at line 1)");
    r = parse("[switch]\nuplink = nic:0\n");
    expect_one_error(r, 1, "[switch] needs a name: [switch NAME]");
    r = parse("[switch a]\nuplink = nic:0\n[switch b]\nuplink = nic:0\n");
    expect_one_error(r, 4, "uplink = nic:0: already the uplink of switch a (line 2)");
    r = parse("[swich lan]\n");
    expect_one_error(r, 1, "unknown section [swich] (did you mean [switch NAME]?)");
}

static void test_switch_served_one_way(void **state)
{
    static const char *const names[] = {"a", "c"};
    struct record *r;

    /* A switch is polled by one sidecore or serviced by its guests' vCPUs. */
    r = parse(GUEST("a") "net = lan\n" GUEST("b") "io = trap\nnet = lan\n" /* 11 */
              GUEST("c") "io = trap\nnet = dmz\n");
    expect_one_error(r, 11,
                     "net = lan: this guest is io = trap, but the switch's other guests "
                     "are io = sidecore");
    expect_guests(r, names, 2);
    assert_true(guest_config_switch(&r->set, "dmz")->trap);
    /* An uplink needs a sidecore to poll the NIC. */
    r = parse("[switch lan]\nuplink = nic:0\n" GUEST("a") "io = trap\nnet = lan\n");
    expect_one_error(r, 8, "net = lan: the switch has an uplink (line 2)");
    r = parse(GUEST("a") "io = trap\nnet = lan\n[switch lan]\nuplink = nic:0\n");
    expect_one_error(r, 8, "uplink = nic:0: needs a sidecore to poll the NIC");
    assert_int_equal(guest_config_switch(&r->set, "lan")->uplink_nic, -1);
    /* sidecores = 0: a network device needs io = trap. */
    const char *text = GUEST("a") "net = lan\n";
    r = parse_limits(text, strlen(text), 8, 4 * GIB, true);
    expect_one_error(r, 1,
                     "guest 'a' needs a sidecore for its network, but [hypervisor] "
                     "sidecores = 0");
}

static void test_too_many_switches(void **state)
{
    struct record *r = parse(GUEST("a") "net = s1\nnet = s2\nnet = s3\nnet = s4\n" GUEST(
        "b") "net = s5\nnet = s6\nnet = s7\nnet = s8\n" GUEST("c") "net = s1\nnet = s9\n"); /* 22 */
    expect_one_error(r, 22, "net = s9: one switch too many (at most 8)");
    assert_int_equal(r->set.count, 2);
    assert_int_equal(r->set.nswitches, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_config),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_events_swapped),
        cmocka_unit_test(test_several_guests_in_order),
        cmocka_unit_test(test_hypervisor_keys_ignored),
        cmocka_unit_test(test_empty_config),
        cmocka_unit_test(test_unknown_section),
        cmocka_unit_test(test_unknown_section_suggestion),
        cmocka_unit_test(test_guest_without_name),
        cmocka_unit_test(test_duplicate_guest_name),
        cmocka_unit_test(test_duplicate_of_a_dropped_guest),
        cmocka_unit_test(test_bad_guest_names),
        cmocka_unit_test(test_bad_header_syntax_passed_through),
        cmocka_unit_test(test_key_before_any_section),
        cmocka_unit_test(test_unknown_key_suggestions),
        cmocka_unit_test(test_key_given_twice),
        cmocka_unit_test(test_missing_required_keys),
        cmocka_unit_test(test_missing_key_reported_with_other_problems),
        cmocka_unit_test(test_bad_cpus),
        cmocka_unit_test(test_cpus_at_the_maximum),
        cmocka_unit_test(test_bad_memory),
        cmocka_unit_test(test_memory_units),
        cmocka_unit_test(test_bad_kernel_and_initrd),
        cmocka_unit_test(test_modules),
        cmocka_unit_test(test_no_file_check_without_callback),
        cmocka_unit_test(test_bad_events),
        cmocka_unit_test(test_values_too_long),
        cmocka_unit_test(test_syntax_error_drops_its_guest),
        cmocka_unit_test(test_too_many_guests),
        cmocka_unit_test(test_bad_guests_do_not_count_towards_the_maximum),
        cmocka_unit_test(test_fit_cores_exhausted),
        cmocka_unit_test(test_fit_memory_exhausted),
        cmocka_unit_test(test_fit_exact),
        cmocka_unit_test(test_no_room_at_all),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_no_final_newline),
        cmocka_unit_test(test_text_not_nul_terminated),
        cmocka_unit_test(test_null_error_callback),
        cmocka_unit_test(test_garbage_64k),
        cmocka_unit_test(test_many_guest_sections),
        cmocka_unit_test(test_disk_defaults),
        cmocka_unit_test(test_disk_ram),
        cmocka_unit_test(test_disk_ram_bad),
        cmocka_unit_test(test_disk_ram_size_unknown),
        cmocka_unit_test(test_disk_nvme),
        cmocka_unit_test(test_disk_null),
        cmocka_unit_test(test_disk_bad_values),
        cmocka_unit_test(test_several_disks),
        cmocka_unit_test(test_disk_empty_means_none),
        cmocka_unit_test(test_disk_overlap_whole_then_range),
        cmocka_unit_test(test_disk_overlap_range_then_whole),
        cmocka_unit_test(test_disk_overlap_ranges),
        cmocka_unit_test(test_disk_overlap_with_dropped_guest),
        cmocka_unit_test(test_disk_overlap_unnamed_guest),
        cmocka_unit_test(test_disk_overlap_past_the_memory),
        cmocka_unit_test(test_disk_queues),
        cmocka_unit_test(test_io_mode),
        cmocka_unit_test(test_interrupt_coalescing),
        cmocka_unit_test(test_halt),
        cmocka_unit_test(test_virtio_console_key),
        cmocka_unit_test(test_no_sidecores),
        cmocka_unit_test(test_new_key_suggestions),
        cmocka_unit_test(test_full_guest_with_disk),
        cmocka_unit_test(test_net_defaults),
        cmocka_unit_test(test_net_mac_given),
        cmocka_unit_test(test_net_bad_values),
        cmocka_unit_test(test_net_duplicate_mac),
        cmocka_unit_test(test_switch_uplink),
        cmocka_unit_test(test_switch_errors),
        cmocka_unit_test(test_switch_served_one_way),
        cmocka_unit_test(test_too_many_switches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
