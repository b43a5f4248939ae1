/* SPDX-License-Identifier: MIT */
#include "kernel/console/console.h"

#include <stdbool.h>

#include "kernel/console/uart16550.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/spinlock.h"

static uint16_t console_io = COM1_PORT;
static uint32_t console_speed = 115200;
static struct spinlock console_lock = SPINLOCK_INIT;

/* Input received by the UART interrupt, waiting for the shell. Filled and
 * drained on the same CPU: the interrupt only moves head, the reader tail. */
#define RX_RING_SIZE 1024
static volatile uint8_t rx_ring[RX_RING_SIZE];
static volatile uint32_t rx_head, rx_tail;
static volatile bool rx_by_interrupt;
static uint64_t rx_dropped;

void console_init(uint16_t port, uint32_t baud)
{
    console_io = port;
    console_speed = baud;
    uart_init(port, baud);
}

uint16_t console_port(void)
{
    return console_io;
}

uint32_t console_baud(void)
{
    return console_speed;
}

static void put_locked(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            uart_putc(console_io, '\r');
        uart_putc(console_io, s[i]);
    }
}

void console_write(const char *s, size_t n)
{
    uint64_t flags = spin_lock_irqsave(&console_lock);

    put_locked(s, n);
    spin_unlock_irqrestore(&console_lock, flags);
}

static void sink(void *ctx, const char *s, size_t n)
{
    put_locked(s, n);
}

int console_vprintf(const char *fmt, va_list ap)
{
    uint64_t flags = spin_lock_irqsave(&console_lock);
    int n = fmt_format(sink, NULL, fmt, ap);

    spin_unlock_irqrestore(&console_lock, flags);
    return n;
}

int console_printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int n = console_vprintf(fmt, ap);
    va_end(ap);
    return n;
}

void console_rx_drain(void)
{
    int c;

    while ((c = uart_getc(console_io)) >= 0) {
        if (rx_head - rx_tail < RX_RING_SIZE) {
            rx_ring[rx_head % RX_RING_SIZE] = (uint8_t)c;
            __atomic_store_n(&rx_head, rx_head + 1, __ATOMIC_RELEASE);
        } else {
            rx_dropped++;
        }
    }
}

void console_rx_by_interrupt(bool on)
{
    rx_by_interrupt = on;
}

int console_getc(void)
{
    /* Once the interrupt owns the UART, reading it here too could reorder
     * bytes against the interrupt. */
    if (!rx_by_interrupt)
        return uart_getc(console_io);
    if (rx_tail == __atomic_load_n(&rx_head, __ATOMIC_ACQUIRE))
        return -1;
    int c = rx_ring[rx_tail % RX_RING_SIZE];
    rx_tail++;
    return c;
}
