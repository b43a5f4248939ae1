/* SPDX-License-Identifier: MIT */
/* Unit tests for the [hypervisor] section of sidecore.cfg as
 * kernel/config/hv_config.c reads it from the boot files: sidecores and
 * apic_virtualization values, their defaults, and the exact file:line
 * messages for bad ones. The console and log are replaced by recorders.
 * test-sources: kernel/config/hv_config.c kernel/config/hv_config_iocm.c vmm/sidecore/iocm.c vmm/sidecore/coalesce.c kernel/config/ini.c kernel/console/console_spec.c kernel/lib/str.c kernel/lib/fmt.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/config/hv_config.h"
#include "kernel/config/hv_config_iocm.h"
#include "kernel/console/console.h"
#include "kernel/console/log.h"

/* ---- recorders for the console and the log ---- */

struct logged {
    enum log_level level;
    char msg[600];
};

static struct logged logs[16];
static unsigned log_count;
static uint16_t cur_port = 0x3f8;
static uint32_t cur_baud = 115200;
static unsigned console_moves;

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    if (log_count < sizeof(logs) / sizeof(logs[0])) {
        logs[log_count].level = level;
        va_start(ap, fmt);
        vsnprintf(logs[log_count].msg, sizeof(logs[log_count].msg), fmt, ap);
        va_end(ap);
    }
    log_count++;
}

uint16_t console_port(void)
{
    return cur_port;
}

uint32_t console_baud(void)
{
    return cur_baud;
}

void console_init(uint16_t port, uint32_t baud)
{
    cur_port = port;
    cur_baud = baud;
    console_moves++;
}

/* ---- helpers ---- */

static struct handoff handoff;

static void apply(const char *cfg)
{
    memset(&handoff, 0, sizeof(handoff));
    log_count = 0;
    console_moves = 0;
    /* Another boot file first: only sidecore.cfg is read. */
    snprintf(handoff.files[0].name, sizeof(handoff.files[0].name), "guests/test.elf");
    handoff.files[0].base = (uint64_t)(uintptr_t) "sidecores = 7\n";
    handoff.files[0].size = 14;
    handoff.file_count = 1;
    if (cfg) {
        snprintf(handoff.files[1].name, sizeof(handoff.files[1].name), "%s", CONFIG_FILE_NAME);
        handoff.files[1].base = (uint64_t)(uintptr_t)cfg;
        handoff.files[1].size = strlen(cfg);
        handoff.file_count = 2;
    }
    hv_config_apply(&handoff);
}

static void print_logs(void)
{
    for (unsigned i = 0; i < log_count && i < 16; i++)
        print_message("  [%d] %s\n", logs[i].level, logs[i].msg);
}

static void expect_no_logs(void)
{
    if (log_count) {
        print_message("want no messages, got %u:\n", log_count);
        print_logs();
        fail();
    }
}

/* Exactly one message: an error saying `message`. */
static void expect_one_error(const char *message)
{
    if (log_count != 1 || logs[0].level != LOG_ERROR || strcmp(logs[0].msg, message) != 0) {
        print_message("want one error \"%s\", got %u:\n", message, log_count);
        print_logs();
        fail();
    }
}

/* ---- sidecores ---- */

static void test_sidecores_default(void **state)
{
    apply("[hypervisor]\nconsole = com1,115200\n[guest a]\ncpus = 1\n");
    expect_no_logs();
    assert_int_equal(hv_config_sidecores(), HV_SIDECORES_AUTO);
    assert_false(hv_config_sidecores_none());
    assert_true(hv_config_apicv_allowed());
}

