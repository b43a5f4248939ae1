/* SPDX-License-Identifier: MIT */
#include "kernel/x86/ioapic.h"

#include "kernel/mm/paging.h"
#include "kernel/x86/cpu.h"

#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN    0x10 /* in 32-bit words: offset 0x10 bytes */
#define IOAPIC_VER    0x01
#define IOAPIC_REDTBL 0x10
#define REDIR_MASKED  (1u << 16)

static uint32_t ioapic_read(volatile uint32_t *base, uint32_t reg)
{
    base[IOAPIC_REGSEL / 4] = reg;
    return base[IOAPIC_WIN / 4];
}

static void ioapic_write(volatile uint32_t *base, uint32_t reg, uint32_t v)
{
    base[IOAPIC_REGSEL / 4] = reg;
    base[IOAPIC_WIN / 4] = v;
}

unsigned ioapic_mask_all(uint64_t phys)
{
    volatile uint32_t *base = paging_map_mmio(phys, 4096);
    unsigned entries = ((ioapic_read(base, IOAPIC_VER) >> 16) & 0xff) + 1;

    for (unsigned i = 0; i < entries; i++) {
        ioapic_write(base, IOAPIC_REDTBL + 2 * i, REDIR_MASKED);
        ioapic_write(base, IOAPIC_REDTBL + 2 * i + 1, 0);
    }
    return entries;
}

void pic_disable(void)
{
    /* Remap to vectors 0x20-0x2f first so a stray interrupt cannot look
     * like an exception, then mask every line. */
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, 0x20);
    outb(0xa1, 0x28);
    outb(0x21, 0x04);
    outb(0xa1, 0x02);
    outb(0x21, 0x01);
    outb(0xa1, 0x01);
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}
