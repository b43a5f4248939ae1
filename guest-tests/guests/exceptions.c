/* SPDX-License-Identifier: MIT */
/*
 * exceptions: faults and traps a guest provokes on purpose must reach the
 * guest's own IDT with the architectural vector, error code and saved RIP,
 * with its registers intact, and the guest must go on afterwards. Built as
 * ELF64 (adds non-canonical #GP and #PF through its own page tables) and as
 * ELF32 (paging stays off, so no #PF).
 */
#include "expect.h"
#include "printf.h"
#include "runtime.h"
#include "trap.h"
#include "x86.h"
#ifdef __x86_64__
#include "paging64.h"
#endif

const char guest_name[] = GUEST_NAME;

#define INT_SOFTWARE     0x80
#define SELECTOR_BAD     0xFF8 /* GDT index 511: far beyond our 4-entry GDT */
#define REGISTER_PATTERN 0x5A5A1234u

static unsigned provoked;
static volatile unsigned software_int_count;

static void software_int_handler(unsigned vector)
{
    (void)vector;
    software_int_count++;
}

/* One line per provoked exception: vector, error code and RIP all right. */
static void expect_exception(const char *what, uint32_t vector, uint64_t error, uintptr_t rip)
{
    provoked++;
    EXPECTF(trap_last.vector == vector && trap_last.error == error && trap_last.rip == rip, what,
            "got vector %#x error %#llx RIP %#llx; expected vector %#x error %#llx RIP %#llx",
            trap_last.vector, (unsigned long long)trap_last.error,
            (unsigned long long)trap_last.rip, vector, (unsigned long long)error,
            (unsigned long long)rip);
}

static void check_divide_error(void)
{
    uintptr_t at;
    uint32_t a = 1, d = 0, zero = 0;

    trap_clear();
    asm volatile(TRAP_ARM "mov $2f, %[at]\n2: divl %[z]\n1:"
                 : [at] "=&r"(at), "+a"(a), "+d"(d)
                 : [z] "r"(zero)
                 : "memory");
    expect_exception("exceptions: #DE from DIV by zero (vector 0, RIP of the DIV)", X86_DE, 0, at);
}

static void check_invalid_opcode(void)
{
    uintptr_t at;
    unsigned long kept = REGISTER_PATTERN;

    trap_clear();
    asm volatile(TRAP_ARM "mov $2f, %[at]\n2: ud2\n1:" : [at] "=&r"(at), "+b"(kept) : : "memory");
    expect_exception("exceptions: #UD from UD2 (vector 6, RIP of the UD2)", X86_UD, 0, at);
    EXPECT_EQ(kept, REGISTER_PATTERN, "exceptions: registers survive a handled exception");
}

static void check_breakpoint(void)
{
    uintptr_t at;

    trap_clear();
    asm volatile(TRAP_ARM "mov $2f, %[at]\n2: int3\n1:" : [at] "=&r"(at) : : "memory");
    /* #BP is a trap: the saved RIP is the next instruction (INT3 is 1 byte). */
    expect_exception("exceptions: #BP from INT3 (vector 3, RIP after the INT3)", X86_BP, 0, at + 1);
}

static void check_segment_faults(void)
{
    uintptr_t at;
    uint16_t ds_after;

    trap_clear();
    asm volatile(TRAP_ARM "mov $2f, %[at]\n2: mov %[sel], %%ds\n1:"
                 : [at] "=&r"(at)
                 : [sel] "r"((uint16_t)SELECTOR_BAD)
                 : "memory");
    expect_exception("exceptions: #GP from loading selector 0xFF8 beyond the GDT (error 0xFF8)",
                     X86_GP, SELECTOR_BAD, at);

    trap_clear();
    asm volatile(TRAP_ARM "mov $2f, %[at]\n2: mov %[sel], %%ds\n1:"
                 : [at] "=&r"(at)
                 : [sel] "r"((uint16_t)GDT_NOT_PRESENT)
                 : "memory");
    expect_exception("exceptions: #NP from loading a not-present segment (error 0x18)", X86_NP,
                     GDT_NOT_PRESENT, at);

    asm volatile("mov %%ds, %0" : "=r"(ds_after));
    EXPECT_EQ(ds_after, GDT_DATA, "exceptions: DS unchanged by the faulting loads");
}

