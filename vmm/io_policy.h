/* SPDX-License-Identifier: MIT */
/*
 * What a guest's port I/O does, as one table (io_policy.c) that drives both
 * the two VMX I/O bitmaps and the I/O exit handler. A guest owns no port:
 * every port exits by default, and the handler then serves it from the
 * table (a device model, a reset request) or treats it as absent (reads
 * return all ones, writes are dropped, the first access to each port is
 * logged once). Pure logic: builds for the host so it can be unit tested.
 */
#ifndef SIDECORE_VMM_IO_POLICY_H
#define SIDECORE_VMM_IO_POLICY_H

#include <stdbool.h>
#include <stdint.h>

enum io_action {
    IO_IGNORE = 0, /* absent: reads all ones, writes dropped */
    IO_PASS,       /* no exit: the guest drives the real port (none by default) */
    IO_SERIAL,     /* the guest's console UART (COM1), emulated by the exit handler */
    IO_RESET,      /* a reset request may arrive here (io_reset_requested()); other
                      writes are dropped, reads return 0: no key data, no reset pending */
    IO_PM,         /* ACPI PM1 event/control and PM timer block (io_pm1_sleep_type()) */
    IO_RTC,        /* MC146818 RTC/CMOS index and data (vmm/dev/rtc.c) */
    IO_I8042,      /* keyboard controller: data and command/status (vmm/dev/i8042.c) */
    IO_PCI,        /* PCI configuration mechanism #1 (vmm/dev/pci_host.c) */
    IO_ZERO,       /* absent, but where all ones would mean something: reads 0,
                      writes dropped (the ELCR: all ones would make every ISA
                      interrupt level-triggered) */
};

struct io_policy_entry {
    uint16_t first, last; /* inclusive */
    const char *name;
    uint8_t action; /* enum io_action */
    bool log_first; /* IO_IGNORE: log the first access to each port */
    const char *why;
};

#define IO_COM1_BASE   0x3f8
#define IO_POST_PORT   0x80
#define IO_DELAY_PORT  0xed  /* Linux's io_delay=0xed */
#define IO_ELCR        0x4d0 /* edge/level control, 0x4d0-0x4d1 */
#define IO_I8042_DATA  0x60
#define IO_I8042_CMD   0x64
#define IO_RTC_INDEX   0x70
#define IO_RTC_DATA    0x71
#define IO_PCI_ADDRESS 0xcf8
#define IO_PCI_DATA    0xcfc
#define IO_RESET_CTRL  0xcf9 /* PCI reset control register */
/* The guest's ACPI PM block; the guest's FADT must use the same ports. */
#define IO_PM_BASE  0x600
#define IO_PM1A_EVT (IO_PM_BASE + 0) /* PM1a_EVT_BLK: status, enable (4 bytes) */
#define IO_PM1A_CNT (IO_PM_BASE + 4) /* PM1a_CNT_BLK (2 bytes) */
#define IO_PM_TMR   (IO_PM_BASE + 8) /* PM_TMR_BLK (4 bytes) */
#define IO_PM_LAST  (IO_PM_BASE + 11)

/* The table, for a shell listing; count in *n. */
const struct io_policy_entry *io_policy_table(unsigned *n);

/* The entry for port; never NULL: an unlisted port gets an IO_IGNORE default
 * entry named "unknown" that logs its first access. */
const struct io_policy_entry *io_policy_lookup(uint16_t port);

/* Fills bitmap A (ports 0-0x7fff) and B (0x8000-0xffff): a set bit exits.
 * Only IO_PASS entries clear bits. io_bitmaps_build_from takes another table. */
void io_bitmaps_build(uint8_t a[4096], uint8_t b[4096]);
void io_bitmaps_build_from(const struct io_policy_entry *table, unsigned n, uint8_t a[4096],
                           uint8_t b[4096]);

/* Whether an access of size bytes (1, 2, 4) at port exits under the bitmaps,
 * as the CPU decides it: any covered port's bit set, or wrapping past 0xffff. */
bool io_bitmaps_exit(const uint8_t a[4096], const uint8_t b[4096], uint16_t port, unsigned size);

/* The value an absent port reads as: all ones in the access size. */
uint32_t io_absent_value(unsigned size);

/* Whether a write of value to port asks for a platform reset: 0xcf9 with
 * the reset bit (bit 2) set, or the i8042 "pulse reset line" command 0xfe
 * to port 0x64. */
bool io_reset_requested(uint16_t port, unsigned size, uint32_t value);

/* For a write to PM1a_CNT: the SLP_TYP the guest enters if SLP_EN is set
 * (compare with the \_S5 value of the guest's DSDT), else -1. */
int io_pm1_sleep_type(uint16_t value);

/* Per-guest record of the ports already reported. */
struct io_seen {
    uint8_t bits[65536 / 8];
};

void io_seen_reset(struct io_seen *seen);

/* Marks port as seen; true the first time (so the handler logs it once). */
bool io_seen_first(struct io_seen *seen, uint16_t port);

#endif
