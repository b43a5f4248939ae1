/* SPDX-License-Identifier: MIT */
/*
 * The [hypervisor] section of sidecore.cfg, read early in boot: the console
 * moves at once, the other settings are kept for the code that needs them
 * later (vCPU setup, the I/O sidecores). A bad value is reported as
 * file:line and leaves the setting as it was, so a typo never stops the
 * boot. Guest sections belong to vmm/guest_config.c.
 */
#include "kernel/config/hv_config.h"

#include "kernel/config/hv_config_iocm.h"
#include "kernel/config/ini.h"
#include "kernel/console/console.h"
#include "kernel/console/console_spec.h"
#include "kernel/console/log.h"
#include "kernel/lib/str.h"
#include "kernel/lib/string.h"

static bool apicv_allowed = true;
static unsigned sidecores = HV_SIDECORES_AUTO;
static bool sidecores_none;
static bool sidecore_nap;
static struct coalesce_params coalesce;
static uint64_t kick_gap_ns = COALESCE_KICK_GAP_NS;

const struct coalesce_params *hv_config_coalesce(void)
{
    return &coalesce;
}

uint64_t hv_config_kick_gap_ns(void)
{
    return kick_gap_ns;
}

/* The numeric coalescing keys: name, range, and where the value goes
 * (times times scale, in nanoseconds). */
static bool parse_coalesce_key(const struct ini_item *it)
{
    static const struct {
        const char *key;
        uint64_t min, max, scale;
    } keys[] = {
        {"coalesce_cif", 1, 256, 1},
        {"coalesce_rate", 0, 10000000, 1},
        {"coalesce_epoch_ms", 10, 10000, 1000000},
        {"coalesce_cap_us", 10, 10000, 1000},
        {"kick_gap_us", 0, 10000, 1000},
        {"coalesce_net_rate", 0, 10000000, 1},
    };
    uint64_t v;

    for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcmp(it->key, keys[i].key) != 0)
            continue;
        if (!str_to_u64(it->value, &v) || v < keys[i].min || v > keys[i].max) {
            log_error("%s:%u: %s = %s: must be a number, %lu to %lu", CONFIG_FILE_NAME, it->line,
                      it->key, it->value, (unsigned long)keys[i].min, (unsigned long)keys[i].max);
            return true;
        }
        v *= keys[i].scale;
        switch (i) {
        case 0: coalesce.cif_threshold = (uint32_t)v; break;
        case 1: coalesce.min_rate = (uint32_t)v; break;
        case 2: coalesce.epoch_ns = v; break;
        case 3: coalesce.time_cap_ns = v; break;
        case 4: kick_gap_ns = v; break;
        default: coalesce.net_min_rate = (uint32_t)v; break;
        }
        return true;
    }
    return false;
}

bool hv_config_sidecore_nap(void)
{
    return sidecore_nap;
}

bool hv_config_apicv_allowed(void)
{
    return apicv_allowed;
}

unsigned hv_config_sidecores(void)
{
    return sidecores;
}

bool hv_config_sidecores_none(void)
{
    return sidecores_none;
}

static void parse_sidecores(const struct ini_item *it)
{
    uint64_t n;

    if (strcmp(it->value, "auto") == 0) {
        sidecores = HV_SIDECORES_AUTO;
        sidecores_none = false;
        return;
    }
    if (str_to_u64(it->value, &n) && n <= HV_SIDECORES_MAX) {
        /* 0 is "none": the count reads 0 as for auto, but with
         * guest_config_limits.no_sidecores set no guest is given a sidecore,
         * so none is reserved. */
        sidecores = (unsigned)n;
        sidecores_none = n == 0;
        return;
    }
    log_error("%s:%u: sidecores = %s: must be 'auto' or a number of cores, 0 to %u",
              CONFIG_FILE_NAME, it->line, it->value, HV_SIDECORES_MAX);
}

static void on_item(void *ctx, const struct ini_item *it)
{
    if (strcmp(it->section, "hypervisor") != 0)
        return; /* guest sections are read by the partition code */
    if (strcmp(it->key, "console") == 0) {
        uint16_t port = console_port();
        uint32_t baud = console_baud();
        if (!console_spec_parse(it->value, &port, &baud)) {
            log_error("%s:%u: bad console '%s' (want comN[,speed] or an I/O port)",
                      CONFIG_FILE_NAME, it->line, it->value);
            return;
        }
        if (port != console_port() || baud != console_baud()) {
            log_info("console moves to port %#x at %u baud (%s:%u)", port, baud, CONFIG_FILE_NAME,
                     it->line);
            console_init(port, baud);
        }
        return;
    }
    if (strcmp(it->key, "sidecores") == 0) {
        parse_sidecores(it);
        return;
    }
    if (strcmp(it->key, "sidecore_idle") == 0) {
        if (strcmp(it->value, "poll") == 0 || strcmp(it->value, "nap") == 0)
            sidecore_nap = strcmp(it->value, "nap") == 0;
        else
            log_error("%s:%u: sidecore_idle = %s: must be 'poll' or 'nap'", CONFIG_FILE_NAME,
                      it->line, it->value);
        return;
    }
    if (parse_coalesce_key(it))
        return;
    if (hv_config_iocm_key(it)) /* the I/O-core monitor's keys */
        return;
    if (strcmp(it->key, "apic_virtualization") == 0) {
        if (strcmp(it->value, "auto") == 0 || strcmp(it->value, "off") == 0)
            apicv_allowed = strcmp(it->value, "auto") == 0;
        else
            log_error("%s:%u: apic_virtualization = %s: must be 'auto' or 'off'", CONFIG_FILE_NAME,
                      it->line, it->value);
        return;
    }
    log_error("%s:%u: unknown key '%s' in [hypervisor]", CONFIG_FILE_NAME, it->line, it->key);
}

void hv_config_apply(const struct handoff *h)
{
    apicv_allowed = true;
    sidecores = HV_SIDECORES_AUTO;
    sidecores_none = false;
    sidecore_nap = false;
    coalesce_params_default(&coalesce);
    kick_gap_ns = COALESCE_KICK_GAP_NS;
    hv_config_iocm_reset();
    for (uint32_t i = 0; i < h->file_count; i++) {
        if (strcmp(h->files[i].name, CONFIG_FILE_NAME) != 0)
            continue;
        /* Syntax errors are reported once, by the guest configuration
         * parser (vmm/vmm.c), which reads the whole file. */
        struct ini_handlers handlers = {.item = on_item};
        ini_parse((const char *)(uintptr_t)h->files[i].base, h->files[i].size, &handlers);
        return;
    }
    log_warn("no %s among the boot files; using defaults", CONFIG_FILE_NAME);
}
