/* SPDX-License-Identifier: MIT */
/*
 * The few x86 instructions the test guests use, as inline functions that
 * build for both 32- and 64-bit guests. Each one is a single instruction with
 * no policy, so a test reads like the sequence of instructions it checks.
 */
#ifndef GUEST_TESTS_X86_H
#define GUEST_TESTS_X86_H

#include <stdint.h>

#define X86_CR0_PE   (1ul << 0)
#define X86_CR0_WP   (1ul << 16)
#define X86_CR0_PG   (1ul << 31)
#define X86_FLAGS_IF (1ul << 9)
#define X86_EFER     0xC0000080u
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_LMA (1ull << 10)

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
    asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
    asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
    asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    asm volatile("cpuid"
                 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                 : "a"(leaf), "c"(subleaf));
    return r;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline unsigned long read_cr0(void)
{
    unsigned long v;
    asm volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

static inline void write_cr0(unsigned long v)
{
    asm volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static inline unsigned long read_cr2(void)
{
    unsigned long v;
    asm volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static inline unsigned long read_cr3(void)
{
    unsigned long v;
    asm volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

static inline void write_cr3(unsigned long v)
{
    asm volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline unsigned long read_flags(void)
{
    unsigned long v;
    asm volatile("pushf; pop %0" : "=r"(v));
    return v;
}

static inline void cli(void)
{
    asm volatile("cli" : : : "memory");
}

static inline void sti(void)
{
    asm volatile("sti" : : : "memory");
}

/* STI's one-instruction interrupt shadow makes this pair race-free: an
 * interrupt that became pending while IF was 0 wakes the HLT instead of
 * being taken just before it. */
static inline void sti_hlt(void)
{
    asm volatile("sti; hlt" : : : "memory");
}

static inline void invlpg(const volatile void *va)
{
    asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

#endif
