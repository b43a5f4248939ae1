/* SPDX-License-Identifier: MIT */
#include "kernel/x86/exception.h"

#include "kernel/console/console.h"
#include "kernel/console/console_async.h"
#include "kernel/cpu/percpu.h"
#include "kernel/lib/ksyms.h"
#include "kernel/x86/cpu.h"

static const char *const exception_names[32] = {
    "divide error",
    "debug",
    "NMI",
    "breakpoint",
    "overflow",
    "bound range",
    "invalid opcode",
    "device not available",
    "double fault",
    "coprocessor overrun",
    "invalid TSS",
    "segment not present",
    "stack fault",
    "general protection",
    "page fault",
    "reserved",
    "x87 FP error",
    "alignment check",
    "machine check",
    "SIMD FP error",
    "virtualization",
    "control protection",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "hypervisor injection",
    "VMM communication",
    "security",
    "reserved",
};

extern char __text_start[], __text_end[], __kernel_start[], __kernel_end[];

static int in_text(uint64_t addr)
{
    return addr >= (uint64_t)(uintptr_t)__text_start && addr < (uint64_t)(uintptr_t)__text_end;
}

static void print_frame(uint64_t addr)
{
    uint64_t off;
    const char *name = ksyms_lookup(addr, &off);

    if (name)
        console_printf("  %016lx %s+%#lx\n", (unsigned long)addr, name, (unsigned long)off);
    else
        console_printf("  %016lx\n", (unsigned long)addr);
}

/* Follows the frame-pointer chain (the hypervisor is built with frame
 * pointers), checking every frame is inside the stack it started on. */
static void print_backtrace(uint64_t rbp, uint64_t rip, uint64_t lo, uint64_t hi)
{

    console_printf("backtrace:\n");
    print_frame(rip);
    for (int depth = 0; depth < 32; depth++) {
        if (rbp < lo || rbp + 16 > hi || (rbp & 7))
            break;
        uint64_t *frame = (uint64_t *)(uintptr_t)rbp;
        uint64_t ret = frame[1];
        if (!in_text(ret))
            break;
        print_frame(ret);
        if (frame[0] <= rbp)
            break;
        rbp = frame[0];
    }
}

void exception_report(struct irq_frame *f)
{
    uint64_t v = f->vector;
    struct percpu *cpu = this_cpu();

    /* Printed here and now, after whatever was queued: the console CPU may
     * be the one that faulted. */
    console_sync_this_cpu();
    console_flush();
    console_printf("\n*** CPU %u: exception %lu (%s), error code %#lx\n", cpu ? cpu->index : 0,
                   (unsigned long)v, v < 32 ? exception_names[v] : "?",
                   (unsigned long)f->error_code);
    console_printf("RIP %016lx  CS %04lx  RFLAGS %016lx\n", (unsigned long)f->rip,
                   (unsigned long)f->cs, (unsigned long)f->rflags);
    console_printf("RSP %016lx  SS %04lx  CR2 %016lx  CR3 %016lx\n", (unsigned long)f->rsp,
                   (unsigned long)f->ss, (unsigned long)read_cr2(), (unsigned long)read_cr3());
    console_printf("RAX %016lx  RBX %016lx  RCX %016lx  RDX %016lx\n", (unsigned long)f->rax,
                   (unsigned long)f->rbx, (unsigned long)f->rcx, (unsigned long)f->rdx);
    console_printf("RSI %016lx  RDI %016lx  RBP %016lx  R8  %016lx\n", (unsigned long)f->rsi,
                   (unsigned long)f->rdi, (unsigned long)f->rbp, (unsigned long)f->r8);
    console_printf("R9  %016lx  R10 %016lx  R11 %016lx  R12 %016lx\n", (unsigned long)f->r9,
                   (unsigned long)f->r10, (unsigned long)f->r11, (unsigned long)f->r12);
    console_printf("R13 %016lx  R14 %016lx  R15 %016lx\n", (unsigned long)f->r13,
                   (unsigned long)f->r14, (unsigned long)f->r15);
    if (cpu)
        print_backtrace(f->rbp, f->rip, cpu->stack_bottom, cpu->stack_top);
    console_printf("*** CPU %u stopped; the other CPUs go on.\n", cpu ? cpu->index : 0);
    if (cpu)
        cpu->state = CPU_FAILED;
    cpu_halt_forever();
}
