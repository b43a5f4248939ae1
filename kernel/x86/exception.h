/* SPDX-License-Identifier: MIT */
/* Reporting CPU exceptions taken in the hypervisor. */
#ifndef SIDECORE_X86_EXCEPTION_H
#define SIDECORE_X86_EXCEPTION_H

#include "kernel/x86/idt.h"

/* Prints vector, error code, registers, CR2 and a backtrace, marks this CPU
 * failed and stops it; the other CPUs go on. */
__attribute__((noreturn)) void exception_report(struct irq_frame *f);

#endif
