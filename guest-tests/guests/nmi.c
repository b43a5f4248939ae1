/* SPDX-License-Identifier: MIT */
/*
 * nmi: NMIs between a guest's vCPUs (a 2-vCPU ELF32 guest). vCPU 0 starts
 * vCPU 1 with INIT and a start-up IPI (a real-mode trampoline at 0x8000
 * that enters protected mode on the BSP's GDT), gives it an IDT of its own
 * whose NMI gate counts NMIs, and sends it NMIs through the x2APIC ICR
 * (after switching its APIC from the xAPIC mode of reset to x2APIC)
 * (delivery mode 4). Checks: the NMI reaches vCPU 1 (halted with IF=0, as
 * an NMI wakes any halt); a second NMI sent while vCPU 1 is still in its
 * NMI handler is held until the handler's IRET and then taken (not nested,
 * not lost).
 */
#include "expect.h"
#include "hypercall.h"
#include "printf.h"
#include "runtime.h"
#include "tsc.h"
#include "x86.h"

const char guest_name[] = GUEST_NAME;

void *memcpy(void *dst, const void *src, size_t n); /* lib/string.c */

#define MSR_X2APIC_ICR 0x830
#define MSR_APIC_BASE  0x1b
#define APIC_BASE_EXTD (1u << 10)
#define APIC_BASE_EN   (1u << 11)
#define ICR_NMI        (4u << 8)
#define ICR_INIT       (5u << 8)
#define ICR_STARTUP    (6u << 8)
#define ICR_ASSERT     (1u << 14)
#define TRAMPOLINE     0x8000u
#define WAIT_US        2000000 /* 2 s of TSC time for anything to arrive */
#define HOLD_US        50000   /* how long the first handler holds on */

