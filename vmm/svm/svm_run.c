/* SPDX-License-Identifier: MIT */
/*
 * Running a vCPU under SVM: deliver what is pending, enter, decode the
 * exit. Exits that are SVM bookkeeping (interrupt windows, INVD, the SVM
 * instructions) are handled here; the rest go back to the generic code as
 * struct vcpu_exit. Without NRIP save (QEMU's TCG has none) the instruction
 * length comes from the instruction's usual length, or from EXITINFO2 for I/O (the next RIP);
 * MMIO lengths come from the decoder in exit_mmio.c. There is no
 * preemption timer: the vCPU's next timer event is the host's own one-shot
 * timer, whose interrupt makes the guest exit.
 */
#include "kernel/time/timer.h"
#include "kernel/time/tsc.h"
#include "kernel/x86/cpu.h"
#include "vmm/exit.h"
#include "vmm/svm/svm.h"
#include "vmm/svm/svm_event.h"

#define RFLAGS_IF (1ull << 9)
#define VEC_UD    6

/* Instruction lengths for exits without NRIP save. */
#define LEN_CPUID   2
#define LEN_MSR     2
#define LEN_HLT     1
#define LEN_VMMCALL 3
#define LEN_XSETBV  3
#define LEN_INVD    2

/* How soon to look again at a guest that blocks a waiting NMI only until
 * its next instruction (an interrupt shadow, an IRET that has not run):
 * 20 us, doubled at each look that finds it still blocked (up to 10 ms), so
 * that a slow exit path (an emulator's) cannot keep the timer expiring
 * before the guest runs its one instruction. */
#define NMI_POLL_NS     20000ull
#define NMI_POLL_MAX_NS 10000000ull

/* How soon to come back when more interrupts wait behind the one offered
 * through V_IRQ (which holds one, and cannot also ask for the window): an
 * APIC interrupt's EOI exits anyway; this covers direct injections, whose
 * handlers may return without an exit. */
#define VIRQ_MORE_NS 50000ull

static void set_vintr(struct svm_vcpu *s, bool on)
{
    uint64_t ctl = vmcb_r64(s, VMCB_INT_CTL) & ~(INT_CTL_V_IRQ | (0xfull << INT_CTL_V_PRIO_SHIFT));
    uint32_t i3 = vmcb_r32(s, VMCB_INTERCEPT_VEC3) & ~I3_VINTR;

    if (on) {
        /* A virtual interrupt of the highest priority that is never taken:
         * the VINTR intercept fires as soon as the guest could take it. */
        ctl |= INT_CTL_V_IRQ | INT_CTL_V_IGN_TPR | (0xfull << INT_CTL_V_PRIO_SHIFT);
        i3 |= I3_VINTR;
    }
    vmcb_w64(s, VMCB_INT_CTL, ctl);
    vmcb_w32(s, VMCB_INTERCEPT_VEC3, i3);
}

static void set_iret_intercept(struct svm_vcpu *s, bool on)
{
    uint32_t i3 = vmcb_r32(s, VMCB_INTERCEPT_VEC3);

    vmcb_w32(s, VMCB_INTERCEPT_VEC3, on ? (i3 | I3_IRET) : (i3 & ~I3_IRET));
}

/* Injects a pending NMI if the guest can take it now (true). NMIs go
 * before external interrupts. Blocked by the handler of an earlier one,
 * it waits for that handler's IRET (intercepted); blocked for one
 * instruction, it asks for a prompt exit (nmi_poll). */
static bool deliver_nmi(struct vcpu *v, struct svm_vcpu *s)
{
    bool was_polling = s->nmi_poll;
    s->nmi_poll = false;
    if (!__atomic_load_n(&v->nmi_pending, __ATOMIC_ACQUIRE))
        return false;
    bool shadow = vmcb_r64(s, VMCB_INT_STATE) & 1;
    if (s->nmi_masked || shadow) {
        s->nmi_poll = shadow || s->nmi_iret_wait;
        if (!was_polling)
            s->nmi_poll_ns = NMI_POLL_NS;
        else if (s->nmi_poll && s->nmi_poll_ns < NMI_POLL_MAX_NS)
            s->nmi_poll_ns *= 2;
        return false;
    }
    if (!vcpu_take_nmi(v))
        return false;
    vmcb_w64(s, VMCB_EVENTINJ, EVT_VALID | EVT_TYPE_NMI | 2);
    s->nmi_masked = true;
    set_iret_intercept(s, true);
    v->stats.injected++;
    return true;
}

