/* SPDX-License-Identifier: MIT */
/* Picking and claiming a spare CPU for blktest (blktest_cpu.h). The claim
 * itself is cpu_post_work()'s compare-and-swap on the CPU's work slot, so
 * a CPU that got work between our look and our post is simply skipped. */
#include "drivers/block/blktest_cpu.h"

#include <stddef.h>

#include "kernel/cpu/percpu.h"

bool blktest_post_on_spare_cpu(cpu_call_fn fn, void *arg, uint32_t *cpu)
{
    for (uint32_t i = cpu_count(); i-- > 1;) {
        struct percpu *p = cpu_by_index(i);

        if (!p || p->state != CPU_ONLINE || __atomic_load_n(&p->work_fn, __ATOMIC_ACQUIRE))
            continue;
        if (cpu_post_work(i, fn, arg)) {
            *cpu = i;
            return true;
        }
    }
    return false;
}
