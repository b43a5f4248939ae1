/* SPDX-License-Identifier: MIT */
/* Unit tests for interrupt destination matching (vmm/dev/apic_dest.c):
 * physical and logical destinations against x2APIC and xAPIC (flat and
 * cluster) local APICs, broadcasts, logical destinations naming several
 * APICs, lowest-priority delivery and the MSI redirection hint picking one,
 * disabled APICs and destinations nobody matches, and the MSI decoder.
 * test-sources: vmm/dev/apic_dest.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/dev/apic_dest.h"
#include "vmm/dev/vlapic.h"

#define N 70 /* more than one bitmap word */

static struct apic_dest_cpu cpus[N];
static uint64_t bm[(N + 63) / 64];

/* Every APIC in x2APIC mode with ID = index, as Sidecore's vCPUs are. */
static void all_x2apic(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        cpus[i] = (struct apic_dest_cpu){VLAPIC_MODE_X2APIC, i, vlapic_ldr_of(i), APIC_DFR_FLAT};
}

static bool has(unsigned i)
{
    return (bm[i / 64] >> (i % 64)) & 1;
}

static unsigned resolve(unsigned n, uint32_t dest, bool logical, bool msg8, bool one, uint8_t vec)
{
    struct apic_dest d = {dest, logical, msg8, one, vec};
    unsigned count = apic_dest_resolve(cpus, n, &d, bm);
    unsigned bits = 0;
    for (unsigned i = 0; i < n; i++)
        bits += has(i);
    assert_int_equal(bits, count); /* the count is the bitmap's */
    return count;
}

static void test_x2apic_physical(void **state)
{
    all_x2apic(N);
    assert_int_equal(resolve(N, 5, false, true, false, 0x30), 1);
    assert_true(has(5));
    assert_int_equal(resolve(N, 66, false, false, false, 0x30), 1); /* second word */
    assert_true(has(66));
    assert_int_equal(resolve(N, 0, false, true, false, 0x30), 1);
    assert_true(has(0));
    /* No such APIC: nothing. */
    assert_int_equal(resolve(N, 200, false, true, false, 0x30), 0);
    assert_int_equal(resolve(4, 4, false, true, false, 0x30), 0);
    /* A 32-bit ICR destination is compared whole: ID 0x105 is not 5. */
    assert_int_equal(resolve(N, 0x105, false, false, false, 0x30), 0);
}

static void test_x2apic_broadcast(void **state)
{
    all_x2apic(N);
    /* An 8-bit MSI/IOAPIC destination 0xff: every APIC, either mode. */
    assert_int_equal(resolve(N, 0xff, false, true, false, 0x30), N);
    assert_int_equal(resolve(N, 0xff, true, true, false, 0x30), N);
    /* The x2APIC broadcast ID. */
    assert_int_equal(resolve(N, 0xffffffffu, false, false, false, 0x30), N);
    assert_int_equal(resolve(N, 0xffffffffu, true, false, false, 0x30), N);
    /* From a 32-bit ICR, 0xff is just ID 255 (absent here). */
    assert_int_equal(resolve(N, 0xff, false, false, false, 0x30), 0);
}

static void test_x2apic_logical_cluster(void **state)
{
    all_x2apic(N);
    /* Cluster 0, members 0, 2 and 3: three targets. */
    assert_int_equal(resolve(N, 0x0000000d, true, false, false, 0x30), 3);
    assert_true(has(0) && has(2) && has(3) && !has(1));
    /* Cluster 4 (IDs 64-79), members 1 and 5: IDs 65 and 69. */
    assert_int_equal(resolve(N, 0x00040022, true, false, false, 0x30), 2);
    assert_true(has(65) && has(69));
    /* Members of an empty cluster, or no members: nothing. */
    assert_int_equal(resolve(N, 0x00070001, true, false, false, 0x30), 0);
    assert_int_equal(resolve(N, 0x00010000, true, false, false, 0x30), 0);
    /* An 8-bit logical MSI destination is cluster 0, members 0-7. */
    assert_int_equal(resolve(N, 0x81, true, true, false, 0x30), 2);
    assert_true(has(0) && has(7));
}

