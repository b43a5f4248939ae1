/* SPDX-License-Identifier: MIT */
/*
 * Shell names of sidecore queues (vmm/sidecore/queue_id.h).
 */
#include "vmm/sidecore/queue_id.h"

#include "kernel/lib/string.h"

#define ID_MAX 64

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

void queue_id_from_label(const char *label, char *out, size_t size)
{
    size_t n = 0;
    const char *last = label;

    if (!size)
        return;
    /* The start of the last word: "q1" there is written as "1". */
    for (const char *p = label; *p; p++)
        if (*p == ' ' && p[1] && p[1] != ' ')
            last = p + 1;
    for (const char *p = label; *p && n + 1 < size; p++) {
        if (p == last && last != label && *p == 'q' && all_digits(p + 1))
            continue;
        if (*p == ' ') {
            if (n && out[n - 1] != ':')
                out[n++] = ':';
            continue;
        }
        out[n++] = *p;
    }
    out[n] = '\0';
}

bool queue_id_matches(const char *typed, const char *label)
{
    char id[ID_MAX], want[ID_MAX];
    size_t n = 0;
    const char *colon = NULL;

    queue_id_from_label(label, id, sizeof(id));
    for (const char *p = typed; *p; p++)
        if (*p == ':')
            colon = p;
    /* GUEST:DEVICE:q1 is GUEST:DEVICE:1. */
    for (const char *p = typed; *p && n + 1 < sizeof(want); p++) {
        if (colon && p == colon + 1 && *p == 'q' && all_digits(p + 1))
            continue;
        want[n++] = *p;
    }
    want[n] = '\0';
    return n > 0 && strcmp(want, id) == 0;
}
