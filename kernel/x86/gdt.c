/* SPDX-License-Identifier: MIT */
#include "kernel/x86/gdt.h"

#include "kernel/lib/string.h"

struct descriptor_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

void gdt_build(struct gdt *gdt, struct tss *tss)
{
    uint64_t base = (uint64_t)(uintptr_t)tss;
    uint64_t limit = sizeof(*tss) - 1;

    memset(gdt, 0, sizeof(*gdt));
    gdt->entries[1] = 0x00af9b000000ffffull; /* 64-bit code, accessed */
    gdt->entries[2] = 0x00cf93000000ffffull; /* data, accessed */
    /* 64-bit available TSS (type 9), present. */
    gdt->entries[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
                      (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt->entries[4] = base >> 32;
    tss->iomap_base = sizeof(*tss); /* no I/O permission bitmap */
}

void gdt_load(struct gdt *gdt)
{
    struct descriptor_ptr p = {sizeof(gdt->entries) - 1, (uint64_t)(uintptr_t)gdt};

    asm volatile("lgdt %0\n\t"
                 "pushq %1\n\t"
                 "leaq 1f(%%rip), %%rax\n\t"
                 "pushq %%rax\n\t"
                 "lretq\n"
                 "1:\n\t"
                 "movl %2, %%eax\n\t"
                 "movl %%eax, %%ds\n\t"
                 "movl %%eax, %%es\n\t"
                 "movl %%eax, %%ss\n\t"
                 "ltr %w3\n\t"
                 :
                 : "m"(p), "i"(GDT_KERNEL_CS), "i"(GDT_KERNEL_DS), "r"(GDT_TSS)
                 : "rax", "memory");
}
