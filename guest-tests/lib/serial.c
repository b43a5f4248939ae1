/* SPDX-License-Identifier: MIT */
/*
 * COM1 output by polling. The wait for THRE is bounded: if the emulated line
 * status register never reports THRE the byte is written anyway, so a wrong
 * LSR shows up as a FAIL in the portio test instead of a silent hang here.
 */
#include "serial.h"
#include "x86.h"

#define THRE_POLLS 100000

#define COM1_IER       0x3F9
#define COM1_FCR       0x3FA
#define COM1_LCR       0x3FB
#define COM1_MCR       0x3FC
#define LCR_DLAB       0x80
#define LCR_8N1        0x03
#define DIVISOR_115200 1

void serial_init_uart(void)
{
    outb(COM1_IER, 0);
    outb(COM1_LCR, LCR_DLAB);
    outb(COM1_DATA, DIVISOR_115200);
    outb(COM1_IER, 0);
    outb(COM1_LCR, LCR_8N1);
    outb(COM1_FCR, 0x07); /* enable and clear the FIFOs */
    outb(COM1_MCR, 0x03); /* DTR, RTS */
}

void serial_putc(char c)
{
    for (unsigned i = 0; i < THRE_POLLS; i++) {
        if (inb(COM1_LSR) & COM1_LSR_THRE)
            break;
    }
    outb(COM1_DATA, (uint8_t)c);
}

void serial_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        serial_putc(s[i]);
}
