/* SPDX-License-Identifier: MIT */
/* test-sources: kernel/cpu/topology.c */
/*
 * Host tests of the CPUID topology decoder. Most vectors are real: rows
 * marked "dumped" were printed by a tiny multiboot kernel running CPUID under
 * QEMU 7.2 (TCG) and Bochs 2.7 on the development machine, or by a host
 * program on that machine (a Firecracker VM on an AMD EPYC). The Xeon and
 * Pentium rows follow the values those CPUs document and report. Each row is
 * {leaf, subleaf, eax, ebx, ecx, edx}, the same layout the dump printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/cpu/topology.h"

typedef uint32_t cpuid_row[6];

static void load(struct topology_cpuid *raw, const cpuid_row *rows, size_t n)
{
    memset(raw, 0, sizeof(*raw));
    for (size_t i = 0; i < n; i++) {
        uint32_t leaf = rows[i][0], sub = rows[i][1];
        struct topology_regs r = {rows[i][2], rows[i][3], rows[i][4], rows[i][5]};

        if (leaf == 0)
            raw->max_leaf = r.eax;
        else if (leaf == 1)
            raw->leaf1 = r;
        else if (leaf == 4 && sub == 0)
            raw->leaf4 = r;
        else if (leaf == 0xb && sub < TOPOLOGY_MAX_SUBLEAVES)
            raw->leaf_b[sub] = r;
        else if (leaf == 0x1f && sub < TOPOLOGY_MAX_SUBLEAVES)
            raw->leaf_1f[sub] = r;
        else if (leaf == 0x80000000)
            raw->max_ext_leaf = r.eax;
        else if (leaf == 0x80000008)
            raw->ext8 = r;
    }
}

/* The same CPU model as seen from another logical CPU: the x2APIC ID in
 * every extended-topology subleaf, the 8-bit one in leaf 1. */
static void set_apic_id(struct topology_cpuid *raw, uint32_t id)
{
    for (int i = 0; i < TOPOLOGY_MAX_SUBLEAVES; i++) {
        raw->leaf_b[i].edx = id;
        raw->leaf_1f[i].edx = id;
    }
    raw->leaf1.ebx = (raw->leaf1.ebx & 0x00ffffff) | ((id & 0xff) << 24);
}

static void expect(const struct cpu_topology *t, uint32_t apic, uint32_t socket, uint32_t core,
                   uint32_t thread, uint32_t smt_shift, uint32_t package_shift)
{
    assert_int_equal(t->apic_id, apic);
    assert_int_equal(t->socket, socket);
    assert_int_equal(t->core, core);
    assert_int_equal(t->thread, thread);
    assert_int_equal(t->smt_shift, smt_shift);
    assert_int_equal(t->package_shift, package_shift);
}

/* Xeon E5-2683 v4 (Broadwell-EP, 16 cores, HT), two sockets: max leaf 0x14,
 * leaf 0xB SMT width 1, package width 5; socket 1 starts at APIC ID 0x20. */
static const cpuid_row xeon_2s16c[] = {
    {0x0, 0, 0x00000014, 0x756e6547, 0x6c65746e, 0x49656e69},
    {0x1, 0, 0x000406f1, 0x3b200800, 0x7ffefbff, 0xbfebfbff},
    {0x4, 0, 0x3c004121, 0x01c0003f, 0x0000003f, 0x00000000},
    {0xb, 0, 0x00000001, 0x00000002, 0x00000100, 0x0000003b},
    {0xb, 1, 0x00000005, 0x00000020, 0x00000201, 0x0000003b},
    {0xb, 2, 0x00000000, 0x00000000, 0x00000002, 0x0000003b},
    {0x80000000, 0, 0x80000008, 0, 0, 0},
    {0x80000008, 0, 0x0000302e, 0x00000000, 0x00000000, 0x00000000},
};

