/* SPDX-License-Identifier: MIT */
/* The GDT and TSS layout each CPU uses: a 64-bit code and data segment and a
 * TSS whose interrupt stacks take NMI, double fault and machine check. */
#ifndef SIDECORE_X86_GDT_H
#define SIDECORE_X86_GDT_H

#include <stdint.h>

#define GDT_KERNEL_CS 0x08
#define GDT_KERNEL_DS 0x10
#define GDT_TSS       0x18

/* IST slots (1-based as the IDT encodes them). */
#define IST_NMI 1
#define IST_DF  2
#define IST_MC  3

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

struct gdt {
    uint64_t entries[5]; /* null, code, data, TSS (two slots) */
} __attribute__((aligned(16)));

/* Fills gdt with the flat segments and a descriptor for tss. */
void gdt_build(struct gdt *gdt, struct tss *tss);
/* Loads gdt, reloads the segment registers and loads the task register. */
void gdt_load(struct gdt *gdt);

#endif
