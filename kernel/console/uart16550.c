/* SPDX-License-Identifier: MIT */
#include "kernel/console/uart16550.h"

#include "kernel/x86/cpu.h"

enum {
    UART_DATA = 0, /* DLL when DLAB is set */
    UART_IER = 1,  /* DLM when DLAB is set */
    UART_FCR = 2,
    UART_LCR = 3,
    UART_MCR = 4,
    UART_LSR = 5,
    UART_SCR = 7,
};

#define LCR_8N1         0x03
#define LCR_DLAB        0x80
#define LSR_DR          0x01 /* data ready */
#define LSR_THRE        0x20 /* transmit holding register empty */
#define UART_BASE_CLOCK 115200

bool uart_init(uint16_t port, uint32_t baud)
{
    outb(port + UART_SCR, 0x5a);
    if (inb(port + UART_SCR) != 0x5a)
        return false;
    if (baud == 0 || baud > UART_BASE_CLOCK)
        baud = UART_BASE_CLOCK;
    uint16_t divisor = (uint16_t)(UART_BASE_CLOCK / baud);

    outb(port + UART_IER, 0x00);
    outb(port + UART_LCR, LCR_DLAB);
    outb(port + UART_DATA, divisor & 0xff);
    outb(port + UART_IER, divisor >> 8);
    outb(port + UART_LCR, LCR_8N1);
    outb(port + UART_FCR, 0xc7); /* enable and clear FIFOs, 14-byte threshold */
    outb(port + UART_MCR, 0x03); /* DTR, RTS */
    return true;
}

void uart_putc(uint16_t port, char c)
{
    /* Bounded wait: a missing or wedged UART must not hang the hypervisor. */
    for (int i = 0; i < 100000 && !(inb(port + UART_LSR) & LSR_THRE); i++)
        cpu_relax();
    outb(port + UART_DATA, (uint8_t)c);
}

void uart_enable_rx_interrupt(uint16_t port)
{
    outb(port + UART_MCR, 0x0b); /* DTR, RTS, OUT2 (gates the IRQ on PCs) */
    outb(port + UART_IER, 0x01); /* received data available */
}

int uart_getc(uint16_t port)
{
    if (!(inb(port + UART_LSR) & LSR_DR))
        return -1;
    return inb(port + UART_DATA);
}
