/* SPDX-License-Identifier: MIT */
/*
 * The hardware half of topology detection: runs CPUID on the calling CPU and
 * collects the leaves topology.c decodes. Kept apart so that the decoder
 * builds for the host tests. Must run on the CPU being described.
 */
#include "kernel/cpu/topology.h"
#include "kernel/x86/cpu.h"

static struct topology_regs topology_cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r = cpuid(leaf, subleaf);

    return (struct topology_regs){.eax = r.eax, .ebx = r.ebx, .ecx = r.ecx, .edx = r.edx};
}

void topology_read_cpuid(struct topology_cpuid *raw)
{
    *raw = (struct topology_cpuid){0};
    raw->max_leaf = cpuid(0, 0).eax;
    raw->max_ext_leaf = cpuid(0x80000000, 0).eax;
    if (raw->max_leaf >= 1)
        raw->leaf1 = topology_cpuid(1, 0);
    if (raw->max_leaf >= 4)
        raw->leaf4 = topology_cpuid(4, 0);
    for (uint32_t i = 0; i < TOPOLOGY_MAX_SUBLEAVES; i++) {
        if (raw->max_leaf >= 0xb)
            raw->leaf_b[i] = topology_cpuid(0xb, i);
        if (raw->max_leaf >= 0x1f)
            raw->leaf_1f[i] = topology_cpuid(0x1f, i);
    }
    /* Below 0x80000000 the value is a basic leaf's data: no extended leaves. */
    if (raw->max_ext_leaf < 0x80000000 || raw->max_ext_leaf > 0x8fffffff)
        raw->max_ext_leaf = 0;
    if (raw->max_ext_leaf >= 0x80000008)
        raw->ext8 = topology_cpuid(0x80000008, 0);
}

enum topology_source topology_detect(struct cpu_topology *out)
{
    struct topology_cpuid raw;

    topology_read_cpuid(&raw);
    return topology_decode(&raw, out);
}
