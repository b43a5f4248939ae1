/* SPDX-License-Identifier: MIT */
/*
 * The guest's console: COM1 at 0x3F8, the one device the hypervisor promises.
 * Only the transmit side is used; the line status register's THRE bit says
 * when the next byte may be written.
 */
#ifndef GUEST_TESTS_SERIAL_H
#define GUEST_TESTS_SERIAL_H

#include <stddef.h>

#define COM1_DATA     0x3F8
#define COM1_LSR      0x3FD
#define COM1_LSR_THRE 0x20

/* Programs 8N1 at 115200 baud. Only for bare-metal runs (the smoke tests):
 * under Sidecore the guest touches nothing but 0x3F8 and 0x3FD. */
void serial_init_uart(void);
void serial_putc(char c);
void serial_write(const char *s, size_t len);

#endif
