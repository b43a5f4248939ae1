/* SPDX-License-Identifier: MIT */
/*
 * Local APIC virtualization in hardware, where the CPU has it: "virtualize
 * x2APIC mode" in x2APIC mode, "virtualize APIC accesses" with the guest's
 * APIC-access page in xAPIC mode (both with APIC-register virtualization
 * and virtual-interrupt delivery). The APIC-access page is one per guest,
 * mapped in the EPT at the reset base 0xFEE00000; a vCPU whose guest moved
 * its APIC base elsewhere, and a disabled APIC, get the software model
 * (MMIO exits at the new base), with the CPU's virtualization switched off
 * (vmx_apicv_follow_mode). In xAPIC mode the CPU serves most reads from the
 * virtual-APIC page and virtualizes TPR and EOI writes; other register
 * writes come back as APIC-write exits (the value in the page), and the
 * rest (PPR, the timer's current count, odd sizes) as APIC-access exits
 * that go through the MMIO decoder to the model (vmx_apicv_access_exit).
 *
 * The vCPU's virtual-APIC page then holds what the guest reads. The CPU
 * owns IRR, ISR, TPR and PPR there: it delivers the highest requested
 * interrupt (RVI) when the guest can take it and handles EOI, TPR and SELF
 * IPI writes, all without exits. The software model (struct vlapic) keeps
 * everything else (LVTs, timer, ICR, SVR), mirrored into the page after each
 * write it handles, and collects interrupts from other CPUs in its IRR,
 * which is moved into the page before every entry. Level-triggered vectors
 * are in the EOI-exit bitmap, so their EOI exits and reaches the IOAPIC.
 */
#include "kernel/lib/string.h"
#include "kernel/mm/pmm.h"
#include "vmm/ept.h"
#include "vmm/guest.h"
#include "vmm/guest_apic.h"
#include "vmm/msr_policy.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"
#include "vmm/vmx/vmx_ops.h"
#include "vmm/vmx/vmx_posted.h"

/* Register offsets in the virtual-APIC page (x2APIC MSR 0x800 + off/16). */
enum {
    VAPIC_ID = 0x20,
    VAPIC_VERSION = 0x30,
    VAPIC_TPR = 0x80,
    VAPIC_PPR = 0xa0,
    VAPIC_LDR = 0xd0,
    VAPIC_DFR = 0xe0,
    VAPIC_SVR = 0xf0,
    VAPIC_ISR = 0x100,
    VAPIC_TMR = 0x180,
    VAPIC_IRR = 0x200,
    VAPIC_ESR = 0x280,
    VAPIC_LVT_CMCI = 0x2f0,
    VAPIC_ICR = 0x300,
    VAPIC_ICR_HIGH = 0x310,
    VAPIC_LVT_TIMER = 0x320,
    VAPIC_INIT_COUNT = 0x380,
    VAPIC_DCR = 0x3e0,
};

/* x2APIC MSRs whose reads the CPU serves from the page (SDM 29.5). */
static const uint16_t virtualized_reads[] = {
    0x802, 0x803, 0x808, 0x80a, 0x80d, 0x80f, 0x810, 0x811, 0x812, 0x813, 0x814,
    0x815, 0x816, 0x817, 0x818, 0x819, 0x81a, 0x81b, 0x81c, 0x81d, 0x81e, 0x81f,
    0x820, 0x821, 0x822, 0x823, 0x824, 0x825, 0x826, 0x827, 0x828, 0x82f, 0x830,
    0x832, 0x833, 0x834, 0x835, 0x836, 0x837, 0x838, 0x83e,
};
/* ...and the writes it virtualizes: TPR, EOI, SELF IPI. */
static const uint16_t virtualized_writes[] = {0x808, 0x80b, 0x83f};

static volatile uint32_t *reg(struct vmx_vcpu *x, unsigned off)
{
    return (volatile uint32_t *)(x->vapic + off);
}

bool vmx_apicv_usable(void)
{
    const struct vcpu_caps *caps = vcpu_backend_caps();

    return caps->apic_reg_virt && caps->virt_intr_delivery && caps->x2apic_virt &&
           ((vmx_hw.proc >> 32) & PROC_TPR_SHADOW);
}

