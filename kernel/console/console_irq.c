/* SPDX-License-Identifier: MIT */
#include "kernel/console/console_irq.h"

#include "kernel/acpi/acpi.h"
#include "kernel/console/console.h"
#include "kernel/console/uart16550.h"
#include "kernel/x86/idt.h"
#include "kernel/x86/ioapic.h"
#include "kernel/x86/lapic.h"

static void console_interrupt(struct irq_frame *f)
{
    console_rx_drain();
    lapic_eoi();
}

static int isa_irq_of_port(uint16_t port)
{
    switch (port) {
    case COM1_PORT:
    case COM3_PORT: return 4;
    case COM2_PORT:
    case COM4_PORT: return 3;
    default: return -1;
    }
}

bool console_irq_enable(void)
{
    int irq = isa_irq_of_port(console_port());
    const struct acpi_info *acpi = acpi_info();

    if (irq < 0)
        return false;
    /* ISA defaults: active high, edge; an MADT override may say otherwise
     * (MPS INTI flags: polarity [1:0] 3 = low, trigger [3:2] 3 = level). */
    uint32_t gsi = (uint32_t)irq;
    bool low = false, level = false;
    for (uint32_t i = 0; i < acpi->override_count; i++) {
        if (acpi->overrides[i].bus == 0 && acpi->overrides[i].irq == irq) {
            gsi = acpi->overrides[i].gsi;
            low = (acpi->overrides[i].flags & 3) == 3;
            level = ((acpi->overrides[i].flags >> 2) & 3) == 3;
        }
    }
    irq_set_handler(VEC_CONSOLE, console_interrupt);
    if (!ioapic_route(gsi, VEC_CONSOLE, lapic_id(), low, level))
        return false;
    console_rx_by_interrupt(true);
    uart_enable_rx_interrupt(console_port());
    console_rx_drain(); /* anything typed before now */
    return true;
}