/* Offers vector through V_IRQ (svm_event.c says why not EVENTINJ): the CPU
 * takes it as soon as the guest's RFLAGS.IF and interrupt shadow allow, with
 * no VINTR intercept in the way. */
static void offer_virq(struct svm_vcpu *s, uint8_t vector)
{
    vmcb_w64(s, VMCB_INT_CTL, svm_int_ctl_offer(vmcb_r64(s, VMCB_INT_CTL), vector));
    vmcb_w32(s, VMCB_INTERCEPT_VEC3, vmcb_r32(s, VMCB_INTERCEPT_VEC3) & ~I3_VINTR);
}

/* Offers the highest pending interrupt if the guest can take it now,
 * otherwise asks for an exit when it can. One offered earlier and not taken
 * yet (or cut short in delivery) is offered again first: the model already
 * moved it to ISR. */
static void deliver_pending(struct vcpu *v, struct svm_vcpu *s)
{
    bool event = false;

    s->virq_more = false;
    if (s->reinject & EVT_VALID) {
        vmcb_w64(s, VMCB_EVENTINJ, s->reinject);
        s->reinject = 0;
        event = true;
    } else if (vmcb_r64(s, VMCB_EVENTINJ) & EVT_VALID) {
        event = true; /* an exception the handler injected goes first */
    }
    if (s->virq >= 0) {
        offer_virq(s, (uint8_t)s->virq);
        s->virq_more = vcpu_has_pending(v);
        return;
    }
    if (event)
        return;
    if (deliver_nmi(v, s)) {
        set_vintr(s, vcpu_has_pending(v));
        return;
    }
    if (!vcpu_has_pending(v)) {
        set_vintr(s, false);
        return;
    }
    bool open = (vmcb_r64(s, VMCB_RFLAGS) & RFLAGS_IF) && !(vmcb_r64(s, VMCB_INT_STATE) & 1);
    if (!open) {
        set_vintr(s, true);
        return;
    }
    int vector = vcpu_take_pending(v);
    if (vector < 0) {
        set_vintr(s, false);
        return;
    }
    s->virq = vector;
    offer_virq(s, (uint8_t)vector);
    s->virq_more = vcpu_has_pending(v);
    v->stats.injected++;
}

/* Arms the host timer for the vCPU's next timer event, if any, or sooner
 * when a waiting NMI needs a look (nmi_poll) or interrupts wait behind the
 * one offered (virq_more). */
static void program_timer(struct vcpu *v, struct svm_vcpu *s)
{
    uint64_t deadline = vcpu_entry_deadline(v);
    uint64_t now = rdtsc();

    if (s->nmi_poll) {
        uint64_t soon = now + tsc_hz() * s->nmi_poll_ns / 1000000000ull;
        if (!deadline || soon < deadline)
            deadline = soon;
    }
    if (s->virq_more) {
        uint64_t soon = now + tsc_hz() * VIRQ_MORE_NS / 1000000000ull;
        if (!deadline || soon < deadline)
            deadline = soon;
    }
    if (!deadline)
        return;
    uint64_t ticks = deadline > now ? deadline - now : 0;
    if (ticks > tsc_hz())
        ticks = tsc_hz(); /* at least once a second; the next entry re-arms */
    timer_oneshot(ticks * 1000000ull / (tsc_hz() / 1000), NULL);
}

