/* SPDX-License-Identifier: MIT */
/*
 * The guest's i8042 keyboard controller, only as much as a Linux guest
 * touches: the status port, the controller commands it probes with (self
 * test, command byte, port enable/disable, interface tests, loop-back
 * writes) and the reset line, which is how many kernels and firmwares
 * reboot. No keyboard is attached and there is no AUX (mouse) port: bytes
 * written for the keyboard are dropped, "enable AUX" leaves the AUX-disable
 * bit of the command byte set (so Linux's bit-assignment test concludes
 * there is no AUX port), and no interrupt is ever raised. Pure code,
 * host-tested.
 */
#ifndef SIDECORE_VMM_DEV_I8042_H
#define SIDECORE_VMM_DEV_I8042_H

#include <stdbool.h>
#include <stdint.h>

#define I8042_PORT_DATA   0x60
#define I8042_PORT_STATUS 0x64 /* read: status; write: command */

#define I8042_STR_OBF  0x01 /* output buffer full */
#define I8042_STR_SYS  0x04 /* system flag (self test passed) */
#define I8042_STR_CMD  0x08 /* last write was to the command port */
#define I8042_STR_KEYL 0x10 /* keyboard not inhibited */
#define I8042_STR_AUXB 0x20 /* output buffer holds AUX data */

#define I8042_CTR_KBDINT 0x01
#define I8042_CTR_SYS    0x04
#define I8042_CTR_KBDDIS 0x10
#define I8042_CTR_AUXDIS 0x20
#define I8042_CTR_XLATE  0x40

struct i8042 {
    uint8_t status;
    uint8_t ctr;         /* the controller's command byte */
    uint8_t out;         /* output buffer (valid when status has OBF) */
    uint8_t expect;      /* the command whose data byte comes next, or 0 */
    uint8_t output_port; /* bit 0: reset line (0 = held in reset), bit 1: A20 */
};

enum i8042_event {
    I8042_NONE,
    I8042_RESET, /* the guest pulsed or drove the CPU reset line */
};

void i8042_reset(struct i8042 *k);
/* port: I8042_PORT_DATA or I8042_PORT_STATUS; anything else reads 0xff and
 * is ignored. */
uint8_t i8042_read(struct i8042 *k, uint16_t port);
enum i8042_event i8042_write(struct i8042 *k, uint16_t port, uint8_t value);

#endif
