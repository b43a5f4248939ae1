/* SPDX-License-Identifier: MIT */
/*
 * Console output that never waits for the serial line. Once the shell runs,
 * every CPU but the console's own (the boot CPU) puts its console output into
 * one message ring (msg_ring.h) instead of onto the UART, and the console CPU
 * prints it from its idle loop; a producer costs a memcpy and at most one IPI
 * to wake the console CPU, never a wait for the UART or for a lock held
 * across UART output. A full ring drops messages and the console says how
 * many once it has caught up. The console CPU's own output, the boot log
 * before the shell starts, and a CPU reporting its own exception or panic
 * stay synchronous (and print whatever is queued first, so order holds).
 */
#ifndef SIDECORE_CONSOLE_CONSOLE_ASYNC_H
#define SIDECORE_CONSOLE_CONSOLE_ASYNC_H

#include <stdbool.h>
#include <stddef.h>

/* The calling CPU becomes the console CPU, the one that prints; from now on
 * the others queue. Called once, by the boot CPU, before its shell starts. */
void console_async_start(void);

/* True when output from the calling CPU must be queued instead of printed. */
bool console_async_wanted(void);

/* Queues s as one or more messages (any CPU, any context, interrupts on or
 * off); drops and counts what does not fit. Wakes the console CPU. */
void console_async_put(const char *s, size_t n);

/* Wakes the console CPU for a report (console_set_report_source() in
 * console.h) the way a queued message does: any CPU, never waits, at most one
 * IPI per pass of the console CPU, and console_async_ready() is true until
 * the console CPU's next rearm. */
void console_async_kick(void);

/* For console.c, under its lock: the next queued message into out (at least
 * MSG_RING_MSG_MAX bytes), its length or -1; and the messages dropped since
 * the last call. */
int console_async_take(char *out, size_t cap);
unsigned long console_async_take_dropped(void);

/* True when a queued message is ready to print or a report was kicked (the
 * console CPU checks it with interrupts off before it halts). */
bool console_async_ready(void);

/* The console CPU, before it looks at the ring: a producer queueing after
 * this sends a fresh wake-up. */
void console_async_rearm(void);

/* The calling CPU prints synchronously from now on (its exception report or
 * panic must not wait for a console CPU that may be the one that died). */
void console_sync_this_cpu(void);

#endif
