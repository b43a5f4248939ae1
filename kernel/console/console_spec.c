/* SPDX-License-Identifier: MIT */
#include "kernel/console/console_spec.h"

#include "kernel/lib/str.h"
#include "kernel/lib/string.h"

static const struct {
    const char *name;
    uint16_t port;
} com_ports[] = {{"com1", 0x3f8}, {"com2", 0x2f8}, {"com3", 0x3e8}, {"com4", 0x2e8}};

bool console_spec_parse(const char *spec, uint16_t *port, uint32_t *baud)
{
    char name[16];
    const char *comma = strchr(spec, ',');
    size_t n = comma ? (size_t)(comma - spec) : strlen(spec);
    uint64_t v;
    bool found = false;

    if (n == 0 || n >= sizeof(name))
        return false;
    memcpy(name, spec, n);
    name[n] = '\0';
    uint16_t p = 0;
    for (unsigned i = 0; i < sizeof(com_ports) / sizeof(com_ports[0]); i++) {
        if (strcmp(name, com_ports[i].name) == 0) {
            p = com_ports[i].port;
            found = true;
        }
    }
    if (!found) {
        if (!str_to_u64(name, &v) || v == 0 || v > 0xfff8)
            return false;
        p = (uint16_t)v;
    }
    uint32_t b = *baud;
    if (comma) {
        if (!str_to_u64(comma + 1, &v) || v < 50 || v > 115200 || 115200 % v != 0)
            return false;
        b = (uint32_t)v;
    }
    *port = p;
    *baud = b;
    return true;
}
