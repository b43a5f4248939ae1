/* SPDX-License-Identifier: MIT */
/*
 * The posted-interrupt descriptor protocol (see vmx_pi_desc.h). Every access
 * to the shared words is a sequentially consistent atomic: the argument that
 * no vector is lost rests on each poster's PIR write preceding its look at
 * ON, and each take's clearing of ON preceding its reads of PIR, in one
 * total order. On x86 these are locked instructions, which the CPU's own
 * posted-interrupt processing also respects (it clears ON with a locked
 * AND and reads-and-clears PIR atomically, SDM 29.6 steps 3 and 5).
 */
#include "vmm/vmx/vmx_pi_desc.h"

#define SC __ATOMIC_SEQ_CST

bool pi_desc_ndst(uint32_t apic_id, bool x2apic, uint32_t *ndst)
{
    if (x2apic) {
        *ndst = apic_id;
        return true;
    }
    if (apic_id > 0xff)
        return false;
    *ndst = apic_id << 8;
    return true;
}

bool pi_desc_init(struct pi_desc *d, uint8_t nv, uint32_t ndst)
{
    if (nv < PI_DESC_MIN_NV)
        return false;
    for (unsigned i = 0; i < 4; i++)
        __atomic_store_n(&d->pir[i], 0, SC);
    for (unsigned i = 0; i < 3; i++)
        d->software[i] = 0;
    uint64_t ctl = ((uint64_t)nv << PI_CTL_NV_SHIFT) | ((uint64_t)ndst << PI_CTL_NDST_SHIFT);
    __atomic_store_n(&d->control, ctl, SC);
    return true;
}

/* Sets ON unless ON or SN is set; true if this call set it. */
static bool set_on(struct pi_desc *d)
{
    uint64_t old = __atomic_load_n(&d->control, SC);

    for (;;) {
        if (old & (PI_CTL_ON | PI_CTL_SN))
            return false;
        if (__atomic_compare_exchange_n(&d->control, &old, old | PI_CTL_ON, false, SC, SC))
            return true;
    }
}

bool pi_desc_post(struct pi_desc *d, uint8_t vector)
{
    __atomic_fetch_or(&d->pir[vector / 64], 1ull << (vector % 64), SC);
    return set_on(d);
}

bool pi_desc_take(struct pi_desc *d, uint32_t out[8])
{
    bool any = false;

    /* ON first: a vector posted after this sees ON clear and notifies. */
    if (__atomic_load_n(&d->control, SC) & PI_CTL_ON)
        __atomic_fetch_and(&d->control, ~PI_CTL_ON, SC);
    for (unsigned i = 0; i < 4; i++) {
        uint64_t bits = __atomic_load_n(&d->pir[i], SC);
        if (bits)
            bits = __atomic_exchange_n(&d->pir[i], 0, SC);
        out[2 * i] = (uint32_t)bits;
        out[2 * i + 1] = (uint32_t)(bits >> 32);
        any |= bits != 0;
    }
    return any;
}

bool pi_desc_reclaim(struct pi_desc *d, uint8_t vector)
{
    uint64_t bit = 1ull << (vector % 64);

    return (__atomic_fetch_and(&d->pir[vector / 64], ~bit, SC) & bit) != 0;
}

bool pi_desc_pending(const struct pi_desc *d)
{
    for (unsigned i = 0; i < 4; i++) {
        if (__atomic_load_n(&d->pir[i], SC))
            return true;
    }
    return false;
}

bool pi_desc_set_suppress(struct pi_desc *d, bool suppress)
{
    if (suppress) {
        __atomic_fetch_or(&d->control, PI_CTL_SN, SC);
        return false;
    }
    __atomic_fetch_and(&d->control, ~PI_CTL_SN, SC);
    /* Posts made while SN was set did not notify: one notification now
     * covers them (a post racing with this sets ON itself or sees ours). */
    return pi_desc_pending(d) && set_on(d);
}

void pi_desc_set_dest(struct pi_desc *d, uint32_t ndst)
{
    uint64_t old = __atomic_load_n(&d->control, SC);
    uint64_t next;

    do {
        next = (old & ~PI_CTL_NDST_MASK) | ((uint64_t)ndst << PI_CTL_NDST_SHIFT);
    } while (!__atomic_compare_exchange_n(&d->control, &old, next, false, SC, SC));
}

bool pi_desc_on(const struct pi_desc *d)
{
    return __atomic_load_n(&d->control, SC) & PI_CTL_ON;
}

bool pi_desc_sn(const struct pi_desc *d)
{
    return __atomic_load_n(&d->control, SC) & PI_CTL_SN;
}

uint8_t pi_desc_nv(const struct pi_desc *d)
{
    return (uint8_t)((__atomic_load_n(&d->control, SC) & PI_CTL_NV_MASK) >> PI_CTL_NV_SHIFT);
}

uint32_t pi_desc_dest(const struct pi_desc *d)
{
    return (uint32_t)((__atomic_load_n(&d->control, SC) & PI_CTL_NDST_MASK) >> PI_CTL_NDST_SHIFT);
}
