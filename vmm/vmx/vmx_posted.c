/* SPDX-License-Identifier: MIT */
/*
 * Posted interrupts under VT-x: the VMCS side (the "process posted
 * interrupts" control, the notification vector, the descriptor address),
 * posting from another CPU with the notification IPI, and the pre-entry
 * hand-over of vectors that arrived while the vCPU was not in the guest.
 * Section numbers are those of the Intel SDM vol. 3C editions in which APIC
 * virtualization is chapter 29 (later editions add one to each chapter).
 *
 * A vCPU runs only on its own physical CPU (vmm/vcpu.h), so the descriptors
 * live in a table indexed by CPU, each with the vCPU that currently owns
 * it. A descriptor is allocated the first time its CPU runs a vCPU that can
 * use it and is never freed, so a poster racing with a vCPU's teardown can
 * only write to a descriptor nobody reads, never to freed memory.
 */
#include "vmm/vmx/vmx_posted.h"

#include "kernel/console/log.h"
#include "kernel/cpu/percpu.h"
#include "kernel/mm/pmm.h"
#include "kernel/x86/cpu.h"
#include "kernel/x86/idt.h"
#include "kernel/x86/lapic.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"
#include "vmm/vmx/vmx_ops.h"
#include "vmm/vmx/vmx_pi_desc.h"

/* 64-bit control field "posted-interrupt descriptor address" (SDM 24.6.8,
 * appendix B.2.1). The notification vector, 16-bit field 0x0002, is
 * VMCS_POSTED_INTR_NV in vmcs_fields.h. */
#ifndef VMCS_POSTED_INTR_DESC
#define VMCS_POSTED_INTR_DESC 0x2016
#endif

/* The lowest vector the local APIC accepts; 0-15 are illegal (SDM vol. 3A,
 * "Valid Interrupt Vectors"). */
#define APIC_MIN_VECTOR 16

struct posted_slot {
    struct vcpu *owner;   /* the vCPU posting targets; NULL: none */
    struct pi_desc *desc; /* allocated once, never freed */
    uint32_t apic_id;     /* where the notification goes */
};

static struct posted_slot slots[MAX_CPUS];

bool vmx_posted_usable(void)
{
    /* Allowed-1 bits are the high halves of the capability MSRs, read from
     * IA32_VMX_TRUE_PINBASED_CTLS / _EXIT_CTLS when the CPU has them
     * (SDM A.3.1, A.4; vmx_probe()). Posted interrupts need virtual-interrupt
     * delivery and "acknowledge interrupt on exit" (SDM 26.2.1.1). */
    return ((vmx_hw.pin >> 32) & PIN_POSTED_INTR) && ((vmx_hw.exit >> 32) & EXIT_ACK_INTR) &&
           vmx_apicv_usable();
}

/* The notification arrived while this CPU was in VMX root operation, so
 * no posted-interrupt processing happened (SDM 29.6 applies to non-root
 * operation only): it only says "look at PIR", which vmx_posted_sync()
 * does before the next entry or when a halted vCPU checks for work. */
static void notification_interrupt(struct irq_frame *f)
{
    lapic_eoi();
}

/* SDM 26.2.1.1: the descriptor address has bits 5:0 clear and no bit set
 * beyond the physical-address width (CPUID.80000008H:EAX[7:0]). */
static bool descriptor_address_ok(uint64_t phys)
{
    unsigned width = 36; /* the architectural minimum when the leaf is absent */

    if (cpuid(0x80000000u, 0).eax >= 0x80000008u)
        width = cpuid(0x80000008u, 0).eax & 0xff;
    return !(phys & 63) && width < 64 && (phys >> width) == 0;
}

static struct posted_slot *slot_of(const struct vcpu *v)
{
    if (v->cpu >= MAX_CPUS)
        return NULL;
    struct posted_slot *s = &slots[v->cpu];
    return __atomic_load_n(&s->owner, __ATOMIC_ACQUIRE) == v ? s : NULL;
}

