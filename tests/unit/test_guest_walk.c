/* SPDX-License-Identifier: MIT */
/* Unit tests for the guest page-table walker: each paging mode on a small
 * fake guest memory, large pages, reserved bits, faults and their error
 * codes, and reading across pages.
 * test-sources: vmm/decode/guest_walk.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/decode/guest_walk.h"

#define MEM_SIZE 0x20000u

#define CR0_PE   0x1ull
#define CR0_PG   0x80000000ull
#define CR4_PSE  0x10ull
#define CR4_PAE  0x20ull
#define CR4_LA57 0x1000ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull
#define EFER_NXE 0x800ull
#define P        0x1ull
#define RW       0x2ull
#define PS       0x80ull

static uint8_t mem[MEM_SIZE];
static unsigned reads;

static bool read8(void *ctx, uint64_t gpa, uint64_t *value)
{
    reads++;
    if (gpa % 8 != 0)
        fail_msg("unaligned read at %#llx", (unsigned long long)gpa);
    if (gpa >= MEM_SIZE)
        return false;
    memcpy(value, mem + gpa, 8);
    return true;
}

static void put32(uint64_t gpa, uint32_t v)
{
    memcpy(mem + gpa, &v, 4);
}

static void put64(uint64_t gpa, uint64_t v)
{
    memcpy(mem + gpa, &v, 8);
}

static int setup(void **state)
{
    memset(mem, 0, sizeof(mem));
    reads = 0;
    return 0;
}

static struct guest_paging paging(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer)
{
    return (struct guest_paging){
        .cr0 = cr0, .cr3 = cr3, .cr4 = cr4, .efer = efer, .phys_bits = 36, .read8 = read8};
}

static void expect_gpa(const struct guest_paging *p, uint64_t linear, uint64_t gpa,
                       uint64_t page_size)
{
    struct guest_walk w;
    assert_int_equal(guest_walk(p, linear, 0, &w), GUEST_WALK_OK);
    assert_true(w.gpa == gpa);
    assert_true(w.page_size == page_size);
}

static void expect_fault(const struct guest_paging *p, uint64_t linear, unsigned access,
                         enum guest_walk_status status, unsigned level, uint32_t error)
{
    struct guest_walk w;
    assert_int_equal(guest_walk(p, linear, access, &w), status);
    assert_int_equal(w.level, level);
    if (status == GUEST_WALK_NOT_PRESENT || status == GUEST_WALK_RESERVED)
        assert_int_equal(w.pf_error, error);
}

static void test_no_paging(void **state)
{
    struct guest_paging p = paging(CR0_PE, 0x1000, 0, 0);

    assert_int_equal(guest_paging_mode(&p), GUEST_PAGING_NONE);
    expect_gpa(&p, 0x12345678, 0x12345678, 0);
    expect_gpa(&p, 0x100000000ull + 0xfee00000, 0xfee00000, 0); /* 32-bit linear */
    assert_int_equal(reads, 0);
}

static void test_32bit(void **state)
{
    struct guest_paging p = paging(CR0_PE | CR0_PG, 0x1000 | 0x18 /* PWT PCD */, 0, 0);

    assert_int_equal(guest_paging_mode(&p), GUEST_PAGING_32);
    /* 0xc0005123: PDE 0x300 -> table 0x2000, PTE 5 (an odd, high half). */
    put32(0x1000 + 0x300 * 4, 0x2000 | P | RW);
    put32(0x2000 + 5 * 4, 0x7000 | P);
    expect_gpa(&p, 0xc0005123, 0x7123, 4096);
    /* PTE 4 (the low half of the same word) is absent. */
    expect_fault(&p, 0xc0004000, GUEST_ACCESS_WRITE | GUEST_ACCESS_USER, GUEST_WALK_NOT_PRESENT, 1,
                 GUEST_PF_W | GUEST_PF_U);
    expect_fault(&p, 0x80000000, GUEST_ACCESS_FETCH, GUEST_WALK_NOT_PRESENT, 2, GUEST_PF_I);

    /* PDE 1 with PS: ignored without CR4.PSE (it points at a table)... */
    put32(0x1000 + 1 * 4, 0x3000 | P | PS);
    put32(0x3000 + 0x12 * 4, 0x9000 | P);
    expect_gpa(&p, 0x00412345, 0x9345, 4096);
    /* ...and a 4 MiB page with it. */
    p.cr4 = CR4_PSE;
    put32(0x1000 + 1 * 4, 0x00c00000 | P | PS);
    expect_gpa(&p, 0x00512345, 0x00d12345, 4u << 20);
    /* PSE-36: bits 20:13 are physical bits 39:32. */
    put32(0x1000 + 2 * 4, 0x00800000 | (0x5u << 13) | P | PS);
    expect_gpa(&p, 0x00812345, 0x500812345ull, 4u << 20);
    /* Bit 21 is reserved; so are PSE-36 bits above MAXPHYADDR (36). */
    put32(0x1000 + 3 * 4, 0x00c00000 | (1u << 21) | P | PS);
    expect_fault(&p, 0x00c00000, 0, GUEST_WALK_RESERVED, 2, GUEST_PF_P | GUEST_PF_RSVD);
    put32(0x1000 + 3 * 4, 0x00c00000 | (0x10u << 13) | P | PS);
    expect_fault(&p, 0x00c00000, GUEST_ACCESS_WRITE, GUEST_WALK_RESERVED, 2,
                 GUEST_PF_P | GUEST_PF_RSVD | GUEST_PF_W);
    p.phys_bits = 40;
    expect_gpa(&p, 0x00c00000, 0x1000c00000ull, 4u << 20);
    /* A page directory outside guest memory. */
    p.cr3 = 0x40000000;
    expect_fault(&p, 0x1000, 0, GUEST_WALK_NO_MEMORY, 2, 0);
}

