/* SPDX-License-Identifier: MIT */
/* Port I/O: the policy table (vmm/io_policy.c) says what each port is; the
 * console UART is emulated, reset and power requests end or restart the
 * guest, and ports with no device read as all ones. */
#include "kernel/console/log.h"
#include "kernel/time/tsc.h"
#include "kernel/x86/cpu.h"
#include "vmm/exit.h"
#include "vmm/guest.h"
#include "vmm/guest_power.h"
#include "vmm/io_policy.h"

#define PM_TIMER_HZ 3579545ull

static void console_out(void *ctx, char c)
{
    guest_console_write(ctx, &c, 1);
}

/* The ACPI PM timer: a 24-bit counter at 3.579545 MHz, from the TSC. */
static uint32_t pm_timer_now(void)
{
    uint64_t t = rdtsc(), hz = tsc_hz();

    return (uint32_t)((t / hz * PM_TIMER_HZ + t % hz * PM_TIMER_HZ / hz) & 0xffffff);
}

static uint32_t io_in(struct vcpu *v, const struct io_policy_entry *p, uint16_t port, unsigned size)
{
    struct guest *g = v->guest;

    switch (p->action) {
    case IO_SERIAL: return com1_read(&g->uart, port - IO_COM1_BASE);
    case IO_RESET: return 0;
    case IO_PM: return port >= IO_PM_TMR && port <= IO_PM_LAST ? pm_timer_now() : 0;
    default:
        if (p->log_first && io_seen_first(&g->port_seen, port))
            log_info("guest %s: read of port %#x (%s): no device, reads as ones", g->cfg.name, port,
                     p->name);
        return io_absent_value(size);
    }
}

/* Returns false when the write ended the guest's run (reset, power-off). */
static bool io_out(struct vcpu *v, const struct io_policy_entry *p, uint16_t port, unsigned size,
                   uint32_t value)
{
    struct guest *g = v->guest;

    switch (p->action) {
    case IO_SERIAL:
        com1_write(&g->uart, port - IO_COM1_BASE, (uint8_t)value, console_out, g);
        return true;
    case IO_RESET:
        if (io_reset_requested(port, size, value)) {
            guest_power_event(g, GUEST_EVENT_REBOOT, "reset through port %#x", port);
            return false;
        }
        return true;
    case IO_PM:
        if (port == IO_PM1A_CNT && io_pm1_sleep_type((uint16_t)value) >= 0) {
            guest_power_event(g, GUEST_EVENT_POWEROFF, "ACPI sleep (SLP_TYP %d)",
                              io_pm1_sleep_type((uint16_t)value));
            return false;
        }
        return true;
    default:
        if (p->log_first && io_seen_first(&g->port_seen, port))
            log_info("guest %s: write of %#x to port %#x (%s): no device, dropped", g->cfg.name,
                     value, port, p->name);
        return true;
    }
}

bool exit_io(struct vcpu *v, const struct vcpu_exit *e)
{
    const struct vcpu_ops *ops = vcpu_backend();
    unsigned size = e->io.size;
    const struct io_policy_entry *p = io_policy_lookup(e->io.port);

    if (e->io.string) {
        guest_stop(v->guest,
                   "vCPU %u: string I/O (INS/OUTS) on port %#x is not supported, RIP %#lx",
                   v->index, e->io.port, (unsigned long)ops->read_sreg(v, VCPU_SREG_RIP));
        return false;
    }
    ops->skip_instruction(v, e);
    if (e->io.in) {
        uint32_t value = io_in(v, p, e->io.port, size);
        uint64_t *rax = &v->gprs[VCPU_RAX];
        if (size == 1)
            *rax = (*rax & ~0xffull) | (value & 0xff);
        else if (size == 2)
            *rax = (*rax & ~0xffffull) | (value & 0xffff);
        else
            *rax = value; /* a 32-bit write clears bits 63:32 */
        return true;
    }
    uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    return io_out(v, p, e->io.port, size, (uint32_t)v->gprs[VCPU_RAX] & mask);
}