static void clear_bitmap_bit(uint8_t *bitmap, unsigned base, uint32_t msr)
{
    bitmap[base + msr / 8] &= (uint8_t) ~(1u << (msr % 8));
}

bool vmx_apicv_setup(struct vcpu *v, struct vmx_vcpu *x, uint8_t *msr_bitmap)
{
    uint64_t page = pmm_alloc_pages(1);

    if (!page)
        return false;
    x->vapic = (uint8_t *)(uintptr_t)page;
    x->apicv = true;
    x->apicv_ready = true;
    /* The guest's MSR bitmap (shared by its vCPUs): reads at 0, writes at
     * 2048 for MSRs 0-0x1fff. Idempotent. */
    for (unsigned i = 0; i < sizeof(virtualized_reads) / sizeof(virtualized_reads[0]); i++)
        clear_bitmap_bit(msr_bitmap, 0, virtualized_reads[i]);
    for (unsigned i = 0; i < sizeof(virtualized_writes) / sizeof(virtualized_writes[0]); i++)
        clear_bitmap_bit(msr_bitmap, 2048, virtualized_writes[i]);
    x->proc |= PROC_TPR_SHADOW;
    x->proc &= ~(PROC_CR8_LOAD_EXIT | PROC_CR8_STORE_EXIT); /* CR8 is the virtual TPR */
    x->proc2 |= PROC2_VIRT_X2APIC | PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY;
    vmwrite(VMCS_PROC_CONTROLS, x->proc);
    vmwrite(VMCS_PROC_CONTROLS2, x->proc2);
    vmwrite(VMCS_VIRTUAL_APIC_PAGE, page);
    if (((const struct vmx_guest *)v->guest->arch)->apic_access)
        vmwrite(VMCS_APIC_ACCESS_ADDR, ((const struct vmx_guest *)v->guest->arch)->apic_access);
    x->apicv_xapic = false;
    vmwrite(VMCS_MSR_BITMAP, (uint64_t)(uintptr_t)msr_bitmap);
    vmwrite(VMCS_TPR_THRESHOLD, 0);
    for (unsigned i = 0; i < 4; i++)
        vmwrite(VMCS_EOI_EXIT_BITMAP0 + 2 * i, 0);
    x->eoi_exit[0] = x->eoi_exit[1] = x->eoi_exit[2] = x->eoi_exit[3] = 0;
    vmwrite(VMCS_GUEST_INTR_STATUS, 0);
    vmx_apicv_mirror(v);
    return true;
}

void vmx_apicv_reset(struct vcpu *v)
{
    struct vmx_vcpu *x = v->arch;

    if (!x->apicv)
        return;
    memset(x->vapic, 0, PAGE_SIZE);
    vmwrite(VMCS_GUEST_INTR_STATUS, 0);
    vmx_apicv_mirror(v);
}

void vmx_apicv_mirror(struct vcpu *v)
{
    struct vmx_vcpu *x = v->arch;
    const struct vlapic *l = &v->lapic;

    if (!x->apicv)
        return;
    if (x->apicv_xapic) {
        *reg(x, VAPIC_ID) = l->id << 24;
        *reg(x, VAPIC_LDR) = l->xldr;
        *reg(x, VAPIC_DFR) = l->dfr;
    } else {
        *reg(x, VAPIC_ID) = l->id;
        *reg(x, VAPIC_LDR) = vlapic_ldr_of(l->id);
        *reg(x, VAPIC_DFR) = 0;
    }
    *reg(x, VAPIC_VERSION) = VLAPIC_VERSION;
    *reg(x, VAPIC_SVR) = l->svr;
    *reg(x, VAPIC_ESR) = l->esr;
    *reg(x, VAPIC_ICR) = (uint32_t)l->icr;
    *reg(x, VAPIC_ICR_HIGH) = (uint32_t)(l->icr >> 32);
    *reg(x, VAPIC_LVT_CMCI) = l->lvt[0];
    for (unsigned i = 1; i < VLAPIC_LVT_COUNT; i++)
        *reg(x, VAPIC_LVT_TIMER + 0x10 * (i - 1)) = l->lvt[i];
    *reg(x, VAPIC_INIT_COUNT) = l->timer_initial;
    *reg(x, VAPIC_DCR) = l->dcr;
}

