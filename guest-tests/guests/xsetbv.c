/* SPDX-License-Identifier: MIT */
/*
 * xsetbv: XCR0 through the XSETBV exit. With CR4.OSXSAVE set, a valid value
 * (x87 + SSE) is accepted and XGETBV reads it back; invalid values (x87 bit
 * clear, an unknown bit, a non-zero XCR index) raise #GP as on hardware, and
 * CPUID.1:ECX.OSXSAVE follows CR4.OSXSAVE.
 */
#include "expect.h"
#include "printf.h"
#include "runtime.h"
#include "trap.h"
#include "x86.h"

const char guest_name[] = GUEST_NAME;

#define CR4_OSXSAVE   (1ul << 18)
#define CPUID_XSAVE   (1u << 26)
#define CPUID_OSXSAVE (1u << 27)

static unsigned long read_cr4(void)
{
    unsigned long v;
    asm volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

static void write_cr4(unsigned long v)
{
    asm volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

/* XSETBV that may fault; returns the vector taken, or TRAP_NONE. */
static uint32_t try_xsetbv(uint32_t index, uint64_t value)
{
    trap_clear();
    asm volatile(TRAP_ARM "xsetbv\n1:"
                 :
                 : "c"(index), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                 : "memory");
    return trap_last.vector;
}

static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

void test_main(void)
{
    if (!(cpuid(1, 0).ecx & CPUID_XSAVE)) {
        printf("xsetbv: this CPU has no XSAVE; nothing to test\n");
        EXPECT(1, "xsetbv: skipped (no XSAVE)");
        return;
    }
    EXPECT(!(cpuid(1, 0).ecx & CPUID_OSXSAVE), "xsetbv: OSXSAVE clear while CR4.OSXSAVE is clear");
    write_cr4(read_cr4() | CR4_OSXSAVE);
    EXPECT(cpuid(1, 0).ecx & CPUID_OSXSAVE, "xsetbv: OSXSAVE set once CR4.OSXSAVE is set");
    EXPECT_EQ(try_xsetbv(0, 3), TRAP_NONE, "xsetbv: XCR0 = x87|SSE is accepted");
    EXPECT_EQ(xgetbv0(), 3, "xsetbv: XGETBV reads back x87|SSE");
    EXPECT_EQ(try_xsetbv(0, 2), X86_GP, "xsetbv: XCR0 without x87 raises #GP");
    EXPECT_EQ(try_xsetbv(0, 1ull << 62), X86_GP, "xsetbv: an unknown XCR0 bit raises #GP");
    EXPECT_EQ(try_xsetbv(1, 3), X86_GP, "xsetbv: XCR index 1 raises #GP");
    EXPECT_EQ(xgetbv0(), 3, "xsetbv: XCR0 unchanged by the refused writes");
}