static void test_pae(void **state)
{
    /* The PDPT is 32-byte aligned, not page aligned. */
    struct guest_paging p = paging(CR0_PE | CR0_PG, 0x1020, CR4_PAE, EFER_NXE);

    assert_int_equal(guest_paging_mode(&p), GUEST_PAGING_PAE);
    put64(0x1020 + 3 * 8, 0x2000 | P);                        /* 0xc0000000.. */
    put64(0x2000 + 0 * 8, 0x3000 | P | RW);                   /* PD 0 -> PT */
    put64(0x3000 + 1 * 8, 0x123456000ull | P | (1ull << 63)); /* NX, above 4 GiB */
    expect_gpa(&p, 0xc0001abc, 0x123456abcull, 4096);
    expect_gpa(&p, 0x1c0001abcull, 0x123456abcull, 4096); /* linear is 32 bits */
    put64(0x2000 + 1 * 8, 0x40000000 | P | PS);           /* 2 MiB page */
    expect_gpa(&p, 0xc0212345, 0x40012345, 2u << 20);
    /* Without EFER.NXE, bit 63 is reserved. */
    p.efer = 0;
    expect_fault(&p, 0xc0001000, 0, GUEST_WALK_RESERVED, 1, GUEST_PF_P | GUEST_PF_RSVD);
    p.efer = EFER_NXE;
    /* PAE reserves bits 62:MAXPHYADDR (bit 40 with 36 address bits)... */
    put64(0x3000 + 2 * 8, 0x7000 | P | (1ull << 40));
    expect_fault(&p, 0xc0002000, 0, GUEST_WALK_RESERVED, 1, GUEST_PF_P | GUEST_PF_RSVD);
    put64(0x3000 + 2 * 8, 0x7000 | P | (1ull << 60));
    expect_fault(&p, 0xc0002000, 0, GUEST_WALK_RESERVED, 1, GUEST_PF_P | GUEST_PF_RSVD);
    /* ...and bits 20:13 of a 2 MiB page. */
    put64(0x2000 + 2 * 8, 0x40000000 | (1ull << 13) | P | PS);
    expect_fault(&p, 0xc0400000, 0, GUEST_WALK_RESERVED, 2, GUEST_PF_P | GUEST_PF_RSVD);
    /* PAT (bit 12) of a large page is not reserved. */
    put64(0x2000 + 2 * 8, 0x40000000 | (1ull << 12) | P | PS);
    expect_gpa(&p, 0xc0400010, 0x40000010, 2u << 20);
    /* PDPTE reserved bits 2:1 (R/W is not defined there). */
    put64(0x1020 + 0 * 8, 0x2000 | P | RW);
    expect_fault(&p, 0x00001000, 0, GUEST_WALK_RESERVED, 3, GUEST_PF_P | GUEST_PF_RSVD);
    put64(0x1020 + 1 * 8, 0);
    expect_fault(&p, 0x40000000, GUEST_ACCESS_USER, GUEST_WALK_NOT_PRESENT, 3, GUEST_PF_U);
    /* The PDPTEs the CPU loaded win over memory. */
    const uint64_t pdptes[4] = {0, 0, 0, 0x5000 | P};
    put64(0x5000, 0x3000 | P);
    p.pdptes = pdptes;
    put64(0x1020 + 3 * 8, 0); /* memory now says absent */
    expect_gpa(&p, 0xc0001abc, 0x123456abcull, 4096);
    expect_fault(&p, 0x00001000, 0, GUEST_WALK_NOT_PRESENT, 3, 0);
}

