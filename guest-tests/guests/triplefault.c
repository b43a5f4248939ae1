/* SPDX-License-Identifier: MIT */
/*
 * triplefault: loads an empty IDT and raises #BP. The CPU cannot deliver it,
 * nor the #GP and #DF that follow: a triple fault. Sidecore must stop this
 * guest with a report naming the triple fault, and nothing else is
 * affected. If the guest ever gets past it, it prints FAIL.
 */
#include "expect.h"
#include "printf.h"
#include "runtime.h"

const char guest_name[] = GUEST_NAME;

struct __attribute__((packed)) idt_pointer {
    uint16_t limit;
    uintptr_t base;
};

void test_main(void)
{
    static const struct idt_pointer empty = {0, 0};

    printf("triplefault: loading an empty IDT and raising #BP\n");
    asm volatile("lidt %0; int3" : : "m"(empty) : "memory");
    EXPECT(0, "triplefault: the triple fault stopped the guest");
}