static void test_xeon_two_sockets_leaf_b(void **state)
{
    struct topology_cpuid raw;
    struct cpu_topology t, all[64];

    load(&raw, xeon_2s16c, sizeof(xeon_2s16c) / sizeof(xeon_2s16c[0]));
    assert_int_equal(topology_decode(&raw, &t), TOPOLOGY_LEAF_B);
    expect(&t, 0x3b, 1, 13, 1, 1, 5);

    for (uint32_t id = 0; id < 64; id++) {
        set_apic_id(&raw, id);
        topology_decode(&raw, &all[id]);
    }
    expect(&all[0], 0, 0, 0, 0, 1, 5);
    expect(&all[0x1f], 0x1f, 0, 15, 1, 1, 5);
    expect(&all[0x20], 0x20, 1, 0, 0, 1, 5);
    assert_int_equal(topology_count_sockets(all, 64), 2);
    assert_int_equal(topology_count_sockets(all, 32), 1);
}

/* Dumped: QEMU 7.2 -cpu Skylake-Server -smp 16,sockets=2,dies=2,cores=2,
 * threads=2 (boot CPU). Leaf 0x1F lists SMT (1), core (2), die (3). */
static const cpuid_row qemu_dies[] = {
    {0x00000000, 0, 0x0000001f, 0x756e6547, 0x6c65746e, 0x49656e69},
    {0x00000001, 0, 0x00050654, 0x00040800, 0xf6d83203, 0x178bfbfd},
    {0x00000004, 0, 0x04000121, 0x01c0003f, 0x0000003f, 0x00000001},
    {0x0000000b, 0, 0x00000001, 0x00000002, 0x00000100, 0x00000000},
    {0x0000000b, 1, 0x00000003, 0x00000004, 0x00000201, 0x00000000},
    {0x0000000b, 2, 0x00000000, 0x00000000, 0x00000002, 0x00000000},
    {0x0000000b, 3, 0x00000000, 0x00000000, 0x00000003, 0x00000000},
    {0x0000001f, 0, 0x00000001, 0x00000002, 0x00000100, 0x00000000},
    {0x0000001f, 1, 0x00000002, 0x00000004, 0x00000201, 0x00000000},
    {0x0000001f, 2, 0x00000003, 0x00000008, 0x00000502, 0x00000000},
    {0x0000001f, 3, 0x00000000, 0x00000000, 0x00000003, 0x00000000},
    {0x0000001f, 4, 0x00000000, 0x00000000, 0x00000004, 0x00000000},
};

static void test_qemu_leaf_1f_with_dies(void **state)
{
    struct topology_cpuid raw;
    struct cpu_topology t, all[16];

    load(&raw, qemu_dies, sizeof(qemu_dies) / sizeof(qemu_dies[0]));
    assert_int_equal(topology_decode(&raw, &t), TOPOLOGY_LEAF_1F);
    expect(&t, 0, 0, 0, 0, 1, 3);

    /* APIC ID 13 = socket 1, die 1, core 0, thread 1: the die folds into
     * the core number (die 1 core 0 -> core 2). */
    set_apic_id(&raw, 13);
    assert_int_equal(topology_decode(&raw, &t), TOPOLOGY_LEAF_1F);
    expect(&t, 13, 1, 2, 1, 1, 3);

    for (uint32_t id = 0; id < 16; id++) {
        set_apic_id(&raw, id);
        topology_decode(&raw, &all[id]);
    }
    assert_int_equal(topology_count_sockets(all, 16), 2);

    /* Without leaf 0x1F the same CPU's leaf 0xB gives the same widths. */
    raw.max_leaf = 0x1e;
    set_apic_id(&raw, 13);
    assert_int_equal(topology_decode(&raw, &t), TOPOLOGY_LEAF_B);
    expect(&t, 13, 1, 2, 1, 1, 3);
}

/* Dumped: QEMU 7.2 -cpu Skylake-Server -smp 8,sockets=2,cores=2,threads=2.
 * The max leaf is 0xD, so the "0x1F" rows are leaf 0xD data (what a CPU
 * returns above its range) and must be ignored. */
