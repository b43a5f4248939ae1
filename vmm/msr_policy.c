/* SPDX-License-Identifier: MIT */
/*
 * The MSR policy table and the emulation of the MSRs it marks EMULATE (see
 * msr_policy.h). PASS is only for MSRs the hypervisor never uses on a
 * guest's core: either the CPU swaps them through guest/host-state fields
 * on every exit and entry (field != NONE), or nothing in the hypervisor
 * reads or writes them (then the guest's value simply stays in the MSR, and
 * the VT-x code must give them reset values when a vCPU (re)starts).
 */
#include "vmm/msr_policy.h"

#include "kernel/lib/string.h"

#define R(first, last, name, rd, wr, field, why)                                                   \
    {                                                                                              \
        first, last, name, rd, wr, field, why                                                      \
    }
#define M(msr, name, rd, wr, field, why) R(msr, msr, name, rd, wr, field, why)
#define GP                               MSR_GP
#define PASS                             MSR_PASS
#define EMU                              MSR_EMULATE
#define VMCS                             MSR_VMCS
#define NOFIELD                          MSR_FIELD_NONE

/* clang-format off */
static const struct msr_policy_entry msr_table[] = {
    /*  msr                       name                  read  write field                   why */
    M(MSR_IA32_TSC,             "IA32_TSC",             PASS, EMU,  NOFIELD,               "reads are the real TSC; writes dropped and counted: the TSC is shared time"),
    M(MSR_IA32_APIC_BASE,       "IA32_APIC_BASE",       EMU,  EMU,  NOFIELD,               "the guest's APIC is virtual: xAPIC at 0xfee00000, BSP bit on vCPU 0"),
    M(MSR_IA32_FEATURE_CONTROL, "IA32_FEATURE_CONTROL", EMU,  GP,   NOFIELD,               "VMX is hidden: reads locked with VMX off, writes #GP as when locked"),
    M(MSR_IA32_SPEC_CTRL,       "IA32_SPEC_CTRL",       PASS, PASS, NOFIELD,               "speculation controls of a core only this guest runs on; unused by the hypervisor"),
    M(MSR_IA32_PRED_CMD,        "IA32_PRED_CMD",        GP,   PASS, NOFIELD,               "write-only barrier (IBPB) for the guest's own core"),
    M(MSR_IA32_BIOS_SIGN_ID,    "IA32_BIOS_SIGN_ID",    EMU,  EMU,  NOFIELD,               "microcode revision as the hypervisor chooses to report it; writes ignored"),
    M(MSR_IA32_MTRRCAP,         "IA32_MTRRCAP",         EMU,  GP,   NOFIELD,               "no variable or fixed MTRRs (EPT sets memory types), WC supported"),
    M(MSR_IA32_ARCH_CAPS,       "IA32_ARCH_CAPABILITIES", PASS, GP, NOFIELD,               "read-only: tells the guest which speculation fixes this real core needs"),
    M(MSR_IA32_SYSENTER_CS,     "IA32_SYSENTER_CS",     PASS, PASS, MSR_FIELD_SYSENTER_CS, "swapped by the guest/host SYSENTER_CS fields on every exit and entry"),
    M(MSR_IA32_SYSENTER_ESP,    "IA32_SYSENTER_ESP",    PASS, PASS, MSR_FIELD_SYSENTER_ESP, "swapped by the guest/host SYSENTER_ESP fields"),
    M(MSR_IA32_SYSENTER_EIP,    "IA32_SYSENTER_EIP",    PASS, PASS, MSR_FIELD_SYSENTER_EIP, "swapped by the guest/host SYSENTER_EIP fields"),
    M(MSR_IA32_MCG_CAP,         "IA32_MCG_CAP",         EMU,  GP,   NOFIELD,               "no machine-check banks are shown to a guest"),
    M(MSR_IA32_MCG_STATUS,      "IA32_MCG_STATUS",      EMU,  EMU,  NOFIELD,               "no machine check in progress; only 0 may be written"),
    M(MSR_IA32_MISC_ENABLE,     "IA32_MISC_ENABLE",     EMU,  EMU,  NOFIELD,               "fast strings on, BTS/PEBS unavailable; only fast strings is writable"),
    M(MSR_IA32_PAT,             "IA32_PAT",             VMCS, VMCS, MSR_FIELD_PAT,         "the guest's PAT is the guest-state PAT field (load/save PAT controls)"),
    R(MSR_IA32_VMX_FIRST, MSR_IA32_VMX_LAST, "IA32_VMX_*", GP, GP, NOFIELD,                "VMX capability MSRs: VMX is hidden, as on a CPU without it"),
    M(MSR_IA32_MTRR_DEF_TYPE,   "IA32_MTRR_DEF_TYPE",   EMU,  EMU,  NOFIELD,               "kept per vCPU (enabled, write-back) so the guest's MTRR code is content"),
    M(MSR_IA32_EFER,            "IA32_EFER",            VMCS, VMCS, MSR_FIELD_EFER,        "long-mode state: checked by msr_efer_write, kept in the guest EFER field"),
    M(MSR_IA32_STAR,            "IA32_STAR",            PASS, PASS, NOFIELD,               "SYSCALL segments: the hypervisor never uses SYSCALL"),
    M(MSR_IA32_LSTAR,           "IA32_LSTAR",           PASS, PASS, NOFIELD,               "64-bit SYSCALL target: never used by the hypervisor"),
    M(MSR_IA32_CSTAR,           "IA32_CSTAR",           PASS, PASS, NOFIELD,               "compat SYSCALL target: never used by the hypervisor"),
    M(MSR_IA32_FMASK,           "IA32_FMASK",           PASS, PASS, NOFIELD,               "SYSCALL RFLAGS mask: never used by the hypervisor"),
    M(MSR_IA32_FS_BASE,         "IA32_FS_BASE",         PASS, PASS, MSR_FIELD_FS_BASE,     "swapped by the guest/host FS base fields: no exit per guest context switch"),
    M(MSR_IA32_GS_BASE,         "IA32_GS_BASE",         PASS, PASS, MSR_FIELD_GS_BASE,     "swapped by the guest/host GS base fields (the host's per-CPU pointer)"),
    M(MSR_IA32_KERNEL_GS_BASE,  "IA32_KERNEL_GS_BASE",  PASS, PASS, NOFIELD,               "SWAPGS target: the hypervisor never executes SWAPGS"),
    M(MSR_IA32_TSC_AUX,         "IA32_TSC_AUX",         PASS, PASS, NOFIELD,               "RDTSCP/RDPID value: never used by the hypervisor"),
    M(MSR_AMD_HWCR,             "HWCR",                 EMU,  EMU,  NOFIELD,               "AMD: TscFreqSel set (the TSC runs at one constant rate, as the guest's CPUID says); writes ignored"),
    M(MSR_AMD_VM_CR,            "VM_CR",                GP,   GP,   NOFIELD,               "AMD-V is hidden, as on a CPU without it (the hypervisor's own SVM control)"),
    M(MSR_AMD_VM_HSAVE_PA,      "VM_HSAVE_PA",          GP,   GP,   NOFIELD,               "the hypervisor's host save area: AMD-V is hidden"),
};
/* clang-format on */

