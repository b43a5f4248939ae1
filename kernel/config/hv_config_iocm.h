/* SPDX-License-Identifier: MIT */
/*
 * The [hypervisor] keys of the I/O-core monitor (vmm/sidecore/monitor.h),
 * read with the rest of the section by kernel/config/hv_config.c:
 *   sidecores_max = N           cores reserved as sidecores in all, the ones
 *                               beyond `sidecores` parked at start (0..64;
 *                               0, the default: no more than `sidecores`)
 *   sidecore_policy = auto|manual  whether the monitor adds, parks and moves
 *                               on its own (auto, the default) or only the
 *                               shell does (manual)
 *   sidecore_epoch_ms = N       the monitor's epoch (10..10000, 100)
 *   sidecore_busy_high = N      percent busy that counts as saturated (1..100, 95)
 *   sidecore_fit_low = N        percent each core may reach after a removal (1..100, 60)
 *   sidecore_add_epochs = N     saturated epochs in a row before adding (1..1000, 3)
 *   sidecore_remove_epochs = N  spare epochs in a row before parking (1..1000, 5)
 *   sidecore_tolerance = N      percent fall in work per busy cycle that undoes
 *                               a change (0..100, 5; 100: never undone)
 * Kept apart from hv_config.c so the monitor's settings stay in one place.
 */
#ifndef SIDECORE_CONFIG_HV_CONFIG_IOCM_H
#define SIDECORE_CONFIG_HV_CONFIG_IOCM_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/config/ini.h"
#include "vmm/sidecore/iocm.h"

/* Back to the defaults (before the file is read). */
void hv_config_iocm_reset(void);
/* True when it->key is one of the keys above (reported if bad). */
bool hv_config_iocm_key(const struct ini_item *it);

unsigned hv_config_sidecores_max(void);
bool hv_config_sidecore_policy_auto(void);
uint64_t hv_config_sidecore_epoch_ns(void);
const struct iocm_params *hv_config_iocm(void);

#endif
