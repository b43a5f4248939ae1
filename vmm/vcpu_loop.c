/* SPDX-License-Identifier: MIT */
#include "vmm/vcpu_loop.h"

#include "kernel/console/log.h"
#include "kernel/cpu/percpu.h"
#include "kernel/x86/cpu.h"
#include "kernel/x86/idt.h"
#include "vmm/exit.h"
#include "vmm/guest.h"
#include "vmm/guest_apic.h"
#include "vmm/msr_policy.h"

/*
 * MSRs the guest owns outright (no exit: vmm/msr_policy.c says PASS) keep
 * their values in the hardware, so a vCPU must not inherit the previous
 * run's: clear them before it starts. Only the ones this CPU has.
 */
static void reset_guest_owned_msrs(void)
{
    static const uint32_t always[] = {MSR_IA32_STAR, MSR_IA32_LSTAR, MSR_IA32_CSTAR, MSR_IA32_FMASK,
                                      MSR_IA32_KERNEL_GS_BASE};

    for (unsigned i = 0; i < sizeof(always) / sizeof(always[0]); i++)
        wrmsr(always[i], 0);
    if (cpuid(0x80000001, 0).edx & (1u << 27)) /* RDTSCP */
        wrmsr(MSR_IA32_TSC_AUX, 0);
    if (cpuid(0, 0).eax >= 7 && (cpuid(7, 0).edx & (1u << 26))) /* IBRS/IBPB */
        wrmsr(MSR_IA32_SPEC_CTRL, 0);
}

static bool enable_virtualization(struct vcpu *v)
{
    struct percpu *cpu = this_cpu();
    char why[120];

    if (cpu->virt_enabled)
        return true;
    if (!vcpu_backend()->cpu_enable(why, sizeof(why))) {
        guest_stop(v->guest, "cannot enable %s on CPU %u: %s", vcpu_backend()->name, cpu->index,
                   why);
        return false;
    }
    cpu->virt_enabled = true;
    return true;
}

/* Waits on the host (halted) until a SIPI arrives after INIT, then starts
 * the vCPU where it says. False if the vCPU was stopped meanwhile. */
static bool wait_for_sipi(struct vcpu *v)
{
    v->state = VCPU_WAIT_SIPI;
    guest_apic_init_signal(v);
    while (!v->stop_requested && __atomic_load_n(&v->sipi_vector, __ATOMIC_ACQUIRE) < 0)
        asm volatile("sti; hlt; cli" ::: "memory");
    if (v->stop_requested)
        return false;
    v->init_pending = false;
    v->nmi_pending = false; /* one sent while it waited was not taken */
    vcpu_backend()->sipi_start(v, (uint8_t)v->sipi_vector);
    v->sipi_vector = -1;
    v->state = VCPU_RUNNING;
    return true;
}

void vcpu_loop_run(void *arg)
{
    struct vcpu *v = arg;
    struct guest *g = v->guest;
    const struct vcpu_ops *ops = vcpu_backend();
    char why[120];

    if (!enable_virtualization(v)) {
        guest_vcpu_ended(g, v);
        return;
    }
    struct vcpu_boot_state boot = g->boot;
    if (v->index > 0) {
        /* Secondary vCPUs wait (on the host) for the guest's own INIT/SIPI;
         * the SIPI then sets where they start. */
        boot = (struct vcpu_boot_state){
            .mode = VCPU_MODE_REAL16, .cs_sel = 0xf000, .rip = 0xfff0, .cr0 = 0x60000010};
        v->init_pending = true;
    }
    reset_guest_owned_msrs();
    if (!ops->create(v, &boot, why, sizeof(why))) {
        guest_stop(g, "vCPU %u: %s", v->index, why);
        guest_vcpu_ended(g, v);
        return;
    }
    if (v->index == 0)
        log_info("guest %s: local APIC %s", g->cfg.name,
                 ops->apic_hw_available(v)
                     ? "virtualized by the CPU (APIC-register virtualization, "
                       "virtual-interrupt delivery; in xAPIC mode through the "
                       "APIC-access page at 0xFEE00000)"
                     : "emulated");
    v->state = VCPU_RUNNING;
    while (!v->stop_requested) {
        struct vcpu_exit e = {0};
        if (v->init_pending && !wait_for_sipi(v))
            break;
        ops->run(v, &e);
        if (!exit_dispatch(v, &e))
            break;
    }
    ops->destroy(v);
    guest_vcpu_ended(g, v);
}
