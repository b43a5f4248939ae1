/* SPDX-License-Identifier: MIT */
/* Internal to the VT-x backend: capability values, per-vCPU state, and the
 * functions its files share. The rest of vmm/ sees only vmm/vcpu.h. */
#ifndef SIDECORE_VMM_VMX_VMX_H
#define SIDECORE_VMM_VMX_VMX_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/vcpu.h"

#define MSR_VMX_BASIC          0x480
#define MSR_VMX_PINBASED       0x481
#define MSR_VMX_PROCBASED      0x482
#define MSR_VMX_EXIT           0x483
#define MSR_VMX_ENTRY          0x484
#define MSR_VMX_MISC           0x485
#define MSR_VMX_CR0_FIXED0     0x486
#define MSR_VMX_CR0_FIXED1     0x487
#define MSR_VMX_CR4_FIXED0     0x488
#define MSR_VMX_CR4_FIXED1     0x489
#define MSR_VMX_PROCBASED2     0x48b
#define MSR_VMX_EPT_VPID_CAP   0x48c
#define MSR_VMX_TRUE_PINBASED  0x48d
#define MSR_VMX_TRUE_PROCBASED 0x48e
#define MSR_VMX_TRUE_EXIT      0x48f
#define MSR_VMX_TRUE_ENTRY     0x490

/* What the CPU allows, read once by vmx_probe(). */
struct vmx_hw {
    uint32_t revision;
    uint64_t pin, proc, proc2, exit, entry; /* allowed-0 low, allowed-1 high */
    uint64_t misc, ept_vpid;
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    unsigned preempt_shift; /* preemption timer ticks = TSC >> shift */
};

extern struct vmx_hw vmx_hw;

/* Per-guest state of the backend (struct guest.arch, vmx_guest.c): one
 * page each for the MSR bitmap and I/O bitmaps A and B, then this. */
struct vmx_guest {
    uint64_t eptp;
    uint8_t *msr_bitmap, *io_bitmap_a, *io_bitmap_b;
    /* The MSR bitmap of vCPUs whose APIC the CPU virtualizes (x2APIC mode
     * with APIC virtualization): the virtualized x2APIC MSRs pass. */
    uint8_t *msr_bitmap_apicv;
    /* The APIC-access page (xAPIC mode with APIC virtualization), mapped in
     * the EPT at the reset APIC base; 0 if not set up. */
    uint64_t apic_access;
};

/* Per-vCPU state of the backend (struct vcpu.arch). */
struct vmx_vcpu {
    uint64_t vmcs_phys;
    bool launched;
    uint32_t pin, proc, proc2, exit_ctl, entry_ctl; /* current control values */
    uint64_t cr0_mask, cr4_mask;
    uint32_t reinject_info; /* an event whose delivery an exit interrupted */
    uint32_t reinject_err;
    uint64_t exit_tsc; /* when the last exit happened, for time accounting */
    /* Virtual NMIs with NMI-window exiting: the CPU tracks the guest's NMI
     * blocking (interruptibility bit 3) and exits when it ends. */
    bool vnmi;
    /* APIC virtualization in hardware (vmx_apicv.c): set up (apicv_ready)
     * and in use now (apicv: in x2APIC mode, and in xAPIC mode at the base
     * where the APIC-access page is mapped; read by other CPUs posting
     * interrupts). */
    bool apicv_ready;
    bool apicv;
    bool apicv_xapic;     /* ...through the APIC-access page (xAPIC mode) */
    uint8_t *vapic;       /* the virtual-APIC page */
    uint64_t eoi_exit[4]; /* the EOI-exit bitmap as last written */
};

/* A control value with the bits the CPU forces on, or 0 with ok=false when
 * a wanted bit is not allowed. */
uint32_t vmx_adjust_controls(uint64_t cap, uint32_t want, uint32_t optional, bool *ok);

/* Guest entry and exit (vmx_entry.asm): enters with the GPRs in regs,
 * returns 0 after a VM exit (GPRs saved back) or 1 if VMLAUNCH/VMRESUME
 * failed. */
int vmx_enter(uint64_t *regs, int launched);

bool vmx_probe(struct vcpu_caps *caps, char *why, size_t why_size);
bool vmx_cpu_enable(char *why, size_t why_size);
bool vmx_guest_init(struct guest *g, char *why, size_t why_size);
bool vmx_create(struct vcpu *v, const struct vcpu_boot_state *boot, char *why, size_t why_size);
void vmx_destroy(struct vcpu *v);
void vmx_run(struct vcpu *v, struct vcpu_exit *exit);
uint64_t vmx_read_sreg(struct vcpu *v, enum vcpu_sreg reg);
void vmx_write_sreg(struct vcpu *v, enum vcpu_sreg reg, uint64_t value);
void vmx_skip_instruction(struct vcpu *v, const struct vcpu_exit *exit);
unsigned vmx_cpl(struct vcpu *v);
void vmx_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
void vmx_sipi_start(struct vcpu *v, uint8_t vector);
const char *vmx_exit_name(uint32_t raw);
uint32_t vmx_slot_reason(unsigned slot);

/* APIC virtualization (vmx_apicv.c). */
bool vmx_apicv_usable(void);
bool vmx_apicv_setup(struct vcpu *v, struct vmx_vcpu *x, uint8_t *msr_bitmap);
void vmx_apicv_reset(struct vcpu *v);
void vmx_apicv_follow_mode(struct vcpu *v);
void vmx_apicv_mirror(struct vcpu *v);
void vmx_apicv_sync(struct vcpu *v);
void vmx_apicv_map_access_page(struct guest *g);
bool vmx_apicv_access_exit(struct vcpu *v, uint32_t reason, uint64_t qual, struct vcpu_exit *e);
bool vmx_apic_hw(const struct vcpu *v);
bool vmx_apic_hw_available(const struct vcpu *v);
bool vmx_apic_pending(struct vcpu *v);
/* Loads the guest state for a boot state into the current VMCS. */
void vmx_load_boot_state(struct vcpu *v, const struct vcpu_boot_state *boot);

#endif
