/* SPDX-License-Identifier: MIT */
/*
 * The exit dispatcher: one handler per vendor-neutral exit kind. A handler
 * returns true to enter the guest again, false when it has stopped the
 * guest (it calls guest_stop() with the reason first).
 */
#ifndef SIDECORE_VMM_EXIT_H
#define SIDECORE_VMM_EXIT_H

#include <stdbool.h>

#include "vmm/vcpu.h"

bool exit_dispatch(struct vcpu *v, const struct vcpu_exit *e);

/* The handlers, one file each. */
bool exit_cpuid(struct vcpu *v, const struct vcpu_exit *e);
bool exit_msr(struct vcpu *v, const struct vcpu_exit *e);
bool exit_io(struct vcpu *v, const struct vcpu_exit *e);
bool exit_hlt(struct vcpu *v, const struct vcpu_exit *e);
bool exit_xsetbv(struct vcpu *v, const struct vcpu_exit *e);
bool exit_hypercall(struct vcpu *v, const struct vcpu_exit *e);
bool exit_timer(struct vcpu *v, const struct vcpu_exit *e);
bool exit_mmio(struct vcpu *v, const struct vcpu_exit *e);
bool exit_fatal(struct vcpu *v, const struct vcpu_exit *e);

/* Work the vCPU's own CPU does for the guest's devices when it is kicked
 * or halted (operator input for the console, on vCPU 0; completions a
 * backend owes trap-mode queues). True while such completions are still
 * owed, so a halted vCPU comes back soon to reap them. */
bool vcpu_poll_devices(struct vcpu *v);

/* Waits (on the host CPU) until v has an interrupt to take, its timer is
 * due, or it is asked to stop. */
void vcpu_wait_for_event(struct vcpu *v);

/* The TSC time the backend arms its guest timer for before an entry, 0 for
 * none: the vCPU's next timer event, or sooner when the guest halts in
 * guest mode (halt = guest) while a trap-mode backend owes it completions. */
uint64_t vcpu_entry_deadline(struct vcpu *v);

#endif
