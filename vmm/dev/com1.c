/* SPDX-License-Identifier: MIT */
/*
 * The 16550A register model behind vmm/dev/com1.h. Interrupt state is not
 * stored as such but derived from the FIFO, the latched error and delta
 * bits and the THRE latch each time IIR or the interrupt line is asked for,
 * so the four sources always agree with the registers a driver reads.
 */
#include "vmm/dev/com1.h"

#define LCR_DLAB 0x80

#define IER_ERBFI 0x01 /* received data available */
#define IER_ETBEI 0x02 /* transmitter holding register empty */
#define IER_ELSI  0x04 /* receiver line status */
#define IER_EDSSI 0x08 /* modem status */

#define IIR_NONE    0x01
#define IIR_MSR     0x00
#define IIR_THRE    0x02
#define IIR_RDA     0x04
#define IIR_LSR     0x06
#define IIR_TIMEOUT 0x0c
#define IIR_FIFO_ON 0xc0

#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02

#define LSR_DR   0x01
#define LSR_OE   0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERRS 0x1e /* OE, PE, FE, BI: the line status interrupt sources */

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define MSR_CTS  0x10
#define MSR_DSR  0x20
#define MSR_RI   0x40
#define MSR_DCD  0x80
#define MSR_TERI 0x04

static bool fifo_on(const struct com1 *u)
{
    return u->fcr & FCR_ENABLE;
}

static unsigned rx_capacity(const struct com1 *u)
{
    return fifo_on(u) ? COM1_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct com1 *u)
{
    static const uint8_t levels[4] = {1, 4, 8, 14};
    return levels[u->fcr >> 6];
}

/* The modem inputs: in loopback they follow the MCR outputs (DTR->DSR,
 * RTS->CTS, OUT1->RI, OUT2->DCD); otherwise the line is always up. */
static uint8_t modem_inputs(const struct com1 *u)
{
    if (u->mcr & MCR_LOOP) {
        uint8_t in = 0;
        if (u->mcr & MCR_DTR)
            in |= MSR_DSR;
        if (u->mcr & MCR_RTS)
            in |= MSR_CTS;
        if (u->mcr & MCR_OUT1)
            in |= MSR_RI;
        if (u->mcr & MCR_OUT2)
            in |= MSR_DCD;
        return in;
    }
    return MSR_CTS | MSR_DSR | MSR_DCD;
}

/* Delta bits for a change of the modem inputs: DCTS, DDSR, DDCD on any
 * change, TERI only when RI goes from on to off. */
static uint8_t modem_deltas(uint8_t before, uint8_t after)
{
    uint8_t changed = before ^ after, d = 0;
    if (changed & MSR_CTS)
        d |= 0x01;
    if (changed & MSR_DSR)
        d |= 0x02;
    if ((before & MSR_RI) && !(after & MSR_RI))
        d |= MSR_TERI;
    if (changed & MSR_DCD)
        d |= 0x08;
    return d;
}

/* Places a byte in the receiver; on overflow the byte is lost and OE set,
 * as the hardware does when its shift register completes into a full FIFO. */
static void rx_push(struct com1 *u, uint8_t byte)
{
    if (u->rx_count >= rx_capacity(u)) {
        u->lsr_errs |= LSR_OE;
        return;
    }
    u->rx[(u->rx_head + u->rx_count) % COM1_FIFO_SIZE] = byte;
    u->rx_count++;
}

static uint8_t rx_pop(struct com1 *u)
{
    if (!u->rx_count)
        return 0;
    uint8_t byte = u->rx[u->rx_head];
    u->rx_head = (uint8_t)((u->rx_head + 1) % COM1_FIFO_SIZE);
    u->rx_count--;
    return byte;
}

static void rx_clear(struct com1 *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
}

/* The highest-priority enabled interrupt source, as IIR bits 3:0. */
static uint8_t pending_source(const struct com1 *u)
{
    if ((u->ier & IER_ELSI) && (u->lsr_errs & LSR_ERRS))
        return IIR_LSR;
    if ((u->ier & IER_ERBFI) && u->rx_count) {
        if (!fifo_on(u) || u->rx_count >= rx_trigger(u))
            return IIR_RDA;
        return IIR_TIMEOUT;
    }
    if ((u->ier & IER_ETBEI) && u->thre_pending)
        return IIR_THRE;
    if ((u->ier & IER_EDSSI) && (u->msr_delta & 0x0f))
        return IIR_MSR;
    return IIR_NONE;
}