static const struct msr_policy_entry msr_unknown = {
    0, 0, "unknown", MSR_GP, MSR_GP, MSR_FIELD_NONE, "not in the table: #GP as on a CPU without it",
};

const struct msr_policy_entry *msr_policy_table(unsigned *n)
{
    *n = sizeof(msr_table) / sizeof(msr_table[0]);
    return msr_table;
}

const struct msr_policy_entry *msr_policy_lookup(uint32_t msr)
{
    for (unsigned i = 0; i < sizeof(msr_table) / sizeof(msr_table[0]); i++) {
        if (msr >= msr_table[i].first && msr <= msr_table[i].last)
            return &msr_table[i];
    }
    return &msr_unknown;
}

/* --- the bitmap --- */

#define BITMAP_READ_LOW   0
#define BITMAP_READ_HIGH  1024
#define BITMAP_WRITE_LOW  2048
#define BITMAP_WRITE_HIGH 3072
#define MSR_LOW_LAST      0x1fffu
#define MSR_HIGH_FIRST    0xc0000000u
#define MSR_HIGH_LAST     0xc0001fffu

/* Byte offset of the bit for msr within its quarter, or -1 if the bitmap
 * does not cover msr (then every access exits). */
static int bitmap_quarter(uint32_t msr, bool write, uint32_t *bit)
{
    if (msr <= MSR_LOW_LAST) {
        *bit = msr;
        return write ? BITMAP_WRITE_LOW : BITMAP_READ_LOW;
    }
    if (msr >= MSR_HIGH_FIRST && msr <= MSR_HIGH_LAST) {
        *bit = msr - MSR_HIGH_FIRST;
        return write ? BITMAP_WRITE_HIGH : BITMAP_READ_HIGH;
    }
    return -1;
}

