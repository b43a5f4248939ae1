/* SPDX-License-Identifier: MIT */
/*
 * Building a vCPU's VMCS: controls (what exits), host state (where an exit
 * lands), and guest state from a boot state. Everything a guest does not
 * own traps: I/O and MSRs through the bitmaps, HLT, external interrupts,
 * and the CR0/CR4 bits the hypervisor must keep.
 */
#include "kernel/config/hv_config.h"
#include "kernel/console/log.h"
#include "kernel/cpu/percpu.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pmm.h"
#include "kernel/x86/cpu.h"
#include "kernel/x86/gdt.h"
#include "vmm/guest.h"
#include "vmm/msr_policy.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"
#include "vmm/vmx/vmx_ops.h"
#include "vmm/vmx/vmx_posted.h"

#define CR0_PE   (1ull << 0)
#define CR0_ET   (1ull << 4)
#define CR0_NE   (1ull << 5)
#define CR0_PG   (1ull << 31)
#define CR4_VMXE (1ull << 13)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

#define PAT_DEFAULT 0x0007040600070406ull

/* Access rights: type | S (bit 4) | DPL | P (bit 7) | L (13) | D/B (14) | G (15). */
#define AR_CODE64   0xa09b
#define AR_CODE32   0xc09b
#define AR_DATA32   0xc093
#define AR_CODE16   0x009b
#define AR_DATA16   0x0093
#define AR_TSS      0x008b
#define AR_LDT      0x0082
#define AR_UNUSABLE 0x10000

extern void vmx_exit_stub(void);

struct idt_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

