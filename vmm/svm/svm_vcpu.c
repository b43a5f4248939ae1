/* SPDX-License-Identifier: MIT */
/*
 * Building a vCPU's VMCB: intercepts (what exits), the guest's ASID and
 * nested tables, and guest state from a boot state. Everything a guest does
 * not own exits: I/O and MSRs through the permission maps, HLT, CPUID,
 * external interrupts, INIT, shutdown and the SVM instructions (AMD-V is
 * hidden from guests). The guest's EFER.SVME is the hypervisor's: VMRUN
 * requires it set, and the guest never sees it.
 */
#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pmm.h"
#include "kernel/x86/cpu.h"
#include "vmm/guest.h"
#include "vmm/svm/svm.h"

#define CR0_PE   (1ull << 0)
#define CR0_ET   (1ull << 4)
#define CR0_PG   (1ull << 31)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

#define PAT_DEFAULT 0x0007040600070406ull

/* SVM's compressed attributes: descriptor bits 40-47 in 7:0, 52-55 in 11:8
 * (so L = bit 9, D/B = bit 10, G = bit 11). */
#define AT_CODE64 0xa9b
#define AT_CODE32 0xc9b
#define AT_DATA32 0xc93
#define AT_CODE16 0x09b
#define AT_DATA16 0x093
#define AT_TSS    0x08b
#define AT_LDT    0x082

static void write_segment(struct svm_vcpu *s, unsigned seg, uint16_t sel, uint64_t base,
                          uint32_t limit, uint16_t attr)
{
    vmcb_w16(s, seg + SEG_SEL, sel);
    vmcb_w16(s, seg + SEG_ATTR, attr);
    vmcb_w32(s, seg + SEG_LIMIT, limit);
    vmcb_w64(s, seg + SEG_BASE, base);
}

/* ASIDs are per physical CPU, and a CPU runs one vCPU at a time, so the
 * machine-wide tag only has to fold into 1..nasid-1; a new vCPU's first run
 * flushes the TLB anyway (TLB_CONTROL). */
static uint32_t asid_for(const struct vcpu *v)
{
    return 1 + (uint32_t)(v->tlb_tag - 1) % (svm_hw.nasid - 1);
}

static void write_controls(struct vcpu *v, struct svm_vcpu *s, const struct svm_guest *sg)
{
    vmcb_w32(s, VMCB_INTERCEPT_CR, 0);
    vmcb_w32(s, VMCB_INTERCEPT_EXC, 0);
    /* halt = guest: HLT is not intercepted. The core halts in guest mode;
     * any host interrupt (the guest timer, a kick) ends the halt with an
     * INTR exit and the guest resumes after its HLT, which an idle loop
     * takes as a wake-up and re-checks. */
    uint32_t hlt = v->guest->cfg.halt_in_guest ? 0 : I3_HLT;
    vmcb_w32(s, VMCB_INTERCEPT_VEC3,
             I3_INTR | I3_NMI | I3_INIT | I3_CPUID | I3_INVD | hlt | I3_INVLPGA | I3_IOIO | I3_MSR |
                 I3_SHUTDOWN);
    vmcb_w32(s, VMCB_INTERCEPT_VEC4,
             I4_VMRUN | I4_VMMCALL | I4_VMLOAD | I4_VMSAVE | I4_STGI | I4_CLGI | I4_SKINIT |
                 I4_MONITOR | I4_MWAIT | I4_MWAIT_C | I4_XSETBV);
    vmcb_w64(s, VMCB_IOPM_BASE, (uint64_t)(uintptr_t)sg->iopm);
    vmcb_w64(s, VMCB_MSRPM_BASE, (uint64_t)(uintptr_t)sg->msrpm);
    vmcb_w64(s, VMCB_TSC_OFFSET, 0);
    vmcb_w32(s, VMCB_ASID, asid_for(v));
    vmcb_w32(s, VMCB_TLB_CONTROL, 1); /* flush everything on the first run */
    /* With V_INTR_MASKING the guest's RFLAGS.IF masks only virtual
     * interrupts; the host's own interrupts always make the guest exit. */
    vmcb_w64(s, VMCB_INT_CTL, INT_CTL_V_INTR_MASK);
    vmcb_w64(s, VMCB_INT_STATE, 0);
    vmcb_w64(s, VMCB_NP_ENABLE, 1);
    vmcb_w64(s, VMCB_N_CR3, sg->ncr3);
    vmcb_w64(s, VMCB_EVENTINJ, 0);
    vmcb_w32(s, VMCB_CLEAN, 0);
}

