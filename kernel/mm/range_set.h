/* SPDX-License-Identifier: MIT */
/*
 * A sorted set of disjoint physical address ranges [start, end). The
 * allocator keeps its free memory in one; boot code uses it to turn the
 * firmware's memory map into usable memory. Pure code, host-tested.
 */
#ifndef SIDECORE_MM_RANGE_SET_H
#define SIDECORE_MM_RANGE_SET_H

#include <stdbool.h>
#include <stdint.h>

#define RANGE_SET_MAX 512

struct range {
    uint64_t start;
    uint64_t end; /* exclusive */
};

struct range_set {
    unsigned count;
    struct range r[RANGE_SET_MAX];
};

void range_set_init(struct range_set *s);
/* Adds [start, end), merging with neighbours it touches or overlaps. False if
 * the set is full (the range is then not added). */
bool range_set_add(struct range_set *s, uint64_t start, uint64_t end);
/* Removes [start, end) from every range it overlaps. False if a split would
 * overflow the set (nothing is removed then). */
bool range_set_remove(struct range_set *s, uint64_t start, uint64_t end);
/* Total bytes in the set. */
uint64_t range_set_total(const struct range_set *s);
/* Whether [start, end) lies entirely inside one range. */
bool range_set_contains(const struct range_set *s, uint64_t start, uint64_t end);
/*
 * Takes size bytes aligned to align (a power of two) from the highest
 * address possible below limit, removing them from the set. Returns the
 * start, or 0 when nothing fits (address 0 is never handed out).
 */
uint64_t range_set_take_top(struct range_set *s, uint64_t size, uint64_t align, uint64_t limit);

#endif
