/* SPDX-License-Identifier: MIT */
/*
 * Wrappers for Sidecore's hypercalls (vmm/hypercall.h has the ABI). Each
 * returns the hypervisor's RAX as a signed value (0 or a negative HC_E*).
 * Without Sidecore underneath (CPUID leaf 0x40000000 lacks its signature),
 * VMCALL would raise #UD, so the wrappers return HC_ENOSYS without executing
 * it; hc_detect prints "no sidecore: skipping hypercalls" once.
 */
#ifndef GUEST_TESTS_HYPERCALL_H
#define GUEST_TESTS_HYPERCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vmm/hypercall.h"

struct hc_info {
    uint64_t memory;  /* bytes (32-bit guests see the low 32 bits only) */
    uint32_t vcpu;    /* this vCPU's index */
    uint32_t vcpus;   /* the guest's vCPU count */
    uint32_t tsc_khz; /* TSC frequency */
};

extern bool sidecore_present;

/* Reads CPUID to decide whether hypercalls may be executed. */
void hc_detect(void);

/* The raw call: RAX=nr, RBX=a, RCX=b, RDX=c; returns RAX, and RBX/RCX/RDX
 * after the call through out (if not NULL). */
long hc_call(unsigned long nr, unsigned long a, unsigned long b, unsigned long c,
             unsigned long out[3]);

long hc_print(const void *buf, size_t len);
long hc_exit(unsigned long code);
long hc_timer(unsigned vector, unsigned long microseconds);
long hc_info(struct hc_info *info);

#endif
