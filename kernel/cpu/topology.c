/* SPDX-License-Identifier: MIT */
/*
 * Decoding of CPUID topology information (see topology.h). The widths come
 * from the most precise leaf the CPU has; a leaf is believed only when it is
 * within the CPU's reported range and its first subleaf names a real level.
 * The legacy leaf 1 count is also used as a lower bound on the package
 * width, because an ID field can never be narrower than the number of IDs it
 * holds: this catches emulators (Bochs 2.7) whose leaf 0xB core level reports
 * the core width alone instead of core plus SMT. An SMT level that counts
 * one logical processor gets no thread field (Bochs 3.0 gives it width 1).
 */
#include <stdbool.h>

#include "kernel/cpu/topology.h"

#define LEVEL_TYPE(ecx)  (((ecx) >> 8) & 0xff)
#define LEVEL_SHIFT(eax) ((eax)&0x1f)
#define LEVEL_TYPE_SMT   1

#define LEAF1_HTT              (1u << 28) /* EDX */
#define LEAF1_LOGICAL(ebx)     (((ebx) >> 16) & 0xff)
#define LEAF1_APIC_ID(ebx)     ((ebx) >> 24)
#define LEAF4_CACHE_TYPE(eax)  ((eax)&0x1f)
#define LEAF4_CORES(eax)       (((eax) >> 26) + 1)
#define EXT8_APIC_ID_SIZE(ecx) (((ecx) >> 12) & 0xf)
#define EXT8_CORES(ecx)        (((ecx)&0xff) + 1)

/* Smallest w with (1 << w) >= n. */
static uint32_t ceil_log2(uint32_t n)
{
    uint32_t w = 0;

    while (w < 32 && (1ull << w) < n)
        w++;
    return w;
}

static uint32_t low_mask(uint32_t bits)
{
    return bits >= 32 ? 0xffffffffu : (1u << bits) - 1;
}

void topology_from_apic_id(uint32_t apic_id, uint32_t smt_shift, uint32_t package_shift,
                           struct cpu_topology *out)
{
    if (package_shift > 32)
        package_shift = 32;
    if (smt_shift > package_shift)
        smt_shift = package_shift;
    out->apic_id = apic_id;
    out->smt_shift = smt_shift;
    out->package_shift = package_shift;
    out->thread = apic_id & low_mask(smt_shift);
    out->core = smt_shift >= 32 ? 0 : (apic_id >> smt_shift) & low_mask(package_shift - smt_shift);
    out->socket = package_shift >= 32 ? 0 : apic_id >> package_shift;
}

/* Leaf 0xB or 0x1F: the SMT width, and the package width as the shift of the
 * highest level listed (everything below the package folds into "core"). */
static bool decode_extended(const struct topology_regs *sub, uint32_t *smt, uint32_t *pkg,
                            uint32_t *apic_id)
{
    if ((sub[0].ebx & 0xffff) == 0 || LEVEL_TYPE(sub[0].ecx) == 0)
        return false;
    *smt = 0;
    *pkg = 0;
    for (int i = 0; i < TOPOLOGY_MAX_SUBLEAVES; i++) {
        uint32_t type = LEVEL_TYPE(sub[i].ecx), shift = LEVEL_SHIFT(sub[i].eax);

        if (type == 0)
            break;
        /* An SMT level with one logical processor has no thread field,
         * whatever its shift says: Bochs 3.0 with one thread per core
         * reports shift 1 yet numbers its cores densely (so cores 0 and 1
         * would read as two threads of one core), and a part with SMT
         * turned off keeps the shift but uses only even IDs, where a zero
         * width merely leaves gaps in the core numbers. */
        if (type == LEVEL_TYPE_SMT)
            *smt = (sub[i].ebx & 0xffff) > 1 ? shift : 0;
        if (shift > *pkg)
            *pkg = shift;
    }
    *apic_id = sub[0].edx;
    return true;
}

