/* SPDX-License-Identifier: MIT */
/* Unit tests for the [guest NAME] sections of sidecore.cfg: every kind of
 * bad input gets one message on the right line and drops only its guest;
 * guests are fitted to the machine's cores and memory in file order.
 * test-sources: vmm/guest_config.c kernel/config/ini.c kernel/lib/str.c kernel/lib/fmt.c
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
    {"guests/empty.elf", 0},    {"guests/empty.img", 0},
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

static struct record *parse_with(const char *text, size_t len, uint32_t cpus, uint64_t mem)
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
    };
    guest_config_parse(text, len, &limits, &r.set, on_error, &r);
    /* Every problem is reported exactly once and counted. */
    assert_int_equal(r.set.errors, r.count);
    return &r;
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
                     "unknown section [network] (sections are [hypervisor] and [guest NAME])");
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