/* Hands the interrupts the model accepted to the CPU (owner, before entry). */
void vmx_apicv_sync(struct vcpu *v)
{
    struct vmx_vcpu *x = v->arch;
    struct vlapic *l = &v->lapic;
    int highest = -1;

    for (int i = 7; i >= 0; i--) {
        uint32_t bits = __atomic_exchange_n(&l->irr[i], 0, __ATOMIC_ACQ_REL);
        if (bits)
            *reg(x, VAPIC_IRR + 0x10 * (unsigned)i) |= bits;
        uint32_t all = *reg(x, VAPIC_IRR + 0x10 * (unsigned)i);
        if (all && highest < 0)
            highest = i * 32 + 31 - __builtin_clz(all);
    }
    /* Level-triggered vectors must exit on EOI (the IOAPIC waits for it). */
    for (unsigned w = 0; w < 4; w++) {
        uint64_t tmr = ((uint64_t)__atomic_load_n(&l->tmr[2 * w + 1], __ATOMIC_ACQUIRE) << 32) |
                       __atomic_load_n(&l->tmr[2 * w], __ATOMIC_ACQUIRE);
        if (tmr != x->eoi_exit[w]) {
            x->eoi_exit[w] = tmr;
            vmwrite(VMCS_EOI_EXIT_BITMAP0 + 2 * w, tmr);
        }
    }
    uint16_t status = (uint16_t)vmread(VMCS_GUEST_INTR_STATUS);
    if (highest > (int)(status & 0xff))
        vmwrite(VMCS_GUEST_INTR_STATUS, (status & 0xff00) | (uint16_t)highest);
}

bool vmx_apic_hw(const struct vcpu *v)
{
    const struct vmx_vcpu *x = v->arch;

    return x && x->apicv;
}

bool vmx_apic_hw_available(const struct vcpu *v)
{
    const struct vmx_vcpu *x = v->arch;

    return x && x->apicv_ready;
}

bool vmx_apic_pending(struct vcpu *v)
{
    struct vmx_vcpu *x = v->arch;

    v->stats.posted_halted += vmx_posted_sync(v); /* posted while the vCPU was halted */
    uint32_t rvi = (uint32_t)vmread(VMCS_GUEST_INTR_STATUS) & 0xff;

    for (int i = 7; i >= 0; i--) {
        if (__atomic_load_n(&v->lapic.irr[i], __ATOMIC_ACQUIRE)) {
            rvi = (unsigned)i * 32 + 31; /* not synced yet: at least this class */
            break;
        }
    }
    return rvi && (rvi & 0xf0) > (*reg(x, VAPIC_PPR) & 0xf0);
}

/* The VMX controls and MSR bitmap for APIC virtualization on or off. */
static void write_apicv_controls(struct vcpu *v, struct vmx_vcpu *x, bool on, bool xapic)
{
    const struct vmx_guest *vg = v->guest->arch;
    const uint32_t proc2 =
        PROC2_VIRT_X2APIC | PROC2_VIRT_APIC_ACCESS | PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY;

    const uint32_t cr8 = PROC_CR8_LOAD_EXIT | PROC_CR8_STORE_EXIT;

    if (on) {
        x->proc |= PROC_TPR_SHADOW;
        x->proc &= ~cr8; /* MOV CR8 reaches the virtual TPR */
        /* The two flavours are mutually exclusive (SDM 26.2.1.1). */
        x->proc2 &= ~proc2;
        x->proc2 |= PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY |
                    (xapic ? PROC2_VIRT_APIC_ACCESS : PROC2_VIRT_X2APIC);
        if (v->posted_intr)
            x->pin |= PIN_POSTED_INTR;
    } else {
        /* Posted-interrupt processing needs virtual-interrupt delivery. */
        x->pin &= ~PIN_POSTED_INTR;
        x->proc2 &= ~proc2;
        x->proc &= ~PROC_TPR_SHADOW;
        /* ...and would reach the core's own TPR now: it exits (if the CPU
         * lets it, which every VT-x CPU does) to the model's TPR. */
        x->proc |= cr8 & (uint32_t)(vmx_hw.proc >> 32);
    }
    vmwrite(VMCS_PIN_CONTROLS, x->pin);
    vmwrite(VMCS_PROC_CONTROLS, x->proc);
    vmwrite(VMCS_PROC_CONTROLS2, x->proc2);
    /* Without "virtualize x2APIC mode" a passed x2APIC MSR would reach the
     * real APIC: the software bitmap makes every one exit (so does xAPIC
     * mode, where the model refuses them). */
    vmwrite(VMCS_MSR_BITMAP,
            (uint64_t)(uintptr_t)(on && !xapic ? vg->msr_bitmap_apicv : vg->msr_bitmap));
}

