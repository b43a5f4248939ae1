/* SPDX-License-Identifier: MIT */
/*
 * usermode: hypercalls from user mode are refused. The guest builds a GDT
 * with ring-3 segments and a TSS, maps its image for user access, drops to
 * ring 3 and executes VMCALL there: HC_PRINT of a line that must never reach
 * the console, then HC_EXIT with code 77 that must not stop the guest. Each
 * must raise #UD inside the guest (vmm/hypercall.h) and change no register.
 * INT 0x81 (a gate ring 3 may use) brings it back to ring 0, where the same
 * hypercalls still work. Without Sidecore VMCALL raises #UD at any CPL, so
 * the ring-3 checks hold on bare hardware too; the ring-0 ones need Sidecore.
 */
#include "expect.h"
#include "hypercall.h"
#include "paging64.h"
#include "printf.h"
#include "runtime.h"
#include "trap.h"
#include "x86.h"

const char guest_name[] = GUEST_NAME;

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x20
#define SEL_UCODE 0x28
#define SEL_TSS   0x30
#define RPL3      3

#define VEC_BACK_TO_RING0 0x81
#define EXIT_CODE_RING3   77

/* The 64-bit TSS (SDM Vol. 3 8.7): only RSP0 matters here, the stack the
 * CPU switches to when ring 3 takes an exception or an interrupt. */
struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

static struct tss64 tss;
static uint64_t gdt[8] __attribute__((aligned(16)));
static uint8_t ring0_stack[8192] __attribute__((aligned(16)));
static uint8_t ring3_stack[8192] __attribute__((aligned(16)));

/* What ring 3 saw, read back in ring 0 (ring 3 cannot print: port I/O
 * needs IOPL). */
static volatile struct {
    uint16_t cs;
    uint32_t print_vector, exit_vector;
    long print_rax, exit_rax;
    uint64_t print_rbx, exit_rbx;
} seen;

static const char ring3_line[] = "usermode: RING3 PRINT MUST NOT APPEAR\n";

/* enter_ring3(fn, stack_top) runs fn in ring 3 and returns when fn raises
 * INT 0x81, whose handler calls leave_ring3 on the ring-0 stack. */
void enter_ring3(void (*fn)(void), void *stack_top);
void leave_ring3(void) __attribute__((noreturn));
uint64_t ring0_saved_rsp;

asm(".text\n"
    ".globl enter_ring3\n"
    "enter_ring3:\n"
    "    push %rbx\n"
    "    push %rbp\n"
    "    push %r12\n"
    "    push %r13\n"
    "    push %r14\n"
    "    push %r15\n"
    "    pushfq\n"
    "    mov %rsp, ring0_saved_rsp(%rip)\n"
    "    pushq $0x23\n" /* SS: user data | RPL 3 */
    "    pushq %rsi\n"  /* RSP */
    "    pushq $0x2\n"  /* RFLAGS: IF = 0, IOPL = 0 */
    "    pushq $0x2b\n" /* CS: user code | RPL 3 */
    "    pushq %rdi\n"  /* RIP */
    "    iretq\n"
    ".globl leave_ring3\n"
    "leave_ring3:\n"
    "    mov ring0_saved_rsp(%rip), %rsp\n"
    "    mov $0x10, %ax\n" /* the interrupt left SS null; restore the data segments */
    "    mov %ax, %ss\n"
    "    mov %ax, %ds\n"
    "    mov %ax, %es\n"
    "    popfq\n"
    "    pop %r15\n"
    "    pop %r14\n"
    "    pop %r13\n"
    "    pop %r12\n"
    "    pop %rbp\n"
    "    pop %rbx\n"
    "    ret\n");

