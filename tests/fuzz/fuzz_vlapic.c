/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the interrupt controllers: the input is a script of
 * guest register accesses (x2APIC MSRs, IA32_TSC_DEADLINE, IOAPIC MMIO),
 * device pin changes, interrupt acceptance and run-loop steps against a
 * moving clock. Besides the sanitizers' checks it aborts when a promise of
 * vlapic.h / vioapic.h breaks: an offered vector that PPR should block, a
 * timer that would fire in the past after an update, a current count above
 * the initial count, an EOI reporting a vector that was not level-triggered.
 * fuzz-sources: vmm/dev/vlapic.c vmm/dev/apic_dest.c vmm/dev/vioapic.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "vmm/dev/vioapic.h"
#include "vmm/dev/vlapic.h"

static void deliver(void *ctx, const struct vioapic_msg *m)
{
    struct vlapic *v = ctx;
    if (m->delivery_mode <= 1 && (m->dest == 0 || m->dest == 0xffffffffu))
        (void)vlapic_accept(v, m->vector, m->level);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    static struct vlapic v;
    static struct vioapic io;
    uint64_t now = take(&in, 4);

    if (!vlapic_init(&v, 0, 1 + (uint32_t)take(&in, 1), 1 + (uint32_t)take(&in, 1)))
        abort(); /* the ranges above are all valid */
    vioapic_init(&io, 0, deliver, &v);

    while (in.n) {
        unsigned op = (unsigned)take(&in, 1);
        now += take(&in, 1) << (op >> 5); /* sometimes big jumps */
        struct vlapic_write_effect eff;
        uint64_t value;
        switch (op & 7) {
        case 0: {
            uint32_t msr = 0x800 + (uint32_t)take(&in, 1) % 0x40;
            (void)vlapic_msr_read(&v, msr, now, &value);
            if (msr == 0x839) {
                uint64_t initial;
                check(vlapic_msr_read(&v, 0x838, now, &initial), "TMICT readable");
                check(value <= initial, "current count above initial count");
            }
            break;
        }
        case 1: {
            uint32_t msr = 0x800 + (uint32_t)take(&in, 1) % 0x40;
            value = take(&in, 4);
            if (op & 8)
                value |= take(&in, 4) << 32;
            if (msr == 0x80b && (op & 0x10)) {
                /* The EOI must report the highest in-service vector iff
                 * its TMR bit is set. */
                int expect = -1;
                for (int i = 7; i >= 0; i--) {
                    uint64_t isr, tmr;
                    check(vlapic_msr_read(&v, 0x810 + i, now, &isr), "ISR readable");
                    check(vlapic_msr_read(&v, 0x818 + i, now, &tmr), "TMR readable");
                    if (!isr)
                        continue;
                    int top = 31 - __builtin_clz((uint32_t)isr);
                    expect = ((tmr >> top) & 1) ? i * 32 + top : -1;
                    break;
                }
                if (vlapic_msr_write(&v, msr, 0, now, &eff)) {
                    check(eff.level_eoi_vector == expect, "EOI level report");
                    if (eff.level_eoi_vector >= 0)
                        vioapic_eoi(&io, (uint8_t)eff.level_eoi_vector);
                }
                break;
            }
            if (vlapic_msr_write(&v, msr, value, now, &eff) && eff.has_ipi) {
                uint64_t bm[2];
                check(vlapic_ipi_targets(&eff.ipi, 0, 70, bm) <= 70, "target count");
            }
            break;
        }
        case 2:
            (void)vlapic_msr_write(&v, VLAPIC_MSR_TSC_DEADLINE, now + take(&in, 2), now, &eff);
            break;
        case 3: (void)vlapic_accept(&v, (uint8_t)take(&in, 1), op & 8); break;
        case 4: {
            vlapic_update(&v, now);
            uint64_t next = vlapic_timer_next(&v);
            check(next == 0 || next > now, "timer due after an update");
            int vec = vlapic_next_interrupt(&v);
            if (vec >= 0) {
                check(vec >= 16 && vec < 256, "offered vector range");
                check(((unsigned)vec & 0xf0) > (vlapic_ppr(&v) & 0xf0), "offered under PPR");
                vlapic_intr_delivered(&v, (uint8_t)vec);
            }
            break;
        }
        case 5: vioapic_mmio_write(&io, (take(&in, 1) & 3) << 4, (uint32_t)take(&in, 4)); break;
        case 6: (void)vioapic_mmio_read(&io, (take(&in, 1) & 3) << 4); break;
        case 7: (void)vioapic_set_irq(&io, (unsigned)take(&in, 1) % 26, op & 8); break;
        }
    }
    return 0;
}
