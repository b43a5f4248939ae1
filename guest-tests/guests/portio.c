/* SPDX-License-Identifier: MIT */
/*
 * portio: port I/O as a guest sees it. Every line of this guest's output
 * goes through port 0x3F8, so the console showing them is the first check
 * (made by the system test); the guest itself checks the line status
 * register, that a port nobody emulates reads as all ones and ignores
 * writes, and the print hypercall, including its documented errors.
 */
#include "expect.h"
#include "hypercall.h"
#include "printf.h"
#include "runtime.h"
#include "serial.h"
#include "x86.h"

const char guest_name[] = GUEST_NAME;

#define UNKNOWN_PORT 0x510

static void check_unknown_port(void)
{
    EXPECT_EQ(inb(UNKNOWN_PORT), 0xFF, "portio: inb from unknown port 0x510 reads 0xFF");
    EXPECT_EQ(inw(UNKNOWN_PORT), 0xFFFF, "portio: inw from unknown port 0x510 reads 0xFFFF");
    EXPECT_EQ(inl(UNKNOWN_PORT), 0xFFFFFFFF,
              "portio: inl from unknown port 0x510 reads 0xFFFFFFFF");
    outb(UNKNOWN_PORT, 0x12);
    outw(UNKNOWN_PORT, 0x3456);
    outl(UNKNOWN_PORT, 0x789abcde);
    EXPECT_EQ(inl(UNKNOWN_PORT), 0xFFFFFFFF,
              "portio: writes to unknown port 0x510 are ignored (reads stay 0xFFFFFFFF)");
    /* A port far from any device, and the top of the port space. */
    EXPECT_EQ(inb(0xFFFF), 0xFF, "portio: inb from unknown port 0xFFFF reads 0xFF");
}

static void check_hc_print(void)
{
    static const char msg[] = "portio: this line went out through HC_PRINT\n";
    struct hc_info info;

    EXPECT_EQ(hc_print(msg, sizeof(msg) - 1), HC_OK, "portio: HC_PRINT returns 0");
    EXPECT_EQ(hc_print(msg, 0), HC_OK, "portio: HC_PRINT of 0 bytes returns 0");
    if (EXPECT_EQ(hc_info(&info), HC_OK, "portio: HC_INFO returns 0") && info.memory) {
        long rc = hc_print((const void *)(uintptr_t)(info.memory + 0x1000), 16);
        EXPECT_EQ(rc, HC_EFAULT, "portio: HC_PRINT of a buffer outside my memory gives HC_EFAULT");
        rc = hc_print((const void *)(uintptr_t)(info.memory - 8), 16);
        EXPECT_EQ(rc, HC_EFAULT,
                  "portio: HC_PRINT of a buffer crossing my memory's end gives "
                  "HC_EFAULT");
    }
    EXPECT_EQ(hc_call(0x7fff, 0, 0, 0, 0), HC_ENOSYS,
              "portio: an unknown hypercall gives HC_ENOSYS and the guest goes on");
}

void test_main(void)
{
    printf("portio: this line went out through port 0x3F8\n");
    uint8_t lsr = inb(COM1_LSR);
    EXPECTF(lsr & COM1_LSR_THRE, "portio: COM1 LSR reports THRE (bit 5)", "LSR %#x", lsr);
    EXPECTF(lsr != 0xFF, "portio: COM1 LSR is not floating (0xFF)", "LSR %#x", lsr);
    check_unknown_port();
    check_hc_print();
}