void com1_reset(struct com1 *u)
{
    *u = (struct com1){.dll = 1}; /* 115200 baud */
}

uint8_t com1_read(struct com1 *u, unsigned offset)
{
    bool dlab = u->lcr & LCR_DLAB;

    switch (offset) {
    case 0: return dlab ? u->dll : rx_pop(u);
    case 1: return dlab ? u->dlm : u->ier;
    case 2: {
        uint8_t source = pending_source(u);
        /* Reading IIR acknowledges THRE, but only when it is what IIR shows. */
        if (source == IIR_THRE)
            u->thre_pending = false;
        return (uint8_t)(source | (fifo_on(u) ? IIR_FIFO_ON : 0));
    }
    case 3: return u->lcr;
    case 4: return u->mcr;
    case 5: {
        uint8_t lsr = (uint8_t)(LSR_THRE | LSR_TEMT | u->lsr_errs);
        if (u->rx_count)
            lsr |= LSR_DR;
        u->lsr_errs = 0;
        return lsr;
    }
    case 6: {
        uint8_t msr = (uint8_t)(modem_inputs(u) | u->msr_delta);
        u->msr_delta = 0;
        return msr;
    }
    case 7: return u->scr;
    default: return 0xff;
    }
}

static void write_ier(struct com1 *u, uint8_t value)
{
    uint8_t old = u->ier;

    u->ier = value & 0x0f;
    /* Enabling ETBEI while THR is empty (it always is) raises THRE anew;
     * Linux's THRE test relies on that. */
    if ((u->ier & IER_ETBEI) && !(old & IER_ETBEI))
        u->thre_pending = true;
    else if (!(u->ier & IER_ETBEI))
        u->thre_pending = false;
}

static void write_fcr(struct com1 *u, uint8_t value)
{
    /* Turning the FIFOs on or off empties them. */
    if ((value ^ u->fcr) & FCR_ENABLE)
        rx_clear(u);
    if (value & FCR_CLEAR_RX)
        rx_clear(u);
    /* Bit 2 clears the transmit FIFO, which is always empty here. */
    u->fcr = value & (FCR_ENABLE | 0xc0);
    if (!(u->fcr & FCR_ENABLE))
        u->fcr = 0;
}

static void write_mcr(struct com1 *u, uint8_t value)
{
    uint8_t before = modem_inputs(u);

    u->mcr = value & 0x1f;
    u->msr_delta |= modem_deltas(before, modem_inputs(u));
}

void com1_write(struct com1 *u, unsigned offset, uint8_t value, com1_out_fn out, void *ctx)
{
    bool dlab = u->lcr & LCR_DLAB;

    switch (offset) {
    case 0:
        if (dlab) {
            u->dll = value;
            break;
        }
        if (u->mcr & MCR_LOOP)
            rx_push(u, value);
        else
            out(ctx, (char)value);
        /* Writing THR clears THRE; the byte leaves at once and THR is
         * empty again, which raises it. */
        u->thre_pending = (u->ier & IER_ETBEI) != 0;
        break;
    case 1:
        if (dlab)
            u->dlm = value;
        else
            write_ier(u, value);
        break;
    case 2: write_fcr(u, value); break;
    case 3: u->lcr = value; break;
    case 4: write_mcr(u, value); break;
    case 7: u->scr = value; break;
    default: break; /* LSR and MSR are read-only */
    }
}

bool com1_can_receive(const struct com1 *u)
{
    return !(u->mcr & MCR_LOOP) && u->rx_count < rx_capacity(u);
}

bool com1_receive(struct com1 *u, uint8_t byte)
{
    if (!com1_can_receive(u))
        return false;
    rx_push(u, byte);
    return true;
}

bool com1_irq_level(const struct com1 *u)
{
    if (!(u->mcr & MCR_OUT2) || (u->mcr & MCR_LOOP))
        return false;
    return pending_source(u) != IIR_NONE;
}
