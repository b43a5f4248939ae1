/* SPDX-License-Identifier: MIT */
/*
 * SVM's MSR permission map and I/O permission map, built from the same
 * policy tables as VT-x's bitmaps (vmm/msr_policy.c, vmm/io_policy.c). Pure
 * logic: builds for the host so it can be unit tested.
 *
 * MSR map (8 KiB): two bits per MSR, read then write, for the ranges
 * 0-0x1fff (bytes 0-0x7ff), 0xc0000000-0xc0001fff (0x800-0xfff) and
 * 0xc0010000-0xc0011fff (0x1000-0x17ff); a set bit intercepts, and MSRs
 * outside the ranges always do. I/O map (12 KiB): one bit per port; an
 * access intercepts if the bit of any port it touches is set.
 */
#ifndef SIDECORE_VMM_SVM_SVM_MAPS_H
#define SIDECORE_VMM_SVM_SVM_MAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/io_policy.h"
#include "vmm/msr_policy.h"

#define SVM_MSRPM_SIZE 8192
#define SVM_IOPM_SIZE  12288

void svm_msrpm_build(uint8_t map[SVM_MSRPM_SIZE]);
void svm_msrpm_build_from(const struct msr_policy_entry *table, unsigned n,
                          uint8_t map[SVM_MSRPM_SIZE]);
/* Whether an access to msr intercepts under map, as the CPU decides it. */
bool svm_msrpm_exits(const uint8_t map[SVM_MSRPM_SIZE], uint32_t msr, bool write);

void svm_iopm_build(uint8_t map[SVM_IOPM_SIZE]);
void svm_iopm_build_from(const struct io_policy_entry *table, unsigned n,
                         uint8_t map[SVM_IOPM_SIZE]);
/* Whether an access of size bytes at port intercepts under map. */
bool svm_iopm_exits(const uint8_t map[SVM_IOPM_SIZE], uint16_t port, unsigned size);

#endif
