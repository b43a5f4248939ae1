/* SPDX-License-Identifier: MIT */
/*
 * The I/O-core monitor (IOcm) in the running hypervisor: on the console
 * CPU, once an epoch ([hypervisor] sidecore_epoch_ms, 100 ms), it reads
 * each sidecore's busy and idle time and each queue's work, hands them to
 * the decision logic (vmm/sidecore/iocm.h), and applies what it decides:
 * a parked sidecore made active, an active one parked, queues moved
 * between sidecores with the handoff protocol (vmm/sidecore/handoff.h),
 * so no request is lost, duplicated or reordered and the sidecores' fast
 * path takes no lock. Every change is logged with its reason through the
 * console ring (log_async), never waiting for the UART.
 *
 * With sidecore_policy = manual it only measures; the shell's `sidecore`
 * command (vmm/sidecore/sidecore_shell.c) adds, removes and moves through
 * the same functions in either policy.
 */
#ifndef SIDECORE_VMM_SIDECORE_MONITOR_H
#define SIDECORE_VMM_SIDECORE_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/sidecore/iocm.h"

struct sidecore_queue;

/* From the console CPU's idle loop: runs an epoch when one is due. */
void sidecore_monitor_poll(void);

bool sidecore_monitor_auto(void);
void sidecore_monitor_set_auto(bool on);

/* What the latest epoch measured, for `sidecore`. */
unsigned sidecore_monitor_busy_pct(unsigned core);
unsigned sidecore_monitor_round_pct(unsigned core);   /* rounds that found work */
uint64_t sidecore_monitor_queue_rate(unsigned queue); /* work a second */
const struct iocm *sidecore_monitor_state(void);
uint64_t sidecore_monitor_epoch_ms(void);

/* The shell's changes (why says what is wrong when false). */
bool sidecore_monitor_add(char *why, size_t why_size);
bool sidecore_monitor_remove(unsigned core, char *why, size_t why_size);
bool sidecore_monitor_move(struct sidecore_queue *q, unsigned core, char *why, size_t why_size);

/* Host tests: forget everything (the next poll starts afresh). */
void sidecore_monitor_test_reset(void);

#endif
