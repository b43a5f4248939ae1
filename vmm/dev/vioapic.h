/* SPDX-License-Identifier: MIT */
/*
 * A guest's virtual IOAPIC (82093AA register model, version 0x20 with the
 * EOI register): 24 pins, IOREGSEL/IOWIN at the MMIO window, and the
 * redirection logic that turns pin levels into interrupt messages. Edge
 * pins send on a rising edge; level pins send while asserted and remote IRR
 * is clear, and wait for the EOI of their vector. Messages go to a callback
 * that the vCPU code connects to the target vLAPICs. Pure code, host-tested.
 *
 * Concurrency. One IOAPIC serves all vCPUs of a guest: any vCPU may access
 * its registers, and device models on any vCPU may drive its pins. Every
 * function takes the IOAPIC's own spinlock, so callers need no locking of
 * their own. The deliver callback runs after the lock is released, on the
 * calling CPU, so it may call back into the IOAPIC (e.g. vlapic_accept ->
 * ... -> vioapic_eoi). Do not call these functions from an interrupt
 * handler of the hypervisor (the lock does not disable interrupts).
 */
#ifndef SIDECORE_VMM_DEV_VIOAPIC_H
#define SIDECORE_VMM_DEV_VIOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/lib/spinlock.h"

#define VIOAPIC_BASE    0xfec00000ull /* guest-physical */
#define VIOAPIC_SIZE    0x1000u       /* the MMIO page the guest may touch */
#define VIOAPIC_PINS    24
#define VIOAPIC_VERSION 0x00170020u /* max redirection entry 23, version 0x20 */

/* MMIO offsets. */
#define VIOAPIC_IOREGSEL 0x00
#define VIOAPIC_IOWIN    0x10
#define VIOAPIC_EOI      0x40

/* One interrupt message from a redirection entry. */
struct vioapic_msg {
    /* x2APIC destination: the entry's 8-bit field (bits 63:56), read as
     * an x2APIC ID in physical mode (0xff = broadcast, given as 0xffffffff)
     * and as cluster 0 member bits in logical mode; see vmm/dev/apic_dest.h. */
    uint32_t dest;
    bool logical;
    uint8_t vector;
    uint8_t delivery_mode; /* enum vlapic_delivery: FIXED, LOWEST, SMI, NMI, INIT, EXTINT */
    bool level;            /* level-triggered: the target must set TMR */
};

typedef void (*vioapic_deliver_fn)(void *ctx, const struct vioapic_msg *msg);

struct vioapic {
    struct spinlock lock;
    uint32_t id;     /* ID register (bits 27:24 meaningful) */
    uint32_t regsel; /* IOREGSEL */
    uint64_t redir[VIOAPIC_PINS];
    uint32_t asserted; /* pin levels as the devices drive them */
    vioapic_deliver_fn deliver;
    void *ctx;
};

/* Reset state: ID id (0-15), every entry masked, all pins low. */
void vioapic_init(struct vioapic *io, uint8_t id, vioapic_deliver_fn deliver, void *ctx);

/* 32-bit guest accesses at offset from VIOAPIC_BASE. Unknown offsets read 0
 * and ignore writes; so do unknown indirect registers. */
uint32_t vioapic_mmio_read(struct vioapic *io, uint64_t offset);
void vioapic_mmio_write(struct vioapic *io, uint64_t offset, uint32_t value);

/* A device drives pin (0-23) to level: true = asserted (the polarity bit of
 * the entry is kept for the guest but not applied; devices report
 * assertion, not the electrical level). False for a pin out of range. */
bool vioapic_set_irq(struct vioapic *io, unsigned pin, bool level);

/* A local APIC retired a level-triggered interrupt of vector (or the guest
 * wrote the EOI register): clears remote IRR of the level entries with that
 * vector and delivers again those whose pin is still asserted. */
void vioapic_eoi(struct vioapic *io, uint8_t vector);

/* The redirection entry of pin, for diagnostics (0 when out of range). */
uint64_t vioapic_entry(struct vioapic *io, unsigned pin);

#endif