static void check_software_interrupt(void)
{
    irq_set_handler(INT_SOFTWARE, software_int_handler);
    asm volatile("int $0x80" : : : "memory");
    asm volatile("int $0x80" : : : "memory");
    EXPECT_EQ(software_int_count, 2, "exceptions: INT 0x80 reaches its IDT handler each time");
}

#ifdef __x86_64__
static void check_non_canonical(void)
{
    uintptr_t at;
    uint64_t v = 0;
    uintptr_t addr = 0x8000000000000000ull;

    trap_clear();
    asm volatile(TRAP_ARM "mov $2f, %[at]\n2: mov (%[p]), %[v]\n1:"
                 : [at] "=&r"(at), [v] "+r"(v)
                 : [p] "r"(addr)
                 : "memory");
    expect_exception("exceptions: #GP from a non-canonical address (error 0)", X86_GP, 0, at);
}

static volatile uint32_t pf_page[1024] __attribute__((aligned(4096)));

/* Writes (or reads) pf_page[0] expecting #PF; checks vector, error, RIP and
 * CR2 in one line. */
static void provoke_page_fault(const char *what, bool write, uint64_t error)
{
    uintptr_t at;
    uint32_t v = 0x600DF00D;
    volatile uint32_t *p = &pf_page[0];

    trap_clear();
    if (write)
        asm volatile(TRAP_ARM "mov $2f, %[at]\n2: movl %[v], (%[p])\n1:"
                     : [at] "=&r"(at)
                     : [p] "r"(p), [v] "r"(v)
                     : "memory");
    else
        asm volatile(TRAP_ARM "mov $2f, %[at]\n2: movl (%[p]), %[v]\n1:"
                     : [at] "=&r"(at), [v] "+r"(v)
                     : [p] "r"(p)
                     : "memory");
    provoked++;
    EXPECTF(trap_last.vector == X86_PF && trap_last.error == error && trap_last.rip == at &&
                trap_last.cr2 == (uintptr_t)p,
            what,
            "got vector %#x error %#llx RIP %#llx CR2 %#llx; expected vector 0xe error %#llx "
            "RIP %#llx CR2 %p",
            trap_last.vector, (unsigned long long)trap_last.error,
            (unsigned long long)trap_last.rip, (unsigned long long)trap_last.cr2,
            (unsigned long long)error, (unsigned long long)at, (void *)p);
}

static void check_page_faults(void)
{
    volatile uint64_t *pte = paging64_pte((uintptr_t)pf_page);

    if (!EXPECTF(pte != 0, "exceptions: #PF test page lies in the 4 KiB-mapped first 2 MiB",
                 "page at %p", (void *)pf_page))
        return;
    pf_page[0] = 0xC0FFEE;
    uint64_t saved = *pte;

    *pte = saved & ~PTE_PRESENT;
    invlpg(pf_page);
    provoke_page_fault("exceptions: #PF writing a not-present page (error 0x2, CR2 = address)",
                       true, 0x2);
    provoke_page_fault("exceptions: #PF reading a not-present page (error 0x0, CR2 = address)",
                       false, 0x0);

    write_cr0(read_cr0() | X86_CR0_WP);
    *pte = saved & ~PTE_WRITABLE;
    invlpg(pf_page);
    provoke_page_fault("exceptions: #PF writing a read-only page with CR0.WP (error 0x3)", true,
                       0x3);

    *pte = saved;
    invlpg(pf_page);
    EXPECT_EQ(pf_page[0], 0xC0FFEE, "exceptions: page readable and intact after restoring its PTE");
    pf_page[0] = 0xBEEF;
    EXPECT_EQ(pf_page[0], 0xBEEF, "exceptions: page writable again after restoring its PTE");
}
#endif

void test_main(void)
{
    uint32_t before = trap_last.count;

    check_divide_error();
    check_invalid_opcode();
    check_breakpoint();
    check_segment_faults();
#ifdef __x86_64__
    check_non_canonical();
    check_page_faults();
#else
    printf("exceptions: #PF and non-canonical #GP are checked by the 64-bit image only\n");
#endif
    check_software_interrupt();
    EXPECT_EQ(trap_last.count - before, provoked,
              "exceptions: each provoked exception was taken exactly once");
}
