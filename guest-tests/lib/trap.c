/* SPDX-License-Identifier: MIT */
/*
 * The IDT and the C side of every interrupt and exception. The assembly stubs
 * (trap32.asm / trap64.asm) push a uniform frame and call trap_dispatch. An
 * exception the test did not arm for ends the guest with a FAIL line, so a
 * broken virtual CPU shows up as a readable report, not as a hang.
 */
#include <stddef.h>
#include "trap.h"
#include "x86.h"
#include "expect.h"
#include "printf.h"

/* Must match the push order in trap32.asm / trap64.asm. */
#ifdef __x86_64__
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
    uint64_t vector, error;
    uint64_t ip, cs, flags, sp, ss;
};

struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
} __attribute__((packed));
#else
struct trap_frame {
    uint32_t edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t ip, cs, flags;
};

struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t zero;
    uint8_t type;
    uint16_t offset_high;
} __attribute__((packed));
#endif

struct idt_pointer {
    uint16_t limit;
    uintptr_t base;
} __attribute__((packed));

#define GDT_CODE_SELECTOR 0x08
#define GATE_INTERRUPT    0x8E /* present, DPL 0, interrupt gate: IF cleared */
#define GATE_DPL3         0x60

extern const uintptr_t trap_stubs[256]; /* trap32.asm / trap64.asm */
void trap_dispatch(struct trap_frame *f);

volatile struct trap_record trap_last = {.vector = TRAP_NONE};
volatile uintptr_t trap_resume;

static struct idt_gate idt[256] __attribute__((aligned(16)));
static irq_handler_fn irq_handlers[256];

static const char *const exception_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
    "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

const char *trap_name(uint32_t vector)
{
    if (vector < 32 && exception_names[vector])
        return exception_names[vector];
    return vector < 32 ? "reserved" : "interrupt";
}

static void idt_set_gate(unsigned vector, uintptr_t handler)
{
    struct idt_gate *g = &idt[vector];

    g->offset_low = (uint16_t)handler;
    g->selector = GDT_CODE_SELECTOR;
    g->type = GATE_INTERRUPT;
#ifdef __x86_64__
    g->ist = 0;
    g->offset_mid = (uint16_t)(handler >> 16);
    g->offset_high = (uint32_t)(handler >> 32);
    g->reserved = 0;
#else
    g->zero = 0;
    g->offset_high = (uint16_t)(handler >> 16);
#endif
}

void trap_init(void)
{
    struct idt_pointer p;

    for (unsigned v = 0; v < 256; v++)
        idt_set_gate(v, trap_stubs[v]);
    p.limit = sizeof(idt) - 1;
    p.base = (uintptr_t)idt;
    asm volatile("lidt %0" : : "m"(p));
}

void trap_allow_user(unsigned vector)
{
    if (vector < 256)
        idt[vector].type = GATE_INTERRUPT | GATE_DPL3;
}

void irq_set_handler(unsigned vector, irq_handler_fn fn)
{
    if (vector < 256)
        irq_handlers[vector] = fn;
}

void trap_clear(void)
{
    trap_resume = 0;
    trap_last.vector = TRAP_NONE;
    trap_last.error = 0;
    trap_last.rip = 0;
    trap_last.cr2 = 0;
}

void trap_dispatch(struct trap_frame *f)
{
    uint32_t vector = (uint32_t)f->vector;

    if (vector >= 32) {
        if (irq_handlers[vector]) {
            irq_handlers[vector](vector);
            return;
        }
        expect_check(0, "interrupts: only expected vectors arrive",
                     "unexpected vector %#x at RIP %#llx", vector, (unsigned long long)f->ip);
        return;
    }

    trap_last.vector = vector;
    trap_last.error = f->error;
    trap_last.rip = f->ip;
    trap_last.cr2 = vector == X86_PF ? read_cr2() : 0;
    trap_last.count++;
    if (trap_resume) {
        f->ip = trap_resume;
        trap_resume = 0;
        return;
    }
    expect_check(0, "exceptions: no unexpected exception",
                 "%s (vector %u, error %#llx) at RIP %#llx, CR2 %#llx", trap_name(vector), vector,
                 (unsigned long long)f->error, (unsigned long long)f->ip,
                 (unsigned long long)trap_last.cr2);
    test_finish();
}
