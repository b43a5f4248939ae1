/* SPDX-License-Identifier: MIT */
#include "kernel/x86/lapic.h"

#include "kernel/console/log.h"
#include "kernel/mm/paging.h"
#include "kernel/x86/cpu.h"

/* Register offsets (xAPIC MMIO offset; x2APIC MSR = 0x800 + offset / 16). */
enum {
    LAPIC_ID = 0x20,
    LAPIC_TPR = 0x80,
    LAPIC_EOI = 0xb0,
    LAPIC_SVR = 0xf0,
    LAPIC_ICR_LOW = 0x300,
    LAPIC_ICR_HIGH = 0x310,
    LAPIC_LVT_TIMER = 0x320,
    LAPIC_LVT_THERMAL = 0x330,
    LAPIC_LVT_PERF = 0x340,
    LAPIC_LVT_LINT0 = 0x350,
    LAPIC_LVT_LINT1 = 0x360,
    LAPIC_LVT_ERROR = 0x370,
    LAPIC_TIMER_INIT = 0x380,
    LAPIC_TIMER_CUR = 0x390,
    LAPIC_TIMER_DIV = 0x3e0,
};

#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_X2APIC (1ull << 10)
#define SVR_ENABLE       (1u << 8)
#define LVT_MASKED       (1u << 16)
#define LVT_TSC_DEADLINE (2u << 17)
#define ICR_INIT         (5u << 8)
#define ICR_STARTUP      (6u << 8)
#define ICR_ASSERT       (1u << 14)
#define ICR_LEVEL        (1u << 15)
#define ICR_PENDING      (1u << 12)

static bool x2apic;
static bool tsc_deadline;
static volatile uint32_t *xapic;

static uint32_t lapic_read(uint32_t reg)
{
    if (x2apic)
        return (uint32_t)rdmsr(0x800 + (reg >> 4));
    return xapic[reg / 4];
}

static void lapic_write(uint32_t reg, uint32_t v)
{
    if (x2apic)
        wrmsr(0x800 + (reg >> 4), v);
    else
        xapic[reg / 4] = v;
}

void lapic_setup(uint64_t xapic_phys)
{
    struct cpuid_regs r = cpuid(1, 0);

    x2apic = r.ecx & (1u << 21);
    tsc_deadline = r.ecx & (1u << 24);
    if (!xapic_phys)
        xapic_phys = rdmsr(MSR_IA32_APIC_BASE) & 0xffffff000ull;
    if (!x2apic)
        xapic = paging_map_mmio(xapic_phys, 4096);
    log_info("APIC: %s mode, timer %s", x2apic ? "x2APIC" : "xAPIC",
             tsc_deadline ? "TSC-deadline" : "one-shot");
}

void lapic_init_cpu(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE) | APIC_BASE_ENABLE;

    if (x2apic)
        base |= APIC_BASE_X2APIC;
    wrmsr(MSR_IA32_APIC_BASE, base);
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    lapic_write(LAPIC_LVT_THERMAL, LVT_MASKED);
    lapic_write(LAPIC_LVT_PERF, LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
    lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
    lapic_write(LAPIC_SVR, SVR_ENABLE | 0xff);
}

bool lapic_x2apic_mode(void)
{
    return x2apic;
}

uint32_t lapic_id(void)
{
    return x2apic ? lapic_read(LAPIC_ID) : lapic_read(LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

static void send_icr(uint32_t apic_id, uint32_t low)
{
    /* The x2APIC ICR write is not serializing: what the caller wrote for the
     * target (pending bits, a mailbox) must be visible before the IPI. */
    asm volatile("mfence; lfence" ::: "memory");
    if (x2apic) {
        wrmsr(0x830, ((uint64_t)apic_id << 32) | low);
        return;
    }
    lapic_write(LAPIC_ICR_HIGH, apic_id << 24);
    lapic_write(LAPIC_ICR_LOW, low);
    for (int i = 0; i < 1000000 && (lapic_read(LAPIC_ICR_LOW) & ICR_PENDING); i++)
        cpu_relax();
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
    send_icr(apic_id, ICR_ASSERT | vector);
}

void lapic_send_init(uint32_t apic_id)
{
    send_icr(apic_id, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
}

void lapic_send_sipi(uint32_t apic_id, uint8_t page)
{
    send_icr(apic_id, ICR_STARTUP | ICR_ASSERT | page);
}

bool lapic_has_tsc_deadline(void)
{
    return tsc_deadline;
}

void lapic_timer_arm_tsc(uint64_t deadline_tsc, uint8_t vector)
{
    lapic_write(LAPIC_LVT_TIMER, LVT_TSC_DEADLINE | vector);
    asm volatile("mfence" ::: "memory"); /* order the LVT write before the MSR */
    wrmsr(MSR_IA32_TSC_DEADLINE, deadline_tsc ? deadline_tsc : 1);
}

void lapic_timer_arm_count(uint32_t count, uint8_t vector)
{
    lapic_write(LAPIC_TIMER_DIV, 0x3);    /* divide by 16 */
    lapic_write(LAPIC_LVT_TIMER, vector); /* one-shot */
    lapic_write(LAPIC_TIMER_INIT, count ? count : 1);
}

void lapic_timer_stop(void)
{
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    if (tsc_deadline)
        wrmsr(MSR_IA32_TSC_DEADLINE, 0);
    lapic_write(LAPIC_TIMER_INIT, 0);
}

uint32_t lapic_timer_current(void)
{
    return lapic_read(LAPIC_TIMER_CUR);
}