static int highest_in_page(struct vmx_vcpu *x, unsigned base)
{
    for (int i = 7; i >= 0; i--) {
        uint32_t bits = *reg(x, base + 0x10 * (unsigned)i);
        if (bits)
            return i * 32 + 31 - __builtin_clz(bits);
    }
    return -1;
}

#define APIC_ACCESS_GPA 0xfee00000ull /* the reset APIC base, where the page is mapped */

/* The model takes the APIC back from the CPU (xAPIC mode, base moved). */
static void hand_back_to_model(struct vcpu *v, struct vmx_vcpu *x)
{
    struct vlapic *l = &v->lapic;

    vmx_posted_sync(v); /* what was posted: into the model's IRR */
    for (unsigned i = 0; i < 8; i++) {
        __atomic_fetch_or(&l->irr[i], *reg(x, VAPIC_IRR + 0x10 * i), __ATOMIC_ACQ_REL);
        l->isr[i] = *reg(x, VAPIC_ISR + 0x10 * i);
    }
    l->tpr = *reg(x, VAPIC_TPR);
}

/*
 * Owner, before entry: hardware virtualization on while the guest's APIC is
 * in x2APIC mode, or in xAPIC mode at the base where the guest's APIC-access
 * page is mapped; off otherwise. Switching on hands the model's in-service
 * vectors and TPR to the virtual-APIC page (its IRR follows at the next
 * vmx_apicv_sync); switching from xAPIC to x2APIC mode keeps the page and
 * changes the controls; switching off hands IRR, ISR and TPR back to the
 * model when the APIC stays in xAPIC mode (its base moved), and otherwise
 * happens only towards a disabled or freshly reset APIC, whose state is
 * dropped anyway, so the page is just cleared. What was posted goes to the
 * model (vmx_posted_sync: a disabled APIC refuses it), at the switch-off
 * and again at the next switch-on; a sender that posts after the
 * switch-off's collection takes its vector back to the model itself
 * (vmx_posted_send), so none is lost with a moved base.
 */
void vmx_apicv_follow_mode(struct vcpu *v)
{
    struct vmx_vcpu *x = v->arch;
    struct vlapic *l = &v->lapic;
    const struct vmx_guest *vg = v->guest->arch;

    if (!x->apicv_ready)
        return;
    enum vlapic_mode mode = __atomic_load_n(&l->mode, __ATOMIC_RELAXED);
    bool xapic = mode == VLAPIC_MODE_XAPIC;
    bool want =
        mode == VLAPIC_MODE_X2APIC ||
        (xapic && vg->apic_access && (v->msr.apic_base & MSR_APIC_BASE_ADDR) == APIC_ACCESS_GPA);
    if (want == x->apicv && (!want || xapic == x->apicv_xapic))
        return;
    if (want && x->apicv) { /* xAPIC to x2APIC: same page, other controls */
        write_apicv_controls(v, x, true, xapic);
        x->apicv_xapic = xapic;
        vmx_apicv_mirror(v);
        return;
    }
    if (!want) {
        /* Senders fall back to the model from here on; what they posted
         * before is handed back with the page. Sequentially consistent:
         * see vmx_posted_send's reclaim. */
        __atomic_store_n(&x->apicv, false, __ATOMIC_SEQ_CST);
        if (xapic && x->apicv_xapic)
            hand_back_to_model(v, x);
        write_apicv_controls(v, x, false, false);
        vmx_posted_sync(v); /* into the model, or dropped if it refuses */
        memset(x->vapic, 0, PAGE_SIZE);
        vmwrite(VMCS_GUEST_INTR_STATUS, 0);
        return;
    }
    vmx_posted_sync(v); /* a late sender's vector: the model's IRR, then the page */
    memset(x->vapic, 0, PAGE_SIZE);
    for (unsigned i = 0; i < 8; i++) {
        *reg(x, VAPIC_ISR + 0x10 * i) = l->isr[i];
        *reg(x, VAPIC_TMR + 0x10 * i) = __atomic_load_n(&l->tmr[i], __ATOMIC_ACQUIRE);
        l->isr[i] = 0; /* the CPU owns it from now on */
    }
    *reg(x, VAPIC_TPR) = l->tpr;
    int svi = highest_in_page(x, VAPIC_ISR);
    uint32_t isr_class = svi < 0 ? 0 : (uint32_t)svi & 0xf0;
    *reg(x, VAPIC_PPR) = (l->tpr & 0xf0) >= isr_class ? l->tpr & 0xff : isr_class;
    vmwrite(VMCS_GUEST_INTR_STATUS, svi < 0 ? 0 : (uint16_t)((unsigned)svi << 8));
    write_apicv_controls(v, x, true, xapic);
    x->apicv_xapic = xapic;
    __atomic_store_n(&x->apicv, true, __ATOMIC_RELEASE);
    vmx_apicv_mirror(v); /* after: it does nothing while apicv is off */
}

