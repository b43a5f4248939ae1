/* SPDX-License-Identifier: MIT */
/*
 * The virtual local APIC (see vlapic.h): register rules from the SDM's x2APIC
 * register map (reserved bits #GP, RO/WO registers #GP the wrong way), the
 * priority logic, the timer and ICR decoding. Kept free of hardware access
 * so the host tests can drive it with a fake clock and real threads.
 */
#include "vmm/dev/vlapic.h"

#include "vmm/dev/apic_dest.h"
#include "vmm/dev/vlapic_regs.h"

typedef unsigned __int128 u128;

/* Indexes into lvt[]. */
enum { LVT_CMCI, LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR };

#define LVT_MASKED       (1u << 16)
#define LVT_TIMER_MODE   (3u << 17)
#define TIMER_ONESHOT    (0u << 17)
#define TIMER_PERIODIC   (1u << 17)
#define TIMER_DEADLINE   (2u << 17)
#define TIMER_MODE_RSVD  (3u << 17)
#define SVR_ENABLE       (1u << 8)
#define SVR_WRITABLE     0x3ffu /* vector, enable, focus-check disable */
#define ESR_SEND_ILLEGAL (1u << 5)
#define ESR_RECV_ILLEGAL (1u << 6)
#define DCR_WRITABLE     0xbu

/* Writable bits of each LVT, and bits that read back but ignore writes
 * (delivery status; remote IRR on LINT0/1). Anything else is reserved. */
static const uint32_t lvt_writable[VLAPIC_LVT_COUNT] = {
    0x107ff, /* CMCI: vector, delivery mode, mask */
    0x700ff, /* timer: vector, mask, mode */
    0x107ff, /* thermal */
    0x107ff, /* perf */
    0x1a7ff, /* LINT0: + polarity, trigger mode */
    0x1a7ff, /* LINT1 */
    0x100ff, /* error: vector, mask */
};
static const uint32_t lvt_readonly[VLAPIC_LVT_COUNT] = {
    1u << 12, 1u << 12, 1u << 12, 1u << 12, 5u << 12, 5u << 12, 1u << 12,
};

/* ICR bits that are reserved in x2APIC mode (12 is the xAPIC delivery
 * status, which x2APIC removed). */
#define ICR_RESERVED ((1ull << 12) | (1ull << 13) | (3ull << 16) | (0xfffull << 20))

/* --- bitmaps of 8 x 32 bits (IRR, ISR, TMR) --- */

static int highest_bit(const uint32_t *words)
{
    for (int i = 7; i >= 0; i--) {
        uint32_t w = __atomic_load_n(&words[i], __ATOMIC_ACQUIRE);
        if (w)
            return i * 32 + 31 - __builtin_clz(w);
    }
    return -1;
}

/* --- 128-bit helpers (no libgcc in the hypervisor, so no __int128 division) --- */

static u128 div128(u128 n, uint64_t d, uint64_t *rem)
{
    if ((n >> 64) == 0) {
        uint64_t lo = (uint64_t)n;
        *rem = lo % d;
        return lo / d;
    }
    u128 q = 0, r = 0;
    for (int i = 127; i >= 0; i--) {
        r = (r << 1) | ((n >> i) & 1);
        if (r >= d) {
            r -= d;
            q |= (u128)1 << i;
        }
    }
    *rem = (uint64_t)r;
    return q;
}

static uint64_t ceil_to_tsc(const struct vlapic *v, u128 fine)
{
    uint64_t rem;
    u128 q = div128(fine, v->tick_den, &rem);
    if (rem)
        q++;
    return q >> 64 ? UINT64_MAX : (uint64_t)q;
}

/* --- state --- */

static bool sw_enabled(const struct vlapic *v)
{
    return v->svr & SVR_ENABLE;
}

static void update_accepting(struct vlapic *v)
{
    uint8_t on = v->mode != VLAPIC_MODE_DISABLED && sw_enabled(v);
    __atomic_store_n(&v->accepting, on, __ATOMIC_RELEASE);
}