void svm_load_boot_state(struct vcpu *v, const struct vcpu_boot_state *b)
{
    struct svm_vcpu *s = v->arch;
    uint64_t cr0 = b->cr0 | CR0_ET;
    uint64_t efer = b->efer;
    static const unsigned data_segs[] = {VMCB_ES, VMCB_SS, VMCB_DS, VMCB_FS, VMCB_GS};

    if (b->mode == VCPU_MODE_REAL16) {
        write_segment(s, VMCB_CS, b->cs_sel, (uint64_t)b->cs_sel << 4, 0xffff, AT_CODE16);
        for (unsigned i = 0; i < 5; i++)
            write_segment(s, data_segs[i], 0, 0, 0xffff, AT_DATA16);
        cr0 &= ~(CR0_PE | CR0_PG);
    } else {
        bool long64 = b->mode == VCPU_MODE_LONG64;
        write_segment(s, VMCB_CS, b->cs_sel, 0, 0xffffffff, long64 ? AT_CODE64 : AT_CODE32);
        for (unsigned i = 0; i < 5; i++)
            write_segment(s, data_segs[i], b->ds_sel, 0, 0xffffffff, AT_DATA32);
        if (long64)
            efer |= EFER_LME | EFER_LMA;
    }
    write_segment(s, VMCB_LDTR, 0, 0, 0, AT_LDT);
    write_segment(s, VMCB_TR, 0, 0, 0xffff, AT_TSS);
    write_segment(s, VMCB_GDTR, 0, b->gdt_base, b->gdt_limit, 0);
    write_segment(s, VMCB_IDTR, 0, 0, b->mode == VCPU_MODE_REAL16 ? 0x3ff : 0, 0);
    s->vmcb[VMCB_CPL] = 0;
    vmcb_w64(s, VMCB_CR0, cr0);
    vmcb_w64(s, VMCB_CR3, b->cr3);
    vmcb_w64(s, VMCB_CR4, b->cr4);
    vmcb_w64(s, VMCB_CR2, 0);
    vmcb_w64(s, VMCB_EFER, efer | EFER_SVME);
    vmcb_w64(s, VMCB_G_PAT, PAT_DEFAULT);
    vmcb_w64(s, VMCB_DR7, 0x400);
    vmcb_w64(s, VMCB_DR6, 0xffff0ff0);
    vmcb_w64(s, VMCB_RSP, b->rsp);
    vmcb_w64(s, VMCB_RIP, b->rip);
    vmcb_w64(s, VMCB_RFLAGS, b->rflags | 2);
    vmcb_w64(s, VMCB_RAX, b->gprs[VCPU_RAX]);
    static const unsigned zeroed[] = {VMCB_STAR,         VMCB_LSTAR,       VMCB_CSTAR,
                                      VMCB_SFMASK,       VMCB_KGSBASE,     VMCB_SYSENTER_CS,
                                      VMCB_SYSENTER_ESP, VMCB_SYSENTER_EIP};
    for (unsigned i = 0; i < sizeof(zeroed) / sizeof(zeroed[0]); i++)
        vmcb_w64(s, zeroed[i], 0);
    vmcb_w64(s, VMCB_INT_STATE, 0);
    vmcb_w64(s, VMCB_EVENTINJ, 0);
    vmcb_w64(s, VMCB_INT_CTL, vmcb_r64(s, VMCB_INT_CTL) & ~INT_CTL_V_IRQ);
    vmcb_w32(s, VMCB_INTERCEPT_VEC3, vmcb_r32(s, VMCB_INTERCEPT_VEC3) & ~(I3_VINTR | I3_IRET));
    s->reinject = 0;
    s->virq = -1;
    s->nmi_masked = s->nmi_iret_wait = s->nmi_poll = false;
    memcpy(v->gprs, b->gprs, sizeof(v->gprs));
}

bool svm_create(struct vcpu *v, const struct vcpu_boot_state *boot, char *why, size_t why_size)
{
    /* The guest VMCB, the host's VMSAVE area, then this state. */
    uint64_t page = pmm_alloc_pages(3);

    if (!page) {
        fmt_snprintf(why, why_size, "no memory for the VMCB");
        return false;
    }
    memset((void *)(uintptr_t)page, 0, 3 * PAGE_SIZE);
    struct svm_vcpu *s = (struct svm_vcpu *)(uintptr_t)(page + 2 * PAGE_SIZE);
    s->vmcb = (uint8_t *)(uintptr_t)page;
    s->vmcb_pa = page;
    s->host_pa = page + PAGE_SIZE;
    v->arch = s;
    write_controls(v, s, v->guest->arch);
    svm_load_boot_state(v, boot);
    return true;
}

void svm_destroy(struct vcpu *v)
{
    struct svm_vcpu *s = v->arch;

    if (!s)
        return;
    pmm_free_pages(s->vmcb_pa, 3);
    v->arch = NULL;
}

static unsigned sreg_seg_base(enum vcpu_sreg reg)
{
    switch (reg) {
    case VCPU_SREG_CS_BASE: return VMCB_CS + SEG_BASE;
    case VCPU_SREG_FS_BASE: return VMCB_FS + SEG_BASE;
    case VCPU_SREG_GS_BASE: return VMCB_GS + SEG_BASE;
    default: return 0;
    }
}

/* The VMCB's CPL byte (AMD APM vol. 2, 15.5.1: the processor keeps the
 * guest's current privilege level there, not only in SS.DPL). */