/* Entry index of linear at level (1 = PT). */
static uint64_t idx(uint64_t linear, unsigned level)
{
    return (linear >> (12 + 9 * (level - 1))) & 0x1ff;
}

static void test_4level(void **state)
{
    struct guest_paging p =
        paging(CR0_PE | CR0_PG, 0x1000 | 0x5 /* a PCID */, CR4_PAE, EFER_LME | EFER_LMA | EFER_NXE);
    const uint64_t text = 0xffffffff81234567ull, direct = 0xffff888012345678ull;
    const uint64_t user = 0x00007f0000401234ull;

    assert_int_equal(guest_paging_mode(&p), GUEST_PAGING_4LEVEL);
    /* Kernel text in a 2 MiB page. */
    put64(0x1000 + idx(text, 4) * 8, 0x2000 | P | RW);
    put64(0x2000 + idx(text, 3) * 8, 0x3000 | P | RW);
    put64(0x3000 + idx(text, 2) * 8, 0x01200000 | P | PS | (1ull << 12));
    expect_gpa(&p, text, 0x01234567, 2u << 20);
    /* The direct map in a 1 GiB page. */
    put64(0x1000 + idx(direct, 4) * 8, 0x4000 | P | RW);
    put64(0x4000 + idx(direct, 3) * 8, 0x0 | P | RW | PS);
    expect_gpa(&p, direct, 0x12345678, 1u << 30);
    /* A user page through all four levels; bits 62:52 are free for software. */
    put64(0x1000 + idx(user, 4) * 8, 0x5000 | P);
    put64(0x5000 + idx(user, 3) * 8, 0x6000 | P);
    put64(0x6000 + idx(user, 2) * 8, 0x7000 | P);
    put64(0x7000 + idx(user, 1) * 8, 0xabcd000 | P | (0x7ffull << 52));
    expect_gpa(&p, user, 0xabcd234, 4096);
    struct guest_walk w;
    guest_walk(&p, user, 0, &w);
    assert_int_equal(w.level, 1);
    assert_true(w.entry_gpa == 0x7000 + idx(user, 1) * 8);
    /* Absent at each level, with the access in the error code. */
    expect_fault(&p, user + 0x1000, GUEST_ACCESS_WRITE, GUEST_WALK_NOT_PRESENT, 1, GUEST_PF_W);
    expect_fault(&p, user + (2u << 20), 0, GUEST_WALK_NOT_PRESENT, 2, 0);
    expect_fault(&p, user + (1ull << 30), 0, GUEST_WALK_NOT_PRESENT, 3, 0);
    expect_fault(&p, 0x1000, GUEST_ACCESS_FETCH | GUEST_ACCESS_USER, GUEST_WALK_NOT_PRESENT, 4,
                 GUEST_PF_I | GUEST_PF_U);
    /* Reserved: PS in a PML4E, address bits above MAXPHYADDR, 1 GiB page
     * offset bits, XD without NXE. */
    put64(0x1000 + 1 * 8, 0x8000 | P | PS);
    expect_fault(&p, 1ull << 39, 0, GUEST_WALK_RESERVED, 4, GUEST_PF_P | GUEST_PF_RSVD);
    put64(0x7000 + idx(user, 1) * 8, 0xabcd000 | P | (1ull << 40));
    expect_fault(&p, user, 0, GUEST_WALK_RESERVED, 1, GUEST_PF_P | GUEST_PF_RSVD);
    p.phys_bits = 46;
    expect_gpa(&p, user, 0x1000abcd234ull, 4096);
    put64(0x4000 + idx(direct, 3) * 8, 0x0 | (1ull << 29) | P | PS);
    expect_fault(&p, direct, 0, GUEST_WALK_RESERVED, 3, GUEST_PF_P | GUEST_PF_RSVD);
    p.efer &= ~EFER_NXE;
    put64(0x3000 + idx(text, 2) * 8, 0x01200000 | P | PS | (1ull << 63));
    expect_fault(&p, text, 0, GUEST_WALK_RESERVED, 2, GUEST_PF_P | GUEST_PF_RSVD);
    /* Non-canonical addresses are #GP, not a walk. */
    unsigned before = reads;
    expect_fault(&p, 0x0000800000000000ull, 0, GUEST_WALK_NONCANONICAL, 0, 0);
    expect_fault(&p, 0xffff7fffffffffffull, 0, GUEST_WALK_NONCANONICAL, 0, 0);
    assert_int_equal(reads, before);
    /* A table outside guest memory. */
    put64(0x5000 + idx(user, 3) * 8, 0x7fff000 | P);
    expect_fault(&p, user, 0, GUEST_WALK_NO_MEMORY, 2, 0);
}