static const cpuid_row qemu_skx[] = {
    {0x00000000, 0, 0x0000000d, 0x756e6547, 0x6c65746e, 0x49656e69},
    {0x00000001, 0, 0x00050654, 0x00040800, 0xf6d83203, 0x178bfbfd},
    {0x00000004, 0, 0x04000121, 0x01c0003f, 0x0000003f, 0x00000001},
    {0x0000000b, 0, 0x00000001, 0x00000002, 0x00000100, 0x00000000},
    {0x0000000b, 1, 0x00000002, 0x00000004, 0x00000201, 0x00000000},
    {0x0000000b, 2, 0x00000000, 0x00000000, 0x00000002, 0x00000000},
    {0x0000001f, 0, 0x000002e7, 0x00000240, 0x00000a88, 0x00000000},
    {0x0000001f, 1, 0x00000005, 0x00000988, 0x00000000, 0x00000000},
    {0x0000001f, 2, 0x00000100, 0x00000240, 0x00000000, 0x00000000},
};

static void test_qemu_leaf_1f_beyond_max_leaf_ignored(void **state)
{
    struct topology_cpuid raw;
    struct cpu_topology t;

    load(&raw, qemu_skx, sizeof(qemu_skx) / sizeof(qemu_skx[0]));
    set_apic_id(&raw, 5);
    assert_int_equal(topology_decode(&raw, &t), TOPOLOGY_LEAF_B);
    expect(&t, 5, 1, 0, 1, 1, 2);
}

/* Dumped: QEMU 7.2 -M q35 -smp 4, default qemu64 CPU (AuthenticAMD): with
 * machine types since 6.2 that is 1 socket of 4 cores, 1 thread each. */
static const cpuid_row qemu_smp4[] = {
    {0x00000000, 0, 0x0000000d, 0x68747541, 0x444d4163, 0x69746e65},
    {0x00000001, 0, 0x00060fb1, 0x00040800, 0x80002001, 0x178bfbfd},
    {0x00000004, 0, 0x00000000, 0x00000000, 0x00000000, 0x00000000},
    {0x0000000b, 0, 0x00000000, 0x00000001, 0x00000100, 0x00000000},
    {0x0000000b, 1, 0x00000002, 0x00000004, 0x00000201, 0x00000000},
    {0x0000000b, 2, 0x00000000, 0x00000000, 0x00000002, 0x00000000},
    {0x80000000, 0, 0x8000000a, 0x68747541, 0x444d4163, 0x69746e65},
    {0x80000008, 0, 0x00003028, 0x00000000, 0x00002003, 0x00000000},
};

static void test_qemu_smp4(void **state)
{
    struct topology_cpuid raw;
    struct cpu_topology all[4];

    load(&raw, qemu_smp4, sizeof(qemu_smp4) / sizeof(qemu_smp4[0]));
    for (uint32_t id = 0; id < 4; id++) {
        set_apic_id(&raw, id);
        assert_int_equal(topology_decode(&raw, &all[id]), TOPOLOGY_LEAF_B);
        expect(&all[id], id, 0, id, 0, 0, 2);
    }
    assert_int_equal(topology_count_sockets(all, 4), 1);
}

/* Dumped: QEMU 7.2 -cpu qemu64,level=5 -smp 8,sockets=2,cores=4: no leaf
 * 0xB, no leaf 4 (AMD), 0x80000008 ECX ApicIdCoreIdSize 2, NC 3. */
static const cpuid_row qemu_amd_legacy[] = {
    {0x00000000, 0, 0x00000005, 0x68747541, 0x444d4163, 0x69746e65},
    {0x00000001, 0, 0x00060fb1, 0x00040800, 0x80002001, 0x178bfbfd},
    {0x00000004, 0, 0x00000000, 0x00000000, 0x00000000, 0x00000000},
    {0x80000000, 0, 0x8000000a, 0x68747541, 0x444d4163, 0x69746e65},
    {0x80000008, 0, 0x00003028, 0x00000000, 0x00002003, 0x00000000},
};

