/* SPDX-License-Identifier: MIT */
/* The hypervisor command line: space-separated key=value words. */
#ifndef SIDECORE_LIB_CMDLINE_H
#define SIDECORE_LIB_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

/* Copies the value of the last "key=value" word into val; true if found. A
 * bare "key" yields an empty value. */
bool cmdline_get(const char *cmdline, const char *key, char *val, size_t size);

#endif
