/* SPDX-License-Identifier: MIT */
/*
 * Entry from the boot paths and the boot CPU's bring-up sequence. The order
 * matters: memory first (so everything after can allocate), then the CPU's
 * own tables, then the firmware's description of the machine, then time,
 * then the other CPUs and the devices.
 */
#include "boot/handoff.h"
#include "boot/mb2_handoff.h"
#include "drivers/net/nic.h"
#include "drivers/nvme/nvme.h"
#include "kernel/acpi/acpi.h"
#include "kernel/boot_info.h"
#include "kernel/config/hv_config.h"
#include "kernel/console/console.h"
#include "kernel/console/console_async.h"
#include "kernel/console/console_irq.h"
#include "kernel/console/console_spec.h"
#include "kernel/console/log.h"
#include "kernel/console/uart16550.h"
#include "kernel/cpu/cpu_call.h"
#include "kernel/cpu/percpu.h"
#include "kernel/cpu/smp.h"
#include "kernel/lib/cmdline.h"
#include "kernel/lib/str.h"
#include "kernel/lib/string.h"
#include "kernel/mm/paging.h"
#include "kernel/mm/pmm.h"
#include "kernel/pci/pci.h"
#include "kernel/power/reboot.h"
#include "kernel/shell/shell.h"
#include "kernel/time/timer.h"
#include "kernel/time/tsc.h"
#include "kernel/time/wallclock.h"
#include "kernel/x86/cpu.h"
#include "kernel/x86/idt.h"
#include "kernel/x86/ioapic.h"
#include "kernel/x86/lapic.h"
#include "vmm/guest_power.h"
#include "vmm/vmm.h"

/* The hypervisor's own copy of the hand-off, whatever the boot path. */
static struct handoff boot_handoff;

const struct handoff *boot_info(void)
{
    return &boot_handoff;
}

extern char boot_stack_top[];
#define BOOT_STACK_SIZE 16384

/* How often the boot CPU looks at the console when nothing else wakes it:
 * often when input is polled (the UART holds only 16 bytes), rarely when the
 * receive interrupt wakes it. */
#define SHELL_POLL_NS     2000000ull
#define SHELL_POLL_IRQ_NS 100000000ull
/* Queued messages the boot CPU prints between two looks at the shell. */
#define CONSOLE_DRAIN_BUDGET 32

static const char *boot_path_name(uint32_t path)
{
    switch (path) {
    case HANDOFF_BOOT_MB2_BIOS: return "multiboot2/BIOS";
    case HANDOFF_BOOT_MB2_EFI: return "multiboot2/UEFI";
    case HANDOFF_BOOT_EFI_DISK: return "UEFI loader/disk";
    case HANDOFF_BOOT_EFI_PXE: return "UEFI loader/PXE";
    default: return "unknown";
    }
}

/* console=com1,115200, loglevel=N and the smp.nosipi=APICID fault injection
 * from the command line (it overrides the config file). */
static void apply_cmdline(const struct handoff *h)
{
    char val[64];
    uint64_t level;

    if (cmdline_get(h->cmdline, "console", val, sizeof(val))) {
        uint16_t port = console_port();
        uint32_t baud = console_baud();
        if (console_spec_parse(val, &port, &baud))
            console_init(port, baud);
        else
            log_warn("command line: bad console '%s' (want e.g. com1,115200); keeping COM1", val);
    }
    if (cmdline_get(h->cmdline, "smp.nosipi", val, sizeof(val))) {
        uint64_t id;
        if (str_to_u64(val, &id) && id < UINT32_MAX) {
            log_warn("fault injection: CPU with APIC ID %lu gets no SIPI", (unsigned long)id);
            smp_inject_no_sipi((uint32_t)id);
        }
    }
    if (cmdline_get(h->cmdline, "smp.latesipi", val, sizeof(val))) {
        uint64_t id;
        if (str_to_u64(val, &id) && id < UINT32_MAX) {
            log_warn("fault injection: CPU with APIC ID %lu gets its SIPI late", (unsigned long)id);
            smp_inject_late_sipi((uint32_t)id);
        }
    }
    if (cmdline_get(h->cmdline, "loglevel", val, sizeof(val))) {
        if (str_to_u64(val, &level) && level <= LOG_DEBUG)
            log_set_level((enum log_level)level);
        else
            log_warn("command line: bad loglevel '%s' (0-3)", val);
    }
}

static struct percpu *setup_boot_cpu(void)
{
    struct percpu *bsp = percpu_create(0, 0);

    /* The boot CPU stays on the boot stack. */
    bsp->stack_top = (uint64_t)(uintptr_t)boot_stack_top;
    bsp->stack_bottom = bsp->stack_top - BOOT_STACK_SIZE;
    percpu_load(bsp);
    return bsp;
}

/* Gives every other enabled CPU in the MADT a per-CPU area. */
static void enumerate_cpus(const struct acpi_info *acpi, struct percpu *bsp)
{
    uint32_t next = 1;

    for (uint32_t i = 0; i < acpi->cpu_count; i++) {
        const struct acpi_cpu *c = &acpi->cpus[i];
        if (!c->enabled || c->apic_id == bsp->apic_id)
            continue;
        if (next >= MAX_CPUS) {
            log_warn("more than %u CPUs; ignoring APIC ID %u and beyond", MAX_CPUS, c->apic_id);
            break;
        }
        if (c->apic_id > 0xff && !lapic_x2apic_mode()) {
            log_warn("CPU with APIC ID %u needs x2APIC mode, which this CPU lacks; left out",
                     c->apic_id);
            continue;
        }
        percpu_create(next++, c->apic_id);
    }
}

