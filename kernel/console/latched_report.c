/* SPDX-License-Identifier: MIT */
/*
 * Console reports that cannot be lost (latched_report.h). The reason is a
 * sequence-counted buffer: the poster makes seq odd, writes, makes it even;
 * the consumer reads seq, copies, and keeps the copy only if seq was even and
 * has not moved. The count is bumped after the reason is written, so a report
 * that sees an event also sees a reason at least as new as that event's. The
 * bytes are copied with relaxed atomics: the consumer may read them while a
 * poster writes, and throws such a copy away.
 */
#include "kernel/console/latched_report.h"

void latched_report_post(struct latched_report *r, const char *why)
{
    /* Only one poster writes the reason; another one arriving meanwhile (two
     * queues of one device breaking at once) counts its event and leaves the
     * reason to the first, instead of waiting for it. */
    if (!__atomic_exchange_n(&r->writing, 1, __ATOMIC_ACQUIRE)) {
        __atomic_fetch_add(&r->seq, 1, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        size_t i = 0;
        for (; why && why[i] && i < LATCHED_REPORT_WHY_MAX - 1; i++)
            __atomic_store_n(&r->why[i], why[i], __ATOMIC_RELAXED);
        __atomic_store_n(&r->why[i], '\0', __ATOMIC_RELAXED);
        __atomic_fetch_add(&r->seq, 1, __ATOMIC_RELEASE);
        __atomic_store_n(&r->writing, 0, __ATOMIC_RELEASE);
    }
    __atomic_fetch_add(&r->posted, 1, __ATOMIC_ACQ_REL);
}

bool latched_report_pending(const struct latched_report *r)
{
    return __atomic_load_n(&r->posted, __ATOMIC_ACQUIRE) !=
           __atomic_load_n(&r->shown, __ATOMIC_RELAXED);
}

bool latched_report_take(struct latched_report *r, char *out, size_t cap, uint64_t *events)
{
    uint64_t posted = __atomic_load_n(&r->posted, __ATOMIC_ACQUIRE);
    uint64_t shown = __atomic_load_n(&r->shown, __ATOMIC_RELAXED);

    if (posted == shown || cap == 0)
        return false;
    uint32_t before = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
    if (before & 1)
        return false;
    size_t i = 0;
    for (; i < cap - 1 && i < LATCHED_REPORT_WHY_MAX; i++) {
        out[i] = __atomic_load_n(&r->why[i], __ATOMIC_RELAXED);
        if (!out[i])
            break;
    }
    out[i] = '\0'; /* i < cap */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&r->seq, __ATOMIC_RELAXED) != before)
        return false;
    *events = posted - shown;
    __atomic_store_n(&r->shown, posted, __ATOMIC_RELAXED);
    return true;
}
