/* SPDX-License-Identifier: MIT */
/*
 * Running a vCPU under VT-x: deliver what is pending, enter, decode the
 * exit. Exits that are VT-x bookkeeping (CR0/CR4 shadowing, interrupt
 * windows, VMX instructions, INVD) are handled here; the rest go back to the
 * generic code as struct vcpu_exit.
 */
#include "kernel/x86/cpu.h"
#include "vmm/exit.h"
#include "vmm/guest.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"
#include "vmm/vmx/vmx_ops.h"
#include "vmm/vmx/vmx_posted.h"

#define RFLAGS_IF (1ull << 9)
#define CR4_VMXE  (1ull << 13)
#define VEC_UD    6
#define VEC_GP    13

static void set_proc(struct vmx_vcpu *x, uint32_t bit, bool on)
{
    uint32_t next = on ? (x->proc | bit) : (x->proc & ~bit);

    if (next != x->proc) {
        x->proc = next;
        vmwrite(VMCS_PROC_CONTROLS, next);
    }
}

static void set_pin(struct vmx_vcpu *x, uint32_t bit, bool on)
{
    uint32_t next = on ? (x->pin | bit) : (x->pin & ~bit);

    if (next != x->pin) {
        x->pin = next;
        vmwrite(VMCS_PIN_CONTROLS, next);
    }
}

/* Interruptibility state bits: blocking by STI, MOV SS, NMI. */
#define INTERRUPTIBILITY_STI    (1u << 0)
#define INTERRUPTIBILITY_MOV_SS (1u << 1)
#define INTERRUPTIBILITY_NMI    (1u << 3)

/* Injects a pending NMI if the guest can take it now (true), otherwise
 * asks for an exit when it can. NMIs go before external interrupts. With
 * virtual NMIs the CPU sets the guest's NMI blocking on injection and
 * clears it at the handler's IRET, and NMI-window exiting reports that;
 * without them the interrupt window stands in (an exit when IF opens,
 * checked again then). STI blocking also holds an NMI back: some CPUs
 * refuse entry injecting one under it (SDM 26.3.1.5). */
static bool deliver_nmi(struct vcpu *v, struct vmx_vcpu *x)
{
    if (!__atomic_load_n(&v->nmi_pending, __ATOMIC_ACQUIRE)) {
        if (x->vnmi)
            set_proc(x, PROC_NMI_WINDOW, false);
        return false;
    }
    uint32_t blocked = (uint32_t)vmread(VMCS_GUEST_INTERRUPTIBILITY) &
                       (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS | INTERRUPTIBILITY_NMI);
    if (blocked || vmread(VMCS_GUEST_ACTIVITY) == ACTIVITY_WAIT_SIPI) {
        if (x->vnmi)
            set_proc(x, PROC_NMI_WINDOW, true);
        else
            set_proc(x, PROC_INTR_WINDOW, true);
        return false;
    }
    if (!vcpu_take_nmi(v))
        return false;
    if (x->vnmi)
        set_proc(x, PROC_NMI_WINDOW, false);
    vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_NMI | 2);
    if (vmread(VMCS_GUEST_ACTIVITY) == ACTIVITY_HLT)
        vmwrite(VMCS_GUEST_ACTIVITY, ACTIVITY_ACTIVE);
    v->stats.injected++;
    return true;
}

/* Injects the highest pending interrupt if the guest can take it now,
 * otherwise asks for an exit when it can. */