static void test_xapic_physical_and_flat(void **state)
{
    /* Four xAPICs with the flat model, logical IDs 1 << index. */
    for (unsigned i = 0; i < 4; i++)
        cpus[i] = (struct apic_dest_cpu){VLAPIC_MODE_XAPIC, i, (1u << i) << 24, APIC_DFR_FLAT};
    assert_int_equal(resolve(4, 2, false, true, false, 0x30), 1);
    assert_true(has(2));
    /* The 8-bit ID is compared: 0x102 reaches ID 2. */
    assert_int_equal(resolve(4, 0x102, false, true, false, 0x30), 1);
    assert_int_equal(resolve(4, 9, false, true, false, 0x30), 0);
    /* Flat logical: every APIC whose logical ID shares a bit. */
    assert_int_equal(resolve(4, 0x0a, true, true, false, 0x30), 2);
    assert_true(has(1) && has(3));
    assert_int_equal(resolve(4, 0x70, true, true, false, 0x30), 0);
    /* Broadcast in both modes. */
    assert_int_equal(resolve(4, 0xff, false, true, false, 0x30), 4);
    assert_int_equal(resolve(4, 0xff, true, true, false, 0x30), 4);
    /* An xAPIC whose LDR was never set matches no logical destination. */
    cpus[0].ldr = 0;
    assert_int_equal(resolve(4, 0x01, true, true, false, 0x30), 0);
}

static void test_xapic_cluster(void **state)
{
    /* Clusters 1 and 2, two members each: logical IDs 0x11, 0x12, 0x21, 0x24. */
    const uint8_t ids[4] = {0x11, 0x12, 0x21, 0x24};
    for (unsigned i = 0; i < 4; i++)
        cpus[i] =
            (struct apic_dest_cpu){VLAPIC_MODE_XAPIC, i, (uint32_t)ids[i] << 24, APIC_DFR_CLUSTER};
    assert_int_equal(resolve(4, 0x13, true, true, false, 0x30), 2); /* cluster 1, both */
    assert_true(has(0) && has(1));
    assert_int_equal(resolve(4, 0x24, true, true, false, 0x30), 1);
    assert_true(has(3));
    assert_int_equal(resolve(4, 0x31, true, true, false, 0x30), 0); /* no cluster 3 */
    assert_int_equal(resolve(4, 0x28, true, true, false, 0x30), 0); /* no member 8 in 2 */
    assert_int_equal(resolve(4, 0xff, true, true, false, 0x30), 4); /* broadcast */
    /* A reserved DFR model matches no logical destination. */
    cpus[0].dfr = 0x5fffffffu;
    assert_int_equal(resolve(4, 0x11, true, true, false, 0x30), 0);
}

static void test_disabled_never_matches(void **state)
{
    all_x2apic(4);
    cpus[1].mode = VLAPIC_MODE_DISABLED;
    assert_int_equal(resolve(4, 1, false, true, false, 0x30), 0);
    assert_int_equal(resolve(4, 0xff, false, true, false, 0x30), 3);
    assert_false(has(1));
    assert_int_equal(resolve(4, 0x3, true, true, false, 0x30), 1);
    assert_true(has(0));
}

static void test_one_of_the_set(void **state)
{
    all_x2apic(N);
    /* Lowest priority to a broadcast: exactly one target, chosen by the
     * vector, so two vectors can land on different vCPUs and one vector
     * always lands on the same. */
    assert_int_equal(resolve(N, 0xff, false, true, true, 0x30), 1);
    assert_true(has(0x30 % N));
    assert_int_equal(resolve(N, 0xff, false, true, true, 0x31), 1);
    assert_true(has(0x31 % N));
    assert_int_equal(resolve(N, 0xff, false, true, true, 0x30), 1);
    assert_true(has(0x30 % N));
    /* Among a logical set of three (IDs 0, 2, 3): the vector picks. */
    assert_int_equal(resolve(N, 0xd, true, false, true, 0x30), 1); /* 48 % 3 = 0 */
    assert_true(has(0));
    assert_int_equal(resolve(N, 0xd, true, false, true, 0x31), 1); /* 1: ID 2 */
    assert_true(has(2));
    assert_int_equal(resolve(N, 0xd, true, false, true, 0x32), 1); /* 2: ID 3 */
    assert_true(has(3));
    /* One match stays; none stays none. */
    assert_int_equal(resolve(N, 9, false, true, true, 0x77), 1);
    assert_true(has(9));
    assert_int_equal(resolve(N, 0x00070001, true, false, true, 0x30), 0);
}

