/* SPDX-License-Identifier: MIT */
/*
 * Finding a core for `blktest` to run on: an online CPU other than the boot
 * CPU (which runs the console) with no posted work, i.e. not running a
 * guest's vCPU or an I/O sidecore loop. The highest such index is taken,
 * leaving the low CPUs, which guests are handed first, alone.
 */
#ifndef SIDECORE_BLOCK_BLKTEST_CPU_H
#define SIDECORE_BLOCK_BLKTEST_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/cpu/cpu_call.h"

/* Posts fn(arg) to a spare CPU's idle loop; false if there is none. */
bool blktest_post_on_spare_cpu(cpu_call_fn fn, void *arg, uint32_t *cpu);

#endif