static void reset_registers(struct vlapic *v)
{
    for (int i = 0; i < 8; i++) {
        __atomic_store_n(&v->irr[i], 0, __ATOMIC_RELAXED);
        __atomic_store_n(&v->tmr[i], 0, __ATOMIC_RELAXED);
        v->isr[i] = 0;
    }
    __atomic_store_n(&v->esr_pending, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&v->error_signal, 0, __ATOMIC_RELAXED);
    v->tpr = 0;
    v->xldr = 0;
    v->dfr = 0xffffffffu;
    v->svr = 0xff;
    v->esr = 0;
    for (int i = 0; i < VLAPIC_LVT_COUNT; i++)
        v->lvt[i] = LVT_MASKED;
    v->icr = 0;
    v->timer_initial = 0;
    v->dcr = 0;
    v->count_armed = false;
    v->next_fine = 0;
    v->next_tsc = 0;
    v->tsc_deadline = 0;
    update_accepting(v);
}

bool vlapic_init(struct vlapic *v, uint32_t id, uint32_t tick_tsc_num, uint32_t tick_tsc_den)
{
    if (tick_tsc_num == 0 || tick_tsc_num > (1u << 24) || tick_tsc_den == 0)
        return false;
    *v = (struct vlapic){0};
    v->id = id;
    v->mode = VLAPIC_MODE_X2APIC;
    v->tick_num = tick_tsc_num;
    v->tick_den = tick_tsc_den;
    reset_registers(v);
    return true;
}

void vlapic_init_signal(struct vlapic *v)
{
    reset_registers(v);
}

void vlapic_set_mode(struct vlapic *v, enum vlapic_mode mode)
{
    if (mode == VLAPIC_MODE_DISABLED && v->mode != VLAPIC_MODE_DISABLED)
        reset_registers(v);
    __atomic_store_n(&v->mode, (uint8_t)mode, __ATOMIC_RELAXED); /* routing reads it anywhere */
    update_accepting(v);
}

bool vlapic_handles_msr(uint32_t msr)
{
    return (msr >= 0x800 && msr <= 0xbff) || msr == VLAPIC_MSR_TSC_DEADLINE;
}