static uint64_t tss_descriptor_low(uintptr_t base, uint32_t limit)
{
    return (limit & 0xffffull) | (base & 0xffffffull) << 16 | 0x89ull << 40 /* present, TSS */
           | ((uint64_t)(limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xffull) << 56;
}

static void setup_rings(void)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) gdtr = {sizeof(gdt) - 1, (uintptr_t)gdt};

    gdt[0] = 0;
    gdt[1] = 0x00AF9A000000FFFFull; /* 0x08 kernel code, 64-bit */
    gdt[2] = 0x00CF92000000FFFFull; /* 0x10 kernel data */
    gdt[3] = 0x00CF12000000FFFFull; /* 0x18 not present (as entry64.asm) */
    gdt[4] = 0x00CFF2000000FFFFull; /* 0x20 user data, DPL 3 */
    gdt[5] = 0x00AFFA000000FFFFull; /* 0x28 user code, 64-bit, DPL 3 */
    tss.rsp[0] = (uintptr_t)(ring0_stack + sizeof(ring0_stack));
    tss.iomap_base = sizeof(tss); /* no I/O bitmap: ring 3 gets no ports */
    gdt[6] = tss_descriptor_low((uintptr_t)&tss, sizeof(tss) - 1);
    gdt[7] = (uintptr_t)&tss >> 32;
    asm volatile("lgdt %0" : : "m"(gdtr));
    asm volatile("ltr %w0" : : "r"((uint16_t)SEL_TSS));
    paging64_allow_user();
    trap_allow_user(VEC_BACK_TO_RING0);
}

static void back_to_ring0(unsigned vector)
{
    (void)vector;
    leave_ring3();
}

/* Runs in ring 3. */
static void ring3_main(void)
{
    long rax;
    uint64_t rbx;
    uint16_t cs;

    asm volatile("mov %%cs, %0" : "=r"(cs));
    seen.cs = cs;

    trap_clear();
    rax = HC_PRINT;
    rbx = (uintptr_t)ring3_line;
    asm volatile(TRAP_ARM "vmcall\n\t"
                          "1:"
                 : "+a"(rax), "+b"(rbx)
                 : "c"(sizeof(ring3_line) - 1)
                 : "memory");
    seen.print_vector = trap_last.vector;
    seen.print_rax = rax;
    seen.print_rbx = rbx;

    trap_clear();
    rax = HC_EXIT;
    rbx = EXIT_CODE_RING3;
    asm volatile(TRAP_ARM "vmcall\n\t"
                          "1:"
                 : "+a"(rax), "+b"(rbx)
                 :
                 : "memory");
    seen.exit_vector = trap_last.vector;
    seen.exit_rax = rax;
    seen.exit_rbx = rbx;

    asm volatile("int $0x81");
    for (;;) /* not reached: the handler returns to ring 0 */
        ;
}

void test_main(void)
{
    static const char ring0_line[] = "usermode: ring 0 HC_PRINT still works\n";
    struct hc_info info;

    setup_rings();
    irq_set_handler(VEC_BACK_TO_RING0, back_to_ring0);
    seen.print_vector = seen.exit_vector = TRAP_NONE;
    printf("usermode: entering ring 3\n");
    enter_ring3(ring3_main, ring3_stack + sizeof(ring3_stack) - 8);
    printf("usermode: back in ring 0\n");

    EXPECT_EQ(seen.cs & 3, RPL3, "usermode: the code ran at CPL 3");
    EXPECT_EQ(seen.print_vector, X86_UD, "usermode: VMCALL HC_PRINT from ring 3 raises #UD");
    EXPECT_EQ(seen.print_rax, HC_PRINT, "usermode: the refused HC_PRINT leaves RAX unchanged");
    EXPECT_EQ(seen.print_rbx, (uintptr_t)ring3_line,
              "usermode: the refused HC_PRINT leaves RBX unchanged");
    EXPECT_EQ(seen.exit_vector, X86_UD, "usermode: VMCALL HC_EXIT from ring 3 raises #UD");
    EXPECT_EQ(seen.exit_rax, HC_EXIT, "usermode: the refused HC_EXIT leaves RAX unchanged");
    EXPECT_EQ(seen.exit_rbx, EXIT_CODE_RING3, "usermode: the refused HC_EXIT leaves RBX unchanged");
    EXPECT_EQ(trap_last.count, 2, "usermode: exactly the two #UD exceptions were taken");

    if (!sidecore_present)
        return;
    EXPECT_EQ(hc_print(ring0_line, sizeof(ring0_line) - 1), HC_OK,
              "usermode: VMCALL HC_PRINT from ring 0 still works");
    EXPECT_EQ(hc_info(&info), HC_OK, "usermode: VMCALL HC_INFO from ring 0 still works");
    EXPECT_EQ(info.memory, 16ull << 20, "usermode: HC_INFO reports the guest's 16M");
}
