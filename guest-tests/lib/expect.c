/* SPDX-License-Identifier: MIT */
/*
 * Counting and printing check results, and the one way a test guest ends:
 * the RESULT line, then HC_EXIT. If the exit hypercall is missing or returns,
 * the guest says so and parks its CPU; without Sidecore (the bare-QEMU smoke
 * test) it also writes the code to QEMU's isa-debug-exit port so that QEMU
 * ends with status 2 * code + 1.
 */
#include <stdarg.h>
#include "expect.h"
#include "hypercall.h"
#include "printf.h"
#include "x86.h"

#define QEMU_DEBUG_EXIT_PORT 0xF4

static unsigned passed, failed;

bool expect_check(bool ok, const char *what, const char *detail_fmt, ...)
{
    if (ok) {
        passed++;
        printf("PASS %s\n", what);
        return true;
    }
    failed++;
    va_list ap;
    va_start(ap, detail_fmt);
    printf("FAIL %s (", what);
    vprintf(detail_fmt, ap);
    printf(")\n");
    va_end(ap);
    return false;
}

unsigned expect_failures(void)
{
    return failed;
}

unsigned expect_passes(void)
{
    return passed;
}

void test_finish(void)
{
    cli();
    printf("RESULT %u passed, %u failed\n", passed, failed);
    long rc = hc_exit(failed);
    if (!sidecore_present) {
        outb(QEMU_DEBUG_EXIT_PORT, (uint8_t)failed);
    } else {
        printf("FAIL exit: HC_EXIT returned (rc %ld)\n", rc);
    }
    for (;;)
        asm volatile("cli; hlt");
}
