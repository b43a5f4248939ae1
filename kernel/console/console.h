/* SPDX-License-Identifier: MIT */
/* The hypervisor's console: the serial line an operator reads and types on.
 * Output from all CPUs is serialized line by line. */
#ifndef SIDECORE_CONSOLE_CONSOLE_H
#define SIDECORE_CONSOLE_CONSOLE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Selects the UART (I/O port) and speed; may be called again to move it. */
void console_init(uint16_t port, uint32_t baud);
uint16_t console_port(void);
uint32_t console_baud(void);

void console_write(const char *s, size_t n);
int console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int console_vprintf(const char *fmt, va_list ap);

/* Next input byte, or -1 when none is waiting. */
int console_getc(void);

/* For the receive interrupt (console_irq.c): moves every byte the UART holds
 * into the input ring; and switches console_getc() to that ring. */
void console_rx_drain(void);
void console_rx_by_interrupt(bool on);

#endif
