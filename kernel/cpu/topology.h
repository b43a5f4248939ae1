/* SPDX-License-Identifier: MIT */
/*
 * CPU topology: which socket, core and hardware thread a logical CPU is, from
 * its x2APIC ID and the ID-field widths that CPUID reports. The decoder is
 * pure: it takes the raw register values of the CPUID leaves it needs, so the
 * tests can feed it what real CPUs and emulators return. Only
 * topology_read_cpuid() / topology_detect() (topology_cpuid.c) execute CPUID.
 *
 * Sources, best first: leaf 0x1F (V2 extended topology, may add module, tile
 * and die levels), leaf 0xB, then the legacy leaves (1 and 4 on Intel, 1 and
 * 0x80000008 on AMD), then "one core, one thread". Every level between SMT
 * and package (core, module, tile, die) is folded into "core", so a core
 * number is unique within its socket and socket = apic_id >> package_shift.
 */
#ifndef SIDECORE_CPU_TOPOLOGY_H
#define SIDECORE_CPU_TOPOLOGY_H

#include <stdint.h>

struct cpu_topology {
    uint32_t apic_id; /* x2APIC ID (initial 8-bit APIC ID on legacy CPUs) */
    uint32_t socket, core, thread;
    uint32_t smt_shift;     /* thread = apic_id & ((1 << smt_shift) - 1) */
    uint32_t package_shift; /* socket = apic_id >> package_shift */
};

struct topology_regs {
    uint32_t eax, ebx, ecx, edx;
};

#define TOPOLOGY_MAX_SUBLEAVES 8

/* The CPUID values the decoder looks at; a leaf beyond max_leaf (or
 * max_ext_leaf) is ignored whatever it holds, since CPUs return the
 * highest basic leaf's data for such a request. */
struct topology_cpuid {
    uint32_t max_leaf;     /* CPUID.0:EAX */
    uint32_t max_ext_leaf; /* CPUID.80000000h:EAX */
    struct topology_regs leaf1;
    struct topology_regs leaf4; /* subleaf 0 */
    struct topology_regs leaf_b[TOPOLOGY_MAX_SUBLEAVES];
    struct topology_regs leaf_1f[TOPOLOGY_MAX_SUBLEAVES];
    struct topology_regs ext8; /* CPUID.80000008h */
};

enum topology_source {
    TOPOLOGY_LEAF_1F,
    TOPOLOGY_LEAF_B,
    TOPOLOGY_LEGACY_INTEL, /* leaves 1 and 4 */
    TOPOLOGY_LEGACY_AMD,   /* leaves 1 and 0x80000008 */
    TOPOLOGY_LEGACY_HTT,   /* leaf 1 only: the logical CPUs are threads */
    TOPOLOGY_SINGLE,       /* one core, one thread per package */
};

/* Decodes raw CPUID values into *out; returns which source it used. */
enum topology_source topology_decode(const struct topology_cpuid *raw, struct cpu_topology *out);

/* Splits an APIC ID with known shifts (those of the boot CPU apply to every
 * CPU in the machine, e.g. to the APIC IDs the MADT lists). */
void topology_from_apic_id(uint32_t apic_id, uint32_t smt_shift, uint32_t package_shift,
                           struct cpu_topology *out);

/* Number of distinct sockets among n topologies. */
uint32_t topology_count_sockets(const struct cpu_topology *t, uint32_t n);

const char *topology_source_name(enum topology_source source);

/* Hardware side (topology_cpuid.c, kernel only). */
void topology_read_cpuid(struct topology_cpuid *raw);
/* Runs CPUID on the calling CPU and decodes it. */
enum topology_source topology_detect(struct cpu_topology *out);

#endif
