/* SPDX-License-Identifier: MIT */
#include "vmm/guest_devices.h"

#include "kernel/console/log.h"
#include "kernel/lib/spinlock.h"
#include "kernel/time/clock.h"
#include "kernel/time/tsc.h"
#include "kernel/time/wallclock.h"
#include "kernel/x86/cpu.h"
#include "vmm/guest.h"
#include "vmm/guest_apic.h"
#include "vmm/guest_virtio.h"
#include "vmm/guest_power.h"

void guest_devices_reset(struct guest *g)
{
    uint64_t flags = spin_lock_irqsave(&g->dev_lock);

    com1_reset(&g->uart);
    g->uart_irq = false;
    rtc_init(&g->rtc, wallclock_now(), clock_uptime_ns());
    i8042_reset(&g->kbc);
    acpi_pm_reset(&g->pm);
    guest_pci_reset(&g->pci);
    for (unsigned i = 0; i < g->nvirtio; i++)
        guest_virtio_reset(g->virtio[i]);
    io_seen_reset(&g->port_seen);
    spin_unlock_irqrestore(&g->dev_lock, flags);
}

/* The UART's interrupt line after an access: the IOAPIC hears about every
 * change (ISA IRQ 4, edge-triggered: a rising edge interrupts). */
static void uart_irq_update(struct guest *g)
{
    bool level = com1_irq_level(&g->uart);

    if (level != g->uart_irq) {
        g->uart_irq = level;
        guest_apic_set_irq(g, GUEST_IRQ_UART, level);
    }
}

static void console_out(void *ctx, char c)
{
    guest_console_write(ctx, &c, 1);
}

void guest_devices_poll_input(struct guest *g)
{
    uint64_t flags = spin_lock_irqsave(&g->dev_lock);

    while (g->in_tail != __atomic_load_n(&g->in_head, __ATOMIC_ACQUIRE) &&
           com1_receive(&g->uart, g->in_ring[g->in_tail % sizeof(g->in_ring)]))
        g->in_tail++;
    uart_irq_update(g);
    spin_unlock_irqrestore(&g->dev_lock, flags);
}

bool guest_device_in(struct vcpu *v, const struct io_policy_entry *p, uint16_t port, unsigned size,
                     uint32_t *value)
{
    struct guest *g = v->guest;
    uint64_t flags = spin_lock_irqsave(&g->dev_lock);

    switch (p->action) {
    case IO_SERIAL:
        *value = com1_read(&g->uart, port - IO_COM1_BASE);
        uart_irq_update(g);
        break;
    case IO_RTC: *value = rtc_read(&g->rtc, port, clock_uptime_ns()); break;
    case IO_I8042: *value = i8042_read(&g->kbc, port); break;
    case IO_PCI: *value = pci_host_io_read(&g->pci.host, port, size); break;
    case IO_PM:
        *value = acpi_pm_read(&g->pm, port - IO_PM_BASE, size, acpi_pm_timer(rdtsc(), tsc_hz()));
        break;
    case IO_RESET:
    case IO_ZERO: *value = 0; break;
    default:
        if (p->log_first && io_seen_first(&g->port_seen, port))
            log_info("guest %s: read of port %#x (%s): no device, reads as ones", g->cfg.name, port,
                     p->name);
        *value = io_absent_value(size);
        break;
    }
    spin_unlock_irqrestore(&g->dev_lock, flags);
    return true;
}

bool guest_device_out(struct vcpu *v, const struct io_policy_entry *p, uint16_t port, unsigned size,
                      uint32_t value)
{
    struct guest *g = v->guest;
    uint64_t flags = spin_lock_irqsave(&g->dev_lock);
    enum guest_event event = GUEST_EVENT_REBOOT;
    bool power = false;
    int sleep_type = -1;

    switch (p->action) {
    case IO_SERIAL:
        com1_write(&g->uart, port - IO_COM1_BASE, (uint8_t)value, console_out, g);
        uart_irq_update(g);
        break;
    case IO_RTC: rtc_write(&g->rtc, port, (uint8_t)value, clock_uptime_ns()); break;
    case IO_I8042: power = i8042_write(&g->kbc, port, (uint8_t)value) == I8042_RESET; break;
    case IO_PCI: pci_host_io_write(&g->pci.host, port, size, value); break;
    case IO_RESET: power = io_reset_requested(port, size, value); break;
    case IO_PM:
        sleep_type = acpi_pm_write(&g->pm, port - IO_PM_BASE, size, value);
        if (sleep_type >= 0) {
            event = GUEST_EVENT_POWEROFF;
            power = true;
        }
        break;
    default:
        if (p->log_first && io_seen_first(&g->port_seen, port))
            log_info("guest %s: write of %#x to port %#x (%s): no device, dropped", g->cfg.name,
                     value, port, p->name);
        break;
    }
    spin_unlock_irqrestore(&g->dev_lock, flags);
    if (!power)
        return true;
    if (event == GUEST_EVENT_POWEROFF)
        guest_power_event(g, event, "ACPI sleep (SLP_TYP %d)", sleep_type);
    else
        guest_power_event(g, event, "reset through port %#x", port);
    return false;
}
