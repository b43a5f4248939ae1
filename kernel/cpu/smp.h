/* SPDX-License-Identifier: MIT */
/* Starting the other CPUs (INIT-SIPI-SIPI through the real-mode trampoline). */
#ifndef SIDECORE_CPU_SMP_H
#define SIDECORE_CPU_SMP_H

#include <stdint.h>

#include "kernel/cpu/percpu.h"

/* Starts every CPU that has a per-CPU area and is not yet online; a CPU that
 * does not answer within its timeout is marked failed and reported. */
void smp_start_all(void);

/* Fault injection for tests (command line smp.nosipi=APICID): the CPU with
 * this APIC ID gets INIT but no SIPI, so it never answers and the timeout
 * path runs for real. */
void smp_inject_no_sipi(uint32_t apic_id);

/* Fault injection (smp.latesipi=APICID): the CPU gets no SIPI in time, is
 * given up and parked, and then gets one while the next CPU is started, as
 * an emulator that keeps a SIPI pending across INIT delivers it. It must
 * halt in the trampoline (the block is no longer for it) and the next CPU
 * must start on its own stack. */
void smp_inject_late_sipi(uint32_t apic_id);

/* Everything a CPU does to join the hypervisor, boot CPU included. */
void cpu_init_local(struct percpu *p);

#endif
