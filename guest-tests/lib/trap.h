/* SPDX-License-Identifier: MIT */
/*
 * The guest's own IDT and what it records. Every vector has a handler: an
 * exception (0-31) is recorded in trap_last and, if a test armed a resume
 * address first, execution continues there; otherwise it is reported as a
 * FAIL and the guest stops. Vectors 32-255 call a registered handler (the
 * HC_TIMER tests use this); an unregistered one is a FAIL.
 *
 * A test provokes an exception inside one asm statement that begins with
 * TRAP_ARM and ends with the label "1:", the resume address. TRAP_ARM stores
 * that label's address before the provoking instruction runs.
 */
#ifndef GUEST_TESTS_TRAP_H
#define GUEST_TESTS_TRAP_H

#include <stdint.h>

#define TRAP_NONE 0xFFFFFFFFu

#define X86_DE 0
#define X86_BP 3
#define X86_UD 6
#define X86_NP 11
#define X86_GP 13
#define X86_PF 14

struct trap_record {
    uint32_t vector; /* TRAP_NONE when nothing was taken since trap_clear */
    uint32_t count;  /* exceptions taken since boot */
    uint64_t error;  /* 0 for vectors without an error code */
    uint64_t rip;    /* the RIP/EIP the CPU pushed */
    uint64_t cr2;    /* read in the handler for #PF only */
};

extern volatile struct trap_record trap_last;
extern volatile uintptr_t trap_resume;

#ifdef __x86_64__
#define TRAP_ARM "movq $1f, trap_resume(%%rip)\n\t"
#else
#define TRAP_ARM "movl $1f, trap_resume\n\t"
#endif

typedef void (*irq_handler_fn)(unsigned vector);

/* Builds and loads the IDT; the entry stub calls it before anything else. */
void trap_init(void);
void irq_set_handler(unsigned vector, irq_handler_fn fn);
/* Lets ring 3 raise vector with INT n (gate DPL 3); by default INT n from
 * user mode takes #GP. */
void trap_allow_user(unsigned vector);
/* Forgets the last exception and disarms any resume address. */
void trap_clear(void);
const char *trap_name(uint32_t vector);

#endif