static void test_qemu_amd_legacy(void **state)
{
    struct topology_cpuid raw;
    struct cpu_topology all[8];

    load(&raw, qemu_amd_legacy, sizeof(qemu_amd_legacy) / sizeof(qemu_amd_legacy[0]));
    for (uint32_t id = 0; id < 8; id++) {
        set_apic_id(&raw, id);
        assert_int_equal(topology_decode(&raw, &all[id]), TOPOLOGY_LEGACY_AMD);
    }
    expect(&all[6], 6, 1, 2, 0, 0, 2);
    assert_int_equal(topology_count_sockets(all, 8), 2);
}

/* Dumped: QEMU 7.2 -M pc -cpu core2duo -smp 4,sockets=1,cores=2,threads=2:
 * max leaf 0xA (no leaf 0xB); leaf 1 says 4 logical, leaf 4 says 2 cores. */
static const cpuid_row qemu_core2duo_ht[] = {
    {0x00000000, 0, 0x0000000a, 0x756e6547, 0x6c65746e, 0x49656e69},
    {0x00000001, 0, 0x000006fb, 0x00040800, 0x80002209, 0x1fcbfbfd},
    {0x00000004, 0, 0x04000121, 0x01c0003f, 0x0000003f, 0x00000001},
    {0x0000000b, 0, 0x00000000, 0x00000000, 0x00000000, 0x00000000},
};

static void test_legacy_intel_leaf_1_and_4(void **state)
{
    struct topology_cpuid raw;
    struct cpu_topology t;

    load(&raw, qemu_core2duo_ht, sizeof(qemu_core2duo_ht) / sizeof(qemu_core2duo_ht[0]));
    set_apic_id(&raw, 3);
    assert_int_equal(topology_decode(&raw, &t), TOPOLOGY_LEGACY_INTEL);
    expect(&t, 3, 0, 1, 1, 1, 2);

    /* Dumped: the same CPU with -smp 4 (4 cores): leaf 4 EAX 0x0c000121. */
    raw.leaf4.eax = 0x0c000121;
    assert_int_equal(topology_decode(&raw, &t), TOPOLOGY_LEGACY_INTEL);
    expect(&t, 3, 0, 3, 0, 0, 2);
}

/* Dumped: Bochs 2.7, cpu: model=corei7_skylake_x, count=2:2:2. Its leaf 0xB
 * core level says shift 1 (the core width alone), although leaf 1 says 4
 * logical CPUs per package and Bochs numbers APIC IDs densely. */
static const cpuid_row bochs_2_2_2[] = {
    {0x00000000, 0, 0x00000016, 0x756e6547, 0x6c65746e, 0x49656e69},
    {0x00000001, 0, 0x00050654, 0x00040800, 0x77faf3bf, 0xbfebfbff},
    {0x00000004, 0, 0x1c004121, 0x01c0003f, 0x0000003f, 0x00000000},
    {0x0000000b, 0, 0x00000001, 0x00000002, 0x00000100, 0x00000000},
    {0x0000000b, 1, 0x00000001, 0x00000002, 0x00000201, 0x00000000},
    {0x0000000b, 2, 0x00000001, 0x00000002, 0x00000002, 0x00000000},
    {0x0000000b, 3, 0x00000000, 0x00000000, 0x00000003, 0x00000000},
    {0x0000001f, 0, 0x00000dac, 0x00000fa0, 0x00000064, 0x00000000},
    {0x80000000, 0, 0x80000008, 0x00000000, 0x00000000, 0x00000000},
    {0x80000008, 0, 0x00003028, 0x00000000, 0x00000000, 0x00000000},
};

