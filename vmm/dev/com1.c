/* SPDX-License-Identifier: MIT */
#include "vmm/dev/com1.h"

#include <stdbool.h>

#define LCR_DLAB 0x80
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS  0x10
#define MSR_DSR  0x20
#define MSR_DCD  0x80
#define MCR_LOOP 0x10

void com1_reset(struct com1 *u)
{
    *u = (struct com1){.dll = 1}; /* 115200 baud */
}

uint8_t com1_read(struct com1 *u, unsigned offset)
{
    bool dlab = u->lcr & LCR_DLAB;

    switch (offset) {
    case 0: return dlab ? u->dll : 0; /* no input */
    case 1: return dlab ? u->dlm : u->ier;
    case 2: return (u->fcr & 1) ? 0xc1 : 0x01; /* no interrupt pending */
    case 3: return u->lcr;
    case 4: return u->mcr;
    case 5: return LSR_THRE | LSR_TEMT;
    case 6:
        /* In loopback the modem inputs mirror the outputs (drivers probe
         * with it); otherwise the line is up. */
        if (u->mcr & MCR_LOOP)
            return (uint8_t)(((u->mcr & 0x02) << 3) | ((u->mcr & 0x01) << 5) |
                             ((u->mcr & 0x08) << 4) | ((u->mcr & 0x04) << 4));
        return MSR_CTS | MSR_DSR | MSR_DCD;
    case 7: return u->scr;
    default: return 0xff;
    }
}

void com1_write(struct com1 *u, unsigned offset, uint8_t value, com1_out_fn out, void *ctx)
{
    bool dlab = u->lcr & LCR_DLAB;

    switch (offset) {
    case 0:
        if (dlab)
            u->dll = value;
        else if (!(u->mcr & MCR_LOOP))
            out(ctx, (char)value);
        break;
    case 1:
        if (dlab)
            u->dlm = value;
        else
            u->ier = value & 0x0f;
        break;
    case 2: u->fcr = value; break;
    case 3: u->lcr = value; break;
    case 4: u->mcr = value & 0x1f; break;
    case 7: u->scr = value; break;
    default: break; /* LSR and MSR are read-only */
    }
}
