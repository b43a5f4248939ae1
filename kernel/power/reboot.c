/* SPDX-License-Identifier: MIT */
/*
 * Machine reset, most polite method first. The ACPI reset register is what
 * the firmware asks an OS to use; 0xCF9 is the reset control register of
 * Intel (and compatible) chipsets; the 8042's pulse-reset command works on
 * machines that still have one (or emulate it); a triple fault resets every
 * x86 CPU the firmware left in a normal state. Each method gets a short wait
 * to take effect before the next one is tried.
 */
#include "kernel/power/reboot.h"

#include <stdint.h>

#include "kernel/acpi/acpi.h"
#include "kernel/console/log.h"
#include "kernel/mm/paging.h"
#include "kernel/x86/cpu.h"

#define RESET_CONTROL_PORT 0xcf9
#define RST_SYS_RST        0x02 /* full (not CPU-only) reset on the next RST_CPU edge */
#define RST_CPU            0x04

#define KBC_STATUS          0x64
#define KBC_COMMAND         0x64
#define KBC_STATUS_IBF      0x02 /* input buffer full: controller busy */
#define KBC_CMD_PULSE_RESET 0xfe

/* Roughly 100 ms: port 0x80 writes take about a microsecond each. */
static void reset_wait(void)
{
    for (int i = 0; i < 100000; i++)
        io_wait();
}

static void pci_config_write8_bus0(uint64_t address, uint8_t value)
{
    /* GAS address for PCI config: device [47:32], function [31:16],
     * offset [15:0], always segment 0 bus 0 (ACPI 6.x, 5.2.3.2). */
    uint32_t dev = (uint32_t)(address >> 32) & 0x1f;
    uint32_t func = (uint32_t)(address >> 16) & 0x7;
    uint32_t off = (uint32_t)address & 0xff;

    outl(0xcf8, 0x80000000u | (dev << 11) | (func << 8) | (off & 0xfc));
    outb((uint16_t)(0xcfc + (off & 3)), value);
}

static void try_acpi_reset(void)
{
    const struct acpi_info *info = acpi_info();
    const struct acpi_fadt_info *f = &info->fadt;
    const struct acpi_gas *r = &f->reset_reg;

    if (!f->present || !f->has_reset_reg || !f->reset_supported) {
        log_info("reboot: no ACPI reset register");
        return;
    }
    switch (r->space_id) {
    case ACPI_GAS_SPACE_IO:
        log_info("reboot: ACPI reset register (I/O port %lx <- %02x)", (unsigned long)r->address,
                 f->reset_value);
        outb((uint16_t)r->address, f->reset_value);
        break;
    case ACPI_GAS_SPACE_MEMORY:
        log_info("reboot: ACPI reset register (memory %lx <- %02x)", (unsigned long)r->address,
                 f->reset_value);
        *(volatile uint8_t *)paging_map_mmio(r->address, 1) = f->reset_value;
        break;
    case ACPI_GAS_SPACE_PCI:
        log_info("reboot: ACPI reset register (PCI config %lx <- %02x)", (unsigned long)r->address,
                 f->reset_value);
        pci_config_write8_bus0(r->address, f->reset_value);
        break;
    default:
        log_info("reboot: ACPI reset register in address space %u: not supported", r->space_id);
        return;
    }
    reset_wait();
}

static void try_cf9_reset(void)
{
    log_info("reboot: reset control port 0xcf9");
    outb(RESET_CONTROL_PORT, RST_SYS_RST);
    io_wait();
    outb(RESET_CONTROL_PORT, RST_SYS_RST | RST_CPU);
    reset_wait();
}

static void try_keyboard_controller_reset(void)
{
    log_info("reboot: keyboard controller pulse (0xfe to port 0x64)");
    for (int i = 0; i < 100000 && (inb(KBC_STATUS) & KBC_STATUS_IBF); i++)
        io_wait();
    outb(KBC_COMMAND, KBC_CMD_PULSE_RESET);
    reset_wait();
}

static __attribute__((noreturn)) void triple_fault(void)
{
    static const struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) empty_idt = {0, 0};

    log_info("reboot: triple fault");
    /* With no IDT the breakpoint cannot be delivered, nor can the resulting
     * double fault: the CPU shuts down and the chipset resets it. */
    asm volatile("lidt %0; int3" : : "m"(empty_idt) : "memory");
    cpu_halt_forever();
}

static reboot_hook_fn hooks[REBOOT_MAX_HOOKS];
static unsigned hook_count;

void reboot_register_hook(reboot_hook_fn fn)
{
    if (hook_count == REBOOT_MAX_HOOKS) {
        log_error("reboot: too many shutdown hooks; one is not registered");
        return;
    }
    hooks[hook_count++] = fn;
}

void reboot_machine(void)
{
    for (unsigned i = 0; i < hook_count; i++)
        hooks[i]();
    irq_disable();
    try_acpi_reset();
    try_cf9_reset();
    try_keyboard_controller_reset();
    triple_fault();
}