uint32_t vlapic_ppr(const struct vlapic *v)
{
    int isrv = highest_bit(v->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    return (v->tpr & 0xf0) >= isr_class ? v->tpr & 0xff : isr_class;
}

/* --- interrupt acceptance --- */

static void log_error(struct vlapic *v, uint32_t bits)
{
    __atomic_fetch_or(&v->esr_pending, bits, __ATOMIC_RELAXED);
    __atomic_store_n(&v->error_signal, 1, __ATOMIC_RELEASE);
}

static void set_irr(struct vlapic *v, uint8_t vector, bool level)
{
    uint32_t bit = 1u << (vector & 31);
    unsigned w = vector >> 5;

    /* TMR first: whoever sees the IRR bit sees the trigger mode with it. */
    if (level)
        __atomic_fetch_or(&v->tmr[w], bit, __ATOMIC_RELAXED);
    else
        __atomic_fetch_and(&v->tmr[w], ~bit, __ATOMIC_RELAXED);
    __atomic_fetch_or(&v->irr[w], bit, __ATOMIC_RELEASE);
}

bool vlapic_accept(struct vlapic *v, uint8_t vector, bool level_triggered)
{
    if (!__atomic_load_n(&v->accepting, __ATOMIC_ACQUIRE))
        return false;
    if (vector < 16) {
        log_error(v, ESR_RECV_ILLEGAL);
        return false;
    }
    set_irr(v, vector, level_triggered);
    return true;
}

/* An interrupt from this APIC's own LVT (owner only). */
static void raise_lvt(struct vlapic *v, int lvt)
{
    uint32_t e = v->lvt[lvt];

    if ((e & LVT_MASKED) || !v->accepting)
        return;
    uint8_t vector = e & 0xff;
    if (vector < 16) {
        /* Logged, but never signalled through LVT error itself: an illegal
         * error vector must not loop. */
        __atomic_fetch_or(&v->esr_pending, ESR_RECV_ILLEGAL, __ATOMIC_RELAXED);
        if (lvt != LVT_ERROR)
            raise_lvt(v, LVT_ERROR);
        return;
    }
    set_irr(v, vector, false);
}

static void signal_error(struct vlapic *v, uint32_t bits)
{
    __atomic_fetch_or(&v->esr_pending, bits, __ATOMIC_RELAXED);
    raise_lvt(v, LVT_ERROR);
}

int vlapic_next_interrupt(const struct vlapic *v)
{
    if (!__atomic_load_n(&v->accepting, __ATOMIC_RELAXED))
        return -1;
    int vec = highest_bit(v->irr);
    if (vec < 0 || ((uint32_t)vec & 0xf0) <= (vlapic_ppr(v) & 0xf0))
        return -1;
    return vec;
}

void vlapic_intr_delivered(struct vlapic *v, uint8_t vector)
{
    uint32_t bit = 1u << (vector & 31);
    unsigned w = vector >> 5;

    __atomic_fetch_and(&v->irr[w], ~bit, __ATOMIC_ACQ_REL);
    v->isr[w] |= bit;
}

/* EOI: retires the highest in-service interrupt. Returns its vector if it
 * was level-triggered, else -1. */
static int do_eoi(struct vlapic *v)
{
    int vec = highest_bit(v->isr);
    if (vec < 0)
        return -1;
    uint32_t bit = 1u << (vec & 31);
    v->isr[vec >> 5] &= ~bit;
    return (__atomic_load_n(&v->tmr[vec >> 5], __ATOMIC_ACQUIRE) & bit) ? vec : -1;
}

/* --- timer --- */

static unsigned timer_divisor(uint32_t dcr)
{
    unsigned code = (dcr & 3) | ((dcr >> 1) & 4);
    return code == 7 ? 1 : 2u << code;
}

static uint32_t timer_mode(const struct vlapic *v)
{
    return v->lvt[LVT_TIMER] & LVT_TIMER_MODE;
}

/* Fine units per count at the current divisor. */
static uint64_t count_unit(const struct vlapic *v)
{
    return (uint64_t)timer_divisor(v->dcr) * v->tick_num;
}

static u128 fine_time(const struct vlapic *v, uint64_t tsc)
{
    return (u128)tsc * v->tick_den;
}

static void set_next(struct vlapic *v, u128 fine)
{
    v->next_fine = fine;
    v->next_tsc = ceil_to_tsc(v, fine);
}

static void timer_start_count(struct vlapic *v, uint64_t now)
{
    v->count_armed = v->timer_initial != 0;
    if (v->count_armed)
        set_next(v, fine_time(v, now) + (u128)v->timer_initial * count_unit(v));
}

static void timer_disarm(struct vlapic *v)
{
    v->count_armed = false;
    v->tsc_deadline = 0;
}

static void timer_advance(struct vlapic *v, uint64_t now)
{
    if (timer_mode(v) == TIMER_DEADLINE) {
        if (v->tsc_deadline && now >= v->tsc_deadline) {
            v->tsc_deadline = 0;
            raise_lvt(v, LVT_TIMER);
        }
        return;
    }
    if (!v->count_armed || now < v->next_tsc)
        return;
    raise_lvt(v, LVT_TIMER);
    if (timer_mode(v) != TIMER_PERIODIC) {
        v->count_armed = false;
        return;
    }
    /* The next expiry strictly after now, on the grid of the original start. */
    uint64_t period = (uint64_t)v->timer_initial * count_unit(v), rem;
    u128 behind = fine_time(v, now) - v->next_fine;
    u128 periods = div128(behind, period, &rem) + 1;
    set_next(v, v->next_fine + periods * period);
}

static uint32_t timer_current(const struct vlapic *v, uint64_t now)
{
    if (!v->count_armed || timer_mode(v) == TIMER_DEADLINE)
        return 0;
    u128 t = fine_time(v, now);
    if (t >= v->next_fine)
        return 0;
    u128 left = v->next_fine - t;
    uint64_t unit = count_unit(v);
    if (left >= (u128)v->timer_initial * unit)
        return v->timer_initial; /* now is before the start: a clock skew */
    uint64_t counts = ((uint64_t)left + unit - 1) / unit;
    return (uint32_t)counts;
}

/* A new divisor mid-count: the count keeps its progress, at the new rate. */
static void timer_set_divisor(struct vlapic *v, uint32_t dcr, uint64_t now)
{
    unsigned old_div = timer_divisor(v->dcr), new_div = timer_divisor(dcr);

    v->dcr = dcr;
    if (!v->count_armed || old_div == new_div)
        return;
    u128 t = fine_time(v, now);
    uint64_t left = (uint64_t)(v->next_fine - t); /* <= one period after timer_advance */
    uint64_t rem;
    set_next(v, t + div128((u128)left * new_div, old_div, &rem));
}

void vlapic_update(struct vlapic *v, uint64_t now)
{
    timer_advance(v, now);
    if (__atomic_exchange_n(&v->error_signal, 0, __ATOMIC_ACQ_REL))
        raise_lvt(v, LVT_ERROR);
}

uint64_t vlapic_timer_next(const struct vlapic *v)
{
    if (v->lvt[LVT_TIMER] & LVT_MASKED)
        return 0;
    if (timer_mode(v) == TIMER_DEADLINE)
        return v->tsc_deadline;
    return v->count_armed ? v->next_tsc : 0;
}

/* --- register access --- */

static int lvt_index(unsigned reg)
{
    if (reg == REG_LVT_CMCI)
        return LVT_CMCI;
    if (reg >= REG_LVT_TIMER && reg <= REG_LVT_ERROR)
        return (int)(reg - REG_LVT_TIMER) + LVT_TIMER;
    return -1;
}

bool vlapic_reg_read(struct vlapic *v, unsigned reg, uint64_t now, uint64_t *value)
{
    timer_advance(v, now);
    int lvt = lvt_index(reg);
    if (lvt >= 0) {
        *value = v->lvt[lvt];
        return true;
    }
    if (reg >= REG_ISR0 && reg < REG_ISR0 + 8) {
        *value = v->isr[reg - REG_ISR0];
        return true;
    }
    if (reg >= REG_TMR0 && reg < REG_TMR0 + 8) {
        *value = __atomic_load_n(&v->tmr[reg - REG_TMR0], __ATOMIC_ACQUIRE);
        return true;
    }
    if (reg >= REG_IRR0 && reg < REG_IRR0 + 8) {
        *value = __atomic_load_n(&v->irr[reg - REG_IRR0], __ATOMIC_ACQUIRE);
        return true;
    }
    switch (reg) {
    case REG_ID: *value = v->id; return true;
    case REG_VERSION: *value = VLAPIC_VERSION; return true;
    case REG_TPR: *value = v->tpr; return true;
    case REG_PPR: *value = vlapic_ppr(v); return true;
    case REG_LDR: *value = vlapic_ldr_of(v->id); return true;
    case REG_SVR: *value = v->svr; return true;
    case REG_ESR: *value = v->esr; return true;
    case REG_ICR: *value = v->icr; return true;
    case REG_TIMER_ICR: *value = v->timer_initial; return true;
    case REG_TIMER_CCR: *value = timer_current(v, now); return true;
    case REG_TIMER_DCR: *value = v->dcr; return true;
    default: return false; /* EOI and SELF IPI are write-only; the rest undefined */
    }
}

bool vlapic_msr_read(struct vlapic *v, uint32_t msr, uint64_t now, uint64_t *value)
{
    if (msr == VLAPIC_MSR_TSC_DEADLINE) {
        timer_advance(v, now);
        *value = timer_mode(v) == TIMER_DEADLINE ? v->tsc_deadline : 0;
        return true;
    }
    if (!vlapic_handles_msr(msr) || v->mode != VLAPIC_MODE_X2APIC)
        return false;
    return vlapic_reg_read(v, msr - VLAPIC_MSR_FIRST, now, value);
}

static bool write_lvt(struct vlapic *v, int lvt, uint32_t value)
{
    if (value & ~(lvt_writable[lvt] | lvt_readonly[lvt]))
        return false;
    value &= lvt_writable[lvt];
    if (!sw_enabled(v))
        value |= LVT_MASKED; /* a software-disabled APIC keeps its LVTs masked */
    if (lvt == LVT_TIMER) {
        if ((value & LVT_TIMER_MODE) == TIMER_MODE_RSVD)
            return false;
        if ((value & LVT_TIMER_MODE) != timer_mode(v)) {
            /* SDM: a write that changes the timer mode disarms the timer. */
            timer_disarm(v);
            v->timer_initial = 0;
        }
    }
    /* An expiry that passed while the timer was masked stays quiet after
     * unmasking: timer_advance() consumed it before this write. */
    v->lvt[lvt] = value;
    return true;
}

static bool write_icr(struct vlapic *v, uint64_t value, bool xapic,
                      struct vlapic_write_effect *effect)
{
    if (!xapic && (value & ICR_RESERVED))
        return false;
    v->icr = value;

    struct vlapic_ipi ipi = {
        /* xAPIC: an 8-bit destination in bits 63:56 (ICR high 31:24). */
        .dest = xapic ? (uint32_t)(value >> 56) : (uint32_t)(value >> 32),
        .dest8 = xapic,
        .vector = value & 0xff,
        .mode = (value >> 8) & 7,
        .logical = value & (1u << 11),
        .level = value & (1u << 15),
        .shorthand = (value >> 18) & 3,
    };
    bool assert = value & (1u << 14);

    switch (ipi.mode) {
    case VLAPIC_DM_FIXED:
    case VLAPIC_DM_LOWEST:
        if (ipi.vector < 16) {
            signal_error(v, ESR_SEND_ILLEGAL);
            return true; /* not sent */
        }
        break;
    case VLAPIC_DM_INIT:
        if (!assert && ipi.level)
            ipi.mode = VLAPIC_DM_INIT_DEASSERT;
        break;
    case 3: return true; /* reserved delivery mode: nothing is sent */
    default: break;
    }
    /* The SDM ignores the trigger mode outside INIT: IPIs arrive edge-triggered. */
    if (ipi.mode != VLAPIC_DM_INIT && ipi.mode != VLAPIC_DM_INIT_DEASSERT)
        ipi.level = false;
    effect->has_ipi = true;
    effect->ipi = ipi;
    return true;
}

bool vlapic_reg_write(struct vlapic *v, unsigned reg, uint64_t value, uint64_t now, bool xapic,
                      struct vlapic_write_effect *effect)
{
    effect->has_ipi = false;
    effect->level_eoi_vector = -1;
    timer_advance(v, now);

    if (reg == REG_ICR)
        return write_icr(v, value, xapic, effect);
    if (value >> 32)
        return false; /* the upper half of every other x2APIC MSR is reserved */
    uint32_t val = (uint32_t)value;

    int lvt = lvt_index(reg);
    if (lvt >= 0) {
        if (xapic) /* the xAPIC ignores reserved bits rather than faulting */
            val &= lvt_writable[lvt] | lvt_readonly[lvt];
        return write_lvt(v, lvt, val);
    }

    switch (reg) {
    case REG_TPR:
        if (val & ~0xffu)
            return false;
        v->tpr = val;
        return true;
    case REG_EOI:
        if (val)
            return false;
        effect->level_eoi_vector = do_eoi(v);
        return true;
    case REG_SVR:
        if (val & ~SVR_WRITABLE)
            return false;
        v->svr = val;
        if (!(val & SVR_ENABLE))
            for (int i = 0; i < VLAPIC_LVT_COUNT; i++)
                v->lvt[i] |= LVT_MASKED;
        update_accepting(v);
        return true;
    case REG_ESR:
        if (val)
            return false;
        v->esr = __atomic_exchange_n(&v->esr_pending, 0, __ATOMIC_ACQ_REL);
        return true;
    case REG_TIMER_ICR:
        if (timer_mode(v) == TIMER_DEADLINE)
            return true; /* ignored in TSC-deadline mode */
        v->timer_initial = val;
        timer_start_count(v, now);
        return true;
    case REG_TIMER_DCR:
        if (val & ~DCR_WRITABLE)
            return false;
        timer_set_divisor(v, val, now);
        return true;
    case REG_SELF_IPI:
        if (val & ~0xffu)
            return false;
        if (val < 16)
            signal_error(v, ESR_SEND_ILLEGAL);
        else if (v->accepting)
            set_irr(v, (uint8_t)val, false);
        return true;
    default: return false; /* read-only (ID, version, PPR, LDR, ISR/TMR/IRR, CCR) or undefined */
    }
}

bool vlapic_msr_write(struct vlapic *v, uint32_t msr, uint64_t value, uint64_t now,
                      struct vlapic_write_effect *effect)
{
    if (msr == VLAPIC_MSR_TSC_DEADLINE) {
        effect->has_ipi = false;
        effect->level_eoi_vector = -1;
        timer_advance(v, now);
        if (timer_mode(v) == TIMER_DEADLINE)
            v->tsc_deadline = value; /* 0 disarms */
        return true;                 /* ignored in the other modes */
    }
    if (!vlapic_handles_msr(msr) || v->mode != VLAPIC_MODE_X2APIC) {
        effect->has_ipi = false;
        effect->level_eoi_vector = -1;
        return false;
    }
    return vlapic_reg_write(v, msr - VLAPIC_MSR_FIRST, value, now, false, effect);
}

/* --- IPI destinations --- */

/* An ICR's 32-bit destination against x2APIC id (apic_dest.h has the rules). */
static bool dest_matches(uint32_t id, uint32_t dest, bool logical)
{
    struct apic_dest_cpu cpu = {.mode = VLAPIC_MODE_X2APIC, .id = id, .ldr = vlapic_ldr_of(id)};
    struct apic_dest d = {.dest = dest, .logical = logical};

    return apic_dest_match(&cpu, &d);
}

static void bitmap_clear(uint64_t *bitmap, uint32_t n)
{
    for (uint32_t i = 0; i < (n + 63) / 64; i++)
        bitmap[i] = 0;
}

static void bitmap_set(uint64_t *bitmap, uint32_t i)
{
    bitmap[i / 64] |= 1ull << (i % 64);
}

unsigned vlapic_dest_targets(uint32_t dest, bool logical, uint32_t n_vcpus, uint64_t *bitmap)
{
    unsigned count = 0;

    bitmap_clear(bitmap, n_vcpus);
    for (uint32_t i = 0; i < n_vcpus; i++) {
        if (dest_matches(i, dest, logical)) {
            bitmap_set(bitmap, i);
            count++;
        }
    }
    return count;
}

unsigned vlapic_ipi_targets(const struct vlapic_ipi *ipi, uint32_t sender_id, uint32_t n_vcpus,
                            uint64_t *bitmap)
{
    unsigned count = 0;

    bitmap_clear(bitmap, n_vcpus);
    switch (ipi->shorthand) {
    case VLAPIC_SH_NONE:
        count = vlapic_dest_targets(ipi->dest, ipi->logical, n_vcpus, bitmap);
        break;
    case VLAPIC_SH_SELF:
        if (sender_id < n_vcpus) {
            bitmap_set(bitmap, sender_id);
            count = 1;
        }
        break;
    default:
        for (uint32_t i = 0; i < n_vcpus; i++) {
            if (ipi->shorthand == VLAPIC_SH_OTHERS && i == sender_id)
                continue;
            bitmap_set(bitmap, i);
            count++;
        }
        break;
    }
    if (ipi->mode == VLAPIC_DM_LOWEST && count > 1) {
        uint32_t first = 0;
        while (!(bitmap[first / 64] & (1ull << (first % 64))))
            first++;
        bitmap_clear(bitmap, n_vcpus);
        bitmap_set(bitmap, first);
        count = 1;
    }
    return count;
}
