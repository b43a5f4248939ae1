/* SPDX-License-Identifier: MIT */
/* Running a function on another CPU: the caller posts it in the target's
 * mailbox and sends an IPI; the target runs it in interrupt context. */
#ifndef SIDECORE_CPU_CPU_CALL_H
#define SIDECORE_CPU_CPU_CALL_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*cpu_call_fn)(void *arg);

void cpu_call_init(void); /* boot CPU, once: installs the IPI handler */
/* Posts fn(arg) to the CPU with this index. Fails if that CPU is not online
 * or already has a call pending. With wait, returns once fn has returned
 * (or after timeout_ms, returning false). */
bool cpu_call(uint32_t index, cpu_call_fn fn, void *arg, bool wait, uint32_t timeout_ms);

/* Hands fn(arg) to the idle loop of CPU index, which runs it outside
 * interrupt context with interrupts disabled, for as long as it takes (a
 * vCPU's life). False if that CPU is not online or already has work. */
bool cpu_post_work(uint32_t index, cpu_call_fn fn, void *arg);

/* The idle loop of a secondary CPU: runs posted work, else halts. */
__attribute__((noreturn)) void cpu_idle_loop(void);

#endif
