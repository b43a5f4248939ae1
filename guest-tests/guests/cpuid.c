/* SPDX-License-Identifier: MIT */
/*
 * cpuid: what CPUID shows a guest. VMX must be hidden (a guest cannot nest),
 * the hypervisor-present bit set, and leaf 0x40000000 must carry Sidecore's
 * signature, while the ordinary leaves still report the real CPU.
 */
#include "expect.h"
#include "hypercall.h"
#include "printf.h"
#include "runtime.h"
#include "x86.h"

const char guest_name[] = GUEST_NAME;

#define CPUID1_ECX_VMX      (1u << 5)
#define CPUID1_ECX_HV_GUEST (1u << 31)
#define HV_LEAF             0x40000000u

static void regs_to_string(char *out, uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t r[3] = {a, b, c};

    for (int i = 0; i < 12; i++)
        out[i] = (char)(r[i / 4] >> (8 * (i % 4)));
    out[12] = '\0';
}

static bool printable(const char *s)
{
    bool any = false;

    for (; *s; s++) {
        if (*s < 0x20 || *s > 0x7e)
            return false;
        any |= *s != ' ';
    }
    return any;
}

void test_main(void)
{
    char text[13];

    struct cpuid_regs l0 = cpuid(0, 0);
    regs_to_string(text, l0.ebx, l0.edx, l0.ecx);
    printf("cpuid: vendor \"%s\", max basic leaf %#x\n", text, l0.eax);
    EXPECT(printable(text), "cpuid: leaf 0 vendor string is non-empty");
    EXPECTF(l0.eax >= 1, "cpuid: leaf 0 max basic leaf >= 1", "max leaf %#x", l0.eax);

    struct cpuid_regs l1 = cpuid(1, 0);
    uint32_t family = (l1.eax >> 8) & 0xf;
    if (family == 0xf)
        family += (l1.eax >> 20) & 0xff;
    printf("cpuid: leaf 1 eax=%#x ebx=%#x ecx=%#x edx=%#x (family %u)\n", l1.eax, l1.ebx, l1.ecx,
           l1.edx, family);
    EXPECTF(family != 0, "cpuid: leaf 1 family is nonzero", "eax %#x", l1.eax);
    EXPECTF(!(l1.ecx & CPUID1_ECX_VMX), "cpuid: leaf 1 ECX.VMX (bit 5) is clear", "ecx %#x",
            l1.ecx);
    EXPECTF(l1.ecx & CPUID1_ECX_HV_GUEST, "cpuid: leaf 1 ECX.hypervisor (bit 31) is set", "ecx %#x",
            l1.ecx);

    struct cpuid_regs hv = cpuid(HV_LEAF, 0);
    regs_to_string(text, hv.ebx, hv.ecx, hv.edx);
    printf("cpuid: leaf 0x40000000 eax=%#x signature \"%s\"\n", hv.eax,
           printable(text) ? text : "?");
    EXPECTF(hv.eax >= HV_LEAF && hv.eax < HV_LEAF + 0x100,
            "cpuid: leaf 0x40000000 max leaf is in 0x40000000-0x400000ff", "eax %#x", hv.eax);
    bool sig_ok = true;
    for (int i = 0; i < 12; i++)
        sig_ok &= text[i] == SIDECORE_CPUID_SIGNATURE[i];
    EXPECTF(sig_ok, "cpuid: leaf 0x40000000 signature is SidecoreHVSC", "ebx %#x ecx %#x edx %#x",
            hv.ebx, hv.ecx, hv.edx);

    /* The same leaf must answer the same way every time: a hypervisor that
     * emulates CPUID must not leak state between calls. */
    struct cpuid_regs again = cpuid(1, 0);
    EXPECTF(again.eax == l1.eax && again.ecx == l1.ecx && again.edx == l1.edx,
            "cpuid: leaf 1 is stable across calls", "eax %#x ecx %#x edx %#x", again.eax, again.ecx,
            again.edx);
}