static void test_bochs_two_sockets(void **state)
{
    struct topology_cpuid raw;
    struct cpu_topology all[8];

    load(&raw, bochs_2_2_2, sizeof(bochs_2_2_2) / sizeof(bochs_2_2_2[0]));
    for (uint32_t id = 0; id < 8; id++) {
        set_apic_id(&raw, id);
        assert_int_equal(topology_decode(&raw, &all[id]), TOPOLOGY_LEAF_B);
    }
    expect(&all[6], 6, 1, 1, 0, 1, 2);
    expect(&all[3], 3, 0, 1, 1, 1, 2);
    assert_int_equal(topology_count_sockets(all, 8), 2);
}

/* Bochs 3.0, cpu: count=1:4:1 (one socket of 4 cores, 1 thread each), built
 * from its cpu/cpuid.cc rather than dumped: leaf 0xB's SMT level says shift 1
 * (ilog2(threads - 1) + 1) with 1 logical processor, the core level shift 2
 * with 4, and Bochs numbers APIC IDs 0-3 densely. With the SMT shift believed,
 * CPUs 0 and 1 would be threads of core 0. */
static const cpuid_row bochs3_1_4_1[] = {
    {0x00000000, 0, 0x00000016, 0x756e6547, 0x6c65746e, 0x49656e69},
    {0x00000001, 0, 0x00050654, 0x00040800, 0x77faf3bf, 0xbfebfbff},
    {0x0000000b, 0, 0x00000001, 0x00000001, 0x00000100, 0x00000000},
    {0x0000000b, 1, 0x00000002, 0x00000004, 0x00000201, 0x00000000},
    {0x0000000b, 2, 0x00000000, 0x00000000, 0x00000002, 0x00000000},
};

static void test_bochs3_one_thread_per_core(void **state)
{
    struct topology_cpuid raw;
    struct cpu_topology all[4];

    load(&raw, bochs3_1_4_1, sizeof(bochs3_1_4_1) / sizeof(bochs3_1_4_1[0]));
    for (uint32_t id = 0; id < 4; id++) {
        set_apic_id(&raw, id);
        assert_int_equal(topology_decode(&raw, &all[id]), TOPOLOGY_LEAF_B);
        expect(&all[id], id, 0, id, 0, 0, 2);
    }
    assert_int_equal(topology_count_sockets(all, 4), 1);

    /* count=2:2:1: core shift 1, so APIC IDs 2 and 3 are socket 1. */
    raw.leaf_b[1].eax = 1;
    raw.leaf_b[1].ebx = 2;
    raw.leaf1.ebx = 0x00020800;
    set_apic_id(&raw, 3);
    topology_decode(&raw, &all[3]);
    expect(&all[3], 3, 1, 1, 0, 0, 1);
}

/* Dumped: Bochs 2.7, count=4 (4 sockets of 1 core): leaf 0xB subleaf 0 has
 * level type 0, so it describes nothing; leaf 1 says 1 logical CPU and
 * leaf 4's core count (8) is not to be believed over it. */
static const cpuid_row bochs_4[] = {
    {0x00000000, 0, 0x00000016, 0x756e6547, 0x6c65746e, 0x49656e69},
    {0x00000001, 0, 0x00050654, 0x00010800, 0x77faf3bf, 0xbfebfbff},
    {0x00000004, 0, 0x1c004121, 0x01c0003f, 0x0000003f, 0x00000000},
    {0x0000000b, 0, 0x00000002, 0x00000004, 0x00000000, 0x00000000},
    {0x0000000b, 1, 0x00000000, 0x00000000, 0x00000001, 0x00000000},
};

static void test_bochs_four_sockets(void **state)
{
    struct topology_cpuid raw;
    struct cpu_topology all[4];

    load(&raw, bochs_4, sizeof(bochs_4) / sizeof(bochs_4[0]));
    for (uint32_t id = 0; id < 4; id++) {
        set_apic_id(&raw, id);
        assert_int_equal(topology_decode(&raw, &all[id]), TOPOLOGY_LEGACY_INTEL);
        expect(&all[id], id, id, 0, 0, 0, 0);
    }
    assert_int_equal(topology_count_sockets(all, 4), 4);
}

