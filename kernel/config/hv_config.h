/* SPDX-License-Identifier: MIT */
/* The [hypervisor] section of sidecore.cfg: settings for the hypervisor
 * itself, applied early in boot. */
#ifndef SIDECORE_CONFIG_HV_CONFIG_H
#define SIDECORE_CONFIG_HV_CONFIG_H

#include <stdbool.h>

#include "boot/handoff.h"
#include "vmm/sidecore/coalesce.h"

#define CONFIG_FILE_NAME "sidecore.cfg"

/* Finds sidecore.cfg among the boot files and applies its [hypervisor]
 * settings; every problem is reported as file:line: message and skipped. */
void hv_config_apply(const struct handoff *h);

/* [hypervisor] apic_virtualization = auto | off: whether guests' local APICs
 * may use the CPU's APIC virtualization (auto, the default) or always the
 * software model (off). */
bool hv_config_apicv_allowed(void);

/*
 * [hypervisor] sidecores = auto | N: how many cores are kept back to poll
 * guests' virtqueues. auto (the default) is one per CPU socket; N is 0 to
 * HV_SIDECORES_MAX, and 0 means none: every guest with a disk must then say
 * io = trap (vmm/guest_config.c refuses the others when
 * guest_config_limits.no_sidecores is set from hv_config_sidecores_none()).
 * Whether N cores are there is for the sidecore setup to check.
 *
 * hv_config_sidecores() is the count to reserve, HV_SIDECORES_AUTO (0) for
 * one per socket, as sidecore_reserve() takes it; it is also 0 after
 * `sidecores = 0`, so check hv_config_sidecores_none() first.
 */
#define HV_SIDECORES_AUTO 0u
#define HV_SIDECORES_MAX  64u
unsigned hv_config_sidecores(void);
bool hv_config_sidecores_none(void);

/* [hypervisor] sidecore_idle = poll | nap: what an I/O sidecore does when it
 * has found nothing to do for a while. poll (the default) keeps polling, the
 * design's lowest latency. nap halts it for short spells once it has been
 * idle for a millisecond, which costs the first request after a quiet spell
 * up to the nap's length, and gives the core's time back where that matters
 * (an emulator, where a polling CPU slows every other). */
bool hv_config_sidecore_nap(void);

/*
 * Adaptive interrupt coalescing (vmm/sidecore/coalesce.h), for guests with
 * interrupt_coalescing = adaptive (their default):
 *   coalesce_cif = N       R = 1 at or below N commands in flight (1..256, 4)
 *   coalesce_rate = N      R = 1 under N completions a second (0..10000000, 2000)
 *   coalesce_epoch_ms = N  R recomputed every N ms (10..10000, 200)
 *   coalesce_cap_us = N    an interrupt is held at most N us (10..10000, 200)
 *   coalesce_net_rate = N  network queues: every interrupt under N packets a
 *                          second (0..10000000, 10000; vmm/sidecore/net_coalesce.h)
 *   kick_gap_us = N        a vCPU without posted interrupts is kicked at most
 *                          once per N us (0..10000, 100; 0: no limit)
 */
const struct coalesce_params *hv_config_coalesce(void);
uint64_t hv_config_kick_gap_ns(void);

#endif
