/* SPDX-License-Identifier: MIT */
/*
 * The guest's console UART: a 16550 register model at COM1. Output bytes go
 * to a callback; it always reads as ready to transmit, with no input yet.
 * Pure code, host-tested.
 */
#ifndef SIDECORE_VMM_DEV_COM1_H
#define SIDECORE_VMM_DEV_COM1_H

#include <stdint.h>

struct com1 {
    uint8_t ier, fcr, lcr, mcr, scr, dll, dlm;
};

typedef void (*com1_out_fn)(void *ctx, char c);

void com1_reset(struct com1 *u);
/* offset: 0-7 from the base port. */
uint8_t com1_read(struct com1 *u, unsigned offset);
void com1_write(struct com1 *u, unsigned offset, uint8_t value, com1_out_fn out, void *ctx);

#endif