unsigned svm_cpl(struct vcpu *v)
{
    struct svm_vcpu *s = v->arch;

    return s->vmcb[VMCB_CPL] & 3;
}

uint64_t svm_read_sreg(struct vcpu *v, enum vcpu_sreg reg)
{
    struct svm_vcpu *s = v->arch;

    switch (reg) {
    case VCPU_SREG_RIP: return vmcb_r64(s, VMCB_RIP);
    case VCPU_SREG_RSP: return vmcb_r64(s, VMCB_RSP);
    case VCPU_SREG_RFLAGS: return vmcb_r64(s, VMCB_RFLAGS);
    case VCPU_SREG_CR0: return vmcb_r64(s, VMCB_CR0);
    case VCPU_SREG_CR3: return vmcb_r64(s, VMCB_CR3);
    case VCPU_SREG_CR4: return vmcb_r64(s, VMCB_CR4);
    case VCPU_SREG_EFER: return vmcb_r64(s, VMCB_EFER) & ~EFER_SVME;
    case VCPU_SREG_CS_BASE:
    case VCPU_SREG_FS_BASE:
    case VCPU_SREG_GS_BASE: return vmcb_r64(s, sreg_seg_base(reg));
    case VCPU_SREG_PAT: return vmcb_r64(s, VMCB_G_PAT);
    case VCPU_SREG_SYSENTER_CS: return vmcb_r64(s, VMCB_SYSENTER_CS);
    case VCPU_SREG_SYSENTER_ESP: return vmcb_r64(s, VMCB_SYSENTER_ESP);
    case VCPU_SREG_SYSENTER_EIP: return vmcb_r64(s, VMCB_SYSENTER_EIP);
    case VCPU_SREG_CS_AR: {
        uint64_t a = vmcb_r16(s, VMCB_CS + SEG_ATTR);
        return (a & 0xff) | ((a & 0xf00) << 4);
    }
    }
    return 0;
}

void svm_write_sreg(struct vcpu *v, enum vcpu_sreg reg, uint64_t value)
{
    struct svm_vcpu *s = v->arch;

    switch (reg) {
    case VCPU_SREG_RIP: vmcb_w64(s, VMCB_RIP, value); break;
    case VCPU_SREG_RSP: vmcb_w64(s, VMCB_RSP, value); break;
    case VCPU_SREG_RFLAGS: vmcb_w64(s, VMCB_RFLAGS, value | 2); break;
    case VCPU_SREG_CR0: vmcb_w64(s, VMCB_CR0, value); break;
    case VCPU_SREG_CR3: vmcb_w64(s, VMCB_CR3, value); break;
    case VCPU_SREG_CR4: vmcb_w64(s, VMCB_CR4, value); break;
    case VCPU_SREG_EFER:
        /* LMA follows LME only while paging is on. */
        if ((value & EFER_LME) && (vmcb_r64(s, VMCB_CR0) & CR0_PG))
            value |= EFER_LMA;
        else
            value &= ~EFER_LMA;
        vmcb_w64(s, VMCB_EFER, value | EFER_SVME);
        break;
    case VCPU_SREG_CS_BASE:
    case VCPU_SREG_FS_BASE:
    case VCPU_SREG_GS_BASE: vmcb_w64(s, sreg_seg_base(reg), value); break;
    case VCPU_SREG_PAT: vmcb_w64(s, VMCB_G_PAT, value); break;
    case VCPU_SREG_SYSENTER_CS: vmcb_w64(s, VMCB_SYSENTER_CS, value); break;
    case VCPU_SREG_SYSENTER_ESP: vmcb_w64(s, VMCB_SYSENTER_ESP, value); break;
    case VCPU_SREG_SYSENTER_EIP: vmcb_w64(s, VMCB_SYSENTER_EIP, value); break;
    case VCPU_SREG_CS_AR: break; /* read only */
    }
}

void svm_skip_instruction(struct vcpu *v, const struct vcpu_exit *exit)
{
    struct svm_vcpu *s = v->arch;

    vmcb_w64(s, VMCB_RIP, vmcb_r64(s, VMCB_RIP) + exit->instr_len);
    /* Stepping over an instruction ends the STI/MOV-SS shadow. */
    vmcb_w64(s, VMCB_INT_STATE, vmcb_r64(s, VMCB_INT_STATE) & ~1ull);
}

void svm_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
    struct svm_vcpu *s = v->arch;
    uint64_t evt = EVT_VALID | EVT_TYPE_EXC | vector;

    if (has_error)
        evt |= EVT_HAS_ERR | ((uint64_t)error << 32);
    vmcb_w64(s, VMCB_EVENTINJ, evt);
    v->stats.injected++;
}

void svm_sipi_start(struct vcpu *v, uint8_t vector)
{
    struct vcpu_boot_state b = {
        .mode = VCPU_MODE_REAL16, .rip = 0, .cs_sel = (uint16_t)(vector << 8), .cr0 = 0x60000010};

    svm_load_boot_state(v, &b);
}