static void test_sidecores_values(void **state)
{
    static const struct {
        const char *cfg;
        unsigned want;
        bool none;
    } cases[] = {
        {"[hypervisor]\nsidecores = auto\n", HV_SIDECORES_AUTO, false},
        {"[hypervisor]\nsidecores = 0\n", 0, true},
        {"[hypervisor]\nsidecores = 0x0\n", 0, true},
        {"[hypervisor]\nsidecores = 1\n", 1, false},
        {"[hypervisor]\nsidecores = 2   # one per socket here\n", 2, false},
        {"[hypervisor]\nsidecores = 64\n", 64, false},
        {"[hypervisor]\nsidecores = 0x10\n", 16, false},
        {"[hypervisor]\r\nsidecores=3\r\n", 3, false},
        /* The last line wins, as for every [hypervisor] key. */
        {"[hypervisor]\nsidecores = 1\nsidecores = 3\n", 3, false},
        {"[hypervisor]\nsidecores = 2\n[hypervisor]\nsidecores = auto\n", HV_SIDECORES_AUTO, false},
        {"[hypervisor]\nsidecores = 0\nsidecores = auto\n", HV_SIDECORES_AUTO, false},
        {"[hypervisor]\nsidecores = 0\nsidecores = 4\n", 4, false},
        {"[hypervisor]\nsidecores = 4\nsidecores = 0\n", 0, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        apply(cases[i].cfg);
        expect_no_logs();
        if (hv_config_sidecores() != cases[i].want || hv_config_sidecores_none() != cases[i].none) {
            print_message("case %zu: want %u%s, got %u%s\n", i, cases[i].want,
                          cases[i].none ? " (none)" : "", hv_config_sidecores(),
                          hv_config_sidecores_none() ? " (none)" : "");
            fail();
        }
    }
}

static void test_sidecores_bad(void **state)
{
    static const struct {
        const char *value;
        const char *message;
    } cases[] = {
        {"65", "sidecore.cfg:3: sidecores = 65: must be 'auto' or a number of cores, 0 to 64"},
        {"-1", "sidecore.cfg:3: sidecores = -1: must be 'auto' or a number of cores, 0 to 64"},
        {"two", "sidecore.cfg:3: sidecores = two: must be 'auto' or a number of cores, 0 to 64"},
        {"Auto", "sidecore.cfg:3: sidecores = Auto: must be 'auto' or a number of cores, 0 to 64"},
        {"1 2", "sidecore.cfg:3: sidecores = 1 2: must be 'auto' or a number of cores, 0 to 64"},
        {"", "sidecore.cfg:3: sidecores = : must be 'auto' or a number of cores, 0 to 64"},
        {"99999999999999999999",
         "sidecore.cfg:3: sidecores = 99999999999999999999: must be 'auto' or a number of cores, "
         "0 to 64"},
    };
    char cfg[128];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* A bad value leaves the setting as the line before made it. */
        snprintf(cfg, sizeof(cfg), "[hypervisor]\nsidecores = 5\nsidecores = %s\n", cases[i].value);
        apply(cfg);
        expect_one_error(cases[i].message);
        assert_int_equal(hv_config_sidecores(), 5);
        assert_false(hv_config_sidecores_none());

        snprintf(cfg, sizeof(cfg), "[hypervisor]\nsidecores = 0\nsidecores = %s\n", cases[i].value);
        apply(cfg);
        expect_one_error(cases[i].message);
        assert_true(hv_config_sidecores_none());

        snprintf(cfg, sizeof(cfg), "# top\n[hypervisor]\nsidecores = %s\n", cases[i].value);
        apply(cfg);
        expect_one_error(cases[i].message);
        assert_int_equal(hv_config_sidecores(), HV_SIDECORES_AUTO);
    }
}

static void test_sidecores_only_in_hypervisor(void **state)
{
    /* Guest sections are not read here; nor is any file but sidecore.cfg. */
    apply("[guest a]\nsidecores = 0\n[hypervisor]\n");
    expect_no_logs();
    assert_int_equal(hv_config_sidecores(), HV_SIDECORES_AUTO);
    assert_false(hv_config_sidecores_none());
}

