/* SPDX-License-Identifier: MIT */
/*
 * Shift-and-subtract long division. On 64-bit guests the compiler's own
 * division would do; one implementation for both keeps the printf and timing
 * code identical in every image.
 */
#include <stddef.h>
#include "div64.h"

uint64_t u64_divmod(uint64_t n, uint64_t d, uint64_t *rem)
{
    uint64_t q = 0, r = 0;

    for (int bit = 63; bit >= 0; bit--) {
        r = (r << 1) | ((n >> bit) & 1);
        if (r >= d) {
            r -= d;
            q |= 1ull << bit;
        }
    }
    if (rem)
        *rem = r;
    return q;
}