static void deliver_pending(struct vcpu *v, struct vmx_vcpu *x)
{
    if (x->reinject_info & INTR_INFO_VALID) {
        vmwrite(VMCS_ENTRY_INTR_INFO, x->reinject_info);
        if (x->reinject_info & INTR_INFO_HAS_ERROR)
            vmwrite(VMCS_ENTRY_EXCEPTION_ERR, x->reinject_err);
        x->reinject_info = 0;
        return;
    }
    if (vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID)
        return; /* an exception the handler injected goes first */
    if (deliver_nmi(v, x)) {
        bool more = x->apicv ? vcpu_has_direct_pending(v) : vcpu_has_pending(v);
        set_proc(x, PROC_INTR_WINDOW, more);
        return;
    }
    /* With APIC virtualization the CPU delivers the APIC's interrupts
     * itself (RVI); only direct ones are injected here. */
    if (x->apicv ? !vcpu_has_direct_pending(v) : !vcpu_has_pending(v)) {
        if (x->vnmi || !v->nmi_pending)
            set_proc(x, PROC_INTR_WINDOW, false);
        return;
    }
    bool open = (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
                !(vmread(VMCS_GUEST_INTERRUPTIBILITY) & 3) &&
                vmread(VMCS_GUEST_ACTIVITY) != ACTIVITY_WAIT_SIPI;
    if (!open) {
        set_proc(x, PROC_INTR_WINDOW, true);
        return;
    }
    int vector = vcpu_take_pending(v);
    if (vector < 0) {
        set_proc(x, PROC_INTR_WINDOW, false);
        return;
    }
    vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXT | (uint32_t)vector);
    if (vmread(VMCS_GUEST_ACTIVITY) == ACTIVITY_HLT)
        vmwrite(VMCS_GUEST_ACTIVITY, ACTIVITY_ACTIVE);
    v->stats.injected++;
    set_proc(x, PROC_INTR_WINDOW, x->apicv ? vcpu_has_direct_pending(v) : vcpu_has_pending(v));
}

/* halt = guest: an exit can find the guest in the HLT activity state, and
 * the next entry resumes the halt in it (an interrupt delivered on entry,
 * injected or virtual, wakes it: SDM 29.2.2). That state allows no blocking
 * by STI or MOV SS (SDM 26.3.1.5); the STI of an "sti; hlt" covered the HLT
 * only, which has retired, so a CPU that still reports it is cleared here. */
