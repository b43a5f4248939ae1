/* SPDX-License-Identifier: MIT */
/* The IDT: every vector goes to a stub in isr.asm and then to
 * interrupt_dispatch(), which runs the registered handler. Exceptions
 * (vectors 0-31) go to the exception reporter unless a handler claims them. */
#include "kernel/x86/idt.h"

#include "kernel/console/log.h"
#include "kernel/x86/exception.h"
#include "kernel/x86/gdt.h"

struct idt_entry {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
} __attribute__((packed));

struct idt_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

extern const uint64_t isr_stub_table[256];

static struct idt_entry idt[256] __attribute__((aligned(16)));
static irq_handler_fn handlers[256];

static void set_gate(uint8_t vector, uint64_t addr, uint8_t ist)
{
    idt[vector] = (struct idt_entry){
        .offset_low = addr & 0xffff,
        .selector = GDT_KERNEL_CS,
        .ist = ist,
        .type_attr = 0x8e, /* present, ring 0, 64-bit interrupt gate */
        .offset_mid = (addr >> 16) & 0xffff,
        .offset_high = addr >> 32,
    };
}

void idt_init(void)
{
    for (int v = 0; v < 256; v++)
        set_gate((uint8_t)v, isr_stub_table[v], 0);
    set_gate(2, isr_stub_table[2], IST_NMI);
    set_gate(8, isr_stub_table[8], IST_DF);
    set_gate(18, isr_stub_table[18], IST_MC);
}

void idt_load(void)
{
    struct idt_ptr p = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};

    asm volatile("lidt %0" : : "m"(p));
}

void irq_set_handler(uint8_t vector, irq_handler_fn fn)
{
    handlers[vector] = fn;
}

void interrupt_dispatch(struct irq_frame *f);

void interrupt_dispatch(struct irq_frame *f)
{
    irq_handler_fn fn = handlers[f->vector & 0xff];

    if (fn) {
        fn(f);
        return;
    }
    if (f->vector < 32) {
        exception_report(f);
        return;
    }
    if (f->vector == VEC_SPURIOUS)
        return;
    log_warn("unexpected interrupt vector %lu", (unsigned long)f->vector);
}

void irq_dispatch_vector(uint8_t vector)
{
    struct irq_frame f = {.vector = vector};

    interrupt_dispatch(&f);
}
