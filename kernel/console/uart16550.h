/* SPDX-License-Identifier: MIT */
/* A polled 16550 UART (the PC's COM ports). */
#ifndef SIDECORE_CONSOLE_UART16550_H
#define SIDECORE_CONSOLE_UART16550_H

#include <stdbool.h>
#include <stdint.h>

#define COM1_PORT 0x3f8
#define COM2_PORT 0x2f8
#define COM3_PORT 0x3e8
#define COM4_PORT 0x2e8

/* Programs 8N1 at the given speed with FIFOs on. Returns false if no UART
 * answers at that port (scratch register test). */
bool uart_init(uint16_t port, uint32_t baud);
void uart_putc(uint16_t port, char c);
/* Makes the UART raise its IRQ line when a byte arrives (IER and OUT2). */
void uart_enable_rx_interrupt(uint16_t port);
/* Returns the next received byte, or -1 if none is waiting. */
int uart_getc(uint16_t port);

#endif