/* Dumped on the development machine: a 2-vCPU Firecracker VM on an AMD
 * EPYC (family 19h), second vCPU. */
static const cpuid_row firecracker_epyc[] = {
    {0x00000000, 0, 0x00000010, 0x68747541, 0x444d4163, 0x69746e65},
    {0x00000001, 0, 0x00a00f11, 0x01020800, 0xfffa3203, 0x178bfbff},
    {0x00000004, 0, 0x00000000, 0x00000000, 0x00000000, 0x00000000},
    {0x0000000b, 0, 0x00000000, 0x00000001, 0x00000100, 0x00000001},
    {0x0000000b, 1, 0x00000005, 0x00000002, 0x00000201, 0x00000001},
    {0x0000000b, 2, 0x00000000, 0x00000000, 0x00000002, 0x00000001},
    {0x80000000, 0, 0x80000022, 0x68747541, 0x444d4163, 0x69746e65},
    {0x80000008, 0, 0x00303030, 0x130ad205, 0x00007001, 0x00000000},
};

static void test_firecracker_epyc(void **state)
{
    struct topology_cpuid raw;
    struct cpu_topology t;

    load(&raw, firecracker_epyc, sizeof(firecracker_epyc) / sizeof(firecracker_epyc[0]));
    assert_int_equal(topology_decode(&raw, &t), TOPOLOGY_LEAF_B);
    expect(&t, 1, 0, 1, 0, 0, 5);
}

/* Leaf 0x1F with every level a hybrid or tiled part may list: SMT (1),
 * core (3), module (4), tile (5), die (6). Everything between SMT and the
 * package folds into the core number. */
static void test_leaf_1f_module_tile_die_fold_into_core(void **state)
{
    const cpuid_row rows[] = {
        {0x00, 0, 0x00000023, 0x756e6547, 0x6c65746e, 0x49656e69},
        {0x01, 0, 0x000b06a2, 0x00400800, 0x7ffafbff, 0xbfebfbff},
        {0x1f, 0, 0x00000001, 0x00000002, 0x00000100, 0x000000d7},
        {0x1f, 1, 0x00000003, 0x00000008, 0x00000201, 0x000000d7},
        {0x1f, 2, 0x00000004, 0x00000010, 0x00000302, 0x000000d7},
        {0x1f, 3, 0x00000005, 0x00000020, 0x00000403, 0x000000d7},
        {0x1f, 4, 0x00000006, 0x00000040, 0x00000504, 0x000000d7},
        {0x1f, 5, 0x00000000, 0x00000000, 0x00000005, 0x000000d7},
    };
    struct topology_cpuid raw;
    struct cpu_topology t;

    load(&raw, rows, sizeof(rows) / sizeof(rows[0]));
    assert_int_equal(topology_decode(&raw, &t), TOPOLOGY_LEAF_1F);
    /* 0xd7 = 11 01011 1: socket 3, core 0x0b, thread 1. */
    expect(&t, 0xd7, 3, 0x0b, 1, 1, 6);
}

/* Pentium 4 with Hyper-Threading (max leaf 2, no leaf 4): the two logical
 * CPUs of a package are threads. Then a Pentium M: no HTT at all. */