bool vmx_posted_setup(struct vcpu *v)
{
    struct vmx_vcpu *x = v->arch;
    struct percpu *cpu = this_cpu();

    if (!x || !x->apicv || !vmx_posted_usable())
        return false;
    /* SDM 26.2.1.1: with "process posted interrupts", VM entry checks
     * "virtual-interrupt delivery" (which itself needs "external-interrupt
     * exiting") and "acknowledge interrupt on exit"; the latter also makes
     * an interrupt other than the notification vector exit as before. */
    if (!(x->proc2 & PROC2_VIRT_INTR_DELIVERY) || !(x->pin & PIN_EXT_INTR_EXIT) ||
        !(x->exit_ctl & EXIT_ACK_INTR))
        return false;
    if (v->cpu >= MAX_CPUS || v->cpu != cpu->index) {
        log_warn("posted interrupts: vCPU set up on CPU %u but belongs to CPU %u; not used",
                 cpu->index, v->cpu);
        return false;
    }
    struct posted_slot *s = &slots[v->cpu];
    __atomic_store_n(&s->owner, NULL, __ATOMIC_RELEASE);
    if (!s->desc) {
        uint64_t page = pmm_alloc_pages(1);
        if (!page) {
            log_warn("posted interrupts: no memory for CPU %u's descriptor; not used", cpu->index);
            return false;
        }
        if (!descriptor_address_ok(page)) {
            log_warn("posted interrupts: descriptor at %#lx is not a valid address; not used",
                     (unsigned long)page);
            pmm_free_pages(page, 1);
            return false;
        }
        s->desc = (struct pi_desc *)(uintptr_t)page;
    }
    uint32_t ndst;
    if (!pi_desc_ndst(cpu->apic_id, lapic_x2apic_mode(), &ndst) ||
        !pi_desc_init(s->desc, VEC_POSTED_INTR, ndst)) {
        log_warn("posted interrupts: APIC ID %#x does not fit the descriptor; not used",
                 cpu->apic_id);
        return false;
    }
    s->apic_id = cpu->apic_id;
    /* Before anything can post: an unhandled vector would never be EOIed
     * and would block every lower-priority host interrupt. */
    irq_set_handler(VEC_POSTED_INTR, notification_interrupt);

    /* SDM 24.6.1 (pin-based bit 7) and 24.6.8 (the two fields). */
    uint32_t pin = x->pin | PIN_POSTED_INTR;
    if (!vmwrite(VMCS_POSTED_INTR_NV, VEC_POSTED_INTR) ||
        !vmwrite(VMCS_POSTED_INTR_DESC, (uint64_t)(uintptr_t)s->desc) ||
        !vmwrite(VMCS_PIN_CONTROLS, pin)) {
        vmwrite(VMCS_PIN_CONTROLS, x->pin);
        log_warn("posted interrupts: VMWRITE failed (VM-instruction error %lu); not used",
                 (unsigned long)vmread(VMCS_INSTR_ERROR));
        return false;
    }
    x->pin = pin;
    __atomic_store_n(&s->owner, v, __ATOMIC_RELEASE);
    return true;
}

void vmx_posted_teardown(struct vcpu *v)
{
    struct posted_slot *s = slot_of(v);

    if (s)
        __atomic_store_n(&s->owner, NULL, __ATOMIC_RELEASE);
}

bool vmx_posted_send(struct vcpu *v, uint8_t vector)
{
    if (vector < APIC_MIN_VECTOR)
        return false;
    struct posted_slot *s = slot_of(v);
    if (!s)
        return false;
    /* Only while the CPU virtualizes the APIC (x2APIC mode, or xAPIC mode
     * through the APIC-access page): otherwise the model takes it
     * (vlapic_accept and a kick). */
    const struct vmx_vcpu *x = v->arch;
    if (!x || !__atomic_load_n(&x->apicv, __ATOMIC_ACQUIRE))
        return false;
    /* A disabled APIC drops what arrives; vlapic_accept() says so. */
    if (!__atomic_load_n(&v->lapic.accepting, __ATOMIC_ACQUIRE))
        return false;
    bool notify = pi_desc_post(s->desc, vector);
    /* The owner may have switched APIC virtualization off since the check
     * above (its xAPIC base moved, or it was disabled) and collected PIR
     * for the last time before this vector was in it. Then the model takes
     * it, exactly once: whoever clears its PIR bit, this reclaim or the
     * owner's take, delivers it. Sequentially consistent against the
     * owner's store of apicv = false (vmx_apicv_follow_mode), so at least
     * one side sees the other's write. */
    if (!__atomic_load_n(&x->apicv, __ATOMIC_SEQ_CST) && pi_desc_reclaim(s->desc, vector))
        return false;
    if (!notify)
        return true; /* a notification is outstanding, or SN: no IPI */
    /* A WRMSR to the x2APIC ICR is not serializing and not ordered by
     * MFENCE alone (SDM vol. 3A, "MSR Access in x2APIC Mode"): without the
     * LFENCE the IPI could reach the target before the PIR and ON writes
     * are visible there, and the CPU would process an empty descriptor. */
    asm volatile("mfence; lfence" ::: "memory");
    lapic_send_ipi(s->apic_id, VEC_POSTED_INTR);
    return true;
}

unsigned vmx_posted_sync(struct vcpu *v)
{
    struct posted_slot *s = slot_of(v);
    uint32_t bits[8];
    unsigned moved = 0;

    if (!s || !pi_desc_take(s->desc, bits))
        return 0;
    for (unsigned w = 0; w < 8; w++) {
        for (uint32_t b = bits[w]; b; b &= b - 1, moved++)
            vlapic_accept(&v->lapic, (uint8_t)(w * 32 + (unsigned)__builtin_ctz(b)), false);
    }
    return moved;
}

void vmx_posted_reset(struct vcpu *v)
{
    struct posted_slot *s = slot_of(v);
    uint32_t bits[8];

    if (s)
        pi_desc_take(s->desc, bits);
}
