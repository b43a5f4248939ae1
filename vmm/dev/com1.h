/* SPDX-License-Identifier: MIT */
/*
 * The guest's console UART: a 16550A register model at COM1, complete enough
 * for Linux's 8250 driver to run it interrupt-driven. Output bytes go to a
 * callback and leave at once (the transmitter is infinitely fast, so THR and
 * the shift register are always empty after a write); input comes from the
 * host through com1_receive() into a 16-byte receive FIFO. The model drives
 * one interrupt line (com1_irq_level()) that the caller samples after every
 * access and after input and forwards to the interrupt controller (IOAPIC
 * pin 4 on a PC). There is no time model: the 16550's character-timeout
 * interrupt is reported as soon as the FIFO holds data below its trigger
 * level, instead of four character times later. Pure code, host-tested.
 */
#ifndef SIDECORE_VMM_DEV_COM1_H
#define SIDECORE_VMM_DEV_COM1_H

#include <stdbool.h>
#include <stdint.h>

#define COM1_FIFO_SIZE 16

struct com1 {
    uint8_t ier, lcr, mcr, scr, dll, dlm;
    uint8_t fcr;       /* FIFO enable (bit 0) and trigger level (bits 7:6) as last written */
    uint8_t lsr_errs;  /* LSR error bits (OE) until LSR is read */
    uint8_t msr_delta; /* MSR bits 3:0 until MSR is read */
    bool thre_pending; /* the THR-empty interrupt is latched */
    uint8_t rx[COM1_FIFO_SIZE];
    uint8_t rx_head, rx_count;
};

typedef void (*com1_out_fn)(void *ctx, char c);

void com1_reset(struct com1 *u);
/* offset: 0-7 from the base port. Reads have the 16550's side effects
 * (RBR pops the FIFO, IIR acknowledges THRE, LSR and MSR clear their
 * error/delta bits). */
uint8_t com1_read(struct com1 *u, unsigned offset);
/* A THR write outside loopback calls out(ctx, byte); in loopback the byte
 * goes to the receiver instead. */
void com1_write(struct com1 *u, unsigned offset, uint8_t value, com1_out_fn out, void *ctx);

/* Host input: queues byte for the guest. False when the receiver is full
 * (16 bytes with FIFOs on, 1 without) or the UART is in loopback: the caller
 * keeps the byte and offers it again later. */
bool com1_receive(struct com1 *u, uint8_t byte);
/* Whether com1_receive() would take a byte now. */
bool com1_can_receive(const struct com1 *u);

/* The level of the UART's interrupt output as a PC wires it: an enabled
 * interrupt condition is pending and MCR.OUT2 opens the gate (in loopback
 * the OUT2 pin is inactive, so the line is low). */
bool com1_irq_level(const struct com1 *u);

#endif
