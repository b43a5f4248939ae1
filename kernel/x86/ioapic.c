/* SPDX-License-Identifier: MIT */
#include "kernel/x86/ioapic.h"

#include "kernel/mm/paging.h"
#include "kernel/x86/cpu.h"

#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN    0x10
#define IOAPIC_VER    0x01
#define IOAPIC_REDTBL 0x10

#define REDIR_MASKED     (1u << 16)
#define REDIR_LEVEL      (1u << 15)
#define REDIR_ACTIVE_LOW (1u << 13)

#define MAX_IOAPICS 16

struct ioapic {
    volatile uint32_t *base;
    uint32_t gsi_base;
    unsigned entries;
};

static struct ioapic ioapics[MAX_IOAPICS];
static unsigned ioapic_count;

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

unsigned ioapic_add(uint64_t phys, uint32_t gsi_base)
{
    volatile uint32_t *base = paging_map_mmio(phys, 4096);
    unsigned entries = ((ioapic_read(base, IOAPIC_VER) >> 16) & 0xff) + 1;

    for (unsigned i = 0; i < entries; i++) {
        ioapic_write(base, IOAPIC_REDTBL + 2 * i, REDIR_MASKED);
        ioapic_write(base, IOAPIC_REDTBL + 2 * i + 1, 0);
    }
    if (ioapic_count < MAX_IOAPICS)
        ioapics[ioapic_count++] = (struct ioapic){base, gsi_base, entries};
    return entries;
}

bool ioapic_route(uint32_t gsi, uint8_t vector, uint32_t apic_id, bool polarity_low, bool level)
{
    for (unsigned i = 0; i < ioapic_count; i++) {
        struct ioapic *io = &ioapics[i];
        if (gsi < io->gsi_base || gsi >= io->gsi_base + io->entries)
            continue;
        uint32_t pin = gsi - io->gsi_base;
        uint32_t low = vector | (polarity_low ? REDIR_ACTIVE_LOW : 0) | (level ? REDIR_LEVEL : 0);
        ioapic_write(io->base, IOAPIC_REDTBL + 2 * pin + 1, (apic_id & 0xff) << 24);
        ioapic_write(io->base, IOAPIC_REDTBL + 2 * pin, low);
        return true;
    }
    return false;
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
