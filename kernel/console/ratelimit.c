/* SPDX-License-Identifier: MIT */
/*
 * The warning rate limiter (ratelimit.h). The window is restarted by whoever
 * first sees it expired (a compare-and-swap on its start, so two CPUs do not
 * both restart it); the count of suppressed messages is handed over with an
 * exchange, so each suppressed message is reported exactly once.
 */
#include "kernel/console/ratelimit.h"

bool ratelimit_allow(struct ratelimit *rl, uint64_t now_ns, uint64_t *suppressed)
{
    uint64_t start = __atomic_load_n(&rl->window_start, __ATOMIC_ACQUIRE);

    *suppressed = 0;
    if (start == 0 || now_ns - start >= rl->window_ns) {
        if (__atomic_compare_exchange_n(&rl->window_start, &start, now_ns, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            __atomic_store_n(&rl->passed, 0, __ATOMIC_RELEASE);
    }
    if (__atomic_add_fetch(&rl->passed, 1, __ATOMIC_ACQ_REL) > rl->burst) {
        __atomic_fetch_add(&rl->suppressed, 1, __ATOMIC_RELAXED);
        return false;
    }
    *suppressed = __atomic_exchange_n(&rl->suppressed, 0, __ATOMIC_ACQ_REL);
    return true;
}
