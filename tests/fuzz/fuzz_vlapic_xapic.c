/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the local APIC's xAPIC register page and its mode
 * changes: the input is a script of guest accesses to the page (any offset
 * in or past it, any size, any value), IA32_APIC_BASE mode switches (only
 * the transitions the MSR policy allows), interrupt arrivals, run-loop
 * steps against a moving clock, and the routing of the IPIs the page sends
 * among four APICs in mixed modes. Besides the sanitizers' checks it aborts
 * when a promise of vlapic.h breaks: a page access outside xAPIC mode that
 * reads other than 0, an ID or DFR that does not read as the page defines
 * them, a current count above the initial count, an offered vector that PPR
 * should block, an xAPIC IPI whose destination is wider than 8 bits, or a
 * route to a disabled APIC.
 * fuzz-sources: vmm/dev/vlapic.c vmm/dev/vlapic_xapic.c vmm/dev/apic_dest.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "vmm/dev/apic_dest.h"
#include "vmm/dev/vlapic.h"

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "invariant broken: %s\n", what);
        abort();
    }
}

struct input {
    const uint8_t *p;
    size_t n;
};

static uint64_t take(struct input *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && in->n; i++, in->p++, in->n--)
        v |= (uint64_t)*in->p << (8 * i);
    return v;
}

#define NCPU 4

/* The SDM's allowed moves (msr_policy.c enforces them before the model
 * sees one): disabled <-> xAPIC, xAPIC -> x2APIC, x2APIC -> disabled. */
static bool allowed(uint8_t from, uint8_t to)
{
    if (from == to)
        return true;
    if (from == VLAPIC_MODE_X2APIC)
        return to == VLAPIC_MODE_DISABLED;
    if (from == VLAPIC_MODE_DISABLED)
        return to == VLAPIC_MODE_XAPIC;
    return true;
}

static void route(struct vlapic *apics, const struct vlapic_ipi *ipi)
{
    struct apic_dest_cpu cpus[NCPU];
    uint64_t bm[1];

    for (unsigned i = 0; i < NCPU; i++)
        cpus[i] = (struct apic_dest_cpu){
            .mode = apics[i].mode,
            .id = apics[i].id,
            .ldr = apics[i].mode == VLAPIC_MODE_X2APIC ? vlapic_ldr_of(apics[i].id) : apics[i].xldr,
            .dfr = apics[i].dfr,
        };
    struct apic_dest d = {.dest = ipi->dest,
                          .logical = ipi->logical,
                          .msg8 = ipi->dest8,
                          .one = ipi->mode == VLAPIC_DM_LOWEST,
                          .vector = ipi->vector};
    unsigned n = apic_dest_resolve(cpus, NCPU, &d, bm);
    check(n <= NCPU && (bm[0] >> NCPU) == 0, "targets within the vCPUs");
    for (unsigned i = 0; i < NCPU; i++) {
        if (!(bm[0] & (1ull << i)))
            continue;
        check(apics[i].mode != VLAPIC_MODE_DISABLED, "routed to a disabled APIC");
        if (ipi->mode == VLAPIC_DM_FIXED || ipi->mode == VLAPIC_DM_LOWEST)
            (void)vlapic_accept(&apics[i], ipi->vector, false);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    static struct vlapic apics[NCPU];
    uint64_t now = take(&in, 4);

    for (unsigned i = 0; i < NCPU; i++) {
        if (!vlapic_init(&apics[i], i, 1 + (uint32_t)take(&in, 1), 1))
            abort();
        vlapic_set_mode(&apics[i], VLAPIC_MODE_XAPIC);
    }

    while (in.n) {
        unsigned op = (unsigned)take(&in, 1);
        struct vlapic *v = &apics[(op >> 3) & (NCPU - 1)];
        now += take(&in, 1) << ((op >> 5) * 4); /* sometimes big jumps */
        struct vlapic_write_effect eff;
        switch (op & 7) {
        case 0:
        case 1: {
            uint32_t off = (uint32_t)take(&in, 2) & 0x1fff; /* past the page too */
            unsigned size = 1u << (take(&in, 1) & 3);
            uint32_t val = vlapic_mmio_read(v, off, size, now);
            if (v->mode != VLAPIC_MODE_XAPIC || vlapic_xapic_reg(off, size) < 0)
                check(val == 0, "a read the page does not answer is 0");
            else if (off == 0x20)
                check(val == v->id << 24, "ID reads id << 24");
            else if (off == 0xe0)
                check((val & 0x0fffffffu) == 0x0fffffffu, "DFR bits 27:0 read 1");
            else if (off == 0x390) {
                uint32_t initial = vlapic_mmio_read(v, 0x380, 4, now);
                check(val <= initial, "current count above initial count");
            }
            break;
        }
        case 2:
        case 3: {
            uint32_t off = (uint32_t)take(&in, 2) & 0x1fff;
            unsigned size = (op & 1) ? 4 : 1u << (take(&in, 1) & 3);
            vlapic_mmio_write(v, off, size, (uint32_t)take(&in, 4), now, &eff);
            if (eff.has_ipi) {
                check(v->mode == VLAPIC_MODE_XAPIC, "IPI from a page write outside xAPIC mode");
                check(eff.ipi.dest8 && eff.ipi.dest <= 0xff, "xAPIC destination is 8 bits");
                if (eff.ipi.shorthand == VLAPIC_SH_NONE)
                    route(apics, &eff.ipi);
            }
            break;
        }
        case 4: {
            uint8_t to = (uint8_t)(take(&in, 1) % 3);
            if (allowed(v->mode, to))
                vlapic_set_mode(v, (enum vlapic_mode)to);
            break;
        }
        case 5: (void)vlapic_accept(v, (uint8_t)take(&in, 1), op & 0x80); break;
        case 6: {
            vlapic_update(v, now);
            int vec = vlapic_next_interrupt(v);
            if (vec >= 0) {
                check(vec >= 16 && vec < 256, "offered vector range");
                check(((unsigned)vec & 0xf0) > (vlapic_ppr(v) & 0xf0), "offered under PPR");
                vlapic_intr_delivered(v, (uint8_t)vec);
            }
            break;
        }
        case 7: vlapic_init_signal(v); break;
        }
    }
    return 0;
}
