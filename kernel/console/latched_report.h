/* SPDX-License-Identifier: MIT */
/*
 * A console report that cannot be lost: one slot per thing that can go wrong
 * (a guest's virtio device breaking, say), posted by whatever CPU sees it
 * happen and printed later by the console CPU. The message ring
 * (msg_ring.h) drops a line when it is full, which is right for a guest's
 * chatter but not for the one line that tells the operator a device now
 * needs a reset: a slot keeps a count of the events posted and the latest
 * reason, so a report is at worst late (the console CPU is busy, or a rate
 * limit holds it back) and then covers every event since the previous one.
 * Posting never waits, allocates or takes a lock: the reason is copied under
 * a sequence count the reader checks, and a second poster that finds the
 * reason being written only counts its event. Plain C, built for the host too
 * (tests/unit/test_latched_report.c).
 */
#ifndef SIDECORE_CONSOLE_LATCHED_REPORT_H
#define SIDECORE_CONSOLE_LATCHED_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest reason a slot keeps; longer ones are cut. */
#define LATCHED_REPORT_WHY_MAX 192

struct latched_report {
    uint64_t posted;  /* events posted (any CPU) */
    uint64_t shown;   /* events covered by taken reports (the consumer's) */
    uint32_t seq;     /* odd while why is being written */
    uint32_t writing; /* a poster owns why */
    char why[LATCHED_REPORT_WHY_MAX];
};

/* Any CPU, any context: one more event, why its reason (NUL-terminated). */
void latched_report_post(struct latched_report *r, const char *why);

/* True when events were posted that no report has covered yet. */
bool latched_report_pending(const struct latched_report *r);

/* The consumer (one at a time): when events are pending and the reason can
 * be read whole, copies the latest reason to out (cut to cap, NUL-terminated),
 * sets *events to how many events the report covers and returns true; they
 * are then no longer pending. False leaves them pending (nothing new, or a
 * poster is writing the reason right now: try again later). */
bool latched_report_take(struct latched_report *r, char *out, size_t cap, uint64_t *events);

#endif
