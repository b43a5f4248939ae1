/* SPDX-License-Identifier: MIT */
/*
 * The vendor-neutral virtual CPU. Everything in vmm/ outside vmm/vmx/ and
 * vmm/svm/ uses only this interface; the VT-x backend (vmm/vmx/) and the
 * AMD-V backend (vmm/svm/) each implement struct vcpu_ops, and
 * vcpu_backend_init picks one by CPU vendor.
 *
 * A vCPU runs only on its own dedicated physical CPU, and every operation
 * on it (run, register access, injection) happens on that CPU.
 */
#ifndef SIDECORE_VMM_VCPU_H
#define SIDECORE_VMM_VCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/dev/vlapic.h"
#include "vmm/msr_policy.h"

struct guest;

/* General-purpose registers, in the x86 instruction encoding order. */
enum vcpu_gpr {
    VCPU_RAX,
    VCPU_RCX,
    VCPU_RDX,
    VCPU_RBX,
    VCPU_RSP,
    VCPU_RBP,
    VCPU_RSI,
    VCPU_RDI,
    VCPU_R8,
    VCPU_R9,
    VCPU_R10,
    VCPU_R11,
    VCPU_R12,
    VCPU_R13,
    VCPU_R14,
    VCPU_R15,
};

/* Registers that live in the backend's control structure. */
enum vcpu_sreg {
    VCPU_SREG_RIP,
    VCPU_SREG_RSP,
    VCPU_SREG_RFLAGS,
    VCPU_SREG_CR0,
    VCPU_SREG_CR3,
    VCPU_SREG_CR4,
    VCPU_SREG_EFER,
    VCPU_SREG_CS_BASE,
    VCPU_SREG_PAT,
    VCPU_SREG_FS_BASE,
    VCPU_SREG_GS_BASE,
    VCPU_SREG_SYSENTER_CS,
    VCPU_SREG_SYSENTER_ESP,
    VCPU_SREG_SYSENTER_EIP,
    /* CS attributes as the descriptor holds them in bits 40-55: type 0-3,
     * S 4, DPL 5-6, P 7, AVL 12, L 13, D/B 14, G 15 (read only). */
    VCPU_SREG_CS_AR,
};

enum vcpu_mode { VCPU_MODE_REAL16, VCPU_MODE_PROT32, VCPU_MODE_LONG64 };

/* How a vCPU starts (from the guest loader's plan). Segments are flat
 * (base 0, 4 GiB) except in real mode, where CS base = cs_sel << 4. */
struct vcpu_boot_state {
    enum vcpu_mode mode;
    uint64_t rip, rsp, rflags;
    uint64_t gprs[16];
    uint64_t cr0, cr3, cr4, efer;
    uint64_t gdt_base;
    uint16_t gdt_limit;
    uint16_t cs_sel, ds_sel;
};

/* Why the guest stopped running, in vendor-neutral terms. */
enum vcpu_exit_kind {
    VCPU_EXIT_NONE, /* handled inside the backend (e.g. a CR write) */
    VCPU_EXIT_CPUID,
    VCPU_EXIT_MSR_READ,
    VCPU_EXIT_MSR_WRITE,
    VCPU_EXIT_IO,
    VCPU_EXIT_HLT,
    VCPU_EXIT_XSETBV,
    VCPU_EXIT_MEM_VIOLATION, /* guest-physical access with no mapping */
    VCPU_EXIT_MEM_MISCONFIG, /* broken second-level tables: a hypervisor bug */
    VCPU_EXIT_TRIPLE_FAULT,
    VCPU_EXIT_INIT,
    VCPU_EXIT_SIPI,
    VCPU_EXIT_HYPERCALL,
    VCPU_EXIT_EXT_INTR,     /* a host interrupt arrived; vector in intr */
    VCPU_EXIT_TIMER,        /* the backend's guest timer expired */
    VCPU_EXIT_ENTRY_FAILED, /* the guest state was refused */
    VCPU_EXIT_APIC_EOI,     /* the guest ended a level-triggered interrupt; vector in eoi */
    VCPU_EXIT_UNSUPPORTED,  /* something Sidecore does not handle */
    VCPU_EXIT_KINDS
};

