/* SPDX-License-Identifier: MIT */
/* Internal to the AMD-V (SVM) backend: the VMCB layout (AMD APM vol. 2,
 * appendix B), per-guest and per-vCPU state, and the functions its files
 * share. The rest of vmm/ sees only vmm/vcpu.h. */
#ifndef SIDECORE_VMM_SVM_SVM_H
#define SIDECORE_VMM_SVM_SVM_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/vcpu.h"

#define MSR_VM_CR       0xc0010114u
#define MSR_VM_HSAVE_PA 0xc0010117u
#define VM_CR_LOCK      (1ull << 3)
#define VM_CR_SVMDIS    (1ull << 4)
#define EFER_SVME       (1ull << 12)

/* VMCB control area (byte offsets). */
#define VMCB_INTERCEPT_CR   0x000 /* 16 read bits, then 16 write bits */
#define VMCB_INTERCEPT_EXC  0x008
#define VMCB_INTERCEPT_VEC3 0x00c
#define VMCB_INTERCEPT_VEC4 0x010
#define VMCB_IOPM_BASE      0x040
#define VMCB_MSRPM_BASE     0x048
#define VMCB_TSC_OFFSET     0x050
#define VMCB_ASID           0x058
#define VMCB_TLB_CONTROL    0x05c
#define VMCB_INT_CTL        0x060
#define VMCB_INT_STATE      0x068
#define VMCB_EXITCODE       0x070
#define VMCB_EXITINFO1      0x078
#define VMCB_EXITINFO2      0x080
#define VMCB_EXITINTINFO    0x088
#define VMCB_NP_ENABLE      0x090
#define VMCB_EVENTINJ       0x0a8
#define VMCB_N_CR3          0x0b0
#define VMCB_CLEAN          0x0c0
#define VMCB_NRIP           0x0c8

/* VMCB state save area: segments are 16 bytes (selector, attributes,
 * limit, base) in the order ES CS SS DS FS GS GDTR LDTR IDTR TR. */
#define VMCB_ES           0x400
#define VMCB_CS           0x410
#define VMCB_SS           0x420
#define VMCB_DS           0x430
#define VMCB_FS           0x440
#define VMCB_GS           0x450
#define VMCB_GDTR         0x460
#define VMCB_LDTR         0x470
#define VMCB_IDTR         0x480
#define VMCB_TR           0x490
#define SEG_SEL           0
#define SEG_ATTR          2
#define SEG_LIMIT         4
#define SEG_BASE          8
#define VMCB_CPL          0x4cb
#define VMCB_EFER         0x4d0
#define VMCB_CR4          0x548
#define VMCB_CR3          0x550
#define VMCB_CR0          0x558
#define VMCB_DR7          0x560
#define VMCB_DR6          0x568
#define VMCB_RFLAGS       0x570
#define VMCB_RIP          0x578
#define VMCB_RSP          0x5d8
#define VMCB_RAX          0x5f8
#define VMCB_STAR         0x600
#define VMCB_LSTAR        0x608
#define VMCB_CSTAR        0x610
#define VMCB_SFMASK       0x618
#define VMCB_KGSBASE      0x620
#define VMCB_SYSENTER_CS  0x628
#define VMCB_SYSENTER_ESP 0x630
#define VMCB_SYSENTER_EIP 0x638
#define VMCB_CR2          0x640
#define VMCB_G_PAT        0x668

/* Intercept vector 3 (VMCB_INTERCEPT_VEC3). */
#define I3_INTR     (1u << 0)
#define I3_NMI      (1u << 1)
#define I3_INIT     (1u << 3)
#define I3_VINTR    (1u << 4)
#define I3_CPUID    (1u << 18)
#define I3_IRET     (1u << 20)
#define I3_INVD     (1u << 22)
#define I3_HLT      (1u << 24)
#define I3_INVLPGA  (1u << 26)
#define I3_IOIO     (1u << 27)
#define I3_MSR      (1u << 28)
#define I3_SHUTDOWN (1u << 31)
/* Intercept vector 4. */
#define I4_VMRUN   (1u << 0)
#define I4_VMMCALL (1u << 1)
#define I4_VMLOAD  (1u << 2)
#define I4_VMSAVE  (1u << 3)
#define I4_STGI    (1u << 4)
#define I4_CLGI    (1u << 5)
#define I4_SKINIT  (1u << 6)
#define I4_MONITOR (1u << 10)
#define I4_MWAIT   (1u << 11)
#define I4_MWAIT_C (1u << 12)
#define I4_XSETBV  (1u << 13)

/* VMCB_INT_CTL */
#define INT_CTL_V_IRQ        (1ull << 8)
#define INT_CTL_V_PRIO_SHIFT 16
#define INT_CTL_V_IGN_TPR    (1ull << 20)
#define INT_CTL_V_INTR_MASK  (1ull << 24)

/* EVENTINJ / EXITINTINFO */
#define EVT_VALID     (1ull << 31)
#define EVT_HAS_ERR   (1ull << 11)
#define EVT_TYPE_INTR (0ull << 8)
#define EVT_TYPE_NMI  (2ull << 8)
#define EVT_TYPE_EXC  (3ull << 8)