static void test_apply_resets_defaults(void **state)
{
    apply("[hypervisor]\nsidecores = 0\napic_virtualization = off\n");
    expect_no_logs();
    assert_true(hv_config_sidecores_none());
    assert_false(hv_config_apicv_allowed());

    apply("[hypervisor]\n");
    assert_int_equal(hv_config_sidecores(), HV_SIDECORES_AUTO);
    assert_false(hv_config_sidecores_none());
    assert_true(hv_config_apicv_allowed());

    apply(NULL);
    if (log_count != 1 || logs[0].level != LOG_WARN ||
        strcmp(logs[0].msg, "no sidecore.cfg among the boot files; using defaults") != 0) {
        print_logs();
        fail();
    }
    assert_int_equal(hv_config_sidecores(), HV_SIDECORES_AUTO);
}

/* ---- the other keys, unchanged ---- */

static void test_apic_virtualization(void **state)
{
    apply("[hypervisor]\napic_virtualization = off\n");
    expect_no_logs();
    assert_false(hv_config_apicv_allowed());
    apply("[hypervisor]\napic_virtualization = auto\n");
    expect_no_logs();
    assert_true(hv_config_apicv_allowed());
    apply("[hypervisor]\napic_virtualization = no\n");
    expect_one_error("sidecore.cfg:2: apic_virtualization = no: must be 'auto' or 'off'");
    assert_true(hv_config_apicv_allowed());
}

static void test_sidecore_idle(void **state)
{
    apply("[hypervisor]\n");
    assert_false(hv_config_sidecore_nap()); /* poll by default */
    apply("[hypervisor]\nsidecore_idle = nap\n");
    expect_no_logs();
    assert_true(hv_config_sidecore_nap());
    apply("[hypervisor]\nsidecore_idle = poll\n");
    expect_no_logs();
    assert_false(hv_config_sidecore_nap());
    apply("[hypervisor]\nsidecore_idle = nap\nsidecore_idle = sleep\n");
    expect_one_error("sidecore.cfg:3: sidecore_idle = sleep: must be 'poll' or 'nap'");
    assert_true(hv_config_sidecore_nap()); /* the bad value changes nothing */
    apply("[hypervisor]\n");
    assert_false(hv_config_sidecore_nap()); /* each apply starts from the defaults */
}

static void test_coalescing(void **state)
{
    apply("[hypervisor]\n");
    expect_no_logs();
    const struct coalesce_params *p = hv_config_coalesce();
    assert_int_equal(p->cif_threshold, 4);
    assert_int_equal(p->min_rate, 2000);
    assert_int_equal(p->epoch_ns, 200000000ull);
    assert_int_equal(p->time_cap_ns, 200000ull);
    assert_int_equal(hv_config_kick_gap_ns(), 100000ull);
    apply("[hypervisor]\ncoalesce_cif = 8\ncoalesce_rate = 0\ncoalesce_epoch_ms = 50\n"
          "coalesce_cap_us = 1000\nkick_gap_us = 0\n");
    expect_no_logs();
    assert_int_equal(p->cif_threshold, 8);
    assert_int_equal(p->min_rate, 0);
    assert_int_equal(p->epoch_ns, 50000000ull);
    assert_int_equal(p->time_cap_ns, 1000000ull);
    assert_int_equal(hv_config_kick_gap_ns(), 0);
    apply("[hypervisor]\ncoalesce_cap_us = 5\n");
    expect_one_error("sidecore.cfg:2: coalesce_cap_us = 5: must be a number, 10 to 10000");
    assert_int_equal(p->time_cap_ns, 200000ull); /* unchanged, and defaults again */
    apply("[hypervisor]\ncoalesce_cif = many\n");
    expect_one_error("sidecore.cfg:2: coalesce_cif = many: must be a number, 1 to 256");
    /* The network queues' packet rate threshold (net_coalesce.h). */
    assert_int_equal(p->net_min_rate, 10000);
    apply("[hypervisor]\ncoalesce_net_rate = 500\n");
    expect_no_logs();
    assert_int_equal(p->net_min_rate, 500);
    assert_int_equal(hv_config_kick_gap_ns(), 100000ull);
    apply("[hypervisor]\ncoalesce_net_rate = 10000001\n");
    expect_one_error(
        "sidecore.cfg:2: coalesce_net_rate = 10000001: must be a number, 0 to 10000000");
}