static void write_host_state(void)
{
    struct percpu *cpu = this_cpu();
    struct idt_ptr idtr;

    asm volatile("sidt %0" : "=m"(idtr));
    vmwrite(VMCS_HOST_CR0, read_cr0());
    vmwrite(VMCS_HOST_CR3, read_cr3());
    vmwrite(VMCS_HOST_CR4, read_cr4());
    vmwrite(VMCS_HOST_CS_SEL, GDT_KERNEL_CS);
    vmwrite(VMCS_HOST_SS_SEL, GDT_KERNEL_DS);
    vmwrite(VMCS_HOST_DS_SEL, GDT_KERNEL_DS);
    vmwrite(VMCS_HOST_ES_SEL, GDT_KERNEL_DS);
    vmwrite(VMCS_HOST_FS_SEL, 0);
    vmwrite(VMCS_HOST_GS_SEL, 0);
    vmwrite(VMCS_HOST_TR_SEL, GDT_TSS);
    vmwrite(VMCS_HOST_FS_BASE, 0);
    vmwrite(VMCS_HOST_GS_BASE, (uint64_t)(uintptr_t)cpu);
    vmwrite(VMCS_HOST_TR_BASE, (uint64_t)(uintptr_t)&cpu->tss);
    vmwrite(VMCS_HOST_GDTR_BASE, (uint64_t)(uintptr_t)&cpu->gdt);
    vmwrite(VMCS_HOST_IDTR_BASE, idtr.base);
    vmwrite(VMCS_HOST_SYSENTER_CS, 0);
    vmwrite(VMCS_HOST_SYSENTER_ESP, 0);
    vmwrite(VMCS_HOST_SYSENTER_EIP, 0);
    vmwrite(VMCS_HOST_EFER, rdmsr(MSR_EFER));
    vmwrite(VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
    vmwrite(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_stub);
}

static bool write_controls(struct vcpu *v, struct vmx_vcpu *x, const struct vmx_guest *vg,
                           char *why, size_t why_size)
{
    bool ok = true;
    const struct vcpu_caps *caps = vcpu_backend_caps();

    x->pin =
        vmx_adjust_controls(vmx_hw.pin, PIN_EXT_INTR_EXIT | PIN_NMI_EXIT, PIN_VIRTUAL_NMI, &ok);
    /* NMI-window exiting needs virtual NMIs (SDM 26.2.1.1). */
    x->vnmi = (x->pin & PIN_VIRTUAL_NMI) && ((vmx_hw.proc >> 32) & PROC_NMI_WINDOW);
    /* halt = guest: HLT is not intercepted (the guest activity state is
     * then HLT at exits that interrupt the halt; vmx_run.c keeps it). */
    bool halt_in_guest = v->guest->cfg.halt_in_guest;
    x->proc = vmx_adjust_controls(vmx_hw.proc,
                                  (halt_in_guest ? 0 : PROC_HLT_EXIT) | PROC_USE_IO_BITMAPS |
                                      PROC_USE_MSR_BITMAP | PROC_SECONDARY | PROC_MWAIT_EXIT |
                                      PROC_MONITOR_EXIT,
                                  /* Without a TPR shadow MOV CR8 would reach the
                                   * core's own TPR: it exits to the model's. */
                                  PROC_CR8_LOAD_EXIT | PROC_CR8_STORE_EXIT, &ok);
    if (halt_in_guest && (x->proc & PROC_HLT_EXIT) && v->index == 0)
        log_warn("guest %s: halt = guest: this CPU forces HLT exiting; HLT exits anyway",
                 v->guest->cfg.name);
    x->proc2 = vmx_adjust_controls(
        vmx_hw.proc2, PROC2_EPT | PROC2_UNRESTRICTED,
        (caps->tlb_tags ? PROC2_VPID : 0) | PROC2_RDTSCP | PROC2_INVPCID | PROC2_XSAVES, &ok);
    x->exit_ctl = vmx_adjust_controls(
        vmx_hw.exit, EXIT_HOST_64BIT | EXIT_ACK_INTR | EXIT_SAVE_EFER | EXIT_LOAD_EFER,
        EXIT_SAVE_PAT | EXIT_LOAD_PAT, &ok);
    x->entry_ctl = vmx_adjust_controls(vmx_hw.entry, ENTRY_LOAD_EFER, ENTRY_LOAD_PAT, &ok);
    if (!ok) {
        fmt_snprintf(why, why_size, "the CPU refuses a VMX control Sidecore needs");
        return false;
    }
    vmwrite(VMCS_PIN_CONTROLS, x->pin);
    vmwrite(VMCS_PROC_CONTROLS, x->proc);
    vmwrite(VMCS_PROC_CONTROLS2, x->proc2);
    vmwrite(VMCS_EXIT_CONTROLS, x->exit_ctl);
    vmwrite(VMCS_ENTRY_CONTROLS, x->entry_ctl);
    vmwrite(VMCS_EXCEPTION_BITMAP, 0);
    vmwrite(VMCS_CR3_TARGET_COUNT, 0);
    vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
    vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0);
    vmwrite(VMCS_IO_BITMAP_A, (uint64_t)(uintptr_t)vg->io_bitmap_a);
    vmwrite(VMCS_IO_BITMAP_B, (uint64_t)(uintptr_t)vg->io_bitmap_b);
    vmwrite(VMCS_MSR_BITMAP, (uint64_t)(uintptr_t)vg->msr_bitmap);
    vmwrite(VMCS_EPT_POINTER, vg->eptp);
    vmwrite(VMCS_LINK_POINTER, ~0ull);
    vmwrite(VMCS_TSC_OFFSET, 0);
    if (x->proc2 & PROC2_VPID)
        vmwrite(VMCS_VPID, v->tlb_tag);

    /* The hypervisor owns CR0.NE (VMX needs it set) and CR0.PG (turning
     * paging on or off changes EFER.LMA, which VMX leaves to us), and
     * CR4.VMXE (VT-x is hidden from guests). */
    x->cr0_mask = CR0_NE | CR0_PG;
    x->cr4_mask = CR4_VMXE;
    vmwrite(VMCS_CR0_MASK, x->cr0_mask);
    vmwrite(VMCS_CR4_MASK, x->cr4_mask);
    return true;
}

static void write_segment(uint32_t sel_field, uint16_t sel, uint64_t base, uint32_t limit,
                          uint32_t ar)
{
    /* Field layout: selector 0x0800+2n, limit 0x4800+2n, AR 0x4814+2n,
     * base 0x6806+2n, for n = ES, CS, SS, DS, FS, GS, LDTR, TR. */
    uint32_t n = (sel_field - VMCS_GUEST_ES_SEL) / 2;

    vmwrite(sel_field, sel);
    vmwrite(VMCS_GUEST_ES_LIMIT + 2 * n, limit);
    vmwrite(VMCS_GUEST_ES_AR + 2 * n, ar);
    vmwrite(VMCS_GUEST_ES_BASE + 2 * n, base);
}

