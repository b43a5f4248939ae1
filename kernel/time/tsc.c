/* SPDX-License-Identifier: MIT */
#include "kernel/time/tsc.h"

#include "kernel/console/log.h"
#include "kernel/time/clock.h"
#include "kernel/x86/cpu.h"

#define PIT_HZ       1193182ull
#define PIT_CAL_MS   50
#define PIT_PORT_CH2 0x42
#define PIT_PORT_CMD 0x43
#define PORT_SPEAKER 0x61

static uint64_t hz;
static uint64_t boot_tsc;
/* ns = (tsc_delta * mult) >> 32, computed without a 128-bit division. */
static uint64_t ns_mult;

/* Counts TSC ticks across a PIT channel-2 countdown; 0 if the PIT does not
 * answer (no legacy PIT on this machine). */
static uint64_t measure_against_pit(void)
{
    uint16_t count = (uint16_t)(PIT_HZ * PIT_CAL_MS / 1000);
    uint8_t port61 = inb(PORT_SPEAKER);

    outb(PORT_SPEAKER, port61 & ~0x03); /* gate low, speaker off */
    outb(PIT_PORT_CMD, 0xb0);           /* channel 2, lo/hi byte, mode 0 */
    outb(PIT_PORT_CH2, count & 0xff);
    outb(PIT_PORT_CH2, count >> 8);
    outb(PORT_SPEAKER, (port61 & ~0x02) | 0x01); /* gate high: start */
    uint64_t t0 = rdtsc();
    uint64_t spins = 0;
    while (!(inb(PORT_SPEAKER) & 0x20)) {
        if (++spins > 200000000ull)
            return 0;
    }
    uint64_t t1 = rdtsc();
    outb(PORT_SPEAKER, port61);
    return (t1 - t0) * 1000 / PIT_CAL_MS;
}

static uint64_t cpuid_tsc_hz(void)
{
    uint32_t max = cpuid(0, 0).eax;

    if (max >= 0x15) {
        struct cpuid_regs r = cpuid(0x15, 0);
        if (r.eax && r.ebx && r.ecx)
            return (uint64_t)r.ecx * r.ebx / r.eax;
    }
    if (max >= 0x16) {
        struct cpuid_regs r = cpuid(0x16, 0);
        if (r.eax)
            return (uint64_t)(r.eax & 0xffff) * 1000000ull;
    }
    return 0;
}

void tsc_init(void)
{
    uint64_t from_cpuid = cpuid_tsc_hz();
    uint64_t measured = measure_against_pit();
    const char *source;

    if (from_cpuid && measured) {
        uint64_t diff = from_cpuid > measured ? from_cpuid - measured : measured - from_cpuid;
        if (diff * 50 <= measured) { /* within 2% */
            hz = from_cpuid;
            source = "CPUID, confirmed by the PIT";
        } else {
            hz = measured;
            source = "PIT (CPUID disagrees)";
        }
    } else if (from_cpuid) {
        hz = from_cpuid;
        source = "CPUID";
    } else if (measured) {
        hz = measured;
        source = "PIT";
    } else {
        hz = 1000000000ull;
        source = "assumed: no CPUID leaf and no PIT";
    }
    ns_mult = (1000000000ull << 32) / hz;
    boot_tsc = rdtsc();
    log_info("TSC: %lu.%03lu MHz (%s; CPUID %lu kHz, PIT %lu kHz)", (unsigned long)(hz / 1000000),
             (unsigned long)(hz / 1000 % 1000), source, (unsigned long)(from_cpuid / 1000),
             (unsigned long)(measured / 1000));
}

uint64_t tsc_hz(void)
{
    return hz;
}

uint64_t tsc_from_ns(uint64_t ns)
{
    /* ns * hz / 1e9 without overflow (and without a 128-bit division). */
    return ns / 1000000000ull * hz + ns % 1000000000ull * hz / 1000000000ull;
}

void tsc_delay_us(uint64_t us)
{
    uint64_t end = rdtsc() + tsc_from_ns(us * 1000);

    while (rdtsc() < end)
        cpu_relax();
}

uint64_t clock_uptime_ns(void)
{
    if (!hz)
        return 0;
    return (uint64_t)(((unsigned __int128)(rdtsc() - boot_tsc) * ns_mult) >> 32);
}