static void test_iocm_keys(void **state)
{
    apply("[hypervisor]\n");
    expect_no_logs();
    const struct iocm_params *p = hv_config_iocm();
    assert_int_equal(hv_config_sidecores_max(), 0);
    assert_true(hv_config_sidecore_policy_auto());
    assert_int_equal(hv_config_sidecore_epoch_ns(), 100000000ull);
    assert_int_equal(p->busy_high_pm, 950);
    assert_int_equal(p->fit_low_pm, 600);
    assert_int_equal(p->add_epochs, 3);
    assert_int_equal(p->remove_epochs, 5);
    assert_int_equal(p->tolerance_pm, 50);
    apply("[hypervisor]\nsidecores = 1\nsidecores_max = 3\nsidecore_policy = manual\n"
          "sidecore_epoch_ms = 250\nsidecore_busy_high = 40\nsidecore_fit_low = 30\n"
          "sidecore_add_epochs = 2\nsidecore_remove_epochs = 4\nsidecore_tolerance = 100\n");
    expect_no_logs();
    assert_int_equal(hv_config_sidecores(), 1);
    assert_int_equal(hv_config_sidecores_max(), 3);
    assert_false(hv_config_sidecore_policy_auto());
    assert_int_equal(hv_config_sidecore_epoch_ns(), 250000000ull);
    assert_int_equal(p->busy_high_pm, 400);
    assert_int_equal(p->fit_low_pm, 300);
    assert_int_equal(p->add_epochs, 2);
    assert_int_equal(p->remove_epochs, 4);
    assert_int_equal(p->tolerance_pm, 1000);
    apply("[hypervisor]\nsidecores_max = 65\n");
    expect_one_error("sidecore.cfg:2: sidecores_max = 65: must be a number, 0 to 64");
    assert_int_equal(hv_config_sidecores_max(), 0); /* unchanged, and defaults again */
    apply("[hypervisor]\nsidecore_policy = Auto\n");
    expect_one_error("sidecore.cfg:2: sidecore_policy = Auto: must be 'auto' or 'manual'");
    apply("[hypervisor]\nsidecore_epoch_ms = 5\n");
    expect_one_error("sidecore.cfg:2: sidecore_epoch_ms = 5: must be a number, 10 to 10000");
    assert_int_equal(hv_config_sidecore_epoch_ns(), 100000000ull);
}

static void test_unknown_key_and_console(void **state)
{
    apply("[hypervisor]\nsidecore = 1\n");
    expect_one_error("sidecore.cfg:2: unknown key 'sidecore' in [hypervisor]");
    assert_int_equal(hv_config_sidecores(), HV_SIDECORES_AUTO);

    apply("[hypervisor]\nconsole = com9\n");
    expect_one_error("sidecore.cfg:2: bad console 'com9' (want comN[,speed] or an I/O port)");
    assert_int_equal(console_moves, 0);

    apply("[hypervisor]\nconsole = com2,9600\nsidecores = 2\n");
    assert_int_equal(console_moves, 1);
    assert_int_equal(cur_port, 0x2f8);
    assert_int_equal(cur_baud, 9600);
    assert_int_equal(hv_config_sidecores(), 2);
    assert_int_equal(log_count, 1); /* the console's move is announced */
    assert_int_equal(logs[0].level, LOG_INFO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sidecores_default),
        cmocka_unit_test(test_sidecores_values),
        cmocka_unit_test(test_sidecores_bad),
        cmocka_unit_test(test_sidecores_only_in_hypervisor),
        cmocka_unit_test(test_apply_resets_defaults),
        cmocka_unit_test(test_apic_virtualization),
        cmocka_unit_test(test_sidecore_idle),
        cmocka_unit_test(test_coalescing),
        cmocka_unit_test(test_iocm_keys),
        cmocka_unit_test(test_unknown_key_and_console),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