/* CR0 as the CPU must hold it: the fixed bits forced, except PE and PG,
 * which an unrestricted guest may clear. */
static uint64_t real_cr0(uint64_t guest)
{
    uint64_t fixed0 = vmx_hw.cr0_fixed0 & ~(CR0_PE | CR0_PG);

    return (guest | fixed0 | CR0_NE) & vmx_hw.cr0_fixed1;
}

static uint64_t real_cr4(uint64_t guest)
{
    return (guest | vmx_hw.cr4_fixed0) & vmx_hw.cr4_fixed1;
}

void vmx_load_boot_state(struct vcpu *v, const struct vcpu_boot_state *b)
{
    struct vmx_vcpu *x = v->arch;
    uint64_t cr0 = b->cr0 | CR0_ET;
    uint64_t efer = b->efer;

    if (b->mode == VCPU_MODE_REAL16) {
        uint64_t cs_base = (uint64_t)b->cs_sel << 4;
        write_segment(VMCS_GUEST_CS_SEL, b->cs_sel, cs_base, 0xffff, AR_CODE16);
        for (uint32_t f = VMCS_GUEST_ES_SEL; f <= VMCS_GUEST_GS_SEL; f += 2) {
            if (f != VMCS_GUEST_CS_SEL)
                write_segment(f, 0, 0, 0xffff, AR_DATA16);
        }
        cr0 &= ~(CR0_PE | CR0_PG);
    } else {
        bool long64 = b->mode == VCPU_MODE_LONG64;
        write_segment(VMCS_GUEST_CS_SEL, b->cs_sel, 0, 0xffffffff, long64 ? AR_CODE64 : AR_CODE32);
        for (uint32_t f = VMCS_GUEST_ES_SEL; f <= VMCS_GUEST_GS_SEL; f += 2) {
            if (f != VMCS_GUEST_CS_SEL)
                write_segment(f, b->ds_sel, 0, 0xffffffff, AR_DATA32);
        }
        if (long64)
            efer |= EFER_LME | EFER_LMA;
    }
    write_segment(VMCS_GUEST_LDTR_SEL, 0, 0, 0, AR_UNUSABLE);
    write_segment(VMCS_GUEST_TR_SEL, 0, 0, 0xffff, AR_TSS);
    vmwrite(VMCS_GUEST_GDTR_BASE, b->gdt_base);
    vmwrite(VMCS_GUEST_GDTR_LIMIT, b->gdt_limit);
    vmwrite(VMCS_GUEST_IDTR_BASE, 0);
    vmwrite(VMCS_GUEST_IDTR_LIMIT, b->mode == VCPU_MODE_REAL16 ? 0x3ff : 0);

    vmwrite(VMCS_GUEST_CR0, real_cr0(cr0));
    vmwrite(VMCS_CR0_SHADOW, cr0);
    vmwrite(VMCS_GUEST_CR3, b->cr3);
    vmwrite(VMCS_GUEST_CR4, real_cr4(b->cr4));
    vmwrite(VMCS_CR4_SHADOW, b->cr4);
    vmwrite(VMCS_GUEST_EFER, efer);
    vmwrite(VMCS_GUEST_PAT, PAT_DEFAULT);
    vmwrite(VMCS_GUEST_DR7, 0x400);
    vmwrite(VMCS_GUEST_DEBUGCTL, 0);
    vmwrite(VMCS_GUEST_RSP, b->rsp);
    vmwrite(VMCS_GUEST_RIP, b->rip);
    vmwrite(VMCS_GUEST_RFLAGS, b->rflags | 2);
    vmwrite(VMCS_GUEST_PENDING_DBG, 0);
    vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
    vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
    vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
    vmwrite(VMCS_GUEST_ACTIVITY, ACTIVITY_ACTIVE);
    if (efer & EFER_LMA)
        x->entry_ctl |= ENTRY_IA32E_GUEST;
    else
        x->entry_ctl &= ~ENTRY_IA32E_GUEST;
    vmwrite(VMCS_ENTRY_CONTROLS, x->entry_ctl);
    memcpy(v->gprs, b->gprs, sizeof(v->gprs));
}

