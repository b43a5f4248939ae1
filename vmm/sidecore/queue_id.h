/* SPDX-License-Identifier: MIT */
/*
 * How the shell names a sidecore queue: GUEST:DEVICE:QUEUE (`web0:disk0:1`),
 * made from the queue's label ("web0 disk0 q1"); a label of another shape
 * (a switch's) has its words joined by ':'. The shell's `sidecore move`
 * also takes the queue written as q1. Pure code, host-tested
 * (tests/unit/test_sidecore_queue_id.c).
 */
#ifndef SIDECORE_VMM_SIDECORE_QUEUE_ID_H
#define SIDECORE_VMM_SIDECORE_QUEUE_ID_H

#include <stdbool.h>
#include <stddef.h>

/* Writes the id of the queue labelled label to out (cut to size). */
void queue_id_from_label(const char *label, char *out, size_t size);

/* True when the id the user typed names the queue labelled label. */
bool queue_id_matches(const char *typed, const char *label);

#endif
