/* SPDX-License-Identifier: MIT */
/*
 * Probing AMD-V: CPUID 0x80000001 and 0x8000000A, and VM_CR, read once on
 * the boot CPU. The boot log gets one line per feature, as for VT-x.
 */
#include "kernel/console/log.h"
#include "kernel/lib/fmt.h"
#include "kernel/x86/cpu.h"
#include "vmm/svm/svm.h"

struct svm_hw svm_hw;

#define EXT1_ECX_SVM     (1u << 2)
#define EXT1_EDX_PAGE1GB (1u << 26)
#define SVMF_NP          (1u << 0)
#define SVMF_NRIPS       SVM_FEATURE_NRIPS
#define SVMF_FLUSHASID   (1u << 6)
#define SVMF_DECODE      (1u << 7)
#define SVMF_AVIC        (1u << 13)
#define SVMF_VGIF        (1u << 16)

static void report(const char *feature, bool yes)
{
    log_info("AMD-V: %-32s %s", feature, yes ? "yes" : "no");
}

bool svm_probe(struct vcpu_caps *caps, char *why, size_t why_size)
{
    if (cpuid(0x80000000u, 0).eax < 0x8000000au || !(cpuid(0x80000001u, 0).ecx & EXT1_ECX_SVM)) {
        fmt_snprintf(why, why_size, "this CPU has no AMD-V (CPUID 0x80000001:ECX.SVM = 0)");
        return false;
    }
    uint64_t vm_cr = rdmsr(MSR_VM_CR);
    if ((vm_cr & VM_CR_SVMDIS) && (vm_cr & VM_CR_LOCK)) {
        fmt_snprintf(why, why_size,
                     "AMD-V is disabled and locked off by the firmware (VM_CR = %#lx); "
                     "enable it (SVM mode) in the BIOS setup",
                     (unsigned long)vm_cr);
        return false;
    }
    struct cpuid_regs a = cpuid(0x8000000au, 0);
    svm_hw = (struct svm_hw){.revision = a.eax & 0xff, .nasid = a.ebx, .features = a.edx};

    *caps = (struct vcpu_caps){
        .slat_format = VCPU_SLAT_NPT,
        .slat_2m = true,
        .slat_1g = cpuid(0x80000001u, 0).edx & EXT1_EDX_PAGE1GB,
        .tlb_tags = svm_hw.nasid > 1,
    };
    log_info("AMD-V: SVM revision %u, %u ASIDs", svm_hw.revision, svm_hw.nasid);
    report("nested paging", svm_hw.features & SVMF_NP);
    report("nested 1G pages", caps->slat_1g);
    report("NRIP save", svm_hw.features & SVMF_NRIPS);
    report("flush by ASID", svm_hw.features & SVMF_FLUSHASID);
    report("decode assists", svm_hw.features & SVMF_DECODE);
    report("virtual GIF", svm_hw.features & SVMF_VGIF);
    report("AVIC", svm_hw.features & SVMF_AVIC);

    /* What Sidecore cannot do without. */
    const char *missing = NULL;
    if (!(svm_hw.features & SVMF_NP))
        missing = "nested paging";
    else if (svm_hw.nasid < 2)
        missing = "a guest ASID";
    if (missing) {
        fmt_snprintf(why, why_size, "AMD-V lacks %s, which Sidecore needs", missing);
        return false;
    }
    return true;
}