bool vmx_create(struct vcpu *v, const struct vcpu_boot_state *boot, char *why, size_t why_size)
{
    const struct vmx_guest *vg = v->guest->arch;
    uint64_t page = pmm_alloc_pages(2);

    if (!page) {
        fmt_snprintf(why, why_size, "no memory for the VMCS");
        return false;
    }
    struct vmx_vcpu *x = (struct vmx_vcpu *)(uintptr_t)(page + PAGE_SIZE);
    x->vmcs_phys = page;
    x->launched = false;
    v->arch = x;
    *(uint32_t *)(uintptr_t)page = vmx_hw.revision;
    if (!vmclear(page) || !vmptrld(page)) {
        fmt_snprintf(why, why_size, "VMCLEAR/VMPTRLD failed");
        pmm_free_pages(page, 2);
        v->arch = NULL;
        return false;
    }
    write_host_state();
    if (!write_controls(v, x, vg, why, why_size)) {
        vmclear(page);
        pmm_free_pages(page, 2);
        v->arch = NULL;
        return false;
    }
    vmx_load_boot_state(v, boot);
    x->apicv = false;
    x->apicv_ready = false;
    v->posted_intr = false;
    if (vmx_apicv_usable() && hv_config_apicv_allowed())
        vmx_apicv_setup(v, x, vg->msr_bitmap_apicv); /* without it: the software model */
    if (x->apicv)
        v->posted_intr = vmx_posted_setup(v); /* without it: vlapic_accept and a kick */
    /* Off again at once unless the APIC is in x2APIC mode, before anything
     * could be posted to a page the first entry would clear. */
    vmx_apicv_follow_mode(v);
    if (x->proc2 & PROC2_VPID)
        invvpid_single(v->tlb_tag);
    invept_single(vg->eptp);
    return true;
}

void vmx_destroy(struct vcpu *v)
{
    struct vmx_vcpu *x = v->arch;

    if (!x)
        return;
    vmx_posted_teardown(v);
    v->posted_intr = false;
    vmclear(x->vmcs_phys);
    pmm_free_pages(x->vmcs_phys, 2);
    v->arch = NULL;
}

/* What the guest sees in CR0/CR4: its own bits from the register, the bits
 * the hypervisor owns from the read shadow. */
static uint64_t guest_view(uint64_t real, uint64_t shadow, uint64_t mask)
{
    return (real & ~mask) | (shadow & mask);
}

uint64_t vmx_read_sreg(struct vcpu *v, enum vcpu_sreg reg)
{
    struct vmx_vcpu *x = v->arch;

    switch (reg) {
    case VCPU_SREG_RIP: return vmread(VMCS_GUEST_RIP);
    case VCPU_SREG_RSP: return vmread(VMCS_GUEST_RSP);
    case VCPU_SREG_RFLAGS: return vmread(VMCS_GUEST_RFLAGS);
    case VCPU_SREG_CR0:
        return guest_view(vmread(VMCS_GUEST_CR0), vmread(VMCS_CR0_SHADOW), x->cr0_mask);
    case VCPU_SREG_CR3: return vmread(VMCS_GUEST_CR3);
    case VCPU_SREG_CR4:
        return guest_view(vmread(VMCS_GUEST_CR4), vmread(VMCS_CR4_SHADOW), x->cr4_mask);
    case VCPU_SREG_EFER: return vmread(VMCS_GUEST_EFER);
    case VCPU_SREG_CS_BASE: return vmread(VMCS_GUEST_CS_BASE);
    case VCPU_SREG_PAT: return vmread(VMCS_GUEST_PAT);
    case VCPU_SREG_FS_BASE: return vmread(VMCS_GUEST_FS_BASE);
    case VCPU_SREG_GS_BASE: return vmread(VMCS_GUEST_GS_BASE);
    case VCPU_SREG_SYSENTER_CS: return vmread(VMCS_GUEST_SYSENTER_CS);
    case VCPU_SREG_SYSENTER_ESP: return vmread(VMCS_GUEST_SYSENTER_ESP);
    case VCPU_SREG_SYSENTER_EIP: return vmread(VMCS_GUEST_SYSENTER_EIP);
    case VCPU_SREG_CS_AR: return vmread(VMCS_GUEST_CS_AR);
    }
    return 0;
}