static void decode_io(struct svm_vcpu *s, struct vcpu_exit *e)
{
    uint64_t info = vmcb_r64(s, VMCB_EXITINFO1);

    e->kind = VCPU_EXIT_IO;
    e->io.in = info & 1;
    e->io.string = info & (1u << 2);
    e->io.rep = info & (1u << 3);
    e->io.size = (info & (1u << 4)) ? 1 : (info & (1u << 5)) ? 2 : 4;
    e->io.port = (uint16_t)(info >> 16);
    e->instr_len = (uint32_t)(vmcb_r64(s, VMCB_EXITINFO2) - vmcb_r64(s, VMCB_RIP));
}

static void decode_npf(struct svm_vcpu *s, struct vcpu_exit *e)
{
    uint64_t err = vmcb_r64(s, VMCB_EXITINFO1);

    /* A reserved bit in the nested tables is the hypervisor's bug, like an
     * EPT misconfiguration. */
    e->kind = (err & (1u << 3)) ? VCPU_EXIT_MEM_MISCONFIG : VCPU_EXIT_MEM_VIOLATION;
    e->mem.gpa = vmcb_r64(s, VMCB_EXITINFO2);
    e->mem.write = err & (1u << 1);
    e->mem.exec = err & (1u << 4);
    e->mem.read = !e->mem.write && !e->mem.exec;
    e->mem.gla_valid = false;
    e->mem.gla = 0;
}

/* The length of the instruction that exited: from the next RIP where the
 * CPU saves it (NRIP save), otherwise the instruction's usual length (a
 * guest that adds prefixes only misleads itself). */
static uint32_t instr_len(const struct svm_vcpu *s, uint32_t fixed)
{
    if (!(svm_hw.features & SVM_FEATURE_NRIPS))
        return fixed;
    uint64_t len = vmcb_r64(s, VMCB_NRIP) - vmcb_r64(s, VMCB_RIP);
    return len >= 1 && len <= 15 ? (uint32_t)len : fixed;
}

/* Decodes one exit. Returns false if it was handled here and the guest
 * should simply be entered again. */
static bool decode_exit(struct vcpu *v, struct svm_vcpu *s, uint32_t code, struct vcpu_exit *e)
{
    e->raw_reason = code;
    switch (code) {
    case SVM_EXIT_INTR:
        /* The interrupt is still pending at the local APIC (SVM does not
         * acknowledge it): let the host's IDT take it now. */
        asm volatile("sti; nop; cli" ::: "memory");
        e->kind = VCPU_EXIT_EXT_INTR;
        e->intr.taken = true;
        return true;
    case SVM_EXIT_NMI: return false; /* nothing uses NMIs yet */
    case SVM_EXIT_INIT: e->kind = VCPU_EXIT_INIT; return true;
    case SVM_EXIT_VINTR: set_vintr(s, false); return false;
    case SVM_EXIT_IRET:
        /* The NMI handler's IRET, not yet executed: NMIs are unblocked
         * once RIP has left it (svm_run). */
        set_iret_intercept(s, false);
        s->nmi_iret_wait = true;
        s->nmi_iret_rip = vmcb_r64(s, VMCB_RIP);
        return false;
    case SVM_EXIT_CPUID:
        e->kind = VCPU_EXIT_CPUID;
        e->instr_len = instr_len(s, LEN_CPUID);
        return true;
    case SVM_EXIT_INVD:
        e->instr_len = instr_len(s, LEN_INVD); /* caches are the guest's own business */
        svm_skip_instruction(v, e);
        return false;
    case SVM_EXIT_HLT:
        e->kind = VCPU_EXIT_HLT;
        e->instr_len = instr_len(s, LEN_HLT);
        return true;
    case SVM_EXIT_IOIO: decode_io(s, e); return true;
    case SVM_EXIT_MSR:
        e->kind = vmcb_r64(s, VMCB_EXITINFO1) ? VCPU_EXIT_MSR_WRITE : VCPU_EXIT_MSR_READ;
        e->instr_len = instr_len(s, LEN_MSR);
        return true;
    case SVM_EXIT_SHUTDOWN: e->kind = VCPU_EXIT_TRIPLE_FAULT; return true;
    case SVM_EXIT_VMMCALL:
        e->kind = VCPU_EXIT_HYPERCALL;
        e->instr_len = instr_len(s, LEN_VMMCALL);
        return true;
    case SVM_EXIT_INVLPGA:
    case SVM_EXIT_VMRUN:
    case SVM_EXIT_VMLOAD ... SVM_EXIT_SKINIT:
    case SVM_EXIT_MONITOR ... SVM_EXIT_MWAIT_C:
        svm_inject_exception(v, VEC_UD, false, 0); /* AMD-V is hidden */
        return false;
    case SVM_EXIT_XSETBV:
        e->kind = VCPU_EXIT_XSETBV;
        e->instr_len = instr_len(s, LEN_XSETBV);
        return true;
    case SVM_EXIT_NPF: decode_npf(s, e); return true;
    case SVM_EXIT_INVALID: e->kind = VCPU_EXIT_ENTRY_FAILED; return true;
    default: e->kind = VCPU_EXIT_UNSUPPORTED; return true;
    }
}

