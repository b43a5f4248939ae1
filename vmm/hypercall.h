/* SPDX-License-Identifier: MIT */
/*
 * Sidecore's hypercall ABI (VMCALL), shared by the hypervisor and the test
 * guests in guest-tests/.
 *
 * A guest executes VMCALL (VMMCALL on AMD CPUs) with the call number in RAX and arguments in RBX,
 * RCX, RDX (in 32-bit guests: EAX, EBX, ECX, EDX). The result comes back in
 * RAX: 0 on success, a negative HC_E* value on failure. Unknown numbers
 * return HC_ENOSYS and do not stop the guest.
 *
 * Only the guest's kernel may call: VMCALL at CPL > 0 (user mode, or
 * virtual-8086 mode) is refused with a #UD exception injected into the guest,
 * as a CPU without a hypervisor (and KVM) does; the call has no effect,
 * registers are unchanged, RIP points at the VMCALL, and `stats` counts it
 * as hc_refused for that vCPU.
 */
#ifndef SIDECORE_VMM_HYPERCALL_H
#define SIDECORE_VMM_HYPERCALL_H

/* HC_PRINT: write RCX bytes at guest-physical RBX to the console as the
 * guest's output (prefixed "[NAME] " per line). At most 4096 bytes a call;
 * the buffer must lie inside the guest's memory. The lines are queued for
 * the console CPU (the call never waits for the serial line); when the queue
 * is full they are dropped from the serial console, counted, and still kept
 * in the guest's console buffer (`console NAME`). */
#define HC_PRINT 0

/* HC_EXIT: stop this guest (all its vCPUs) with exit code RBX; the console
 * reports "guest NAME exited with code N". */
#define HC_EXIT 1

/* HC_TIMER: deliver interrupt vector RBX (32-255) to the calling vCPU once,
 * RCX microseconds from now. RCX = 0 cancels, including an expiry that has
 * not been delivered yet (the guest had interrupts off). A HLT in the
 * meantime waits for it. The interrupt is injected directly: there is no
 * APIC to acknowledge (no EOI). */
#define HC_TIMER 2

/* HC_INFO: returns in RAX the guest's memory size in bytes, in RBX its vCPU
 * index, in RCX its vCPU count, in RDX the TSC frequency in kHz. */
#define HC_INFO 3

#define HC_OK     0
#define HC_ENOSYS (-1)
#define HC_EFAULT (-2) /* an address outside the guest's memory */
#define HC_EINVAL (-3)

/* CPUID leaf 0x40000000 returns this signature in EBX, ECX, EDX. Leaf
 * 0x40000100 carries KVM's signature with no features (see exit_cpuid.c). */
#define SIDECORE_CPUID_SIGNATURE "SidecoreHVSC"

#endif