struct dtr {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

struct gate32 {
    uint16_t off_lo, sel;
    uint8_t zero, type;
    uint16_t off_hi;
};

static volatile uint32_t ap_alive, nmi_count, nmi_depth, nmi_nested;
static volatile uint32_t second_sent, held_ok, handler_done;
static struct gate32 ap_idt[256] __attribute__((aligned(8)));
static struct dtr ap_idtr;
static uint8_t ap_stack[4096] __attribute__((aligned(16)));
uint32_t nmi_ap_stack_top;

/* The trampoline (copied to TRAMPOLINE; CS = TRAMPOLINE >> 4, IP = 0) and
 * the AP's 32-bit entry. The GDT pointer slot is filled by the BSP. */
extern const char nmi_tramp_start[], nmi_tramp_gdtr[], nmi_tramp_end[];
void nmi_ap_entry32(void);
void nmi_stub(void);
asm(".section .text\n"
    ".code16\n"
    ".globl nmi_tramp_start\n"
    "nmi_tramp_start:\n"
    "    cli\n"
    "    mov %cs, %ax\n"
    "    mov %ax, %ds\n"
    "    lgdtl (nmi_tramp_gdtr - nmi_tramp_start)\n"
    "    mov %cr0, %eax\n"
    "    or $1, %eax\n"
    "    mov %eax, %cr0\n"
    "    ljmpl $0x08, $nmi_ap_entry32\n"
    ".globl nmi_tramp_gdtr\n"
    "nmi_tramp_gdtr:\n"
    "    .word 0\n"
    "    .long 0\n"
    ".globl nmi_tramp_end\n"
    "nmi_tramp_end:\n"
    ".code32\n"
    ".globl nmi_ap_entry32\n"
    "nmi_ap_entry32:\n"
    "    mov $0x10, %ax\n"
    "    mov %ax, %ds\n"
    "    mov %ax, %es\n"
    "    mov %ax, %ss\n"
    "    mov %ax, %fs\n"
    "    mov %ax, %gs\n"
    "    mov nmi_ap_stack_top, %esp\n"
    "    call nmi_ap_main\n"
    "2:  cli\n"
    "    hlt\n"
    "    jmp 2b\n"
    ".globl nmi_stub\n"
    "nmi_stub:\n"
    "    pushal\n"
    "    cld\n"
    "    call nmi_handler\n"
    "    popal\n"
    "    iretl\n");

void nmi_handler(void);
void nmi_ap_main(void);

static uint64_t wait_ticks(uint64_t us)
{
    return tsc_khz() * (us / 1000); /* every wait is whole milliseconds */
}

void nmi_handler(void)
{
    if (nmi_depth++)
        nmi_nested = 1;
    uint32_t n = ++nmi_count;
    if (n == 1) {
        /* Hold on until vCPU 0 has sent the second NMI, then a while more:
         * it must not arrive before our IRET. */
        uint64_t start = rdtsc();
        while (!second_sent && rdtsc() - start < wait_ticks(WAIT_US))
            ;
        start = rdtsc();
        while (rdtsc() - start < wait_ticks(HOLD_US))
            ;
        held_ok = second_sent && nmi_count == 1;
        handler_done = 1;
    }
    nmi_depth--;
}

void nmi_ap_main(void)
{
    asm volatile("lidt %0" : : "m"(ap_idtr));
    __atomic_store_n(&ap_alive, 1, __ATOMIC_RELEASE);
    for (;;)
        asm volatile("cli; hlt" ::: "memory"); /* only an NMI wakes this */
}

static void icr(uint32_t dest, uint32_t low)
{
    asm volatile("wrmsr" : : "c"(MSR_X2APIC_ICR), "a"(low), "d"(dest) : "memory");
}

static bool wait_for(volatile uint32_t *what, uint32_t value)
{
    uint64_t start = rdtsc();
    while (__atomic_load_n(what, __ATOMIC_ACQUIRE) < value)
        if (rdtsc() - start > wait_ticks(WAIT_US))
            return false;
    return true;
}

void test_main(void)
{
    struct hc_info info = {0};
    struct dtr gdtr, idtr;

    if (!EXPECT_EQ(hc_info(&info), HC_OK, "nmi: HC_INFO returns 0"))
        return;
    if (!EXPECTF(info.vcpus >= 2, "nmi: two vCPUs", "%u vCPUs", info.vcpus))
        return;

    /* vCPU 1's IDT: the BSP's, with its own NMI gate. */
    asm volatile("sidt %0" : "=m"(idtr));
    asm volatile("sgdt %0" : "=m"(gdtr));
    memcpy(ap_idt, (const void *)(uintptr_t)idtr.base, sizeof(ap_idt));
    uintptr_t h = (uintptr_t)nmi_stub;
    ap_idt[2] = (struct gate32){
        .off_lo = (uint16_t)h, .sel = 0x08, .type = 0x8e, .off_hi = (uint16_t)(h >> 16)};
    ap_idtr = (struct dtr){.limit = sizeof(ap_idt) - 1, .base = (uint32_t)(uintptr_t)ap_idt};
    nmi_ap_stack_top = (uint32_t)(uintptr_t)(ap_stack + sizeof(ap_stack));

    size_t len = (size_t)(nmi_tramp_end - nmi_tramp_start);
    memcpy((void *)(uintptr_t)TRAMPOLINE, nmi_tramp_start, len);
    memcpy((void *)(uintptr_t)(TRAMPOLINE + (nmi_tramp_gdtr - nmi_tramp_start)), &gdtr,
           sizeof(gdtr));

    /* The APIC comes out of reset in xAPIC mode: switch to x2APIC first. */
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_APIC_BASE));
    lo |= APIC_BASE_EN | APIC_BASE_EXTD;
    asm volatile("wrmsr" : : "c"(MSR_APIC_BASE), "a"(lo), "d"(hi) : "memory");
    icr(1, ICR_INIT | ICR_ASSERT);
    icr(1, ICR_STARTUP | ICR_ASSERT | (TRAMPOLINE >> 12));
    if (!EXPECT(wait_for(&ap_alive, 1), "nmi: vCPU 1 started by INIT/SIPI"))
        return;
    /* Let vCPU 1 reach its halt. */
    uint64_t start = rdtsc();
    while (rdtsc() - start < wait_ticks(20000))
        ;

    icr(1, ICR_NMI | ICR_ASSERT);
    bool first = wait_for(&nmi_count, 1);
    EXPECTF(first, "nmi: an NMI by ICR reaches halted vCPU 1", "count %u", nmi_count);
    if (!first)
        return;
    icr(1, ICR_NMI | ICR_ASSERT);
    __atomic_store_n(&second_sent, 1, __ATOMIC_RELEASE);
    EXPECT(wait_for(&handler_done, 1), "nmi: the first handler finished");
    EXPECT(held_ok, "nmi: a second NMI is held while the first handler runs");
    bool second = wait_for(&nmi_count, 2);
    EXPECTF(second, "nmi: the held NMI arrives after the handler's IRET", "count %u", nmi_count);
    EXPECT(!nmi_nested, "nmi: NMI handlers never nested");
    /* Two more, one at a time: each is taken once. */
    icr(1, ICR_NMI | ICR_ASSERT);
    EXPECTF(wait_for(&nmi_count, 3), "nmi: a third NMI arrives", "count %u", nmi_count);
    start = rdtsc();
    while (rdtsc() - start < wait_ticks(20000))
        ;
    EXPECTF(nmi_count == 3, "nmi: each NMI taken once", "count %u", nmi_count);
}
