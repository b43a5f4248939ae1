/* SPDX-License-Identifier: MIT */
/*
 * Which local APICs an interrupt message is for: the destination rules of
 * the SDM ("Determining IPI Destination", "Message Address Register
 * Format") for MSIs, IOAPIC messages and IPIs, against each target APIC as
 * it is now (disabled, xAPIC or x2APIC). Physical mode compares the APIC ID;
 * logical mode compares the logical destination register: flat or cluster
 * model in xAPIC mode (DFR), cluster << 16 | member bit in x2APIC mode. An
 * MSI or IOAPIC message carries an 8-bit destination: 0xff is a broadcast
 * for every APIC, and an x2APIC reads the rest zero-extended (physical: IDs
 * 0-254; logical: cluster 0, members 0-7), as without interrupt remapping.
 * An IPI from an x2APIC carries 32 bits, 0xffffffff the broadcast.
 * Lowest-priority delivery (and an MSI's redirection hint) picks one APIC
 * of the matching set; the choice hashes the vector over the set, so one
 * device's vector stays on one vCPU while several vectors spread. Pure
 * code, host-tested and fuzzed through its callers.
 */
#ifndef SIDECORE_VMM_DEV_APIC_DEST_H
#define SIDECORE_VMM_DEV_APIC_DEST_H

#include <stdbool.h>
#include <stdint.h>

/* One target APIC. */
struct apic_dest_cpu {
    uint8_t mode; /* enum vlapic_mode: DISABLED never matches */
    uint32_t id;  /* APIC ID: 32 bits in x2APIC mode, the low 8 bits in xAPIC mode */
    uint32_t ldr; /* logical destination: x2APIC: cluster << 16 | 1 << (id & 15);
                   * xAPIC: the LDR register (logical ID in bits 31:24) */
    uint32_t dfr; /* xAPIC only: the DFR register (model in bits 31:28) */
};

#define APIC_DFR_FLAT    0xffffffffu
#define APIC_DFR_CLUSTER 0x0fffffffu

/* A destination as a message or an ICR gives it. */
struct apic_dest {
    uint32_t dest;
    bool logical;
    bool msg8; /* an 8-bit MSI/IOAPIC destination (else a 32-bit x2APIC ICR's) */
    bool one;  /* lowest priority or redirection hint: one APIC of the set */
    uint8_t vector;
};

/* True when cpu is among d's destination set (before picking one). */
bool apic_dest_match(const struct apic_dest_cpu *cpu, const struct apic_dest *d);

/*
 * The targets of d among cpus[0..n): bitmap (n bits in uint64_t words, all
 * written) and the count; 0 means no APIC matched (the message is dropped).
 * With d->one at most one bit is set.
 */
unsigned apic_dest_resolve(const struct apic_dest_cpu *cpus, uint32_t n, const struct apic_dest *d,
                           uint64_t *bitmap);

/* An MSI as the guest programmed it (PCI MSI / MSI-X address and data). */
struct apic_msi {
    struct apic_dest dest;
    uint8_t delivery_mode; /* data bits 10:8, enum vlapic_delivery */
    bool level;            /* trigger mode (data bit 15) */
};

/* Decodes an MSI: false when address is not in the interrupt range
 * 0xfeexxxxx (a plain memory write, not an interrupt). Address bits: 19:12
 * destination ID, 3 redirection hint, 2 destination mode (1 = logical);
 * data: 7:0 vector, 10:8 delivery mode, 15 trigger mode. Lowest-priority
 * delivery or the redirection hint set d.one. */
bool apic_msi_decode(uint64_t address, uint32_t data, struct apic_msi *m);

#endif
