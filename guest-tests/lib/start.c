/* SPDX-License-Identifier: MIT */
/*
 * guest_start: the C entry of every test guest, called by entry32.asm or
 * entry64.asm on the guest's own stack and GDT. It installs the IDT (and on
 * 64-bit the guest's own page tables), finds out whether Sidecore is there,
 * checks the entry state the image format promises, runs the test and ends
 * with the RESULT line and HC_EXIT.
 */
#include "runtime.h"
#include "expect.h"
#include "hypercall.h"
#include "printf.h"
#include "trap.h"
#include "x86.h"
#ifdef __x86_64__
#include "paging64.h"
#endif

void guest_start(unsigned long magic, unsigned long info, unsigned long flags);

/* Defined only when mb2_header.asm is linked in: a weak reference is 0
 * otherwise. */
extern const char mb2_header[] __attribute__((weak));
/* Likewise for mb1_header.asm. */
extern const char mb1_header[] __attribute__((weak));

static uintptr_t entry_mb2_info, entry_mb1_info;

bool runtime_is_multiboot1(void)
{
    return mb1_header != 0;
}

uintptr_t runtime_mb1_info(void)
{
    return entry_mb1_info;
}

bool runtime_is_multiboot2(void)
{
    return mb2_header != 0;
}

uintptr_t runtime_mb2_info(void)
{
    return entry_mb2_info;
}

static void check_entry_state(unsigned long magic, unsigned long info, unsigned long flags)
{
    EXPECTF(!(flags & X86_FLAGS_IF), "entry: interrupts disabled", "EFLAGS %#lx has IF set", flags);
#ifdef __x86_64__
    (void)magic;
    (void)info;
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(X86_EFER));
    EXPECTF(lo & X86_EFER_LMA, "entry: long mode active (EFER.LMA)", "EFER %#x", lo);
    EXPECTF(read_cr0() & X86_CR0_PG, "entry: paging enabled", "CR0 %#lx", read_cr0());
#else
    unsigned long cr0 = read_cr0();
    EXPECTF((cr0 & X86_CR0_PE) && !(cr0 & X86_CR0_PG), "entry: protected mode, paging off",
            "CR0 %#lx", cr0);
    if (runtime_is_multiboot2()) {
        EXPECT_EQ(magic, MB2_BOOTLOADER_MAGIC, "entry: EAX holds the multiboot2 magic");
        EXPECTF(info != 0 && (info & 7) == 0, "entry: EBX holds an 8-byte aligned info address",
                "EBX %#lx", info);
    }
    if (runtime_is_multiboot1()) {
        EXPECT_EQ(magic, 0x2badb002u, "entry: EAX holds the multiboot v1 magic");
        EXPECTF(info != 0 && (info & 3) == 0, "entry: EBX holds a 4-byte aligned info address",
                "EBX %#lx", info);
    }
#endif
}

void guest_start(unsigned long magic, unsigned long info, unsigned long flags)
{
    trap_init();
#ifdef __x86_64__
    paging64_init();
#endif
    if (runtime_is_multiboot2())
        entry_mb2_info = info;
    if (runtime_is_multiboot1())
        entry_mb1_info = info;
#ifdef __x86_64__
    const char *format = "ELF64, 64-bit";
#else
    const char *format = runtime_is_multiboot2()   ? "multiboot2, 32-bit"
                         : runtime_is_multiboot1() ? "multiboot v1, 32-bit"
                                                   : "ELF32, 32-bit";
#endif
    hc_detect();
    printf("%s: start (%s image at %p-%p)\n", guest_name, format, __image_start, __image_end);
    check_entry_state(magic, info, flags);
    test_main();
    test_finish();
}
