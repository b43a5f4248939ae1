/* SPDX-License-Identifier: MIT */
#include "kernel/console/console.h"

#include <stdbool.h>

#include "kernel/console/console_async.h"
#include "kernel/console/msg_ring.h"
#include "kernel/console/ratelimit.h"
#include "kernel/console/uart16550.h"
#include "kernel/lib/fmt.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"
#include "kernel/time/clock.h"

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

/* The console CPU's own output (the shell's prompt and echo) left the
 * line open: a queued message printed now starts on a fresh line, so a
 * guest's or another CPU's line never runs on after "sidecore> ". */
static bool own_line_open;

static void put_locked(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            uart_putc(console_io, '\r');
        uart_putc(console_io, s[i]);
    }
}

static void put_own_locked(const char *s, size_t n)
{
    put_locked(s, n);
    if (n)
        own_line_open = s[n - 1] != '\n';
}

static void put_queued_locked(const char *s, size_t n)
{
    if (own_line_open && n) {
        put_locked("\n", 1);
        own_line_open = false;
    }
    put_locked(s, n);
}

/* A synchronous write first prints what others queued, up to this many
 * messages: enough to keep the order, bounded so that a guest flooding the
 * queue cannot keep the console CPU here with interrupts off. */
#define DRAIN_BEFORE_WRITE 64
/* Everything the ring can hold (records are at least 8 bytes), for panics. */
#define DRAIN_ALL 8192

/* Queued messages go out on the console CPU under the console lock; the
 * buffer is the lock's. */
static char drained[MSG_RING_MSG_MAX];

static size_t (*report_source)(char *line, size_t cap);
static char report_line[MSG_RING_MSG_MAX];

void console_set_report_source(size_t (*next)(char *line, size_t cap))
{
    __atomic_store_n(&report_source, next, __ATOMIC_RELEASE);
}

/* A due report, printed; false if none. */
static bool report_locked(void)
{
    size_t (*next)(char *, size_t) = __atomic_load_n(&report_source, __ATOMIC_ACQUIRE);
    size_t n = next ? next(report_line, sizeof(report_line)) : 0;

    if (n)
        put_queued_locked(report_line, n < sizeof(report_line) ? n : sizeof(report_line));
    return n != 0;
}

/* Prints queued messages and due reports, at most budget of them, and once
 * the queue is empty how many were dropped since the last report. True when
 * it stopped for the budget (more may be waiting). */
static bool drain_locked(unsigned budget)
{
    int n;

    for (; budget > 0; budget--) {
        n = console_async_take(drained, sizeof(drained));
        /* After the take: a report whose event made a guest write this
         * line is visible now, and goes first. */
        bool reported = report_locked();
        if (n < 0) {
            if (reported)
                continue;
            break;
        }
        put_queued_locked(drained, (size_t)n);
    }
    if (budget == 0)
        return true;
    unsigned long dropped = console_async_take_dropped();
    if (dropped) {
        n = fmt_snprintf(drained, sizeof(drained),
                         "sidecore: console buffer full: %lu messages dropped\n", dropped);
        put_queued_locked(drained, (size_t)n);
    }
    return false;
}

void console_write(const char *s, size_t n)
{
    if (console_async_wanted()) {
        /* Through a copy: a bad pointer faults here, not while a record in
         * the queue is half written. */
        char copy[MSG_RING_MSG_MAX];
        do {
            size_t chunk = n < sizeof(copy) ? n : sizeof(copy);
            memcpy(copy, s, chunk);
            console_async_put(copy, chunk);
            s += chunk;
            n -= chunk;
        } while (n);
        return;
    }
    uint64_t flags = spin_lock_irqsave(&console_lock);

    drain_locked(DRAIN_BEFORE_WRITE); /* what others queued comes first */
    put_own_locked(s, n);
    spin_unlock_irqrestore(&console_lock, flags);
}

void console_flush(void)
{
    uint64_t flags = spin_lock_irqsave(&console_lock);

    drain_locked(DRAIN_ALL);
    spin_unlock_irqrestore(&console_lock, flags);
}

bool console_drain(unsigned budget)
{
    bool more = false;

    console_async_rearm();
    /* One message per lock hold, so the receive interrupt is not held off
     * for the whole batch. */
    for (; budget > 0; budget--) {
        uint64_t flags = spin_lock_irqsave(&console_lock);
        more = drain_locked(1);
        spin_unlock_irqrestore(&console_lock, flags);
        if (!more)
            break;
    }
    return more;
}

static void sink(void *ctx, const char *s, size_t n)
{
    put_own_locked(s, n);
}

/* What one queued printf may hold; longer output is cut. */
#define QUEUED_PRINTF_MAX 512

static int queue_vprintf(const char *fmt, va_list ap);

int console_vprintf(const char *fmt, va_list ap)
{
    if (console_async_wanted())
        return queue_vprintf(fmt, ap);
    uint64_t flags = spin_lock_irqsave(&console_lock);
    drain_locked(DRAIN_BEFORE_WRITE);
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

static int queue_vprintf(const char *fmt, va_list ap)
{
    char text[QUEUED_PRINTF_MAX];
    int len = fmt_vsnprintf(text, sizeof(text), fmt, ap);

    console_async_put(text, len < (int)sizeof(text) ? (size_t)len : sizeof(text) - 1);
    return len;
}

int console_async_printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int n = queue_vprintf(fmt, ap);
    va_end(ap);
    return n;
}

void console_async_printf_limited(struct ratelimit *rl, const char *fmt, ...)
{
    va_list ap;
    uint64_t suppressed;

    /* +1: the limiter reads a start time of 0 as "no window yet". */
    if (!ratelimit_allow(rl, clock_uptime_ns() + 1, &suppressed))
        return;
    if (suppressed)
        console_async_printf("sidecore: (suppressed %lu similar messages)\n",
                             (unsigned long)suppressed);
    va_start(ap, fmt);
    queue_vprintf(fmt, ap);
    va_end(ap);
}