static void bitmap_pass(uint8_t *page, uint32_t first, uint32_t last, bool write)
{
    for (uint64_t msr = first; msr <= last; msr++) {
        uint32_t bit;
        int q = bitmap_quarter((uint32_t)msr, write, &bit);
        if (q >= 0)
            page[q + bit / 8] &= (uint8_t) ~(1u << (bit % 8));
    }
}

void msr_bitmap_build_from(const struct msr_policy_entry *table, unsigned n, uint8_t page[4096])
{
    memset(page, 0xff, 4096);
    for (unsigned i = 0; i < n; i++) {
        if (table[i].read == MSR_PASS)
            bitmap_pass(page, table[i].first, table[i].last, false);
        if (table[i].write == MSR_PASS)
            bitmap_pass(page, table[i].first, table[i].last, true);
    }
}

void msr_bitmap_build(uint8_t page[4096])
{
    msr_bitmap_build_from(msr_table, sizeof(msr_table) / sizeof(msr_table[0]), page);
}

bool msr_bitmap_exits(const uint8_t page[4096], uint32_t msr, bool write)
{
    uint32_t bit;
    int q = bitmap_quarter(msr, write, &bit);
    if (q < 0)
        return true;
    return (page[q + bit / 8] >> (bit % 8)) & 1;
}

/* --- emulation --- */

#define MTRRCAP_WC           (1ull << 10)
#define MTRR_DEF_TYPE_E      (1ull << 11)
#define MTRR_DEF_TYPE_FE     (1ull << 10)
#define FEATURE_CONTROL_LOCK 1ull
#define MISC_WRITABLE        MSR_MISC_FAST_STRING
#define APIC_BASE_ADDR       MSR_APIC_BASE_ADDR
#define EFER_KNOWN           (MSR_EFER_SCE | MSR_EFER_LME | MSR_EFER_LMA | MSR_EFER_NXE)

void msr_vcpu_state_init(struct msr_vcpu_state *st, unsigned vcpu_index, bool x2apic_allowed)
{
    memset(st, 0, sizeof(*st));
    st->vcpu_index = vcpu_index;
    st->x2apic_allowed = x2apic_allowed;
    st->apic_base = MSR_APIC_DEFAULT | MSR_APIC_BASE_EN | (vcpu_index == 0 ? MSR_APIC_BASE_BSP : 0);
    st->misc_enable = MSR_MISC_FAST_STRING | MSR_MISC_BTS_UNAVAIL | MSR_MISC_PEBS_UNAV;
    st->mtrr_def_type = MTRR_DEF_TYPE_E | 6;
}