void vmx_write_sreg(struct vcpu *v, enum vcpu_sreg reg, uint64_t value)
{
    struct vmx_vcpu *x = v->arch;

    switch (reg) {
    case VCPU_SREG_RIP: vmwrite(VMCS_GUEST_RIP, value); break;
    case VCPU_SREG_RSP: vmwrite(VMCS_GUEST_RSP, value); break;
    case VCPU_SREG_RFLAGS: vmwrite(VMCS_GUEST_RFLAGS, value | 2); break;
    case VCPU_SREG_CR3: vmwrite(VMCS_GUEST_CR3, value); break;
    case VCPU_SREG_EFER:
        /* LMA follows LME only while paging is on (SDM 2.2.1). */
        if ((value & EFER_LME) && (vmread(VMCS_CR0_SHADOW) & CR0_PG))
            value |= EFER_LMA;
        else
            value &= ~EFER_LMA;
        vmwrite(VMCS_GUEST_EFER, value);
        x->entry_ctl = (value & EFER_LMA) ? (x->entry_ctl | ENTRY_IA32E_GUEST)
                                          : (x->entry_ctl & ~ENTRY_IA32E_GUEST);
        vmwrite(VMCS_ENTRY_CONTROLS, x->entry_ctl);
        break;
    case VCPU_SREG_CR0: {
        vmwrite(VMCS_CR0_SHADOW, value);
        vmwrite(VMCS_GUEST_CR0, real_cr0(value));
        uint64_t efer = vmread(VMCS_GUEST_EFER);
        vmx_write_sreg(v, VCPU_SREG_EFER, efer);
        break;
    }
    case VCPU_SREG_CR4:
        vmwrite(VMCS_CR4_SHADOW, value);
        vmwrite(VMCS_GUEST_CR4, real_cr4(value));
        break;
    case VCPU_SREG_CS_BASE: vmwrite(VMCS_GUEST_CS_BASE, value); break;
    case VCPU_SREG_PAT: vmwrite(VMCS_GUEST_PAT, value); break;
    case VCPU_SREG_FS_BASE: vmwrite(VMCS_GUEST_FS_BASE, value); break;
    case VCPU_SREG_GS_BASE: vmwrite(VMCS_GUEST_GS_BASE, value); break;
    case VCPU_SREG_SYSENTER_CS: vmwrite(VMCS_GUEST_SYSENTER_CS, value); break;
    case VCPU_SREG_SYSENTER_ESP: vmwrite(VMCS_GUEST_SYSENTER_ESP, value); break;
    case VCPU_SREG_SYSENTER_EIP: vmwrite(VMCS_GUEST_SYSENTER_EIP, value); break;
    case VCPU_SREG_CS_AR: vmwrite(VMCS_GUEST_CS_AR, value); break;
    }
}

unsigned vmx_cpl(struct vcpu *v)
{
    /* SDM 24.4.1: the processor takes CPL from SS.DPL in the VMCS (bits 6:5
     * of the access rights); VM entry checks they agree, in every mode. */
    return (unsigned)(vmread(VMCS_GUEST_SS_AR) >> 5) & 3;
}

void vmx_skip_instruction(struct vcpu *v, const struct vcpu_exit *exit)
{
    vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + exit->instr_len);
    /* Stepping over an instruction ends STI/MOV-SS blocking. */
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~3ull);
}

void vmx_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
    uint32_t info = INTR_INFO_VALID | INTR_TYPE_HW_EXC | vector;

    if (has_error) {
        info |= INTR_INFO_HAS_ERROR;
        vmwrite(VMCS_ENTRY_EXCEPTION_ERR, error);
    }
    vmwrite(VMCS_ENTRY_INTR_INFO, info);
    v->stats.injected++;
}

void vmx_sipi_start(struct vcpu *v, uint8_t vector)
{
    vmx_posted_reset(v);
    vmx_apicv_reset(v); /* INIT cleared the APIC */
    struct vcpu_boot_state b = {
        .mode = VCPU_MODE_REAL16, .rip = 0, .cs_sel = (uint16_t)(vector << 8), .cr0 = 0x60000010};

    vmx_load_boot_state(v, &b);
}
