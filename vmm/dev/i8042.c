/* SPDX-License-Identifier: MIT */
/*
 * The i8042 model behind vmm/dev/i8042.h. Replies go to a one-byte output
 * buffer, as on the real controller: a reply not read before the next one
 * is simply overwritten, which the drivers tolerate because they flush
 * first and read each reply before issuing the next command.
 */
#include "vmm/dev/i8042.h"

#define CMD_READ_CTR       0x20
#define CMD_WRITE_CTR      0x60
#define CMD_AUX_DISABLE    0xa7
#define CMD_AUX_ENABLE     0xa8
#define CMD_AUX_TEST       0xa9
#define CMD_SELF_TEST      0xaa
#define CMD_KBD_TEST       0xab
#define CMD_KBD_DISABLE    0xad
#define CMD_KBD_ENABLE     0xae
#define CMD_READ_INPUT     0xc0
#define CMD_READ_OUTPUT    0xd0
#define CMD_WRITE_OUTPUT   0xd1
#define CMD_WRITE_KBD_OBUF 0xd2
#define CMD_WRITE_AUX_OBUF 0xd3
#define CMD_WRITE_AUX      0xd4

#define SELF_TEST_OK 0x55
#define AUX_ABSENT   0xff /* the AUX interface test's "general error" */

void i8042_reset(struct i8042 *k)
{
    /* As firmware leaves it: self test done, keyboard interrupt and
     * translation on, no AUX port. */
    *k = (struct i8042){
        .status = I8042_STR_SYS | I8042_STR_KEYL,
        .ctr = I8042_CTR_KBDINT | I8042_CTR_SYS | I8042_CTR_AUXDIS | I8042_CTR_XLATE,
        .output_port = 0x03,
    };
}

static void reply(struct i8042 *k, uint8_t byte, bool aux)
{
    k->out = byte;
    k->status |= I8042_STR_OBF;
    if (aux)
        k->status |= I8042_STR_AUXB;
    else
        k->status &= (uint8_t)~I8042_STR_AUXB;
}

uint8_t i8042_read(struct i8042 *k, uint16_t port)
{
    if (port == I8042_PORT_STATUS)
        return k->status;
    if (port != I8042_PORT_DATA)
        return 0xff;
    k->status &= (uint8_t) ~(I8042_STR_OBF | I8042_STR_AUXB);
    return k->out;
}

static void set_ctr(struct i8042 *k, uint8_t ctr)
{
    k->ctr = ctr;
    if (ctr & I8042_CTR_SYS)
        k->status |= I8042_STR_SYS;
    else
        k->status &= (uint8_t)~I8042_STR_SYS;
}

static enum i8042_event command(struct i8042 *k, uint8_t cmd)
{
    /* 0xf0-0xff pulse output port lines 3:0 low for each clear bit of the
     * low nibble; line 0 is the CPU reset. */
    if ((cmd & 0xf0) == 0xf0)
        return (cmd & 0x01) ? I8042_NONE : I8042_RESET;
    /* 0x20-0x3f read internal RAM bytes, 0x60-0x7f write them; byte 0 is
     * the command byte and the rest are not modelled. */
    if (cmd >= 0x20 && cmd <= 0x3f) {
        reply(k, cmd == CMD_READ_CTR ? k->ctr : 0x00, false);
        return I8042_NONE;
    }
    if (cmd >= 0x60 && cmd <= 0x7f) {
        k->expect = cmd;
        return I8042_NONE;
    }
    switch (cmd) {
    case CMD_AUX_DISABLE: set_ctr(k, k->ctr | I8042_CTR_AUXDIS); break;
    case CMD_AUX_ENABLE: break; /* there is no AUX port to enable */
    case CMD_AUX_TEST: reply(k, AUX_ABSENT, false); break;
    case CMD_SELF_TEST:
        k->status |= I8042_STR_SYS;
        reply(k, SELF_TEST_OK, false);
        break;
    case CMD_KBD_TEST: reply(k, 0x00, false); break; /* interface fine */
    case CMD_KBD_DISABLE: set_ctr(k, k->ctr | I8042_CTR_KBDDIS); break;
    case CMD_KBD_ENABLE: set_ctr(k, k->ctr & (uint8_t)~I8042_CTR_KBDDIS); break;
    case CMD_READ_INPUT: reply(k, 0xa0, false); break; /* keyboard not locked */
    case CMD_READ_OUTPUT: reply(k, k->output_port, false); break;
    case CMD_WRITE_OUTPUT:
    case CMD_WRITE_KBD_OBUF:
    case CMD_WRITE_AUX_OBUF:
    case CMD_WRITE_AUX: k->expect = cmd; break;
    default: break; /* unknown: ignored like a controller without it */
    }
    return I8042_NONE;
}

static enum i8042_event data(struct i8042 *k, uint8_t value)
{
    uint8_t cmd = k->expect;

    k->expect = 0;
    switch (cmd) {
    case 0: return I8042_NONE; /* a keyboard command: no keyboard answers */
    case CMD_WRITE_CTR: set_ctr(k, value); return I8042_NONE;
    case CMD_WRITE_OUTPUT: k->output_port = value; return (value & 0x01) ? I8042_NONE : I8042_RESET;
    case CMD_WRITE_KBD_OBUF: reply(k, value, false); return I8042_NONE;
    case CMD_WRITE_AUX_OBUF: reply(k, value, true); return I8042_NONE;
    default: return I8042_NONE; /* other RAM bytes, AUX device bytes */
    }
}

enum i8042_event i8042_write(struct i8042 *k, uint16_t port, uint8_t value)
{
    if (port == I8042_PORT_STATUS) {
        k->status |= I8042_STR_CMD;
        k->expect = 0;
        return command(k, value);
    }
    if (port == I8042_PORT_DATA) {
        k->status &= (uint8_t)~I8042_STR_CMD;
        return data(k, value);
    }
    return I8042_NONE;
}