struct vcpu_exit {
    enum vcpu_exit_kind kind;
    uint32_t raw_reason; /* the backend's own code, for statistics and reports */
    uint32_t instr_len;
    union {
        struct {
            uint16_t port;
            uint8_t size; /* 1, 2 or 4 */
            bool in, string, rep;
        } io;
        struct {
            uint64_t gpa, gla;
            bool read, write, exec, gla_valid;
        } mem;
        struct {
            uint8_t vector;
            bool taken; /* the host's handler already ran (SVM): vector unknown */
        } intr;
        struct {
            uint8_t vector;
        } sipi;
        struct {
            uint8_t vector;
        } eoi;
    };
};

/* Exit counters per statistics slot. Each backend folds its own raw exit
 * codes into the slots (ops->exit_slot) and names them (ops->slot_reason,
 * ops->exit_name): VT-x's basic reasons are below 128, SVM's exit codes go
 * up to 0x403. */
#define VCPU_EXIT_SLOTS 256

/* Per-vCPU counters, read by the `stats` command. */
struct vcpu_stats {
    uint64_t exits[VCPU_EXIT_SLOTS];
    uint64_t exits_total;
    /* Exits caused by I/O (counted by exit_dispatch and exit_hlt): a
     * notification that reached a virtio gate, a kick that delivered a
     * device's interrupt, a halt a device's interrupt ended. `stats` prints
     * exits_other = exits_total - exits_io. */
    uint64_t exits_io;
    uint64_t guest_tsc;       /* TSC ticks spent in the guest */
    uint64_t hv_tsc;          /* TSC ticks spent handling its exits */
    uint64_t injected;        /* interrupts and exceptions injected */
    uint64_t hc_refused;      /* hypercalls refused: made from CPL > 0 */
    uint64_t last_rip;        /* the guest's RIP when it last halted or stats asked */
    volatile bool rip_wanted; /* stats asks: record the RIP at the next exit */
    /* Posted-interrupt vectors the hypervisor moved from the descriptor
     * itself because they arrived while the vCPU was out of the guest:
     * halted, or between an exit and the next entry. The rest of a
     * device's msi_posted the CPU processed in the guest, with no exit
     * (less any posted again before the first was taken). */
    uint64_t posted_halted;
    uint64_t posted_reentry;
};

enum vcpu_state { VCPU_IDLE, VCPU_RUNNING, VCPU_HALTED, VCPU_WAIT_SIPI, VCPU_STOPPED };

struct vcpu {
    struct guest *guest;
    uint32_t index; /* within the guest */
    uint32_t cpu;   /* physical CPU index (kernel/cpu/percpu.h) */
    /* Address-space tag, unique across the machine, never 0: the VT-x VPID;
     * SVM folds it into the CPU's ASIDs. */
    uint16_t tlb_tag;
    uint64_t gprs[16];
    volatile enum vcpu_state state;
    volatile bool stop_requested;
    void *arch; /* the backend's own per-vCPU state */

    /* Interrupts waiting to be delivered (vectors 32-255). */
    uint64_t pending[4];
    /* One-shot guest timer (HC_TIMER): vector delivered at the TSC deadline. */
    uint64_t timer_deadline;
    uint8_t timer_vector;

    /* INIT and start-up IPIs from the guest's other vCPUs (vcpu_send_init,
     * vcpu_send_sipi): written by the sender, consumed by this vCPU. */
    volatile bool init_pending;
    volatile int sipi_vector; /* -1: none */
    /* An NMI from another vCPU (ICR, IOAPIC or MSI with delivery mode NMI):
     * one latch, as on hardware, so NMIs sent while one is still pending
     * collapse into it. The backend injects it when the guest's NMI
     * blocking allows (after the IRET of the NMI handler running now). */
    volatile bool nmi_pending;

