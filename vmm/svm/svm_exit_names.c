/* SPDX-License-Identifier: MIT */
/* Names of SVM exit codes (for `stats` and reports), and their statistics
 * slots (vcpu.h VCPU_EXIT_SLOTS). */
#include "vmm/svm/svm.h"

static const char *const names[] = {
    [0x00] = "cr0_read",    [0x03] = "cr3_read",
    [0x04] = "cr4_read",    [0x10] = "cr0_write",
    [0x13] = "cr3_write",   [0x14] = "cr4_write",
    [0x40] = "exc_de",      [0x41] = "exc_db",
    [0x43] = "exc_bp",      [0x46] = "exc_ud",
    [0x4d] = "exc_gp",      [0x4e] = "exc_pf",
    [0x52] = "exc_mc",      [0x60] = "external_interrupt",
    [0x61] = "nmi",         [0x62] = "smi",
    [0x63] = "init",        [0x64] = "interrupt_window",
    [0x6e] = "rdtsc",       [0x72] = "cpuid",
    [0x74] = "iret",        [0x76] = "invd",
    [0x77] = "pause",       [0x78] = "hlt",
    [0x79] = "invlpg",      [0x7a] = "invlpga",
    [0x7b] = "io",          [0x7c] = "msr",
    [0x7d] = "task_switch", [0x7f] = "shutdown",
    [0x80] = "vmrun",       [0x81] = "vmmcall",
    [0x82] = "vmload",      [0x83] = "vmsave",
    [0x84] = "stgi",        [0x85] = "clgi",
    [0x86] = "skinit",      [0x87] = "rdtscp",
    [0x89] = "wbinvd",      [0x8a] = "monitor",
    [0x8b] = "mwait",       [0x8c] = "mwait_conditional",
    [0x8d] = "xsetbv",
};

const char *svm_exit_name(uint32_t raw)
{
    if (raw < sizeof(names) / sizeof(names[0]) && names[raw])
        return names[raw];
    if (raw == SVM_EXIT_NPF)
        return "npf";
    if (raw == SVM_EXIT_INVALID)
        return "invalid";
    return "other";
}

unsigned svm_exit_slot(uint32_t raw)
{
    if (raw < SVM_SLOT_HIGH)
        return raw;
    if (raw >= SVM_EXIT_NPF && raw - SVM_EXIT_NPF < VCPU_EXIT_SLOTS - 1 - SVM_SLOT_HIGH)
        return SVM_SLOT_HIGH + (raw - SVM_EXIT_NPF);
    return VCPU_EXIT_SLOTS - 1;
}

uint32_t svm_slot_reason(unsigned slot)
{
    if (slot < SVM_SLOT_HIGH)
        return slot;
    if (slot < VCPU_EXIT_SLOTS - 1)
        return SVM_EXIT_NPF + (slot - SVM_SLOT_HIGH);
    return SVM_EXIT_INVALID;
}