/* Logical processors per package as leaf 1 states it. */
static uint32_t leaf1_logical(const struct topology_cpuid *raw)
{
    uint32_t n = LEAF1_LOGICAL(raw->leaf1.ebx);

    if (!(raw->leaf1.edx & LEAF1_HTT) || n == 0)
        return 1;
    return n;
}

static enum topology_source decode_legacy(const struct topology_cpuid *raw, uint32_t *smt,
                                          uint32_t *pkg)
{
    uint32_t logical = leaf1_logical(raw);

    *pkg = ceil_log2(logical);
    if (raw->max_leaf >= 4 && LEAF4_CACHE_TYPE(raw->leaf4.eax) != 0) {
        uint32_t core_width = ceil_log2(LEAF4_CORES(raw->leaf4.eax));

        /* Leaf 4 counts cores the package may have, leaf 1 the IDs it
         * uses; trust leaf 1 when they disagree. */
        if (core_width > *pkg)
            core_width = *pkg;
        *smt = *pkg - core_width;
        return TOPOLOGY_LEGACY_INTEL;
    }
    if (raw->max_ext_leaf >= 0x80000008 && raw->ext8.ecx != 0) {
        uint32_t size = EXT8_APIC_ID_SIZE(raw->ext8.ecx);
        uint32_t width = size ? size : ceil_log2(EXT8_CORES(raw->ext8.ecx));

        if (width > *pkg)
            *pkg = width;
        *smt = 0; /* pre-Zen AMD parts have no SMT; Zen has leaf 0xB */
        return TOPOLOGY_LEGACY_AMD;
    }
    if (logical > 1) {
        /* Hyper-Threading Pentium 4s before leaf 4: siblings are threads. */
        *smt = *pkg;
        return TOPOLOGY_LEGACY_HTT;
    }
    *smt = 0;
    return TOPOLOGY_SINGLE;
}

enum topology_source topology_decode(const struct topology_cpuid *raw, struct cpu_topology *out)
{
    enum topology_source source;
    uint32_t smt = 0, pkg = 0, apic_id = LEAF1_APIC_ID(raw->leaf1.ebx);

    if (raw->max_leaf >= 0x1f && decode_extended(raw->leaf_1f, &smt, &pkg, &apic_id)) {
        source = TOPOLOGY_LEAF_1F;
    } else if (raw->max_leaf >= 0xb && decode_extended(raw->leaf_b, &smt, &pkg, &apic_id)) {
        source = TOPOLOGY_LEAF_B;
    } else {
        if (raw->max_leaf < 1) {
            topology_from_apic_id(0, 0, 0, out);
            return TOPOLOGY_SINGLE;
        }
        source = decode_legacy(raw, &smt, &pkg);
    }
    if (source == TOPOLOGY_LEAF_1F || source == TOPOLOGY_LEAF_B) {
        uint32_t floor = ceil_log2(leaf1_logical(raw));

        if (floor > pkg)
            pkg = floor;
    }
    topology_from_apic_id(apic_id, smt, pkg, out);
    return source;
}

uint32_t topology_count_sockets(const struct cpu_topology *t, uint32_t n)
{
    uint32_t count = 0;

    for (uint32_t i = 0; i < n; i++) {
        bool seen = false;

        for (uint32_t j = 0; j < i && !seen; j++)
            seen = t[j].socket == t[i].socket;
        count += !seen;
    }
    return count;
}

const char *topology_source_name(enum topology_source source)
{
    switch (source) {
    case TOPOLOGY_LEAF_1F: return "CPUID leaf 0x1F";
    case TOPOLOGY_LEAF_B: return "CPUID leaf 0xB";
    case TOPOLOGY_LEGACY_INTEL: return "CPUID leaves 1 and 4";
    case TOPOLOGY_LEGACY_AMD: return "CPUID leaves 1 and 0x80000008";
    case TOPOLOGY_LEGACY_HTT: return "CPUID leaf 1";
    case TOPOLOGY_SINGLE: return "none (single core)";
    }
    return "unknown";
}