static void keep_halt_enterable(struct vcpu *v, struct vmx_vcpu *x)
{
    if (vmread(VMCS_GUEST_ACTIVITY) != ACTIVITY_HLT)
        return;
    uint64_t blocking = vmread(VMCS_GUEST_INTERRUPTIBILITY);
    if (blocking & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
                blocking & ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
    /* A virtual interrupt the guest can take now ends the halt (SDM 29.2.2),
     * so enter active and let the CPU deliver it first thing (RIP is past
     * the HLT already): the same outcome, and Bochs (2.7 at least) wakes a
     * HLT for external interrupts only, never for a pending virtual one. */
    if (x->apicv && (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF) && vmx_apic_pending(v))
        vmwrite(VMCS_GUEST_ACTIVITY, ACTIVITY_ACTIVE);
}

/* Arms the preemption timer for the vCPU's next timer event, if any. */
static void program_timer(struct vcpu *v, struct vmx_vcpu *x)
{
    uint64_t deadline = vcpu_entry_deadline(v);

    if (!deadline) {
        set_pin(x, PIN_PREEMPT_TIMER, false);
        return;
    }
    uint64_t now = rdtsc();
    uint64_t ticks = deadline > now ? (deadline - now) >> vmx_hw.preempt_shift : 0;
    if (ticks > 0xffffffffull)
        ticks = 0xffffffffull;
    set_pin(x, PIN_PREEMPT_TIMER, true);
    vmwrite(VMCS_PREEMPTION_TIMER, ticks);
}

static uint64_t gpr_or_rsp(struct vcpu *v, unsigned reg)
{
    return reg == VCPU_RSP ? vmread(VMCS_GUEST_RSP) : v->gprs[reg];
}

/* MOV to or from CR8 while the local APIC is in software (no TPR shadow):
 * CR8 is TPR bits 7:4 of the model. Returns false for #GP (reserved bits). */
static bool handle_cr8(struct vcpu *v, unsigned type, unsigned reg)
{
    if (type == 1) {
        uint64_t value = (v->lapic.tpr >> 4) & 0xf;
        if (reg == VCPU_RSP)
            vmwrite(VMCS_GUEST_RSP, value);
        else
            v->gprs[reg] = value;
        return true;
    }
    uint64_t value = gpr_or_rsp(v, reg);
    if (value & ~0xfull)
        return false;
    v->lapic.tpr = (uint32_t)value << 4;
    return true;
}

/* MOV to CR0/CR4 on a bit the hypervisor owns, or CR8 (above). Returns false
 * if the guest must get #GP instead. */
static bool handle_cr_access(struct vcpu *v, uint64_t qual)
{
    unsigned cr = qual & 0xf, type = (qual >> 4) & 3, reg = (qual >> 8) & 0xf;

    if (cr == 8 && type <= 1)
        return handle_cr8(v, type, reg);
    if (type != 0)
        return true; /* CLTS/LMSW/MOV-from never touch the owned bits */
    uint64_t value = gpr_or_rsp(v, reg);
    if (cr == 0) {
        vmx_write_sreg(v, VCPU_SREG_CR0, value);
        return true;
    }
    if (cr == 4) {
        if (value & CR4_VMXE)
            return false;
        vmx_write_sreg(v, VCPU_SREG_CR4, value);
        return true;
    }
    return true;
}

static void decode_io(struct vcpu_exit *e, uint64_t qual)
{
    e->kind = VCPU_EXIT_IO;
    e->io.size = (uint8_t)((qual & 7) + 1);
    e->io.in = qual & (1u << 3);
    e->io.string = qual & (1u << 4);
    e->io.rep = qual & (1u << 5);
    e->io.port = (uint16_t)(qual >> 16);
}

static void decode_ept(struct vcpu_exit *e, uint64_t qual)
{
    e->kind = VCPU_EXIT_MEM_VIOLATION;
    e->mem.gpa = vmread(VMCS_GUEST_PHYS_ADDR);
    e->mem.read = qual & 1;
    e->mem.write = qual & 2;
    e->mem.exec = qual & 4;
    e->mem.gla_valid = qual & (1u << 7);
    e->mem.gla = e->mem.gla_valid ? vmread(VMCS_GUEST_LINEAR_ADDR) : 0;
}

/* Decodes one exit. Returns false if it was handled here and the guest
 * should simply be entered again. */
static bool decode_exit(struct vcpu *v, struct vmx_vcpu *x, uint32_t reason, struct vcpu_exit *e)
{
    uint64_t qual = vmread(VMCS_EXIT_QUALIFICATION);

    e->raw_reason = reason;
    e->instr_len = (uint32_t)vmread(VMCS_EXIT_INSTR_LEN);
    switch (reason) {
    case EXIT_REASON_EXCEPTION: return false; /* an NMI meant for the host: nothing uses NMIs yet */
    case EXIT_REASON_EXT_INTR:
        e->kind = VCPU_EXIT_EXT_INTR;
        e->intr.vector = (uint8_t)vmread(VMCS_EXIT_INTR_INFO);
        return true;
    case EXIT_REASON_TRIPLE_FAULT: e->kind = VCPU_EXIT_TRIPLE_FAULT; return true;
    case EXIT_REASON_INIT: e->kind = VCPU_EXIT_INIT; return true;
    case EXIT_REASON_SIPI:
        e->kind = VCPU_EXIT_SIPI;
        e->sipi.vector = (uint8_t)qual;
        return true;
    case EXIT_REASON_INTR_WINDOW: set_proc(x, PROC_INTR_WINDOW, false); return false;
    case EXIT_REASON_NMI_WINDOW: set_proc(x, PROC_NMI_WINDOW, false); return false;
    case EXIT_REASON_CPUID: e->kind = VCPU_EXIT_CPUID; return true;
    case EXIT_REASON_HLT: e->kind = VCPU_EXIT_HLT; return true;
    case EXIT_REASON_INVD:
    case EXIT_REASON_WBINVD:
        vmx_skip_instruction(v, e); /* caches are the guest's own business */
        return false;
    case EXIT_REASON_VMCALL: e->kind = VCPU_EXIT_HYPERCALL; return true;
    case EXIT_REASON_CR_ACCESS:
        if (handle_cr_access(v, qual))
            vmx_skip_instruction(v, e);
        else
            vmx_inject_exception(v, VEC_GP, true, 0);
        return false;
    case EXIT_REASON_IO: decode_io(e, qual); return true;
    case EXIT_REASON_RDMSR: e->kind = VCPU_EXIT_MSR_READ; return true;
    case EXIT_REASON_WRMSR: e->kind = VCPU_EXIT_MSR_WRITE; return true;
    case EXIT_REASON_MWAIT:
    case EXIT_REASON_MONITOR:
    case 19 ... 27: /* VMX instructions: VT-x is hidden */
    case 50:        /* INVEPT */
    case 53: /* INVVPID */ vmx_inject_exception(v, VEC_UD, false, 0); return false;
    case EXIT_REASON_EPT_VIOLATION: decode_ept(e, qual); return true;
    case EXIT_REASON_EPT_MISCONFIG:
        e->kind = VCPU_EXIT_MEM_MISCONFIG;
        e->mem.gpa = vmread(VMCS_GUEST_PHYS_ADDR);
        return true;
    case EXIT_REASON_PREEMPT_TIMER: e->kind = VCPU_EXIT_TIMER; return true;
    case EXIT_REASON_XSETBV: e->kind = VCPU_EXIT_XSETBV; return true;
    case EXIT_REASON_APIC_ACCESS:
    case EXIT_REASON_APIC_WRITE: return vmx_apicv_access_exit(v, reason, qual, e);
    case EXIT_REASON_APIC_EOI:
        e->kind = VCPU_EXIT_APIC_EOI;
        e->eoi.vector = (uint8_t)qual;
        return true;
    default: e->kind = VCPU_EXIT_UNSUPPORTED; return true;
    }
}

void vmx_run(struct vcpu *v, struct vcpu_exit *e)
{
    struct vmx_vcpu *x = v->arch;

    for (;;) {
        vmx_apicv_follow_mode(v);
        if (x->apicv) {
            v->stats.posted_reentry += vmx_posted_sync(v); /* posted since the exit */
            vmx_apicv_sync(v);
        }
        if (!(x->proc & PROC_HLT_EXIT))
            keep_halt_enterable(v, x);
        deliver_pending(v, x);
        program_timer(v, x);
        if (__atomic_exchange_n(&v->slat_flush, false, __ATOMIC_ACQ_REL))
            invept_single(((const struct vmx_guest *)v->guest->arch)->eptp);
        uint64_t entry = rdtsc();
        if (x->exit_tsc)
            v->stats.hv_tsc += entry - x->exit_tsc;
        int failed = vmx_enter(v->gprs, x->launched);
        uint64_t now = rdtsc();
        x->exit_tsc = now;
        if (failed) {
            e->kind = VCPU_EXIT_ENTRY_FAILED;
            e->raw_reason = 0x1000 | (uint32_t)vmread(VMCS_INSTR_ERROR);
            return;
        }
        x->launched = true;
        v->stats.guest_tsc += now - entry;

        uint32_t full = (uint32_t)vmread(VMCS_EXIT_REASON);
        uint32_t reason = full & 0xffff;
        v->stats.exits_total++;
        v->stats.exits[reason < VCPU_EXIT_SLOTS ? reason : VCPU_EXIT_SLOTS - 1]++;
        if (full & EXIT_REASON_ENTRY_FAIL) {
            e->kind = VCPU_EXIT_ENTRY_FAILED;
            e->raw_reason = reason;
            return;
        }
        /* The RIP is read only where someone looks at it: a halt, or stats. */
        if (reason == EXIT_REASON_HLT || v->stats.rip_wanted) {
            v->stats.last_rip = vmread(VMCS_GUEST_RIP);
            v->stats.rip_wanted = false;
        }
        uint32_t vectoring = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
        if (vectoring & INTR_INFO_VALID) {
            x->reinject_info = vectoring & ~(1u << 12); /* bit 12 is reserved on entry */
            x->reinject_err = (uint32_t)vmread(VMCS_IDT_VECTORING_ERR);
        } else if (x->vnmi && reason == EXIT_REASON_EPT_VIOLATION &&
                   (vmread(VMCS_EXIT_QUALIFICATION) & (1u << 12))) {
            /* The exit came from an IRET that had already unblocked NMIs:
             * the IRET runs again, so the blocking must stand until it
             * completes (SDM 27.2.3). */
            vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
                    vmread(VMCS_GUEST_INTERRUPTIBILITY) | INTERRUPTIBILITY_NMI);
        }
        if (decode_exit(v, x, reason, e))
            return;
    }
}
