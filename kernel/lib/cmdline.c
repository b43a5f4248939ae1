/* SPDX-License-Identifier: MIT */
#include "kernel/lib/cmdline.h"

#include "kernel/lib/string.h"

bool cmdline_get(const char *cmdline, const char *key, char *val, size_t size)
{
    size_t klen = strlen(key);
    bool found = false;
    const char *p = cmdline;

    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *word = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        size_t wlen = (size_t)(p - word);
        if (wlen < klen || strncmp(word, key, klen) != 0)
            continue;
        if (wlen == klen || word[klen] == '=') {
            const char *v = wlen == klen ? word + wlen : word + klen + 1;
            size_t vlen = (size_t)(p - v);
            if (size) {
                size_t n = vlen < size - 1 ? vlen : size - 1;
                memcpy(val, v, n);
                val[n] = '\0';
            }
            found = true;
        }
    }
    return found;
}
