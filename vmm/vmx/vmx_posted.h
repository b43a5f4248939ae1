/* SPDX-License-Identifier: MIT */
/*
 * Posted interrupts under VT-x (Intel SDM vol. 3C, 29.6): another CPU, such
 * as an I/O sidecore, makes a vector pending in a vCPU's virtual APIC by
 * setting a bit in the vCPU's posted-interrupt descriptor and sending one
 * physical interrupt, the notification vector, to the vCPU's CPU. If that
 * CPU is in the guest, it moves the posted vectors into the virtual APIC
 * itself and the guest takes them without any VM exit. If it is in the
 * hypervisor, the notification is only a doorbell: vmx_posted_sync() moves
 * the posted vectors into the vCPU's struct vlapic before the next entry,
 * and vmx_apicv_sync() hands them to the hardware from there.
 *
 * Requires APIC virtualization with virtual-interrupt delivery
 * (vmx_apicv.c) and "acknowledge interrupt on exit". Unverified on hardware:
 * no emulator available here implements posted interrupts; the descriptor
 * protocol is host-tested (tests/unit/test_vmx_pi_desc.c).
 */
#ifndef SIDECORE_VMM_VMX_VMX_POSTED_H
#define SIDECORE_VMM_VMX_VMX_POSTED_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

/* The host vector that notifies a CPU of posted interrupts (a hypervisor
 * vector: see the list in kernel/x86/idt.h). */
#ifndef VEC_POSTED_INTR
#define VEC_POSTED_INTR 0xf2
#endif

/* Whether this machine can post interrupts: the "process posted
 * interrupts" pin-based control may be 1, together with what it requires
 * (APIC virtualization with virtual-interrupt delivery, "acknowledge
 * interrupt on exit"). */
bool vmx_posted_usable(void);

/* On v's own CPU, with v's VMCS current, after vmx_apicv_setup(): gives v a
 * posted-interrupt descriptor, writes the notification vector and the
 * descriptor address into the VMCS, turns "process posted interrupts" on
 * and installs the host handler of the notification vector. False (and
 * nothing changed in the VMCS) when posted interrupts cannot be used for v;
 * v then works as before, without them. */
bool vmx_posted_setup(struct vcpu *v);

/* v is going away (its CPU, before its VMCS is freed): later posts return
 * false. The descriptor itself stays allocated, so a poster that raced with
 * this writes only to memory that is still its own. */
void vmx_posted_teardown(struct vcpu *v);

/* Any CPU: posts vector (16-255) to v and sends the notification if the
 * descriptor asks for one. False, with nothing done, when v does not use
 * posted interrupts, its APIC is disabled, or the vector is illegal (< 16):
 * the caller then uses vlapic_accept() and a kick, which also apply the
 * APIC's rules for those cases. Edge-triggered delivery only. This is the
 * backend's vcpu_ops.post_interrupt. */
bool vmx_posted_send(struct vcpu *v, uint8_t vector);

/* On v's own CPU: moves every posted vector into v's struct vlapic (with
 * vlapic_accept). Call before each VM entry, ahead of vmx_apicv_sync(),
 * and before deciding that a halted v has nothing to take. Returns how
 * many vectors it moved (they arrived while v was not in the guest). */
unsigned vmx_posted_sync(struct vcpu *v);

/* On v's own CPU: drops every posted vector (INIT clears the APIC). */
void vmx_posted_reset(struct vcpu *v);

#endif