static void test_msi_decode(void **state)
{
    struct apic_msi m;

    /* Physical, fixed, edge: what Linux writes (vector 0x41 to APIC 3). */
    assert_true(apic_msi_decode(0xfee03000ull, 0x0041, &m));
    assert_int_equal(m.dest.dest, 3);
    assert_false(m.dest.logical);
    assert_true(m.dest.msg8);
    assert_false(m.dest.one);
    assert_int_equal(m.dest.vector, 0x41);
    assert_int_equal(m.delivery_mode, VLAPIC_DM_FIXED);
    assert_false(m.level);
    /* Logical (DM, bit 2), lowest priority, level-triggered. */
    assert_true(apic_msi_decode(0xfee0f004ull, 0xc152, &m));
    assert_int_equal(m.dest.dest, 0x0f);
    assert_true(m.dest.logical);
    assert_true(m.dest.one);
    assert_int_equal(m.delivery_mode, VLAPIC_DM_LOWEST);
    assert_true(m.level);
    /* The redirection hint (bit 3) alone also means one of the set. */
    assert_true(apic_msi_decode(0xfeeff008ull, 0x0030, &m));
    assert_int_equal(m.dest.dest, 0xff);
    assert_false(m.dest.logical);
    assert_true(m.dest.one);
    /* Low address bits other than RH/DM (extended destination ID) are ignored. */
    assert_true(apic_msi_decode(0xfee01ff0ull, 0x0030, &m));
    assert_int_equal(m.dest.dest, 1);
    /* Not the interrupt range: a memory write, not an MSI. */
    assert_false(apic_msi_decode(0xfed03000ull, 0x0041, &m));
    assert_false(apic_msi_decode(0x1fee03000ull, 0x0041, &m));
    assert_false(apic_msi_decode(0, 0, &m));
}

static void test_msi_to_several_vcpus(void **state)
{
    struct apic_msi m;

    all_x2apic(4);
    /* Logical MSI naming vCPUs 1 and 2: both are targets. */
    assert_true(apic_msi_decode(0xfee06004ull, 0x0041, &m));
    assert_int_equal(apic_dest_resolve(cpus, 4, &m.dest, bm), 2);
    assert_true(has(1) && has(2));
    /* The same with lowest priority: one of them. */
    assert_true(apic_msi_decode(0xfee06004ull, 0x0141, &m));
    assert_int_equal(apic_dest_resolve(cpus, 4, &m.dest, bm), 1);
    assert_true(has(1) != has(2));
    /* Physical broadcast: all four. */
    assert_true(apic_msi_decode(0xfeeff000ull, 0x0041, &m));
    assert_int_equal(apic_dest_resolve(cpus, 4, &m.dest, bm), 4);
    /* Physical to an absent APIC: dropped. */
    assert_true(apic_msi_decode(0xfee09000ull, 0x0041, &m));
    assert_int_equal(apic_dest_resolve(cpus, 4, &m.dest, bm), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_x2apic_physical),
        cmocka_unit_test(test_x2apic_broadcast),
        cmocka_unit_test(test_x2apic_logical_cluster),
        cmocka_unit_test(test_xapic_physical_and_flat),
        cmocka_unit_test(test_xapic_cluster),
        cmocka_unit_test(test_disabled_never_matches),
        cmocka_unit_test(test_one_of_the_set),
        cmocka_unit_test(test_msi_decode),
        cmocka_unit_test(test_msi_to_several_vcpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
