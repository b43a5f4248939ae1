/* SPDX-License-Identifier: MIT */
/*
 * A guest: a partition of the machine with its own cores and memory. It is
 * created from its configuration at boot, runs until it stops (exit
 * hypercall, a fault Sidecore contains, or the operator), and can be
 * restarted from its image.
 */
#ifndef SIDECORE_VMM_GUEST_H
#define SIDECORE_VMM_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/lib/spinlock.h"
#include "vmm/dev/acpi_pm.h"
#include "vmm/dev/com1.h"
#include "vmm/dev/i8042.h"
#include "vmm/dev/rtc.h"
#include "vmm/dev/vioapic.h"
#include "vmm/guest_config.h"
#include "vmm/guest_pci.h"
#include "vmm/io_policy.h"
#include "vmm/vcpu.h"

enum guest_state {
    GUEST_LOADING,
    GUEST_RUNNING,
    GUEST_STOPPING, /* vCPUs asked to leave */
    GUEST_STOPPED,
};

#define GUEST_CONSOLE_RING 16384
#define GUEST_LINE_MAX     256

struct guest {
    struct guest_config cfg;
    uint32_t id; /* 1-based */
    volatile enum guest_state state;
    struct spinlock lock; /* state changes and the stop reason */
    char stop_reason[200];
    bool exited; /* stopped through HC_EXIT */
    uint64_t exit_code;
    uint32_t restarts;

    /* Memory: one contiguous block, guest-physical 0 .. mem_size. */
    uint64_t mem_hpa, mem_size;
    void *slat; /* the second-level translation tables (struct ept) */
    void *arch; /* the backend's per-guest state (vcpu_ops.guest_init) */

    uint32_t nvcpus;
    struct vcpu *vcpus;
    uint32_t cpus[GUEST_MAX_VCPUS]; /* physical CPU of each vCPU */
    struct vcpu_boot_state boot;    /* how vCPU 0 starts */

    /* Console output: the line being assembled, and everything recent. */
    struct spinlock out_lock;
    char line[GUEST_LINE_MAX];
    uint32_t line_len;
    char ring[GUEST_CONSOLE_RING];
    uint64_t ring_written;
    /* Operator input for the guest's UART (console NAME attach): written by
     * the boot CPU, drained into the UART by vCPU 0. */
    uint8_t in_ring[256];
    volatile uint32_t in_head, in_tail;
    uint64_t in_dropped;

    /* Ports accessed that no device backs (logged the first time). */
    struct io_seen port_seen;
    /* The virtual platform's devices (vmm/guest_devices.c). Any vCPU may
     * touch them, so every access holds dev_lock. */
    struct spinlock dev_lock;
    struct com1 uart;
    bool uart_irq; /* the UART's interrupt line as last seen */
    struct rtc rtc;
    struct i8042 kbc;
    struct acpi_pm pm;
    struct guest_pci pci;  /* its PCI bus (vmm/guest_pci.c) */
    struct vioapic ioapic; /* has its own lock */
    /* The virtio devices on the bus (vmm/guest_virtio.c), and which of them
     * are disks (vmm/guest_disk.c). */
    struct guest_virtio *virtio[GUEST_PCI_MAX_DEVICES];
    unsigned nvirtio;
    struct guest_disk *disks[GUEST_DISKS_MAX];
    unsigned ndisks;
    struct guest_net *nets[GUEST_NETS_MAX]; /* vmm/guest_net.c */
    unsigned nnets;
    struct guest_vconsole *vconsole; /* virtio_console = on (vmm/guest_vconsole.c), or NULL */
};

/* Builds a guest from its (validated) configuration on the given physical
 * CPUs and loads its image. A guest that cannot be built is kept, stopped,
 * with the reason (so `guests` shows it); NULL only when not even its
 * descriptor fits. */
struct guest *guest_create(const struct guest_config *cfg, const uint32_t *cpus);
/* Starts a loaded guest's vCPUs on their cores. */
bool guest_start(struct guest *g);
/* Called on a vCPU's own CPU when its loop ends. */
void guest_vcpu_ended(struct guest *g, struct vcpu *v);

unsigned guest_count(void);
struct guest *guest_at(unsigned index);
struct guest *guest_find(const char *name);

/* Stops every vCPU of g and records why (the first reason wins). Safe from
 * any CPU, including one of g's own vCPUs. */
void guest_stop(struct guest *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Stops g if it runs, waits for its vCPUs, reloads its image and starts it
 * again. Returns false with a message printed if it could not. */
bool guest_restart(struct guest *g);

/* Appends guest output: lines go to the console as "[NAME] text". */
void guest_console_write(struct guest *g, const char *s, uint64_t n);

/* Queues operator input for the guest's console (boot CPU only) and wakes
 * vCPU 0 to take it. */
void guest_console_input(struct guest *g, uint8_t c);
/* Prints what the guest wrote recently (its console buffer). */
void guest_console_dump(struct guest *g);

/* Whether [gpa, gpa+len) lies inside g's memory; the host pointer if so. */
void *guest_phys_to_host(struct guest *g, uint64_t gpa, uint64_t len);

const char *guest_state_name(enum guest_state s);

#endif
