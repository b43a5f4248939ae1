/* SPDX-License-Identifier: MIT */
/*
 * Starting a 64-bit test guest's second vCPU the way an operating system
 * does: x2APIC INIT and SIPI to the other vCPUs, with a real-mode start block
 * (ap64.asm) below 1 MiB that enters long mode on the first vCPU's page
 * tables and GDT. The second vCPU runs fn with interrupts off on a stack of
 * its own and halts if fn returns. 64-bit guests only.
 */
#ifndef GUEST_TESTS_SMP64_H
#define GUEST_TESTS_SMP64_H

#include <stdbool.h>

/* Puts the local APIC in x2APIC mode (enabled), sends INIT and SIPI to the
 * other vCPUs and waits up to a second for fn to be entered. */
bool smp64_start_second(void (*fn)(void));
/* The same through the xAPIC register page at 0xFEE00000 (software-enables
 * the APIC there), leaving the APIC in xAPIC mode. */
bool smp64_start_second_xapic(void (*fn)(void));

#endif
