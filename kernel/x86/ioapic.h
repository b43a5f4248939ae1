/* SPDX-License-Identifier: MIT */
/* IOAPICs and the legacy 8259 PICs: the hypervisor polls its devices, so at
 * boot every legacy interrupt source is masked. */
#ifndef SIDECORE_X86_IOAPIC_H
#define SIDECORE_X86_IOAPIC_H

#include <stdint.h>

/* Masks every redirection entry of the IOAPIC at phys; returns its entry
 * count. */
unsigned ioapic_mask_all(uint64_t phys);
/* Masks both 8259 PICs. */
void pic_disable(void);

#endif
