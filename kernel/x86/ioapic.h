/* SPDX-License-Identifier: MIT */
/* IOAPICs and the legacy 8259 PICs. The hypervisor polls its devices, so at
 * boot every interrupt source is masked; the few it does take (the console
 * UART) are routed one by one. */
#ifndef SIDECORE_X86_IOAPIC_H
#define SIDECORE_X86_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Records an IOAPIC and masks every one of its redirection entries; returns
 * its entry count. */
unsigned ioapic_add(uint64_t phys, uint32_t gsi_base);

/* Routes a GSI to vector on the CPU with this (8-bit) APIC ID. polarity_low
 * and level as the MADT's override says; false if no IOAPIC has the GSI. */
bool ioapic_route(uint32_t gsi, uint8_t vector, uint32_t apic_id, bool polarity_low, bool level);

/* Masks both 8259 PICs. */
void pic_disable(void);

#endif