/*
 * Once per guest, before its vCPUs are set up: the APIC-access page, mapped
 * at the reset APIC base. The CPU never reads or writes the page itself; an
 * access whose EPT translation reaches it is virtualized (SDM 29.4). Left
 * out (the model serves xAPIC mode) if something else is mapped there.
 */
void vmx_apicv_map_access_page(struct guest *g)
{
    struct vmx_guest *vg = g->arch;
    struct ept_mapping m;

    if (vg->apic_access || !((vmx_hw.proc2 >> 32) & PROC2_VIRT_APIC_ACCESS) ||
        ept_lookup(g->slat, APIC_ACCESS_GPA, &m))
        return;
    uint64_t page = pmm_alloc_pages(1);
    if (!page)
        return;
    memset((void *)(uintptr_t)page, 0, PAGE_SIZE);
    if (ept_map(g->slat, APIC_ACCESS_GPA, page, PAGE_SIZE, EPT_R | EPT_W, EPT_MT_WB) != EPT_OK) {
        pmm_free_pages(page, 1);
        return;
    }
    vg->apic_access = page;
}

/*
 * APIC-write (trap-like: the write is done, its value in the virtual-APIC
 * page) and APIC-access exits (fault-like: the instruction goes through the
 * MMIO decoder to the model). Returns true when e holds an exit for the
 * dispatcher, false when the guest can be entered again.
 */
bool vmx_apicv_access_exit(struct vcpu *v, uint32_t reason, uint64_t qual, struct vcpu_exit *e)
{
    struct vmx_vcpu *x = v->arch;
    uint32_t offset = (uint32_t)qual & 0xff0;
    uint64_t base = v->msr.apic_base & MSR_APIC_BASE_ADDR;

    if (reason == EXIT_REASON_APIC_WRITE) {
        if (!x->apicv || !x->apicv_xapic) {
            e->kind = VCPU_EXIT_UNSUPPORTED; /* x2APIC mode's writes are MSR exits */
            return true;
        }
        /* A write of the ICR's high half need not exit: the CPU keeps it
         * in the page, which is where the model takes it from. */
        if (offset == VAPIC_ICR)
            guest_apic_mmio_write(v, base + VAPIC_ICR_HIGH, 4, *reg(x, VAPIC_ICR_HIGH));
        guest_apic_mmio_write(v, base + offset, 4, *reg(x, offset));
        vmx_apicv_mirror(v);
        return false;
    }
    unsigned type = (unsigned)(qual >> 12) & 0xf;
    if (type > 1 || !guest_apic_mmio_claims(v, base)) {
        e->kind = VCPU_EXIT_UNSUPPORTED; /* fetch or event delivery through the page */
        return true;
    }
    /* The model does not own ISR and TPR while the CPU does: its PPR would
     * be stale, so it is given the CPU's (it is re-read from the page on
     * any hand-back). */
    if (type == 0 && offset == VAPIC_PPR)
        v->lapic.tpr = *reg(x, VAPIC_PPR);
    e->kind = VCPU_EXIT_MEM_VIOLATION;
    e->mem.gpa = base + ((uint32_t)qual & 0xfff);
    e->mem.read = type == 0;
    e->mem.write = type == 1;
    e->mem.exec = false;
    e->mem.gla_valid = false;
    e->mem.gla = 0;
    return true;
}
