/* SPDX-License-Identifier: MIT */
/*
 * The I/O-core monitor's [hypervisor] keys (kernel/config/hv_config_iocm.h).
 * A bad value is reported as file:line and leaves the setting as it was,
 * like every [hypervisor] key.
 */
#include "kernel/config/hv_config_iocm.h"

#include "kernel/config/hv_config.h"
#include "kernel/console/log.h"
#include "kernel/lib/str.h"
#include "kernel/lib/string.h"

static unsigned sidecores_max;
static bool policy_auto = true;
static uint64_t epoch_ns = 100000000ull;
static struct iocm_params params;

void hv_config_iocm_reset(void)
{
    sidecores_max = 0;
    policy_auto = true;
    epoch_ns = 100000000ull;
    iocm_params_default(&params);
}

unsigned hv_config_sidecores_max(void)
{
    return sidecores_max;
}

bool hv_config_sidecore_policy_auto(void)
{
    return policy_auto;
}

uint64_t hv_config_sidecore_epoch_ns(void)
{
    return epoch_ns;
}

const struct iocm_params *hv_config_iocm(void)
{
    if (!params.busy_high_pm) /* never reset: the defaults */
        iocm_params_default(&params);
    return &params;
}

bool hv_config_iocm_key(const struct ini_item *it)
{
    static const struct {
        const char *key;
        uint64_t min, max;
    } keys[] = {
        {"sidecores_max", 0, HV_SIDECORES_MAX}, {"sidecore_epoch_ms", 10, 10000},
        {"sidecore_busy_high", 1, 100},         {"sidecore_fit_low", 1, 100},
        {"sidecore_add_epochs", 1, 1000},       {"sidecore_remove_epochs", 1, 1000},
        {"sidecore_tolerance", 0, 100},
    };
    uint64_t v;

    if (strcmp(it->key, "sidecore_policy") == 0) {
        if (strcmp(it->value, "auto") == 0 || strcmp(it->value, "manual") == 0)
            policy_auto = strcmp(it->value, "auto") == 0;
        else
            log_error("%s:%u: sidecore_policy = %s: must be 'auto' or 'manual'", CONFIG_FILE_NAME,
                      it->line, it->value);
        return true;
    }
    for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcmp(it->key, keys[i].key) != 0)
            continue;
        if (!str_to_u64(it->value, &v) || v < keys[i].min || v > keys[i].max) {
            log_error("%s:%u: %s = %s: must be a number, %lu to %lu", CONFIG_FILE_NAME, it->line,
                      it->key, it->value, (unsigned long)keys[i].min, (unsigned long)keys[i].max);
            return true;
        }
        hv_config_iocm(); /* the defaults under what is set */
        switch (i) {
        case 0: sidecores_max = (unsigned)v; break;
        case 1: epoch_ns = v * 1000000ull; break;
        case 2: params.busy_high_pm = (unsigned)v * 10; break;
        case 3: params.fit_low_pm = (unsigned)v * 10; break;
        case 4: params.add_epochs = (unsigned)v; break;
        case 5: params.remove_epochs = (unsigned)v; break;
        default: params.tolerance_pm = (unsigned)v * 10; break;
        }
        return true;
    }
    return false;
}
