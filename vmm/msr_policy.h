/* SPDX-License-Identifier: MIT */
/*
 * What a guest may do with each MSR, as one table (msr_policy.c) that drives
 * both the VMX MSR bitmap and SVM's MSR permission map (which accesses exit
 * at all) and the RDMSR/WRMSR
 * exit handler (what an exiting access does). A guest runs alone on its
 * core, so MSRs the hypervisor never touches on that core can simply be the
 * guest's own; everything the hypervisor needs or must hide exits. An MSR
 * the table does not list exits and gets #GP, as on a CPU without it.
 * Pure logic: builds for the host so it can be unit tested.
 */
#ifndef SIDECORE_VMM_MSR_POLICY_H
#define SIDECORE_VMM_MSR_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* What an access (a read or a write) does. */
enum msr_action {
    MSR_GP = 0,  /* exit; inject #GP(0) */
    MSR_PASS,    /* no exit: the guest uses the real MSR */
    MSR_EMULATE, /* exit; msr_emulate_read/write produce the result */
    MSR_VMCS,    /* exit; the value lives in a guest-state field (entry's field) */
};

/* Where the guest's value of an MSR lives while the hypervisor runs (for an
 * exit handler that needs it, and for the VMCS set-up). Vendor-neutral names;
 * the VT-x backend maps them to VMCS encodings. */
enum msr_field {
    MSR_FIELD_NONE = 0, /* in the real MSR (PASS) or in struct msr_vcpu_state */
    MSR_FIELD_EFER,
    MSR_FIELD_PAT,
    MSR_FIELD_FS_BASE,
    MSR_FIELD_GS_BASE,
    MSR_FIELD_SYSENTER_CS,
    MSR_FIELD_SYSENTER_ESP,
    MSR_FIELD_SYSENTER_EIP,
};

struct msr_policy_entry {
    uint32_t first, last; /* inclusive range; first == last for one MSR */
    const char *name;
    uint8_t read, write; /* enum msr_action */
    uint8_t field;       /* enum msr_field */
    const char *why;
};

/* Result of an exiting access. */
enum msr_result {
    MSR_OK = 0,       /* read: *value is the result; write: accepted (maybe ignored) */
    MSR_INJECT_GP,    /* inject #GP(0), leave RIP */
    MSR_USE_FIELD,    /* read/write the entry's guest-state field (value checked for writes) */
    MSR_USE_HARDWARE, /* a PASS MSR exited anyway: do the real RDMSR/WRMSR for the guest */
};

/* Architectural MSR numbers the policy names. */
#define MSR_IA32_TSC              0x10u
#define MSR_IA32_APIC_BASE        0x1bu
#define MSR_IA32_FEATURE_CONTROL  0x3au
#define MSR_IA32_SPEC_CTRL        0x48u
#define MSR_IA32_PRED_CMD         0x49u
#define MSR_IA32_BIOS_SIGN_ID     0x8bu
#define MSR_IA32_MTRRCAP          0xfeu
#define MSR_IA32_ARCH_CAPS        0x10au
#define MSR_IA32_SYSENTER_CS      0x174u
#define MSR_IA32_SYSENTER_ESP     0x175u
#define MSR_IA32_SYSENTER_EIP     0x176u
#define MSR_IA32_MCG_CAP          0x179u
#define MSR_IA32_MCG_STATUS       0x17au
#define MSR_IA32_MISC_ENABLE      0x1a0u
#define MSR_IA32_PAT              0x277u
#define MSR_IA32_MTRR_DEF_TYPE    0x2ffu
#define MSR_IA32_VMX_FIRST        0x480u
#define MSR_IA32_VMX_LAST         0x491u
#define MSR_IA32_EFER             0xc0000080u
#define MSR_IA32_STAR             0xc0000081u
#define MSR_IA32_LSTAR            0xc0000082u
#define MSR_IA32_CSTAR            0xc0000083u
#define MSR_IA32_FMASK            0xc0000084u
#define MSR_IA32_FS_BASE          0xc0000100u
#define MSR_IA32_GS_BASE          0xc0000101u
#define MSR_IA32_KERNEL_GS_BASE   0xc0000102u
#define MSR_IA32_TSC_AUX          0xc0000103u
#define MSR_AMD_HWCR              0xc0010015u
#define MSR_AMD_HWCR_TSC_FREQ_SEL (1ull << 24) /* the TSC counts at the P0 frequency */
#define MSR_AMD_VM_CR             0xc0010114u
#define MSR_AMD_VM_HSAVE_PA       0xc0010117u

