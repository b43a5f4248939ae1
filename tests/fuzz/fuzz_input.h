/* SPDX-License-Identifier: MIT */
/*
 * What every fuzz target here needs besides its bench: a way to abort with
 * the name of the promise that broke (so a crash file says what it found,
 * not just where), and a reader that takes little-endian values off the
 * fuzzer's input and gives zeroes once it is used up, so a script never
 * reads past its end and a short input is still a complete script.
 */
#ifndef SIDECORE_FUZZ_INPUT_H
#define SIDECORE_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "invariant broken: %s\n", what);
        abort();
    }
}

struct input {
    const uint8_t *p;
    size_t n; /* bytes left */
};

/* The next `bytes` (at most 8) bytes as a little-endian value. */
static inline uint64_t take(struct input *in, unsigned bytes)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < bytes && in->n; i++, in->p++, in->n--)
        v |= (uint64_t)*in->p << (8 * i);
    return v;
}

#endif
