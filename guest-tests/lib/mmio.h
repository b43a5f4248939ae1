/* SPDX-License-Identifier: MIT */
/*
 * Device-register access for the test guests: one MOV of exactly the
 * register's width per access, written as inline assembly so the compiler
 * can neither merge, split nor reorder the accesses nor pick an instruction
 * form the hypervisor's MMIO decoder has no reason to know (the same forms
 * Linux's readl()/writel() produce). A compiler barrier keeps ring-memory
 * accesses on the right side of a register access.
 */
#ifndef GUEST_TESTS_MMIO_H
#define GUEST_TESTS_MMIO_H

#include <stdint.h>

static inline uint8_t mmio_read8(uintptr_t a)
{
    uint8_t v;
    asm volatile("movb (%1), %0" : "=q"(v) : "r"(a) : "memory");
    return v;
}

static inline uint16_t mmio_read16(uintptr_t a)
{
    uint16_t v;
    asm volatile("movw (%1), %0" : "=r"(v) : "r"(a) : "memory");
    return v;
}

static inline uint32_t mmio_read32(uintptr_t a)
{
    uint32_t v;
    asm volatile("movl (%1), %0" : "=r"(v) : "r"(a) : "memory");
    return v;
}

static inline void mmio_write8(uintptr_t a, uint8_t v)
{
    asm volatile("movb %0, (%1)" : : "q"(v), "r"(a) : "memory");
}

static inline void mmio_write16(uintptr_t a, uint16_t v)
{
    asm volatile("movw %0, (%1)" : : "r"(v), "r"(a) : "memory");
}

static inline void mmio_write32(uintptr_t a, uint32_t v)
{
    asm volatile("movl %0, (%1)" : : "r"(v), "r"(a) : "memory");
}

#endif
