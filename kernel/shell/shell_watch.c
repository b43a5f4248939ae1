/* SPDX-License-Identifier: MIT */
/*
 * Timing for commands that repeat until a key is pressed: see shell_watch.h.
 * Deadlines are kept on a fixed grid from the start, so the rounds do not
 * drift by the time each one takes to print.
 */
#include "kernel/shell/shell_watch.h"

#include "kernel/lib/str.h"

#define NS_PER_S 1000000000ull

bool shell_watch_parse_seconds(const char *s, uint32_t *seconds)
{
    uint64_t v;

    /* Decimal only: "0x10" as a period would surprise more than help. */
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    if (!str_to_u64(s, &v) || v < SHELL_WATCH_MIN_S || v > SHELL_WATCH_MAX_S)
        return false;
    *seconds = (uint32_t)v;
    return true;
}

void shell_watch_start(struct shell_watch *w, uint32_t seconds, uint64_t now_ns)
{
    w->period_ns = (uint64_t)seconds * NS_PER_S;
    w->next_ns = now_ns;
    w->seen_input = false;
}

bool shell_watch_due(struct shell_watch *w, uint64_t now_ns)
{
    if (now_ns < w->next_ns || w->period_ns == 0)
        return false;
    w->next_ns += w->period_ns;
    if (w->next_ns <= now_ns) /* missed rounds: the next one on the grid after now */
        w->next_ns += (now_ns - w->next_ns) / w->period_ns * w->period_ns + w->period_ns;
    return true;
}

bool shell_watch_key_stops(struct shell_watch *w, uint8_t byte)
{
    bool first = !w->seen_input;

    w->seen_input = true;
    return !(first && byte == '\n');
}
