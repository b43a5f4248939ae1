/* SPDX-License-Identifier: MIT */
/*
 * The virtual IOAPIC (see vioapic.h). Each entry point takes the lock,
 * changes state and collects the messages that became due, then releases the
 * lock and hands them to the deliver callback, so the callback never runs
 * with the IOAPIC locked.
 */
#include "vmm/dev/vioapic.h"

#define REG_ID      0x00
#define REG_VERSION 0x01
#define REG_ARB     0x02
#define REG_REDIR0  0x10

#define RTE_VECTOR       0xffull
#define RTE_DELIV_MODE   (7ull << 8)
#define RTE_DEST_LOGICAL (1ull << 11)
#define RTE_REMOTE_IRR   (1ull << 14)
#define RTE_LEVEL        (1ull << 15)
#define RTE_MASKED       (1ull << 16)
/* Low dword: vector, delivery mode, destination mode, polarity, trigger
 * mode, mask; delivery status (12) and remote IRR (14) are read-only. */
#define RTE_LOW_WRITABLE 0x1afffull
#define RTE_DEST_SHIFT   56
#define ID_WRITABLE      (0xfu << 24)

struct pending {
    struct vioapic_msg msg[VIOAPIC_PINS];
    unsigned n;
};

static bool takes_remote_irr(uint64_t e)
{
    /* Only fixed and lowest-priority interrupts are EOId by a local APIC. */
    unsigned mode = (e & RTE_DELIV_MODE) >> 8;
    return (e & RTE_LEVEL) && (mode == 0 || mode == 1);
}

static void queue(struct pending *p, uint64_t e)
{
    struct vioapic_msg *m = &p->msg[p->n++];
    uint32_t dest = (uint32_t)(e >> RTE_DEST_SHIFT);

    m->logical = e & RTE_DEST_LOGICAL;
    m->dest = (!m->logical && dest == 0xff) ? 0xffffffffu : dest;
    m->vector = e & RTE_VECTOR;
    m->delivery_mode = (e & RTE_DELIV_MODE) >> 8;
    m->level = takes_remote_irr(e);
}

/* A level pin that is asserted, unmasked and not waiting for an EOI sends
 * (again). Lock held. */
static void service_level(struct vioapic *io, unsigned pin, struct pending *p)
{
    uint64_t *e = &io->redir[pin];

    if (!takes_remote_irr(*e) || !(io->asserted & (1u << pin)))
        return;
    if (*e & (RTE_MASKED | RTE_REMOTE_IRR))
        return;
    *e |= RTE_REMOTE_IRR;
    queue(p, *e);
}

static void flush(struct vioapic *io, struct pending *p)
{
    vioapic_deliver_fn deliver = io->deliver;
    void *ctx = io->ctx;

    spin_unlock(&io->lock);
    for (unsigned i = 0; i < p->n; i++)
        deliver(ctx, &p->msg[i]);
}

void vioapic_init(struct vioapic *io, uint8_t id, vioapic_deliver_fn deliver, void *ctx)
{
    *io = (struct vioapic){.lock = SPINLOCK_INIT, .deliver = deliver, .ctx = ctx};
    io->id = (uint32_t)(id & 0xf) << 24;
    for (unsigned i = 0; i < VIOAPIC_PINS; i++)
        io->redir[i] = RTE_MASKED;
}

static uint32_t read_indirect(const struct vioapic *io, uint32_t reg)
{
    switch (reg) {
    case REG_ID: return io->id;
    case REG_VERSION: return VIOAPIC_VERSION;
    case REG_ARB: return io->id; /* arbitration ID is loaded from the ID */
    default: break;
    }
    if (reg >= REG_REDIR0 && reg < REG_REDIR0 + 2 * VIOAPIC_PINS) {
        uint64_t e = io->redir[(reg - REG_REDIR0) / 2];
        return (reg & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
    }
    return 0;
}

static void write_indirect(struct vioapic *io, uint32_t reg, uint32_t value, struct pending *p)
{
    if (reg == REG_ID) {
        io->id = value & ID_WRITABLE;
        return;
    }
    if (reg < REG_REDIR0 || reg >= REG_REDIR0 + 2 * VIOAPIC_PINS)
        return; /* version, arbitration: read-only; the rest undefined */

    unsigned pin = (reg - REG_REDIR0) / 2;
    uint64_t *e = &io->redir[pin];
    if (reg & 1) {
        *e = (*e & 0xffffffffull) | ((uint64_t)(value >> 24) << RTE_DEST_SHIFT);
        return;
    }
    *e = (*e & ~RTE_LOW_WRITABLE & ~0xffffffffull) | (*e & RTE_REMOTE_IRR) |
         (value & RTE_LOW_WRITABLE);
    /* Switching to edge clears a remote IRR: guests use it to unstick a
     * level entry on IOAPICs without an EOI register. */
    if (!(*e & RTE_LEVEL))
        *e &= ~RTE_REMOTE_IRR;
    /* Unmasking an asserted level pin sends it; an edge pin needs a new edge. */
    service_level(io, pin, p);
}

uint32_t vioapic_mmio_read(struct vioapic *io, uint64_t offset)
{
    uint32_t value = 0;

    spin_lock(&io->lock);
    if (offset == VIOAPIC_IOREGSEL)
        value = io->regsel;
    else if (offset == VIOAPIC_IOWIN)
        value = read_indirect(io, io->regsel);
    spin_unlock(&io->lock);
    return value;
}

static void eoi_locked(struct vioapic *io, uint8_t vector, struct pending *p)
{
    for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++) {
        uint64_t *e = &io->redir[pin];
        if ((*e & RTE_VECTOR) != vector || !(*e & RTE_REMOTE_IRR))
            continue;
        *e &= ~RTE_REMOTE_IRR;
        service_level(io, pin, p);
    }
}

void vioapic_mmio_write(struct vioapic *io, uint64_t offset, uint32_t value)
{
    struct pending p = {.n = 0};

    spin_lock(&io->lock);
    if (offset == VIOAPIC_IOREGSEL)
        io->regsel = value & 0xff;
    else if (offset == VIOAPIC_IOWIN)
        write_indirect(io, io->regsel, value, &p);
    else if (offset == VIOAPIC_EOI)
        eoi_locked(io, value & 0xff, &p);
    flush(io, &p);
}

bool vioapic_set_irq(struct vioapic *io, unsigned pin, bool level)
{
    struct pending p = {.n = 0};

    if (pin >= VIOAPIC_PINS)
        return false;
    spin_lock(&io->lock);
    uint32_t bit = 1u << pin;
    bool was = io->asserted & bit;
    if (level)
        io->asserted |= bit;
    else
        io->asserted &= ~bit;

    uint64_t e = io->redir[pin];
    if (takes_remote_irr(e))
        service_level(io, pin, &p);
    else if (level && !was && !(e & RTE_MASKED))
        queue(&p, e); /* edge (or a non-EOI'd mode): only a rising edge sends */
    flush(io, &p);
    return true;
}

void vioapic_eoi(struct vioapic *io, uint8_t vector)
{
    struct pending p = {.n = 0};

    spin_lock(&io->lock);
    eoi_locked(io, vector, &p);
    flush(io, &p);
}

uint64_t vioapic_entry(struct vioapic *io, unsigned pin)
{
    uint64_t e = 0;

    if (pin >= VIOAPIC_PINS)
        return 0;
    spin_lock(&io->lock);
    e = io->redir[pin];
    spin_unlock(&io->lock);
    return e;
}