    /* Emulated MSRs (vmm/msr_policy.h). */
    struct msr_vcpu_state msr;
    /* The vCPU's local APIC, in xAPIC mode from reset (vmm/guest_apic.c). */
    struct vlapic lapic;
    /* Devices' interrupts reach this vCPU posted, with no exit: set by the
     * backend when it has set posting up for the vCPU (not from the CPU's
     * capabilities alone). */
    bool posted_intr;
    /* The guest's second-level tables changed (a mapping moved): cached
     * translations are flushed before the next entry. Set from any CPU. */
    volatile bool slat_flush;
    /* For stats.exits_io: a device's interrupt was delivered to this vCPU
     * since its last I/O-classified exit (set by guest_apic_msi), and the
     * exit being handled reached a virtio notify gate (set on the vCPU's
     * own CPU by the gate's caller). Read and cleared by the exit handlers. */
    bool io_irq;
    bool io_notified;
    /* halt = guest, io = trap: a backend still owes completions (the last
     * vcpu_poll_devices said so), so the guest timer is armed soon enough
     * to reap them even while the guest halts in guest mode. */
    bool io_owed;

    struct vcpu_stats stats;
};

/* The format of the second-level (guest-physical) tables (vmm/ept.h). */
enum vcpu_slat_format {
    VCPU_SLAT_EPT, /* Intel EPT */
    VCPU_SLAT_NPT, /* AMD nested paging: x86-64 long-mode page tables */
};

/* What the backend can do on this machine (read once at boot). */
struct vcpu_caps {
    enum vcpu_slat_format slat_format;
    bool slat_2m, slat_1g; /* large second-level pages */
    bool tlb_tags;         /* tagged TLB: VPID, or ASIDs */
    bool ept, ept_ad, unrestricted, preempt_timer;
    bool apic_reg_virt, virt_intr_delivery, posted_intr, x2apic_virt;
};