/* Exit codes. */
#define SVM_EXIT_EXC_UD   0x046
#define SVM_EXIT_INTR     0x060
#define SVM_EXIT_NMI      0x061
#define SVM_EXIT_INIT     0x063
#define SVM_EXIT_VINTR    0x064
#define SVM_EXIT_CPUID    0x072
#define SVM_EXIT_IRET     0x074
#define SVM_EXIT_INVD     0x076
#define SVM_EXIT_HLT      0x078
#define SVM_EXIT_INVLPGA  0x07a
#define SVM_EXIT_IOIO     0x07b
#define SVM_EXIT_MSR      0x07c
#define SVM_EXIT_SHUTDOWN 0x07f
#define SVM_EXIT_VMRUN    0x080
#define SVM_EXIT_VMMCALL  0x081
#define SVM_EXIT_VMLOAD   0x082
#define SVM_EXIT_SKINIT   0x086
#define SVM_EXIT_MONITOR  0x08a
#define SVM_EXIT_MWAIT_C  0x08c
#define SVM_EXIT_XSETBV   0x08d
#define SVM_EXIT_NPF      0x400
#define SVM_EXIT_INVALID  0xffffffffu

/* Statistics slots (vcpu.h VCPU_EXIT_SLOTS): codes below 0xf0 as they are,
 * 0x400-0x40e at 0xf0-0xfe, anything else (VMEXIT_INVALID) at 0xff. */
#define SVM_SLOT_HIGH 0xf0u

/* What the CPU offers, read once by svm_probe(). */
struct svm_hw {
    uint32_t revision, nasid, features; /* CPUID 0x8000000A EAX, EBX, EDX */
};
#define SVM_FEATURE_NRIPS (1u << 3)
extern struct svm_hw svm_hw;

/* Per-guest state (struct guest.arch, svm_guest.c): the MSR permission map
 * (8 KiB), the I/O permission map (12 KiB) and the nested CR3. */
struct svm_guest {
    uint64_t ncr3;
    uint8_t *msrpm, *iopm;
};

/* Per-vCPU state (struct vcpu.arch): the guest's VMCB, a VMCB page VMSAVE
 * keeps the host's FS/GS/TR/LDTR and syscall MSRs in across a run. */
struct svm_vcpu {
    uint8_t *vmcb;
    uint64_t vmcb_pa, host_pa;
    uint64_t reinject; /* EXITINTINFO of an event an exit interrupted */
    /* The vector offered through V_IRQ and not known to be taken (-1: none;
     * the interrupt-window request is not one). */
    int virq;
    bool virq_more; /* more interrupts wait behind it: come back soon */
    uint64_t exit_tsc;
    /* The guest's NMI blocking, kept here (SVM has no such field without
     * vNMI, and a host IRET may clear the CPU's own): set when an NMI is
     * injected, with the IRET intercept armed; at that intercept the IRET
     * has not run yet, so blocking ends at the first exit with RIP moved
     * past it (nmi_iret_rip). nmi_poll asks for a short host timer so that
     * such an exit comes soon while an NMI waits. */
    bool nmi_masked, nmi_iret_wait, nmi_poll;
    uint64_t nmi_iret_rip, nmi_poll_ns;
};

static inline uint64_t vmcb_r64(const struct svm_vcpu *s, unsigned off)
{
    return *(volatile uint64_t *)(s->vmcb + off);
}
static inline void vmcb_w64(struct svm_vcpu *s, unsigned off, uint64_t v)
{
    *(volatile uint64_t *)(s->vmcb + off) = v;
}
static inline uint32_t vmcb_r32(const struct svm_vcpu *s, unsigned off)
{
    return *(volatile uint32_t *)(s->vmcb + off);
}
static inline void vmcb_w32(struct svm_vcpu *s, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(s->vmcb + off) = v;
}
static inline void vmcb_w16(struct svm_vcpu *s, unsigned off, uint16_t v)
{
    *(volatile uint16_t *)(s->vmcb + off) = v;
}
static inline uint16_t vmcb_r16(const struct svm_vcpu *s, unsigned off)
{
    return *(volatile uint16_t *)(s->vmcb + off);
}

/* Guest entry and exit (svm_entry.asm): VMSAVE of the host's state to
 * host_pa, VMLOAD and VMRUN of the guest VMCB with the GPRs in regs (RAX
 * and RSP live in the VMCB), then VMSAVE of the guest and VMLOAD of the
 * host. Call with GIF clear. */
void svm_enter(uint64_t *regs, uint64_t vmcb_pa, uint64_t host_pa);

bool svm_probe(struct vcpu_caps *caps, char *why, size_t why_size);
bool svm_cpu_enable(char *why, size_t why_size);
bool svm_guest_init(struct guest *g, char *why, size_t why_size);
bool svm_create(struct vcpu *v, const struct vcpu_boot_state *boot, char *why, size_t why_size);
void svm_destroy(struct vcpu *v);
void svm_run(struct vcpu *v, struct vcpu_exit *exit);
uint64_t svm_read_sreg(struct vcpu *v, enum vcpu_sreg reg);
unsigned svm_cpl(struct vcpu *v);
void svm_write_sreg(struct vcpu *v, enum vcpu_sreg reg, uint64_t value);
void svm_skip_instruction(struct vcpu *v, const struct vcpu_exit *exit);
void svm_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
void svm_sipi_start(struct vcpu *v, uint8_t vector);
const char *svm_exit_name(uint32_t raw);
uint32_t svm_slot_reason(unsigned slot);
unsigned svm_exit_slot(uint32_t raw);
/* Loads the guest state for a boot state into the vCPU's VMCB. */
void svm_load_boot_state(struct vcpu *v, const struct vcpu_boot_state *boot);

#endif
