/* SPDX-License-Identifier: MIT */
#include "kernel/cpu/smp.h"

#include "kernel/console/log.h"
#include "kernel/cpu/cpu_call.h"
#include "kernel/lib/string.h"
#include "kernel/mm/paging.h"
#include "kernel/mm/pmm.h"
#include "kernel/time/clock.h"
#include "kernel/time/tsc.h"
#include "kernel/x86/cpu.h"
#include "kernel/x86/lapic.h"

/* Mirrors the parameter block at the end of trampoline.asm. */
struct trampoline_params {
    uint16_t gdt_limit;
    uint64_t gdt_base;
    uint16_t pad0[3];
    uint32_t long_mode_addr;
    uint16_t long_mode_cs;
    uint16_t pad1;
    uint64_t cr3;
    uint64_t stack;
    uint64_t percpu;
    uint64_t entry;
    uint32_t claim; /* the APIC ID it is for; TRAMPOLINE_CLAIMED once taken */
} __attribute__((packed));

/* Values of claim besides an APIC ID (trampoline.asm's claim). */
#define TRAMPOLINE_CLAIMED 0xFFFFFFFEu
#define TRAMPOLINE_NONE    0xFFFFFFFFu

extern const char trampoline_start[], trampoline_end[], trampoline_params[];
extern const uint64_t trampoline_gdt_offset, trampoline_long_mode_offset;
extern char boot_pml4[];

/* A healthy CPU answers in microseconds; an emulator's CPU thread on a loaded
 * host may not run for a good part of a second (and a CPU given up on is lost
 * to the machine), so the wait before giving up is generous. */
#define AP_START_TIMEOUT_US 1000000
/* An AP that has claimed the block is running our code on its own stack;
 * only a starved emulator thread makes it this slow. */
#define AP_CLAIMED_TIMEOUT_US 10000000

static void ap_entry(struct percpu *p);

static uint32_t no_sipi_apic_id = UINT32_MAX;
static uint32_t late_sipi_apic_id = UINT32_MAX;

void smp_inject_no_sipi(uint32_t apic_id)
{
    no_sipi_apic_id = apic_id;
}

void smp_inject_late_sipi(uint32_t apic_id)
{
    late_sipi_apic_id = apic_id;
}

static void send_sipi(struct percpu *p, uint64_t page)
{
    if (p->apic_id == no_sipi_apic_id || p->apic_id == late_sipi_apic_id)
        return;
    lapic_send_sipi(p->apic_id, (uint8_t)(page >> 12));
}

void cpu_init_local(struct percpu *p)
{
    percpu_load(p);
    lapic_init_cpu();
    topology_detect(&p->topo);
    if (p->topo.apic_id != p->apic_id)
        log_warn("CPU %u: MADT says APIC ID %u, CPUID says %u", p->index, p->apic_id,
                 p->topo.apic_id);
}

static void ap_entry(struct percpu *p)
{
    paging_load();
    cpu_init_local(p);
    __atomic_store_n(&p->state, CPU_ONLINE, __ATOMIC_RELEASE);
    cpu_idle_loop();
}

static bool wait_online(struct percpu *p, uint64_t us)
{
    uint64_t end = clock_uptime_ns() + us * 1000;

    while (clock_uptime_ns() < end) {
        if (__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) == CPU_ONLINE)
            return true;
        cpu_relax();
    }
    return false;
}

void smp_start_all(void)
{
    uint64_t page = pmm_alloc_pages_below(1, 0x100000);
    size_t size = (size_t)(trampoline_end - trampoline_start);

    if (!page) {
        log_error("SMP: no free page below 1 MiB for the trampoline; only the boot CPU runs");
        return;
    }
    memcpy((void *)(uintptr_t)page, trampoline_start, size);
    struct trampoline_params *tp =
        (void *)(uintptr_t)(page + (uint64_t)(trampoline_params - trampoline_start));
    tp->gdt_base = page + trampoline_gdt_offset;
    tp->long_mode_addr = (uint32_t)(page + trampoline_long_mode_offset);
    tp->long_mode_cs = 0x08;
    /* The APs start on the boot page tables (they identity-map the low 4 GiB,
     * the trampoline included) and switch to ours in ap_entry(). */
    tp->cr3 = (uint64_t)(uintptr_t)boot_pml4;
    tp->entry = (uint64_t)(uintptr_t)ap_entry;

    tp->claim = TRAMPOLINE_NONE;
    struct percpu *late = NULL; /* smp.latesipi's CPU, given its SIPI after the next one's */

    for (uint32_t i = 1; i < cpu_count(); i++) {
        struct percpu *p = cpu_by_index(i);
        if (!p || p->state != CPU_ABSENT)
            continue;
        tp->stack = p->stack_top;
        tp->percpu = (uint64_t)(uintptr_t)p;
        __atomic_store_n(&tp->claim, p->apic_id, __ATOMIC_RELEASE);
        p->state = CPU_STARTING;
        asm volatile("mfence" ::: "memory");

        lapic_send_init(p->apic_id);
        tsc_delay_us(10000);
        send_sipi(p, page);
        if (late) { /* as a SIPI kept pending past the parking INIT would come */
            lapic_send_sipi(late->apic_id, (uint8_t)(page >> 12));
            late = NULL;
        }
        if (!wait_online(p, 1000)) {
            send_sipi(p, page);
            if (!wait_online(p, AP_START_TIMEOUT_US)) {
                uint32_t expected = p->apic_id;

                if (!__atomic_compare_exchange_n(&tp->claim, &expected, TRAMPOLINE_NONE, false,
                                                 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) &&
                    wait_online(p, AP_CLAIMED_TIMEOUT_US)) {
                    log_warn("CPU %u (APIC ID %u) was slow to start", i, p->apic_id);
                } else {
                    p->state = CPU_FAILED;
                    lapic_send_init(p->apic_id); /* park it: it must not wake up later */
                    if (expected == TRAMPOLINE_CLAIMED) {
                        /* It holds the block and may still read it: starting
                         * another CPU with it could share a stack. */
                        log_error("CPU %u (APIC ID %u) took the trampoline but did not come "
                                  "online; no further CPUs are started",
                                  i, p->apic_id);
                        break;
                    }
                    log_error("CPU %u (APIC ID %u) did not start; going on without it", i,
                              p->apic_id);
                    if (p->apic_id == late_sipi_apic_id)
                        late = p;
                    continue;
                }
            }
        }
        log_info("CPU %u online: APIC ID %u, socket %u core %u thread %u", i, p->apic_id,
                 p->topo.socket, p->topo.core, p->topo.thread);
    }
    if (late)
        lapic_send_sipi(late->apic_id, (uint8_t)(page >> 12));
    /* The trampoline page is kept: a CPU that failed could still fetch from it. */
}
