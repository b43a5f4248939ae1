/* SPDX-License-Identifier: MIT */
/*
 * A per-call-site limiter for repeated warnings: at most `burst` messages in
 * each window of `window_ns`, the rest suppressed and counted; the first
 * message let through after a window with suppressions carries that count,
 * so the log says "(suppressed M similar messages)" once instead of M lines.
 * Safe to call from several CPUs at once without a lock (a race can at worst
 * let one extra message through or move a count into the next report). The
 * clock is the caller's, so it is plain C tested on the host
 * (tests/unit/test_ratelimit.c).
 */
#ifndef SIDECORE_CONSOLE_RATELIMIT_H
#define SIDECORE_CONSOLE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
    uint64_t window_ns;
    uint32_t burst;
    uint64_t window_start; /* 0: no window yet */
    uint32_t passed;       /* messages let through in this window */
    uint64_t suppressed;   /* messages held back since the last report */
};

#define RATELIMIT_INIT(burst_, window_ns_)                                                         \
    {                                                                                              \
        .window_ns = (window_ns_), .burst = (burst_)                                               \
    }

/* True when the message at time now_ns (monotonic, > 0) may be printed;
 * then *suppressed is how many were held back since the last one printed
 * (print that first when non-zero). False: suppressed and counted. */
bool ratelimit_allow(struct ratelimit *rl, uint64_t now_ns, uint64_t *suppressed);

#endif
