/* SPDX-License-Identifier: MIT */
/*
 * isolation: a guest that writes outside its memory must be stopped by the
 * hypervisor. It first checks what it was told about its memory (HC_INFO and
 * the multiboot2 memory map must agree) and that the top of its memory is
 * really its own, then announces and makes the bad write. Returning from
 * that write is the failure. The default image writes just past its last
 * byte; the isolation-hv image (ISOLATION_TARGET_HV) writes into the 16 MiB
 * area where the hypervisor itself lives on the host, so it needs less than
 * 16 MiB of memory.
 */
#include "expect.h"
#include "hypercall.h"
#include "mb2_info.h"
#include "printf.h"
#include "runtime.h"
#include "x86.h"

const char guest_name[] = GUEST_NAME;

#define MIB            0x100000ull
#define TOP_FILL_BYTES MIB
#define INFO_MAX_LEN   0x10000u
#define HV_AREA_TARGET 0x01010000ull

static uint32_t pattern_at(uintptr_t addr)
{
    return (uint32_t)addr * 0x9E3779B1u ^ 0xA5C3A5C3u;
}

/* Returns my memory size as the multiboot2 map says (0 if unusable). */
static uint64_t check_boot_information(uint64_t hc_memory)
{
    struct mb2_memory m;
    uintptr_t info = runtime_mb2_info();
    size_t max_len = INFO_MAX_LEN;

    if (hc_memory > info && hc_memory - info < max_len)
        max_len = (size_t)(hc_memory - info);
    const char *err = mb2_parse_memory((const void *)info, max_len, &m);
    if (!EXPECTF(!err, "isolation: multiboot2 information is well-formed", "%s at %#lx", err,
                 (unsigned long)info))
        return 0;
    for (unsigned i = 0; i < m.regions && i < MB2_MAX_REGIONS; i++)
        printf("isolation: memory map %#llx-%#llx type %u\n", (unsigned long long)m.region[i].base,
               (unsigned long long)(m.region[i].base + m.region[i].length - 1), m.region[i].type);
    EXPECT(m.has_mmap, "isolation: boot information has a memory map (tag 6)");
    EXPECT(m.has_basic, "isolation: boot information has basic meminfo (tag 4)");
    EXPECT(mb2_range_available(&m, (uintptr_t)__image_start, __image_end - __image_start),
           "isolation: memory map lists my image as available memory");
    if (hc_memory) {
        EXPECT_EQ(m.available_end, hc_memory,
                  "isolation: memory map ends where HC_INFO says my memory ends");
        EXPECTF(m.has_basic && (m.mem_upper_kib + 1024ull) * 1024 <= hc_memory,
                "isolation: basic meminfo stays within my memory", "mem_upper %u KiB",
                m.mem_upper_kib);
    }
    return m.available_end;
}

static void fill_top(uint64_t memory)
{
    volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)(memory - TOP_FILL_BYTES);
    unsigned n = TOP_FILL_BYTES / 4, bad = 0;

    for (unsigned i = 0; i < n; i++)
        p[i] = pattern_at((uintptr_t)&p[i]);
    for (unsigned i = 0; i < n; i++)
        bad += p[i] != pattern_at((uintptr_t)&p[i]);
    EXPECTF(bad == 0, "isolation: the top 1 MiB of my memory keeps a pattern",
            "%u of %u words differ", bad, n);
}

void test_main(void)
{
    struct hc_info info = {0};

    hc_info(&info);
    printf("isolation: my memory is %llu MiB (HC_INFO)\n", (unsigned long long)(info.memory >> 20));
    uint64_t map_memory = check_boot_information(info.memory);
    uint64_t memory = info.memory ? info.memory : map_memory;
    if (!EXPECTF(memory >= 2 * MIB && memory <= 0xFFFFFFFFull && memory % 4096 == 0,
                 "isolation: my memory size is usable", "%#llx", (unsigned long long)memory))
        return;
    fill_top(memory);

#ifdef ISOLATION_TARGET_HV
    uint64_t target = HV_AREA_TARGET;
    if (!EXPECTF(target >= memory, "isolation: the hypervisor's 16 MiB area is outside my memory",
                 "my memory ends at %#llx; give this guest less than 16M",
                 (unsigned long long)memory))
        return;
#else
    uint64_t target = memory;
#endif
    printf("isolation: writing outside my memory at %#llx\n", (unsigned long long)target);
    *(volatile uint32_t *)(uintptr_t)target = 0xDEADBEEF;
    EXPECTF(false, "isolation: the hypervisor stops a guest writing outside its memory",
            "the write to %#llx returned", (unsigned long long)target);
}
