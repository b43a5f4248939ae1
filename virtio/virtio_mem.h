/* SPDX-License-Identifier: MIT */
/*
 * A guest's memory as a virtio device sees it: one block, guest-physical
 * 0 .. size, at host pointer base. Every address and length a guest hands a
 * device goes through vmem_ptr() before it is touched, so a ring or buffer
 * that runs outside the guest's memory is refused, never followed. In the
 * hypervisor memory is identity mapped, so the pointer is also the
 * host-physical address a backend gives its hardware (vmem_hpa); host tests
 * use a malloc'd block and the same rule.
 */
#ifndef SIDECORE_VIRTIO_VIRTIO_MEM_H
#define SIDECORE_VIRTIO_VIRTIO_MEM_H

#include <stddef.h>
#include <stdint.h>

struct vmem {
    uint8_t *base;
    uint64_t size;
};

/* The host pointer of [gpa, gpa+len), or NULL if any of it lies outside. */
static inline void *vmem_ptr(const struct vmem *m, uint64_t gpa, uint64_t len)
{
    if (len > m->size || gpa > m->size - len)
        return NULL;
    return m->base + gpa;
}

/* Host-physical address of a pointer vmem_ptr() returned. */
static inline uint64_t vmem_hpa(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

#endif