static void test_legacy_pentium4_ht_and_single(void **state)
{
    const cpuid_row p4[] = {
        {0x0, 0, 0x00000002, 0x756e6547, 0x6c65746e, 0x49656e69},
        {0x1, 0, 0x00000f29, 0x01020800, 0x00004400, 0xbfebfbff},
    };
    const cpuid_row pm[] = {
        {0x0, 0, 0x00000002, 0x756e6547, 0x6c65746e, 0x49656e69},
        {0x1, 0, 0x000006d8, 0x00000816, 0x00000180, 0xafe9fbff},
    };
    struct topology_cpuid raw;
    struct cpu_topology t;

    load(&raw, p4, 2);
    assert_int_equal(topology_decode(&raw, &t), TOPOLOGY_LEGACY_HTT);
    expect(&t, 1, 0, 0, 1, 1, 1);
    set_apic_id(&raw, 6);
    topology_decode(&raw, &t);
    expect(&t, 6, 3, 0, 0, 1, 1);

    load(&raw, pm, 2);
    assert_int_equal(topology_decode(&raw, &t), TOPOLOGY_SINGLE);
    expect(&t, 0, 0, 0, 0, 0, 0);

    memset(&raw, 0, sizeof(raw)); /* no CPUID leaves at all */
    assert_int_equal(topology_decode(&raw, &t), TOPOLOGY_SINGLE);
    expect(&t, 0, 0, 0, 0, 0, 0);
}

/* Nonsense values must not produce shifts past 32 or an SMT field wider
 * than the package. */
static void test_malformed_extended_leaf(void **state)
{
    const cpuid_row rows[] = {
        {0x0, 0, 0x0000000b, 0, 0, 0},
        {0x1, 0, 0x00000000, 0x00000000, 0, 0},
        {0xb, 0, 0x0000001f, 0x00000002, 0x00000100, 0xffffffff},
        {0xb, 1, 0x00000004, 0x00000001, 0x00000201, 0xffffffff},
    };
    struct topology_cpuid raw;
    struct cpu_topology t;

    load(&raw, rows, 4);
    assert_int_equal(topology_decode(&raw, &t), TOPOLOGY_LEAF_B);
    assert_true(t.smt_shift <= t.package_shift);
    assert_true(t.package_shift <= 32);
    expect(&t, 0xffffffff, 1, 0, 0x7fffffff, 31, 31);
}

static void test_from_apic_id_and_count(void **state)
{
    struct cpu_topology t[5];

    topology_from_apic_id(0x25, 1, 4, &t[0]);
    expect(&t[0], 0x25, 2, 2, 1, 1, 4);
    topology_from_apic_id(0x25, 0, 0, &t[1]);
    expect(&t[1], 0x25, 0x25, 0, 0, 0, 0);
    topology_from_apic_id(0x25, 5, 2, &t[2]); /* SMT clamped to package */
    expect(&t[2], 0x25, 9, 0, 1, 2, 2);
    topology_from_apic_id(0x80000001, 0, 32, &t[3]);
    expect(&t[3], 0x80000001, 0, 0x80000001, 0, 0, 32);
    topology_from_apic_id(0x26, 1, 4, &t[4]);

    assert_int_equal(topology_count_sockets(t, 0), 0);
    assert_int_equal(topology_count_sockets(t, 1), 1);
    /* sockets 2, 0x25, 9, 0, 2 */
    assert_int_equal(topology_count_sockets(t, 5), 4);
    assert_string_equal(topology_source_name(TOPOLOGY_LEAF_1F), "CPUID leaf 0x1F");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xeon_two_sockets_leaf_b),
        cmocka_unit_test(test_qemu_leaf_1f_with_dies),
        cmocka_unit_test(test_qemu_leaf_1f_beyond_max_leaf_ignored),
        cmocka_unit_test(test_qemu_smp4),
        cmocka_unit_test(test_qemu_amd_legacy),
        cmocka_unit_test(test_legacy_intel_leaf_1_and_4),
        cmocka_unit_test(test_bochs_two_sockets),
        cmocka_unit_test(test_bochs3_one_thread_per_core),
        cmocka_unit_test(test_bochs_four_sockets),
        cmocka_unit_test(test_firecracker_epyc),
        cmocka_unit_test(test_leaf_1f_module_tile_die_fold_into_core),
        cmocka_unit_test(test_legacy_pentium4_ht_and_single),
        cmocka_unit_test(test_malformed_extended_leaf),
        cmocka_unit_test(test_from_apic_id_and_count),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