#define MSR_APIC_BASE_BSP    (1ull << 8)
#define MSR_APIC_BASE_EXTD   (1ull << 10) /* x2APIC mode */
#define MSR_APIC_BASE_EN     (1ull << 11)
#define MSR_APIC_DEFAULT     0xfee00000ull
#define MSR_APIC_BASE_ADDR   0x000ffffffffff000ull /* the register page */
#define MSR_MISC_FAST_STRING (1ull << 0)
#define MSR_MISC_BTS_UNAVAIL (1ull << 11)
#define MSR_MISC_PEBS_UNAV   (1ull << 12)
#define MSR_EFER_SCE         (1ull << 0)
#define MSR_EFER_LME         (1ull << 8)
#define MSR_EFER_LMA         (1ull << 10)
#define MSR_EFER_NXE         (1ull << 11)

/* The state emulated MSRs keep, one per vCPU (msr_vcpu_state_init). */
struct msr_vcpu_state {
    unsigned vcpu_index;
    bool x2apic_allowed; /* CPUID offers x2APIC: IA32_APIC_BASE may enable it */
    uint64_t apic_base;
    uint64_t misc_enable;
    uint64_t mtrr_def_type;
    uint64_t bios_sign_id;    /* microcode revision reported (bits 63:32) */
    uint64_t tsc_write_count; /* IA32_TSC writes dropped */
};

/* The table, for a shell listing; count in *n. */
const struct msr_policy_entry *msr_policy_table(unsigned *n);

/* The entry for msr; never NULL: an unlisted MSR gets a GP/GP default entry
 * named "unknown". */
const struct msr_policy_entry *msr_policy_lookup(uint32_t msr);

/* Fills the 4 KiB VMX MSR bitmap from the table: a set bit exits. Read-low at
 * byte 0 (MSRs 0-0x1fff), read-high at 1024 (0xc0000000-0xc0001fff),
 * write-low at 2048, write-high at 3072. MSRs outside both ranges always exit.
 * msr_bitmap_build_from builds from another table (tests). */
void msr_bitmap_build(uint8_t page[4096]);
void msr_bitmap_build_from(const struct msr_policy_entry *table, unsigned n, uint8_t page[4096]);

/* Whether an access to msr exits under the bitmap in page (as the CPU
 * decides it); for tests and diagnostics. */
bool msr_bitmap_exits(const uint8_t page[4096], uint32_t msr, bool write);

/* Reset state for vCPU index (the BSP is vCPU 0). */
void msr_vcpu_state_init(struct msr_vcpu_state *st, unsigned vcpu_index, bool x2apic_allowed);

/* The exit handler's RDMSR/WRMSR. */
enum msr_result msr_emulate_read(uint32_t msr, const struct msr_vcpu_state *st, uint64_t *value);
enum msr_result msr_emulate_write(uint32_t msr, uint64_t value, struct msr_vcpu_state *st);

/*
 * For a write that returned MSR_USE_FIELD to EFER: the EFER value to store,
 * given the current one and whether the guest has paging on. false means
 * #GP (LME changed while paging is on, or a bit outside `supported`, which
 * the caller derives from the CPUID it shows: SCE, LME/LMA, NXE). LMA is
 * read-only and keeps its current value.
 */
bool msr_efer_write(uint64_t current, uint64_t value, bool paging, uint64_t supported,
                    uint64_t *result);

#endif
