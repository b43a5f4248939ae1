/* SPDX-License-Identifier: MIT */
/* Choosing the virtualization backend, and the vendor-neutral parts of a
 * vCPU (pending interrupts). */
#include "vmm/vcpu.h"

#include "kernel/cpu/percpu.h"
#include "kernel/lib/fmt.h"
#include "kernel/x86/idt.h"
#include "kernel/x86/lapic.h"
#include "kernel/x86/cpu.h"

extern const struct vcpu_ops vmx_vcpu_ops;
extern const struct vcpu_ops svm_vcpu_ops;

static const struct vcpu_ops *backend;
static struct vcpu_caps caps;

bool vcpu_backend_init(char *why, size_t why_size)
{
    struct cpuid_regs r = cpuid(0, 0);
    /* "GenuineIntel": EBX "Genu", EDX "ineI", ECX "ntel" */
    bool intel = r.ebx == 0x756e6547 && r.edx == 0x49656e69 && r.ecx == 0x6c65746e;
    /* "AuthenticAMD": EBX "Auth", EDX "enti", ECX "cAMD"; Hygon's
     * "HygonGenuine" has AMD-V too. */
    bool amd = (r.ebx == 0x68747541 && r.edx == 0x69746e65 && r.ecx == 0x444d4163) ||
               (r.ebx == 0x6f677948 && r.edx == 0x6e65476e && r.ecx == 0x656e6975);
    const struct vcpu_ops *ops = intel ? &vmx_vcpu_ops : amd ? &svm_vcpu_ops : NULL;

    if (!ops) {
        fmt_snprintf(why, why_size,
                     "no virtualization backend for this CPU vendor (Sidecore has VT-x and "
                     "AMD-V)");
        return false;
    }
    if (!ops->probe(&caps, why, why_size))
        return false;
    backend = ops;
    return true;
}

const struct vcpu_ops *vcpu_backend(void)
{
    return backend;
}

const struct vcpu_caps *vcpu_backend_caps(void)
{
    return &caps;
}

uint64_t vcpu_next_timer(struct vcpu *v)
{
    uint64_t apic = vlapic_timer_next(&v->lapic);

    if (!apic)
        return v->timer_deadline;
    if (!v->timer_deadline)
        return apic;
    return apic < v->timer_deadline ? apic : v->timer_deadline;
}

void vcpu_timers_update(struct vcpu *v, uint64_t now)
{
    vlapic_update(&v->lapic, now);
    if (v->timer_deadline && now >= v->timer_deadline) {
        v->timer_deadline = 0;
        vcpu_pend_interrupt(v, v->timer_vector);
    }
}

/* Two sources: the virtual local APIC (with its priorities, and an EOI to
 * come), and direct injections that bypass it (the timer hypercall, for
 * guests with no APIC driver). */
int vcpu_take_pending(struct vcpu *v)
{
    /* With APIC virtualization the CPU delivers the APIC's interrupts. */
    int apic = backend->apic_hw(v) ? -1 : vlapic_next_interrupt(&v->lapic);

    if (apic >= 0) {
        vlapic_intr_delivered(&v->lapic, (uint8_t)apic);
        return apic;
    }
    for (int w = 3; w >= 0; w--) {
        uint64_t bits = __atomic_load_n(&v->pending[w], __ATOMIC_ACQUIRE);
        if (!bits)
            continue;
        int bit = 63 - __builtin_clzll(bits);
        __atomic_fetch_and(&v->pending[w], ~(1ull << bit), __ATOMIC_ACQ_REL);
        return w * 64 + bit;
    }
    return -1;
}

bool vcpu_has_pending(struct vcpu *v)
{
    bool apic =
        backend->apic_hw(v) ? backend->apic_pending(v) : vlapic_next_interrupt(&v->lapic) >= 0;

    return apic || vcpu_has_direct_pending(v);
}

void vcpu_kick(struct vcpu *target)
{
    struct percpu *cpu = cpu_by_index(target->cpu);

    if (cpu && cpu != this_cpu())
        lapic_send_ipi(cpu->apic_id, VEC_IPI_KICK);
}

void vcpu_send_init(struct vcpu *target)
{
    __atomic_store_n(&target->sipi_vector, -1, __ATOMIC_RELEASE);
    __atomic_store_n(&target->init_pending, true, __ATOMIC_RELEASE);
    vcpu_kick(target);
}

void vcpu_send_sipi(struct vcpu *target, uint8_t vector)
{
    int none = -1;

    if (!__atomic_load_n(&target->init_pending, __ATOMIC_ACQUIRE))
        return; /* not waiting for one: ignored, as on hardware */
    if (__atomic_compare_exchange_n(&target->sipi_vector, &none, vector, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
        vcpu_kick(target);
}

void vcpu_send_nmi(struct vcpu *target)
{
    __atomic_store_n(&target->nmi_pending, true, __ATOMIC_RELEASE);
    vcpu_kick(target);
}