static void test_5level(void **state)
{
    struct guest_paging p =
        paging(CR0_PE | CR0_PG, 0x1000, CR4_PAE | CR4_LA57, EFER_LME | EFER_LMA | EFER_NXE);
    const uint64_t la = 0xff11000000403123ull; /* canonical in 57 bits only */

    assert_int_equal(guest_paging_mode(&p), GUEST_PAGING_5LEVEL);
    put64(0x1000 + idx(la, 5) * 8, 0x2000 | P);
    put64(0x2000 + idx(la, 4) * 8, 0x3000 | P);
    put64(0x3000 + idx(la, 3) * 8, 0x4000 | P);
    put64(0x4000 + idx(la, 2) * 8, 0x5000 | P);
    put64(0x5000 + idx(la, 1) * 8, 0x9000 | P);
    expect_gpa(&p, la, 0x9123, 4096);
    expect_fault(&p, 0xfe00000000000000ull, 0, GUEST_WALK_NONCANONICAL, 0, 0);
    put64(0x1000 + idx(la, 5) * 8, 0x2000 | P | PS);
    expect_fault(&p, la, 0, GUEST_WALK_RESERVED, 5, GUEST_PF_P | GUEST_PF_RSVD);
}

static void test_read_linear(void **state)
{
    struct guest_paging p = paging(CR0_PE | CR0_PG, 0x1000, 0, 0);
    uint8_t buf[16];
    struct guest_walk fault;

    /* Two adjacent linear pages on frames in the opposite order, and the
     * last page of the 4 GiB space next to page 0 (it wraps). */
    put32(0x1000 + 0x100 * 4, 0x2000 | P);
    put32(0x2000 + 0 * 4, 0x9000 | P);
    put32(0x2000 + 1 * 4, 0x8000 | P);
    put32(0x1000 + 0x3ff * 4, 0x3000 | P);
    put32(0x3000 + 0x3ff * 4, 0xa000 | P);
    put32(0x1000 + 0 * 4, 0x4000 | P);
    put32(0x4000 + 0 * 4, 0xb000 | P);
    for (int i = 0; i < 8; i++) {
        mem[0x9ff8 + i] = (uint8_t)(0x10 + i);
        mem[0x8000 + i] = (uint8_t)(0x20 + i);
        mem[0xaffc + (i & 3)] = (uint8_t)(0x30 + (i & 3));
        mem[0xb000 + i] = (uint8_t)(0x40 + i);
    }
    assert_int_equal(guest_read_linear(&p, 0x40000ffa, buf, 10, GUEST_ACCESS_FETCH, &fault), 10);
    const uint8_t want[10] = {0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x20, 0x21, 0x22, 0x23};
    assert_memory_equal(buf, want, 10);
    assert_int_equal(guest_read_linear(&p, 0xfffffffe, buf, 4, 0, NULL), 4);
    const uint8_t wrap[4] = {0x32, 0x33, 0x40, 0x41};
    assert_memory_equal(buf, wrap, 4);
    /* The next linear page is absent: the bytes before it are still read. */
    assert_int_equal(guest_read_linear(&p, 0x40001ffd, buf, 15, GUEST_ACCESS_FETCH, &fault), 3);
    assert_int_equal(fault.status, GUEST_WALK_NOT_PRESENT);
    assert_int_equal(fault.pf_error, GUEST_PF_I);
    /* A page whose frame is outside guest memory. */
    put32(0x2000 + 2 * 4, 0x7fff0000u | P);
    assert_int_equal(guest_read_linear(&p, 0x40002000, buf, 4, 0, &fault), 0);
    assert_int_equal(fault.status, GUEST_WALK_NO_MEMORY);
    assert_string_equal(guest_walk_status_name(fault.status), "outside guest memory");
    /* Without a callback nothing is read. */
    p.read8 = NULL;
    assert_int_equal(guest_read_linear(&p, 0x40000ffa, buf, 4, 0, &fault), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_no_paging, setup),
        cmocka_unit_test_setup(test_32bit, setup),
        cmocka_unit_test_setup(test_pae, setup),
        cmocka_unit_test_setup(test_4level, setup),
        cmocka_unit_test_setup(test_5level, setup),
        cmocka_unit_test_setup(test_read_linear, setup),
    };
    return cmocka_run_group_tests_name("guest_walk", tests, NULL, NULL);
}
