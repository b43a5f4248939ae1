/* SPDX-License-Identifier: MIT */
/*
 * A vCPU's virtual local APIC, in x2APIC mode (the register file behind
 * MSRs 0x800-0x8FF) and in xAPIC mode (the same registers in a 4 KiB page,
 * vlapic_xapic.c), and IA32_TSC_DEADLINE: interrupt
 * acceptance and priority (IRR/ISR/TMR, TPR/PPR, EOI), the timer in its
 * one-shot, periodic and TSC-deadline modes, and IPI requests decoded from
 * the ICR. The model only keeps state and answers questions: it never injects,
 * sends or waits; the vCPU run loop does that with what it returns. Pure code
 * (time comes in as TSC values), so every rule is host-tested.
 *
 * Concurrency. A struct vlapic belongs to its vCPU's physical CPU (the owner).
 * Only vlapic_accept() may be called from other CPUs, concurrently with the
 * owner and with each other: it touches irr[], tmr[], esr_pending and
 * error_signal with atomic read-modify-writes and reads `accepting` with an
 * atomic load. Every other function is owner-only and not reentrant; the
 * owner reads irr[]/tmr[] atomically and clears IRR bits with an atomic AND,
 * so a bit another CPU sets is never lost. vlapic_ipi_targets() and
 * vlapic_dest_targets() are pure and may run anywhere.
 */
#ifndef SIDECORE_VMM_DEV_VLAPIC_H
#define SIDECORE_VMM_DEV_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define VLAPIC_MSR_FIRST        0x800u /* the x2APIC register range */
#define VLAPIC_MSR_LAST         0x8ffu
#define VLAPIC_MSR_TSC_DEADLINE 0x6e0u

/* Version register: version 0x14, 7 LVT entries (max LVT index 6), no
 * EOI-broadcast suppression. */
#define VLAPIC_VERSION 0x00060014u

/* The APIC's global state, from IA32_APIC_BASE (EN, EXTD). */
enum vlapic_mode { VLAPIC_MODE_DISABLED, VLAPIC_MODE_XAPIC, VLAPIC_MODE_X2APIC };

/* ICR / redirection-entry delivery modes (bits 10:8), plus INIT level
 * de-assert, which the ICR encodes as INIT with level 0 and trigger level. */
enum vlapic_delivery {
    VLAPIC_DM_FIXED = 0,
    VLAPIC_DM_LOWEST = 1,
    VLAPIC_DM_SMI = 2,
    VLAPIC_DM_NMI = 4,
    VLAPIC_DM_INIT = 5,
    VLAPIC_DM_STARTUP = 6,
    VLAPIC_DM_EXTINT = 7,
    VLAPIC_DM_INIT_DEASSERT = 8, /* no effect on modern CPUs: route nowhere */
};

enum vlapic_shorthand {
    VLAPIC_SH_NONE = 0,
    VLAPIC_SH_SELF = 1,
    VLAPIC_SH_ALL = 2,    /* all including self */
    VLAPIC_SH_OTHERS = 3, /* all excluding self */
};

/* An IPI the guest asked for with an ICR write. */
struct vlapic_ipi {
    uint32_t dest;     /* x2APIC ID, or cluster << 16 | member mask; 0xffffffff = all;
                        * dest8: an xAPIC ICR's 8-bit destination (0xff = all) */
    bool dest8;        /* sent in xAPIC mode: route dest as an 8-bit destination */
    uint8_t vector;    /* fixed/lowest: the vector; STARTUP: the start page */
    uint8_t mode;      /* enum vlapic_delivery */
    uint8_t shorthand; /* enum vlapic_shorthand */
    bool logical;      /* destination mode */
    bool level;        /* trigger mode: level; only INIT keeps it, false otherwise */
};

