/* SPDX-License-Identifier: MIT */
/* The hypervisor's own symbol table, embedded at link time
 * (tools/gen-ksyms.sh), so backtraces name functions. */
#ifndef SIDECORE_LIB_KSYMS_H
#define SIDECORE_LIB_KSYMS_H

#include <stdint.h>

struct ksym {
    uint64_t addr;
    const char *name;
};

extern const struct ksym ksyms[];
extern const unsigned ksyms_count;

/* The function containing addr and the offset into it, or NULL. */
const char *ksyms_lookup(uint64_t addr, uint64_t *offset);

#endif