/* The memory types MTRRs and PAT may hold: UC, WC, WT, WP, WB (and UC- in PAT). */
static bool mtrr_type_valid(unsigned t)
{
    return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

static bool pat_valid(uint64_t v)
{
    for (unsigned i = 0; i < 8; i++) {
        unsigned t = (v >> (i * 8)) & 0xff;
        if (!mtrr_type_valid(t) && t != 7)
            return false;
    }
    return true;
}

/* Mode changes the SDM allows (vol. 3A, "x2APIC State Transitions"):
 * disabled <-> xAPIC, xAPIC -> x2APIC, x2APIC -> disabled; x2APIC -> xAPIC
 * and disabled -> x2APIC #GP, and so does EXTD without EN. */
static bool apic_base_write_ok(const struct msr_vcpu_state *st, uint64_t v)
{
    uint64_t reserved =
        ~(APIC_BASE_ADDR | MSR_APIC_BASE_BSP | MSR_APIC_BASE_EXTD | MSR_APIC_BASE_EN);
    if (v & reserved)
        return false;
    /* The base may move anywhere below 2^52 (the register page follows it). */
    bool en = v & MSR_APIC_BASE_EN, x2 = v & MSR_APIC_BASE_EXTD;
    bool was_en = st->apic_base & MSR_APIC_BASE_EN, was_x2 = st->apic_base & MSR_APIC_BASE_EXTD;
    if (x2 && !en)
        return false;
    if (x2 && !st->x2apic_allowed)
        return false;
    if (x2 && !was_en)
        return false; /* disabled -> x2APIC must pass through xAPIC */
    if (was_x2 && en && !x2)
        return false; /* x2APIC -> xAPIC must pass through disabled */
    return true;
}

enum msr_result msr_emulate_read(uint32_t msr, const struct msr_vcpu_state *st, uint64_t *value)
{
    const struct msr_policy_entry *e = msr_policy_lookup(msr);
    switch (e->read) {
    case MSR_GP: return MSR_INJECT_GP;
    case MSR_VMCS: return MSR_USE_FIELD;
    case MSR_PASS: return e->field != MSR_FIELD_NONE ? MSR_USE_FIELD : MSR_USE_HARDWARE;
    default: break;
    }
    switch (msr) {
    case MSR_IA32_APIC_BASE: *value = st->apic_base; return MSR_OK;
    case MSR_IA32_FEATURE_CONTROL: *value = FEATURE_CONTROL_LOCK; return MSR_OK;
    case MSR_IA32_BIOS_SIGN_ID: *value = st->bios_sign_id; return MSR_OK;
    case MSR_IA32_MTRRCAP: *value = MTRRCAP_WC; return MSR_OK;
    case MSR_IA32_MCG_CAP: *value = 0; return MSR_OK;
    case MSR_IA32_MCG_STATUS: *value = 0; return MSR_OK;
    case MSR_IA32_MISC_ENABLE: *value = st->misc_enable; return MSR_OK;
    case MSR_IA32_MTRR_DEF_TYPE: *value = st->mtrr_def_type; return MSR_OK;
    case MSR_AMD_HWCR: *value = MSR_AMD_HWCR_TSC_FREQ_SEL; return MSR_OK;
    }
    return MSR_INJECT_GP; /* EMULATE in the table but not here: a table bug, fail closed */
}

enum msr_result msr_emulate_write(uint32_t msr, uint64_t value, struct msr_vcpu_state *st)
{
    const struct msr_policy_entry *e = msr_policy_lookup(msr);
    switch (e->write) {
    case MSR_GP: return MSR_INJECT_GP;
    case MSR_PASS: return e->field != MSR_FIELD_NONE ? MSR_USE_FIELD : MSR_USE_HARDWARE;
    case MSR_VMCS:
        if (msr == MSR_IA32_PAT && !pat_valid(value))
            return MSR_INJECT_GP;
        if (msr == MSR_IA32_EFER && (value & ~EFER_KNOWN))
            return MSR_INJECT_GP;
        return MSR_USE_FIELD;
    default: break;
    }
    switch (msr) {
    case MSR_IA32_TSC: st->tsc_write_count++; return MSR_OK;
    case MSR_IA32_APIC_BASE:
        if (!apic_base_write_ok(st, value))
            return MSR_INJECT_GP;
        /* the BSP flag is the platform's choice, not the guest's */
        st->apic_base = (value & ~MSR_APIC_BASE_BSP) | (st->apic_base & MSR_APIC_BASE_BSP);
        return MSR_OK;
    case MSR_IA32_BIOS_SIGN_ID:
        return MSR_OK;                /* Linux writes 0 before CPUID(1) to fetch the revision */
    case MSR_AMD_HWCR: return MSR_OK; /* its controls are the real core's, not the guest's */
    case MSR_IA32_MCG_STATUS: return value == 0 ? MSR_OK : MSR_INJECT_GP;
    case MSR_IA32_MISC_ENABLE:
        st->misc_enable = (st->misc_enable & ~MISC_WRITABLE) | (value & MISC_WRITABLE);
        return MSR_OK;
    case MSR_IA32_MTRR_DEF_TYPE:
        if ((value & ~(0xffull | MTRR_DEF_TYPE_E | MTRR_DEF_TYPE_FE)) ||
            (value & MTRR_DEF_TYPE_FE) || !mtrr_type_valid(value & 0xff))
            return MSR_INJECT_GP; /* FE: there are no fixed-range MTRRs */
        st->mtrr_def_type = value;
        return MSR_OK;
    }
    return MSR_INJECT_GP;
}

bool msr_efer_write(uint64_t current, uint64_t value, bool paging, uint64_t supported,
                    uint64_t *result)
{
    if (value & ~(supported | MSR_EFER_LMA))
        return false;
    if (paging && ((value ^ current) & MSR_EFER_LME))
        return false;
    *result = (value & ~MSR_EFER_LMA) | (current & MSR_EFER_LMA);
    return true;
}
