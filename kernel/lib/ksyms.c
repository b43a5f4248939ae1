/* SPDX-License-Identifier: MIT */
#include "kernel/lib/ksyms.h"

#include <stddef.h>

const char *ksyms_lookup(uint64_t addr, uint64_t *offset)
{
    unsigned lo = 0, hi = ksyms_count;

    /* Last symbol at or below addr (the table is sorted by address). */
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (ksyms[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    *offset = addr - ksyms[lo - 1].addr;
    return ksyms[lo - 1].name;
}
