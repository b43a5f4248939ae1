/* SPDX-License-Identifier: MIT */
/*
 * smp64.h's implementation: copies ap64.asm's block to AP_TRAMP (a page
 * below 1 MiB that no image uses: images start at 1 MiB), fills in CR3,
 * the GDT, the stack and the entry, then INIT, SIPI, SIPI (the MP
 * specification's sequence) through the x2APIC ICR, or the xAPIC page's, to
 * "all but self".
 */
#include "smp64.h"

#include <stddef.h>
#include <stdint.h>

#include "tsc.h"
#include "x86.h"

void *memcpy(void *dst, const void *src, size_t n); /* string.c */

#define AP_TRAMP       0x7000u
#define AP_STACK_BYTES 16384

#define MSR_APIC_BASE  0x1bu
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN   (1ull << 11)
#define MSR_X2APIC_SVR 0x80fu
#define MSR_X2APIC_ICR 0x830u
#define SVR_ENABLE     (1u << 8)
#define XAPIC_BASE     0xfee00000u /* the APIC's page from reset */
#define XAPIC_SVR      0x0f0u
#define XAPIC_ICR_LOW  0x300u
#define ICR_INIT       0x500u
#define ICR_STARTUP    0x600u
#define ICR_ASSERT     (1u << 14)
#define ICR_ALL_BUT    (3u << 18)

extern const char ap_tramp_start[], ap_tramp_end[], ap_tramp_long[];
extern const char ap_tramp_gdtr[], ap_tramp_cr3[], ap_tramp_ljmp[], ap_tramp_stack[],
    ap_tramp_entry[];

static uint8_t ap_stack[AP_STACK_BYTES] __attribute__((aligned(16)));
static void (*ap_fn)(void);
static volatile bool ap_alive;
static struct __attribute__((packed)) {
    uint16_t limit;
    uint64_t base;
} bsp_idtr;

static uint64_t rdmsr64(uint32_t msr)
{
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

static void wrmsr64(uint32_t msr, uint64_t v)
{
    asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static void *tramp_field(const char *sym)
{
    return (void *)(uintptr_t)(AP_TRAMP + (uintptr_t)(sym - ap_tramp_start));
}

static void ap_entry(void)
{
    asm volatile("lidt %0" : : "m"(bsp_idtr));
    ap_alive = true;
    ap_fn();
}

static void x2apic_icr(uint32_t low)
{
    wrmsr64(MSR_X2APIC_ICR, low);
}

static void xapic_icr(uint32_t low)
{
    /* The shorthand needs no destination (ICR high); low sends. */
    *(volatile uint32_t *)(uintptr_t)(XAPIC_BASE + XAPIC_ICR_LOW) = low;
}

static bool start_second(void (*fn)(void), bool x2apic)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } gdtr;

    asm volatile("sgdt %0" : "=m"(gdtr));
    asm volatile("sidt %0" : "=m"(bsp_idtr));
    ap_fn = fn;
    memcpy((void *)(uintptr_t)AP_TRAMP, ap_tramp_start, (size_t)(ap_tramp_end - ap_tramp_start));
    uint8_t *g = tramp_field(ap_tramp_gdtr);
    memcpy(g, &gdtr.limit, 2);
    uint32_t gdt_base = (uint32_t)gdtr.base, cr3 = (uint32_t)read_cr3();
    uint32_t target = AP_TRAMP + (uint32_t)(ap_tramp_long - ap_tramp_start);
    uint64_t stack = (uintptr_t)(ap_stack + sizeof(ap_stack)), entry = (uintptr_t)ap_entry;
    memcpy(g + 2, &gdt_base, 4);
    memcpy(tramp_field(ap_tramp_cr3), &cr3, 4);
    memcpy(tramp_field(ap_tramp_ljmp), &target, 4);
    memcpy(tramp_field(ap_tramp_stack), &stack, 8);
    memcpy(tramp_field(ap_tramp_entry), &entry, 8);
    asm volatile("mfence" : : : "memory");

    void (*icr)(uint32_t) = x2apic_icr;
    uint64_t base = rdmsr64(MSR_APIC_BASE);
    if (x2apic) {
        if ((base & (APIC_BASE_EN | APIC_BASE_EXTD)) != (APIC_BASE_EN | APIC_BASE_EXTD))
            wrmsr64(MSR_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
        wrmsr64(MSR_X2APIC_SVR, SVR_ENABLE | 0xff);
    } else {
        icr = xapic_icr;
        *(volatile uint32_t *)(uintptr_t)(XAPIC_BASE + XAPIC_SVR) = SVR_ENABLE | 0xff;
    }
    icr(ICR_ALL_BUT | ICR_ASSERT | ICR_INIT);
    tsc_delay_us(10000);
    for (unsigned i = 0; i < 2 && !ap_alive; i++) {
        icr(ICR_ALL_BUT | ICR_ASSERT | ICR_STARTUP | (AP_TRAMP >> 12));
        uint64_t t0 = rdtsc();
        while (!ap_alive && tsc_to_us(rdtsc() - t0) < 500000)
            asm volatile("pause");
    }
    return ap_alive;
}

bool smp64_start_second(void (*fn)(void))
{
    return start_second(fn, true);
}

bool smp64_start_second_xapic(void (*fn)(void))
{
    return start_second(fn, false);
}
