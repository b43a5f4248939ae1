/* SPDX-License-Identifier: MIT */
/*
 * The timing of a command that repeats until a key is pressed (`stats watch
 * SECONDS`): the period's parsing and range, when the next round is due, and
 * which byte stops it. The command itself never waits: the shell calls it
 * from the console CPU's idle loop (shell_divert_input_ticking()), so queued
 * messages keep being printed between rounds. Pure code, also built for the
 * host unit tests.
 */
#ifndef SIDECORE_SHELL_SHELL_WATCH_H
#define SIDECORE_SHELL_SHELL_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#define SHELL_WATCH_MIN_S 1
#define SHELL_WATCH_MAX_S 3600

struct shell_watch {
    uint64_t period_ns;
    uint64_t next_ns; /* uptime at which the next round is due */
    bool seen_input;  /* any byte arrived since the watch started */
};

/* Parses SECONDS (decimal, SHELL_WATCH_MIN_S..SHELL_WATCH_MAX_S). False on
 * anything else. */
bool shell_watch_parse_seconds(const char *s, uint32_t *seconds);

/* Starts a watch at now_ns: the first round is due at once. */
void shell_watch_start(struct shell_watch *w, uint32_t seconds, uint64_t now_ns);

/* True when a round is due at now_ns; then moves the deadline one period on,
 * or past now_ns when rounds were missed (the console CPU was busy), so late
 * rounds are skipped, never printed in a burst. */
bool shell_watch_due(struct shell_watch *w, uint64_t now_ns);

/* Feeds one input byte; true when it stops the watch. Any key stops it,
 * except an LF that is the first byte: the second half of the CR LF that
 * some terminals send for the Enter that started the command. */
bool shell_watch_key_stops(struct shell_watch *w, uint8_t byte);

#endif