/* What a register write asks the run loop to do besides the state change. */
struct vlapic_write_effect {
    bool has_ipi;
    struct vlapic_ipi ipi;
    /* An EOI ended a level-triggered interrupt of this vector: pass it to
     * vioapic_eoi(). -1 when not. */
    int level_eoi_vector;
};

#define VLAPIC_LVT_COUNT 7

struct vlapic {
    /* Shared: written by vlapic_accept() on any CPU, atomic access only. */
    uint32_t irr[8];
    uint32_t tmr[8];
    uint32_t esr_pending; /* errors since the last ESR write */
    uint8_t error_signal; /* an error another CPU saw: raise LVT error */
    uint8_t accepting;    /* APIC enabled in IA32_APIC_BASE and in SVR */

    /* Owner only. */
    uint32_t id; /* x2APIC ID (the vCPU index) */
    uint8_t mode;
    uint32_t isr[8];
    uint32_t tpr, svr, esr;
    uint32_t xldr, dfr;             /* xAPIC mode's LDR and DFR (read by other CPUs for routing) */
    uint32_t lvt[VLAPIC_LVT_COUNT]; /* CMCI, timer, thermal, perf, LINT0, LINT1, error */
    uint64_t icr;
    uint32_t timer_initial, dcr;

    /* Timer. Time is kept in "fine" units of 1/tick_den TSC ticks so that a
     * period that is not a whole number of TSC ticks does not drift. */
    uint32_t tick_num, tick_den; /* one undivided timer tick = num/den TSC ticks */
    bool count_armed;            /* one-shot/periodic counting */
    unsigned __int128 next_fine; /* when the count reaches 0 */
    uint64_t next_tsc;           /* the same, in TSC ticks, rounded up */
    uint64_t tsc_deadline;       /* TSC-deadline mode: 0 = disarmed */
};

/*
 * Power-on state (SDM "Local APIC State After Power-Up"), in x2APIC mode:
 * software-disabled (SVR 0xFF), every LVT masked, timer stopped. The timer's
 * undivided clock ticks once every tick_tsc_num/tick_tsc_den TSC ticks:
 * report it to the guest as CPUID.15H EAX = tick_tsc_den, EBX = tick_tsc_num,
 * ECX = TSC Hz * den / num (Linux then takes the APIC timer rate from ECX
 * and skips calibration). num is 1..2^24, den 1..2^32-1; false otherwise.
 */
bool vlapic_init(struct vlapic *v, uint32_t id, uint32_t tick_tsc_num, uint32_t tick_tsc_den);

/* The INIT signal: registers back to their power-on values; ID and mode kept
 * (an x2APIC stays an x2APIC across INIT). Interrupts accepted concurrently
 * with the reset may be dropped, as around a real INIT. */
void vlapic_init_signal(struct vlapic *v);

/* Call after every accepted IA32_APIC_BASE write (the MSR policy checks the
 * transition). Entering DISABLED resets the registers; only X2APIC exposes
 * the MSR interface; DISABLED accepts no interrupts. */
void vlapic_set_mode(struct vlapic *v, enum vlapic_mode mode);

/* The xAPIC register page (4 KiB at IA32_APIC_BASE), used while the mode is
 * XAPIC (vlapic_xapic.c). Registers are 32 bits wide at 16-byte aligned
 * offsets; any other access (another size, or not at the start of a
 * register) reads 0 and is ignored, as are writes to read-only or unknown
 * registers and reserved bits: xAPIC accesses never fault. ICR low (0x300)
 * sends with the destination last written to ICR high (0x310, bits 31:24);
 * ID reads id << 24; LDR and DFR are the guest's, for logical destinations.
 * Outside XAPIC mode every read is 0 and every write ignored. */
#define VLAPIC_XAPIC_SIZE 0x1000u
uint32_t vlapic_mmio_read(struct vlapic *v, uint32_t offset, unsigned size, uint64_t now);
void vlapic_mmio_write(struct vlapic *v, uint32_t offset, unsigned size, uint32_t value,
                       uint64_t now, struct vlapic_write_effect *effect);