void svm_run(struct vcpu *v, struct vcpu_exit *e)
{
    struct svm_vcpu *s = v->arch;

    for (;;) {
        vcpu_timers_update(v, rdtsc());
        deliver_pending(v, s);
        program_timer(v, s);
        if (__atomic_exchange_n(&v->slat_flush, false, __ATOMIC_ACQ_REL))
            vmcb_w32(s, VMCB_TLB_CONTROL, 1); /* flush everything at this VMRUN */
        vmcb_w64(s, VMCB_RAX, v->gprs[VCPU_RAX]);
        /* MOV CR8 reaches V_TPR (V_INTR_MASKING), which mirrors the model's
         * TPR bits 7:4 both ways. */
        uint64_t ctl = vmcb_r64(s, VMCB_INT_CTL);
        vmcb_w64(s, VMCB_INT_CTL, (ctl & ~0xfull) | ((v->lapic.tpr >> 4) & 0xf));
        uint64_t entry = rdtsc();
        if (s->exit_tsc)
            v->stats.hv_tsc += entry - s->exit_tsc;
        /* GIF clear holds the host's interrupts until the guest runs; with
         * RFLAGS.IF set they then make it exit (V_INTR_MASKING). */
        asm volatile("clgi; sti" ::: "memory");
        svm_enter(v->gprs, s->vmcb_pa, s->host_pa);
        asm volatile("cli; stgi" ::: "memory");
        uint64_t now = rdtsc();
        s->exit_tsc = now;
        v->stats.guest_tsc += now - entry;
        v->gprs[VCPU_RAX] = vmcb_r64(s, VMCB_RAX);
        vmcb_w32(s, VMCB_TLB_CONTROL, 0);
        uint32_t vtpr = (uint32_t)vmcb_r64(s, VMCB_INT_CTL) & 0xf;
        if (vtpr != ((v->lapic.tpr >> 4) & 0xf))
            v->lapic.tpr = vtpr << 4; /* the guest wrote CR8 */

        uint32_t code = (uint32_t)vmcb_r64(s, VMCB_EXITCODE);
        v->stats.exits_total++;
        v->stats.exits[svm_exit_slot(code)]++;
        if (code == SVM_EXIT_HLT || v->stats.rip_wanted) {
            v->stats.last_rip = vmcb_r64(s, VMCB_RIP);
            v->stats.rip_wanted = false;
        }
        if (s->nmi_iret_wait && vmcb_r64(s, VMCB_RIP) != s->nmi_iret_rip)
            s->nmi_masked = s->nmi_iret_wait = false;
        uint64_t intinfo = vmcb_r64(s, VMCB_EXITINTINFO);
        bool virq_set = vmcb_r64(s, VMCB_INT_CTL) & INT_CTL_V_IRQ;
        s->virq = svm_virq_owed(s->virq, virq_set, intinfo);
        if ((intinfo & EVT_VALID) && !svm_event_is_interrupt(intinfo))
            s->reinject = intinfo;
        vmcb_w64(s, VMCB_EVENTINJ, 0);
        if (decode_exit(v, s, code, e))
            return;
    }
}
