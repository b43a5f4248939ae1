/* SPDX-License-Identifier: MIT */
/* Console input by interrupt: the UART's IRQ routed through the IOAPIC to
 * the boot CPU, so a pasted line is not lost to a 16-byte FIFO. */
#ifndef SIDECORE_CONSOLE_CONSOLE_IRQ_H
#define SIDECORE_CONSOLE_CONSOLE_IRQ_H

#include <stdbool.h>

/* Routes the console UART's ISA IRQ (COM1/COM3: 4, COM2/COM4: 3, with the
 * MADT's overrides) to this CPU. False (input stays polled) for a UART at a
 * non-standard port or when no IOAPIC serves the line. */
bool console_irq_enable(void);

#endif