struct vcpu_ops {
    const char *name; /* "VT-x", "AMD-V" */
    /* Boot CPU: probes the hardware, prints one line per feature, fills
     * caps. False (with the reason in why) when guests cannot run. */
    bool (*probe)(struct vcpu_caps *caps, char *why, size_t why_size);
    /* On the CPU that will run guests: turns virtualization on. */
    bool (*cpu_enable)(char *why, size_t why_size);
    /* Boot CPU, once per guest, after its second-level tables (g->slat)
     * are built: the backend's per-guest state in g->arch (its MSR and I/O
     * trap maps, built from vmm/msr_policy.c and vmm/io_policy.c, and its
     * pointer to the second-level tables). */
    bool (*guest_init)(struct guest *g, char *why, size_t why_size);
    /* On the vCPU's CPU: builds the control structure for a vCPU of
     * v->guest (after guest_init). */
    bool (*create)(struct vcpu *v, const struct vcpu_boot_state *boot, char *why, size_t why_size);
    void (*destroy)(struct vcpu *v);
    /* Enters the guest and returns at the next exit the generic code must
     * see. Delivers a pending interrupt when the guest can take one. */
    void (*run)(struct vcpu *v, struct vcpu_exit *exit);
    uint64_t (*read_sreg)(struct vcpu *v, enum vcpu_sreg reg);
    void (*write_sreg)(struct vcpu *v, enum vcpu_sreg reg, uint64_t value);
    /* Moves RIP past the instruction that exited. */
    void (*skip_instruction)(struct vcpu *v, const struct vcpu_exit *exit);
    void (*inject_exception)(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
    /* The guest's current privilege level, 0 (kernel) to 3 (user), at the
     * exit being handled (VT-x: SS.DPL; AMD-V: the VMCB's CPL field). */
    unsigned (*cpl)(struct vcpu *v);
    /* Starts the vCPU in real mode at vector << 12, as a start-up IPI does
     * after INIT. */
    void (*sipi_start)(struct vcpu *v, uint8_t vector);
    const char *(*exit_name)(uint32_t raw_reason);
    /* The raw exit code counted in statistics slot (below VCPU_EXIT_SLOTS). */
    uint32_t (*slot_reason)(unsigned slot);

    /* Local APIC virtualization in hardware (APIC-register virtualization
     * and virtual-interrupt delivery). When apic_hw says yes for a vCPU, the
     * backend holds IRR/ISR/TPR/PPR, the guest reads its APIC registers and
     * writes TPR, EOI and SELF IPI without exits, and interrupts accepted by
     * the vCPU's struct vlapic are handed to the hardware before each entry.
     * apic_regs_changed mirrors the model's other registers after a write the
     * model handled; apic_pending says whether the hardware holds an
     * interrupt the guest can take. */
    bool (*apic_hw)(const struct vcpu *v);
    /* Whether v gets that virtualization when its APIC is in a mode the CPU
     * can virtualize (x2APIC, or xAPIC at the APIC-access page), whether or
     * not it is in one now: what the boot log reports. */
    bool (*apic_hw_available)(const struct vcpu *v);
    void (*apic_regs_changed)(struct vcpu *v);
    bool (*apic_pending)(struct vcpu *v);

    /* Posted interrupts: makes vector pending in v's virtual APIC from any
     * CPU, without an exit when v is in the guest. False (nothing done) when
     * the backend does not use them for v: the caller then accepts the
     * vector into v's struct vlapic and kicks v. May be NULL. */
    bool (*post_interrupt)(struct vcpu *v, uint8_t vector);
};

/* Picks the backend for this CPU's vendor and probes it (boot CPU, once).
 * False, with the reason, when this machine cannot run guests. */
bool vcpu_backend_init(char *why, size_t why_size);

/* The backend in use (NULL if this machine cannot run guests). */
const struct vcpu_ops *vcpu_backend(void);
const struct vcpu_caps *vcpu_backend_caps(void);

/* The guest's privilege level at the current exit (0 to 3). */
static inline unsigned vcpu_cpl(struct vcpu *v)
{
    return vcpu_backend()->cpl(v);
}

/* Marks vector pending on v (delivered by the backend when the guest can
 * take it). */
static inline void vcpu_pend_interrupt(struct vcpu *v, uint8_t vector)
{
    __atomic_fetch_or(&v->pending[vector / 64], 1ull << (vector % 64), __ATOMIC_RELEASE);
}

/* INIT and SIPI from another vCPU of the same guest (any CPU may call). An
 * INIT puts the target back to waiting for a SIPI; a SIPI starts a waiting
 * target in real mode at vector << 12 (a second SIPI is ignored). */
void vcpu_send_init(struct vcpu *target);
void vcpu_send_sipi(struct vcpu *target, uint8_t vector);
/* An NMI for target (any CPU may call; also wakes a halted target). */
void vcpu_send_nmi(struct vcpu *target);
/* The backend takes the pending NMI to inject it (on v's CPU). */
static inline bool vcpu_take_nmi(struct vcpu *v)
{
    return __atomic_exchange_n(&v->nmi_pending, false, __ATOMIC_ACQ_REL);
}
/* Interrupts the target's CPU so it leaves the guest and looks at its
 * pending work (interrupts, INIT/SIPI, a stop request). */
void vcpu_kick(struct vcpu *target);

/* The TSC time of this vCPU's next timer event (the timer hypercall, the
 * virtual APIC timer), 0 if none is armed. The backend programs its guest
 * timer with it. */
uint64_t vcpu_next_timer(struct vcpu *v);
/* Raises every timer interrupt that is due at TSC time now. */
void vcpu_timers_update(struct vcpu *v, uint64_t now);

/* Interrupts injected directly, bypassing the APIC (the timer hypercall). */
static inline bool vcpu_has_direct_pending(const struct vcpu *v)
{
    return (v->pending[0] | v->pending[1] | v->pending[2] | v->pending[3]) != 0;
}

/* Takes the highest pending vector, or returns -1. */
int vcpu_take_pending(struct vcpu *v);
bool vcpu_has_pending(struct vcpu *v);

#endif