static void setup_interrupt_controllers(const struct acpi_info *acpi)
{
    pic_disable();
    for (uint32_t i = 0; i < acpi->ioapic_count; i++) {
        unsigned n = ioapic_add(acpi->ioapics[i].addr, acpi->ioapics[i].gsi_base);
        log_info("IOAPIC %u at %#x: GSI %u-%u masked", acpi->ioapics[i].id, acpi->ioapics[i].addr,
                 acpi->ioapics[i].gsi_base, acpi->ioapics[i].gsi_base + n - 1);
    }
}

static uint32_t count_sockets(void)
{
    uint32_t seen[MAX_CPUS];
    uint32_t n = 0;

    for (uint32_t i = 0; i < cpu_count(); i++) {
        struct percpu *p = cpu_by_index(i);
        if (!p || p->state != CPU_ONLINE)
            continue;
        uint32_t j = 0;
        while (j < n && seen[j] != p->topo.socket)
            j++;
        if (j == n)
            seen[n++] = p->topo.socket;
    }
    return n;
}

static __attribute__((noreturn)) void idle_loop_with_shell(void)
{
    uint64_t poll_ns = SHELL_POLL_NS;

    if (console_irq_enable())
        poll_ns = SHELL_POLL_IRQ_NS;
    else
        log_info("console input is polled every %lu ms", (unsigned long)(SHELL_POLL_NS / 1000000));
    /* From here on the other CPUs queue their output and this CPU prints
     * it: no CPU on the I/O path waits for the serial line. */
    console_async_start();
    shell_start();
    for (;;) {
        bool more = console_drain(CONSOLE_DRAIN_BUDGET);
        shell_poll();
        vmm_poll();
        if (more)
            continue;
        /* Arm the wake-up with interrupts off, then sti;hlt: the timer cannot
         * fire between the check and the halt. A message queued after the
         * check sends its wake-up IPI after publishing, which stays pending
         * until the sti; one queued before it is seen here. */
        irq_disable();
        if (console_async_ready()) {
            irq_enable();
            continue;
        }
        timer_oneshot(poll_ns, NULL);
        asm volatile("sti; hlt" ::: "memory");
    }
}

static __attribute__((noreturn)) void kmain(struct handoff *h)
{
    char size[16];

    log_info("Sidecore hypervisor starting (boot path %s)", boot_path_name(h->boot_path));
    if (h->cmdline[0])
        log_info("command line: %s", h->cmdline);
    hv_config_apply(h);
    apply_cmdline(h);

    pmm_init(h);
    paging_init(h);
    str_format_size(size, sizeof(size), pmm_total_bytes());
    log_info("memory: %s usable in %u map entries, %u boot files", size, h->mmap_count,
             h->file_count);
    for (uint32_t i = 0; i < h->file_count; i++)
        log_info("boot file %s: %lu bytes at %#lx", h->files[i].name,
                 (unsigned long)h->files[i].size, (unsigned long)h->files[i].base);

    idt_init();
    struct percpu *bsp = setup_boot_cpu();

    acpi_init(h);
    const struct acpi_info *acpi = acpi_info();
    lapic_setup(acpi->lapic_addr);
    lapic_init_cpu();
    bsp->apic_id = lapic_id();
    setup_interrupt_controllers(acpi);
    tsc_init();
    wallclock_init();
    timer_init();
    cpu_call_init();
    log_info("CPU topology from %s", topology_source_name(topology_detect(&bsp->topo)));
    bsp->state = CPU_ONLINE;

    enumerate_cpus(acpi, bsp);
    smp_start_all();
    pci_init();
    nvme_init();
    nic_init();
    reboot_register_hook(nvme_shutdown_all);
    vmm_init(h);

    str_format_size(size, sizeof(size), pmm_total_bytes());
    console_printf("sidecore: ready cpus=%u sockets=%u mem=%s\n", cpu_online_count(),
                   count_sockets(), size);
    idle_loop_with_shell();
}

void kernel_entry_mb2(uint32_t magic, uint32_t info_phys);
void kernel_entry_efi(const struct handoff *h);

void kernel_entry_mb2(uint32_t magic, uint32_t info_phys)
{
    const char *err;
    const uint8_t *info = (const uint8_t *)(uintptr_t)info_phys;
    uint32_t total;

    console_init(COM1_PORT, 115200);
    if (magic != MB2_BOOTLOADER_MAGIC)
        panic("not started by a multiboot2 loader (magic %x)", magic);
    memcpy(&total, info, 4);
    if (!mb2_to_handoff(info, total, &boot_handoff, &err))
        panic("bad multiboot2 boot information: %s", err);
    kmain(&boot_handoff);
}

void kernel_entry_efi(const struct handoff *h)
{
    console_init(COM1_PORT, 115200);
    if (h->magic != HANDOFF_MAGIC || h->version != HANDOFF_VERSION)
        panic("bad hand-off from the UEFI loader (magic %lx version %u)", (unsigned long)h->magic,
              h->version);
    memcpy(&boot_handoff, h, sizeof(boot_handoff));
    kmain(&boot_handoff);
}
