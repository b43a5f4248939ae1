/* SPDX-License-Identifier: MIT */
/*
 * The port I/O policy table and its bitmaps (see io_policy.h). Every port
 * exits: a partition's cores are the guest's, but the platform's ports are
 * shared with the hypervisor and the other guests, so no guest gets one.
 */
#include "vmm/io_policy.h"

#include "kernel/lib/string.h"

/* clang-format off */
static const struct io_policy_entry io_table[] = {
    /* first          last            name          action     log    why */
    {0x00,            0x1f,           "DMA1",       IO_IGNORE, false, "8237 DMA controller 1 (and its neighbours): no ISA DMA; the floppy driver probes it"},
    {0x20,            0x21,           "PIC1",       IO_IGNORE, false, "no 8259s: Linux probes them and finds none (reads 0xff)"},
    {0x2e,            0x2f,           "SuperIO-1",  IO_IGNORE, false, "Super I/O config index/data: Linux probes it at boot (no chip: reads 0xff)"},
    {0x40,            0x43,           "PIT",        IO_IGNORE, false, "no 8254: the guest has the TSC-deadline APIC timer and a known TSC rate"},
    {0x4e,            0x4f,           "SuperIO-2",  IO_IGNORE, false, "Super I/O alternative config ports, probed likewise"},
    {IO_I8042_DATA,   IO_I8042_DATA,  "i8042-data", IO_I8042,  false, "keyboard controller data (no keyboard behind it)"},
    {0x61,            0x61,           "NMI-SC",     IO_IGNORE, false, "PC speaker / NMI status: nothing behind it"},
    {IO_I8042_CMD,    IO_I8042_CMD,   "i8042-cmd",  IO_I8042,  false, "keyboard controller command/status: 0xfe pulses the reset line"},
    {IO_RTC_INDEX,    IO_RTC_DATA,    "RTC",        IO_RTC,    false, "CMOS clock: the guest reads the time of day at boot"},
    {IO_POST_PORT,    IO_POST_PORT,   "POST",       IO_IGNORE, false, "POST codes and Linux's I/O delay: expected, dropped silently"},
    {0x81,            0x8f,           "DMA-page",   IO_IGNORE, false, "DMA page registers: no ISA DMA (some firmware writes POST codes here too)"},
    {0x92,            0x92,           "sysctl-A",   IO_IGNORE, false, "system control port A (fast A20, fast reset): A20 is always on; writes never reset"},
    {0xa0,            0xa1,           "PIC2",       IO_IGNORE, false, "no 8259s (see PIC1)"},
    {0xc0,            0xdf,           "DMA2",       IO_IGNORE, false, "8237 DMA controller 2: no ISA DMA"},
    {IO_DELAY_PORT,   IO_DELAY_PORT,  "delay",      IO_IGNORE, false, "the alternative I/O delay port (io_delay=0xed): a write and nothing else"},
    {0x2e8,           0x2ef,          "COM4",       IO_IGNORE, false, "legacy serial port Linux's 8250 driver probes at boot: absent"},
    {0x2f8,           0x2ff,          "COM2",       IO_IGNORE, false, "legacy serial port Linux's 8250 driver probes at boot: absent"},
    {0x3e8,           0x3ef,          "COM3",       IO_IGNORE, false, "legacy serial port Linux's 8250 driver probes at boot: absent"},
    {IO_COM1_BASE,    IO_COM1_BASE + 7, "COM1",     IO_SERIAL, false, "the guest's console: a 16550 emulated by the hypervisor"},
    {IO_ELCR,         IO_ELCR + 1,    "ELCR",       IO_ZERO,   false, "8259 edge/level control: reads 0 (every ISA interrupt edge-triggered), writes dropped"},
    {IO_PM_BASE,      IO_PM_LAST,     "ACPI-PM",    IO_PM,     false, "PM1a event/control and PM timer the guest's FADT points to"},
    {IO_PCI_ADDRESS,  IO_PCI_ADDRESS, "pci-address", IO_PCI,   false, "PCI configuration address (dword)"},
    {IO_RESET_CTRL,   IO_RESET_CTRL,  "reset-ctrl", IO_RESET,  false, "PCI reset control (byte): bit 2 resets the machine (the guest asks to reboot)"},
    {IO_RESET_CTRL + 1, IO_PCI_DATA + 3, "pci-data", IO_PCI,   false, "PCI configuration data (and the rest of the address dword)"},
};
/* clang-format on */

static const struct io_policy_entry io_unknown = {
    0, 0xffff, "unknown", IO_IGNORE, true, "no device: reads all ones, writes dropped, logged once",
};

const struct io_policy_entry *io_policy_table(unsigned *n)
{
    *n = sizeof(io_table) / sizeof(io_table[0]);
    return io_table;
}

const struct io_policy_entry *io_policy_lookup(uint16_t port)
{
    for (unsigned i = 0; i < sizeof(io_table) / sizeof(io_table[0]); i++) {
        if (port >= io_table[i].first && port <= io_table[i].last)
            return &io_table[i];
    }
    return &io_unknown;
}

void io_bitmaps_build_from(const struct io_policy_entry *table, unsigned n, uint8_t a[4096],
                           uint8_t b[4096])
{
    memset(a, 0xff, 4096);
    memset(b, 0xff, 4096);
    for (unsigned i = 0; i < n; i++) {
        if (table[i].action != IO_PASS)
            continue;
        for (uint32_t p = table[i].first; p <= table[i].last; p++) {
            uint8_t *map = p < 0x8000 ? a : b;
            uint32_t bit = p & 0x7fff;
            map[bit / 8] &= (uint8_t) ~(1u << (bit % 8));
        }
    }
}

void io_bitmaps_build(uint8_t a[4096], uint8_t b[4096])
{
    io_bitmaps_build_from(io_table, sizeof(io_table) / sizeof(io_table[0]), a, b);
}

bool io_bitmaps_exit(const uint8_t a[4096], const uint8_t b[4096], uint16_t port, unsigned size)
{
    if ((uint32_t)port + size > 0x10000)
        return true;
    for (uint32_t p = port; p < (uint32_t)port + size; p++) {
        const uint8_t *map = p < 0x8000 ? a : b;
        uint32_t bit = p & 0x7fff;
        if ((map[bit / 8] >> (bit % 8)) & 1)
            return true;
    }
    return false;
}

uint32_t io_absent_value(unsigned size)
{
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

#define RESET_CTRL_RST_CPU (1u << 2)
#define I8042_PULSE_RESET  0xfe

bool io_reset_requested(uint16_t port, unsigned size, uint32_t value)
{
    if (port == IO_RESET_CTRL && size == 1)
        return value & RESET_CTRL_RST_CPU;
    if (port == IO_I8042_CMD && size == 1)
        return (value & 0xff) == I8042_PULSE_RESET;
    return false;
}

#define PM1_SLP_EN        (1u << 13)
#define PM1_SLP_TYP_SHIFT 10

int io_pm1_sleep_type(uint16_t value)
{
    if (!(value & PM1_SLP_EN))
        return -1;
    return (value >> PM1_SLP_TYP_SHIFT) & 7;
}

void io_seen_reset(struct io_seen *seen)
{
    memset(seen->bits, 0, sizeof(seen->bits));
}

bool io_seen_first(struct io_seen *seen, uint16_t port)
{
    uint8_t mask = (uint8_t)(1u << (port % 8));
    if (seen->bits[port / 8] & mask)
        return false;
    seen->bits[port / 8] |= mask;
    return true;
}
