/* SPDX-License-Identifier: MIT */
/* The interrupt descriptor table (one, shared by every CPU) and the
 * registration of interrupt handlers by vector. */
#ifndef SIDECORE_X86_IDT_H
#define SIDECORE_X86_IDT_H

#include <stdint.h>

/* The registers an interrupt stub saves, in stack order. */
struct irq_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*irq_handler_fn)(struct irq_frame *frame);

/* Vectors the hypervisor itself uses. */
#define VEC_TIMER    0xe0
#define VEC_IPI_CALL 0xe1
#define VEC_CONSOLE  0xe2
#define VEC_IPI_KICK 0xe3 /* makes a CPU leave its guest; the handler only acknowledges */
#define VEC_SPURIOUS 0xff

void idt_init(void); /* builds the table (boot CPU, once) */
void idt_load(void); /* every CPU */
void irq_set_handler(uint8_t vector, irq_handler_fn fn);
/* Runs the handler of a vector that arrived outside the IDT path (acknowledged
 * on VM exit); frame fields other than vector are zero. */
void irq_dispatch_vector(uint8_t vector);

#endif