/* The register an xAPIC access reaches (REG_* in vlapic_regs.h, = offset
 * >> 4), or -1 when the access reaches none (size not 4, offset not 16-byte
 * aligned, or past the page). */
int vlapic_xapic_reg(uint32_t offset, unsigned size);

/* True for the MSRs vlapic_msr_read/write handle: 0x800-0xBFF (the
 * architectural x2APIC range; undefined ones #GP) and IA32_TSC_DEADLINE. */
bool vlapic_handles_msr(uint32_t msr);

/* RDMSR/WRMSR of a vlapic MSR at TSC time now. False means #GP(0): unknown
 * or reserved register, read of a write-only / write of a read-only
 * register, reserved bits set, or an x2APIC register while the APIC is not
 * in x2APIC mode. A write fills *effect (IPI to route, level EOI to pass on). */
bool vlapic_msr_read(struct vlapic *v, uint32_t msr, uint64_t now, uint64_t *value);
bool vlapic_msr_write(struct vlapic *v, uint32_t msr, uint64_t value, uint64_t now,
                      struct vlapic_write_effect *effect);

/*
 * A fixed/lowest-priority interrupt arrives (an IPI, an IOAPIC pin): sets
 * its IRR bit, and its TMR bit for level-triggered ones (cleared for edge).
 * Any CPU. False when it was not taken: APIC disabled (then it is dropped),
 * or vector < 16 (logged in the ESR as a receive error; the owner raises the
 * LVT error interrupt at its next vlapic_update()). On true the caller should
 * kick the owner's CPU if the vCPU is running or halted.
 */
bool vlapic_accept(struct vlapic *v, uint8_t vector, bool level_triggered);

/* The vector to inject now: highest IRR vector whose priority class is above
 * PPR's, or -1 (also -1 while the APIC is disabled). */
int vlapic_next_interrupt(const struct vlapic *v);

/* The run loop injected vector (obtained from vlapic_next_interrupt()):
 * IRR -> ISR, which raises PPR. Call once per injection, not again when the
 * backend re-injects an event whose delivery was interrupted. */
void vlapic_intr_delivered(struct vlapic *v, uint8_t vector);

/* Processor priority (PPR), from TPR and the highest in-service vector. */
uint32_t vlapic_ppr(const struct vlapic *v);

/* Brings the model up to TSC time now: raises a due timer interrupt (a
 * periodic timer re-arms on its original grid, so it never drifts; periods
 * missed while the vCPU was away collapse into one interrupt, as the IRR
 * holds one) and the LVT error interrupt for errors other CPUs logged. */
void vlapic_update(struct vlapic *v, uint64_t now);

/* TSC time at which the timer next raises an interrupt (at or before now if
 * one is due and vlapic_update() has not run), or 0 when nothing will:
 * timer stopped, disarmed or masked. */
uint64_t vlapic_timer_next(const struct vlapic *v);

/*
 * Which vCPUs an IPI targets, assuming vCPU i has x2APIC ID i (logical ID =
 * cluster i >> 4, bit i & 15). Fills bitmap (n_vcpus bits, in uint64_t
 * words, all written) and returns the number of targets. Lowest priority is
 * delivered as fixed to the first (lowest-index) target only.
 */
unsigned vlapic_ipi_targets(const struct vlapic_ipi *ipi, uint32_t sender_id, uint32_t n_vcpus,
                            uint64_t *bitmap);
/* The same for a destination alone (no shorthand), e.g. an IOAPIC message. */
unsigned vlapic_dest_targets(uint32_t dest, bool logical, uint32_t n_vcpus, uint64_t *bitmap);

/* The x2APIC logical ID of APIC ID id (the LDR). */
static inline uint32_t vlapic_ldr_of(uint32_t id)
{
    return ((id >> 4) << 16) | (1u << (id & 0xf));
}

#endif
