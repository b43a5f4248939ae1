/* SPDX-License-Identifier: MIT */
/*
 * The virtio layer every guest device shares (virtio-blk today, virtio-net
 * next): it puts a virtio-pci function on the guest's PCI bus
 * (vmm/guest_pci.h), decides who services each queue and makes that
 * exclusive, and delivers the device's interrupts. A device supplies only
 * its own part through struct guest_virtio_device: the transport's device
 * operations (configuration space, queue enable, DRIVER_OK, reset) and its
 * per-queue service function.
 *
 * Who services a queue:
 *  - io = sidecore: an I/O sidecore, always, and nobody else. The
 *    notification page is ordinary memory in the guest's EPT, so a notify
 *    written there costs no exit; a notify that does trap (through the
 *    VIRTIO_PCI_CAP_PCI_CFG window, or at a BAR the guest moved) reaches
 *    the notify gate, which counts it and does nothing else.
 *  - io = trap: the guest's vCPUs. Every notify exits; the gate marks the
 *    queue notified, and after the access (outside the guest's device
 *    lock) the vCPU services it under the queue's lock, a bounded amount of
 *    work per exit, so two vCPUs notifying one queue take turns and a guest
 *    cannot keep its vCPU in the hypervisor. Requests the backend finishes
 *    later (NVMe) are reaped by the guest's vCPUs at their next exits and
 *    while they halt (guest_virtio_poll).
 *
 * Interrupts: the transport's MSI-X messages go to guest_apic_msi(),
 * which posts them (no exit), or accepts them into the vCPU's APIC model
 * and kicks it (once per sidecore round), or, on the vCPU's own core in
 * trap mode, has them seen at the next entry. Each outcome is counted
 * where it happens.
 */
#ifndef SIDECORE_VMM_GUEST_VIRTIO_H
#define SIDECORE_VMM_GUEST_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/console/latched_report.h"
#include "kernel/console/ratelimit.h"
#include "virtio/virtio_pci.h"
#include "vmm/guest_virtio_gate.h"
#include "vmm/sidecore/sidecore.h"

struct guest;
struct vcpu;

/* What a device brings. */
struct guest_virtio_device {
    const char *kind;     /* "disk", "net": for labels and messages */
    uint16_t device_type; /* virtio device ID */
    uint32_t class_code;  /* PCI class << 16 | subclass << 8 | prog-if */
    uint64_t features;    /* device feature bits (the transport adds VERSION_1) */
    unsigned num_queues;  /* 1..VIRTIO_PCI_MAX_QUEUES */
    uint16_t queue_size;  /* maximum queue size, a power of two */
    unsigned config_size; /* bytes of device configuration */
    struct virtq *queues; /* num_queues of them, owned by the device */
    const struct virtio_pci_ops *ops;
    void *dev;
    /* Queue q's servicing context, its fast path (at most budget units of
     * work, returns how many), and whether the backend still owes it
     * completions. */
    void *(*queue)(void *dev, unsigned q);
    sidecore_service_fn service;
    bool (*inflight)(void *queue);
    /* Optional: what went wrong in the device's last reset ("" or NULL if
     * nothing), for the operator. */
    const char *(*reset_problem)(void *dev);
    /* Sidecore mode: the device's queues are polled by a service the
     * device registered itself (a network device's switch, which one
     * sidecore owns whole), so the layer gives no queue to a sidecore. */
    bool self_polled;
};

struct guest_virtio_queue {
    struct guest_virtio *vd;
    unsigned index;
    void *ctx;                     /* the device's queue */
    struct virtio_gate_queue gate; /* who services it; notify exits */
    struct sidecore_queue *sq;     /* sidecore mode */
    char label[40];
};

struct guest_virtio {
    struct guest *g;
    struct guest_virtio_device d;
    unsigned index; /* among the guest's virtio devices */
    bool polled;    /* io = sidecore */
    uint8_t pci_dev;
    uint64_t bar_gpa; /* where firmware put BAR 0 (and the notify page) */
    struct virtio_pci pci;
    struct guest_virtio_queue q[VIRTIO_PCI_MAX_QUEUES];
    uint64_t notify_hpa;            /* sidecore mode: the page behind the notify region */
    uint64_t notify_gpa;            /* where it is mapped now (0: nowhere; notifies trap) */
    uint64_t notify_moves;          /* times it followed the BAR */
    volatile uint32_t any_notified; /* trap mode: some queue is notified */
    /* Interrupt delivery, counted by outcome. */
    uint64_t msi, msi_posted, msi_kicked, msi_local, msi_dropped;
    /* Its breakages, posted by whoever finds the device broken and printed
     * by the console CPU (console_set_report_source): never dropped like a
     * queued line can be, and rate-limited per device without losing one. */
    struct latched_report broken;
    struct ratelimit broken_rl;
};

/* Builds the device's PCI function on g's bus, maps the notify page
 * (sidecore mode) and gives each queue to a sidecore (sidecore mode).
 * After g's EPT exists; boot CPU. False, with why. */
bool guest_virtio_create(struct guest_virtio *vd, struct guest *g,
                         const struct guest_virtio_device *dev, char *why, size_t why_size);
/* Power-on state again (the guest's devices are reset, dev_lock held): the
 * device stops using its queues, and the function is rebuilt and attached
 * to the (reset) bus. */
void guest_virtio_reset(struct guest_virtio *vd);

/* For the device: queue q has interrupts to send (any CPU, no lock). */
void guest_virtio_signal(void *vd, unsigned q);
/* For the device, once per breakage (any CPU, never waits): it is broken
 * until the guest resets it. Posts why for the console's "broken" line
 * (printed by the console CPU, before any line the guest writes once it
 * sees the status), then sets DEVICE_NEEDS_RESET. */
void guest_virtio_broken(struct guest_virtio *vd, const char *why);

/* On a vCPU after an exit that may have notified (trap mode): services
 * the notified queues of g's devices, bounded. */
void guest_virtio_after_exit(struct vcpu *v);
/* On a vCPU at an exit or while it halts: reaps completions the backend
 * owes trap-mode queues (never waits for a lock another vCPU holds). True
 * while some are still owed, so a halted vCPU keeps polling. */
bool guest_virtio_poll(struct vcpu *v);

/* "posted" when every vCPU of g takes interrupts posted, "ipi" when none
 * does, "mixed" otherwise; "local" in trap mode. */
const char *guest_virtio_irq_mode(const struct guest_virtio *vd);
/* Sum of the queues' io_exits. */
uint64_t guest_virtio_notify_exits(const struct guest_virtio *vd);

#endif
