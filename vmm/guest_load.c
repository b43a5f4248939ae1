/* SPDX-License-Identifier: MIT */
#include "vmm/guest_load.h"

#include "kernel/console/log.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/string.h"
#include "kernel/time/tsc.h"
#include "kernel/x86/cpu.h"
#include "vmm/acpi/guest_acpi.h"
#include "vmm/guest_pci.h"
#include "vmm/guest.h"
#include "vmm/loader/boot_plan.h"
#include "vmm/vmm.h"

/* One plan at a time: loading runs on the boot CPU only. */
static struct guest_boot_plan plan;

static enum vcpu_mode vcpu_mode_of(enum guest_cpu_mode m)
{
    switch (m) {
    case GUEST_MODE_REAL16: return VCPU_MODE_REAL16;
    case GUEST_MODE_PROT32: return VCPU_MODE_PROT32;
    case GUEST_MODE_LONG64: return VCPU_MODE_LONG64;
    }
    return VCPU_MODE_PROT32;
}

static void boot_state_from_plan(struct vcpu_boot_state *b, const struct boot_entry_state *e)
{
    memset(b, 0, sizeof(*b));
    b->mode = vcpu_mode_of(e->mode);
    b->rip = e->rip;
    b->rsp = e->rsp;
    b->rflags = e->rflags;
    b->gprs[VCPU_RAX] = e->rax;
    b->gprs[VCPU_RBX] = e->rbx;
    b->gprs[VCPU_RSI] = e->rsi;
    b->cr0 = e->cr0;
    b->cr3 = e->cr3;
    b->cr4 = e->cr4;
    b->efer = e->efer;
    b->gdt_base = e->gdt_base;
    b->gdt_limit = e->gdt_limit;
    b->cs_sel = e->cs.selector;
    b->ds_sel = e->ds.selector;
}

/* A Linux guest finds its platform (CPUs, IOAPIC, power and reset ports)
 * in ACPI tables, which go where the plan set aside room for them. */
static bool build_acpi_tables(struct guest *g, char *why, size_t why_size)
{
    struct guest_acpi_config cfg = {.vcpus = g->nvcpus, .has_pci = guest_pci_present(&g->pci)};
    if (cfg.has_pci)
        cfg.pci = (struct guest_acpi_pci){
            .ecam_gpa = GUEST_PCI_ECAM_GPA,
            .bus_first = 0,
            .bus_last = 0,
            .mmio_base = GUEST_PCI_MMIO_BASE,
            .mmio_size = GUEST_PCI_MMIO_SIZE,
        };
    uint8_t *at = (uint8_t *)(uintptr_t)(g->mem_hpa + plan.acpi_gpa);

    if (guest_acpi_build(&cfg, at, plan.acpi_size, plan.acpi_gpa, NULL) == 0) {
        const char *reason = guest_acpi_config_check(&cfg);
        fmt_snprintf(why, why_size, "cannot build its ACPI tables: %s",
                     reason ? reason : "no room for them");
        return false;
    }
    return true;
}

/*
 * Linux takes the TSC rate from CPUID leaf 0x15 only on Intel CPUs; on
 * others (AMD-V) it calibrates against the PIT, which a guest here does not
 * have, and then runs without a usable clock. There, the rate goes on the
 * command line (tsc_early_khz=, which other kernels ignore) unless the
 * configuration already sets it.
 */
static const char *command_line(const struct guest *g, char *buf, size_t size)
{
    struct cpuid_regs r = cpuid(0, 0);
    bool intel = r.ebx == 0x756e6547 && r.edx == 0x49656e69 && r.ecx == 0x6c65746e;

    if (intel || strstr(g->cfg.cmdline, "tsc_early_khz=") || !tsc_hz())
        return g->cfg.cmdline;
    fmt_snprintf(buf, size, "%s%stsc_early_khz=%lu", g->cfg.cmdline, g->cfg.cmdline[0] ? " " : "",
                 (unsigned long)(tsc_hz() / 1000));
    return buf;
}

bool guest_load(struct guest *g, char *why, size_t why_size)
{
    char cmdline[GUEST_CMDLINE_LEN + 32];
    const struct handoff_file *kernel = vmm_boot_file(g->cfg.kernel);
    const struct handoff_file *initrd = g->cfg.initrd[0] ? vmm_boot_file(g->cfg.initrd) : NULL;

    if (!kernel) {
        fmt_snprintf(why, why_size, "kernel file '%s' is not among the boot files", g->cfg.kernel);
        return false;
    }
    if (g->cfg.initrd[0] && !initrd) {
        fmt_snprintf(why, why_size, "initrd file '%s' is not among the boot files", g->cfg.initrd);
        return false;
    }
    _Static_assert(GUEST_MODULES_MAX <= BOOT_MODULES_MAX, "every module key can be loaded");
    struct guest_module_file modules[GUEST_MODULES_MAX];
    for (uint32_t i = 0; i < g->cfg.nmodules && i < GUEST_MODULES_MAX; i++) {
        const struct handoff_file *f = vmm_boot_file(g->cfg.modules[i].path);
        if (!f) {
            fmt_snprintf(why, why_size, "module file '%s' is not among the boot files",
                         g->cfg.modules[i].path);
            return false;
        }
        modules[i] = (struct guest_module_file){
            .data = (const uint8_t *)(uintptr_t)f->base,
            .size = f->size,
            .string = g->cfg.modules[i].string,
        };
    }
    struct guest_image img = {
        .data = (const uint8_t *)(uintptr_t)kernel->base,
        .size = kernel->size,
        .initrd = initrd ? (const uint8_t *)(uintptr_t)initrd->base : NULL,
        .initrd_size = initrd ? initrd->size : 0,
        .cmdline = command_line(g, cmdline, sizeof(cmdline)),
        .initrd_name = g->cfg.initrd,
        .mem_size = g->mem_size,
        .modules = modules,
        .nmodules = g->cfg.nmodules < GUEST_MODULES_MAX ? g->cfg.nmodules : GUEST_MODULES_MAX,
    };
    if (!guest_boot_plan_build(&img, &plan)) {
        fmt_snprintf(why, why_size, "%s: %s", g->cfg.kernel, plan.error);
        return false;
    }
    if (!guest_boot_plan_apply(&plan, &img, (void *)(uintptr_t)g->mem_hpa, g->mem_size, true, why,
                               why_size))
        return false;
    if (plan.acpi_size && !build_acpi_tables(g, why, why_size))
        return false;
    if (plan.warning[0])
        log_warn("guest %s: %s", g->cfg.name, plan.warning);
    boot_state_from_plan(&g->boot, &plan.entry);
    log_info("guest %s: %s image %s loaded", g->cfg.name, guest_image_kind_name(plan.kind),
             g->cfg.kernel);
    return true;
}
