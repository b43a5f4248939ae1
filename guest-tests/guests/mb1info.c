/* SPDX-License-Identifier: MIT */
/*
 * mb1info: a multiboot v1 kernel (mb1_header.asm) that checks the
 * information block its loader hands it in EBX (lib/mb1_info.c): the flags,
 * mem_lower/mem_upper against the memory HC_INFO reports, a memory map that
 * covers the guest's RAM above 1 MiB and the image and nothing beyond
 * memory, the command line and boot loader name, module 0: the config's
 * initrd (mb1-module.img, 8 sectors of the disk pattern with tag 'M'), page
 * aligned, clear of the image, named by its file name, and module 1: the
 * config's `module = mb1-module.img extra args` (the same bytes, elsewhere,
 * with the whole line as its string).
 */
#include "disk_pattern.h"
#include "expect.h"
#include "hypercall.h"
#include "mb1_info.h"
#include "printf.h"
#include "runtime.h"
#include "x86.h"

const char guest_name[] = GUEST_NAME;

#define WANT_CMDLINE "mb1 test cmdline"
#define MODULE_TAG   'M'
#define MODULE_SECTS 8
#define MODULE_NAME  "mb1-module.img"
#define MODULE1_STR  "mb1-module.img extra args"
#define MIB1         0x100000ull

static bool starts_with(const char *s, const char *prefix)
{
    while (*prefix)
        if (*s++ != *prefix++)
            return false;
    return true;
}

static bool str_eq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

void test_main(void)
{
    struct hc_info hc = {0};
    static struct mb1_info info;

    if (!EXPECT_EQ(hc_info(&hc), HC_OK, "mb1: HC_INFO returns 0"))
        return;
    uint64_t mem = hc.memory;
    /* Physical memory from address 0, read through a pointer the compiler
     * cannot see is NULL. */
    uintptr_t zero = 0;
    asm("" : "+r"(zero));
    const char *err = mb1_parse((const uint8_t *)zero, mem, (uint32_t)runtime_mb1_info(), &info);
    if (!EXPECTF(!err, "mb1: the information block parses", "%s", err ? err : ""))
        return;
    uint32_t want =
        MB1_INFO_MEM | MB1_INFO_CMDLINE | MB1_INFO_MODS | MB1_INFO_MMAP | MB1_INFO_LOADER;
    EXPECTF((info.flags & want) == want, "mb1: flags: memory, command line, modules, map, loader",
            "flags %#x", info.flags);
    EXPECTF(info.mem_lower_kib == 640, "mb1: mem_lower is 640 KiB", "%u", info.mem_lower_kib);
    EXPECTF(info.mem_upper_kib == (uint32_t)((mem - MIB1) / 1024),
            "mb1: mem_upper is the memory above 1 MiB", "%u KiB, memory %llu bytes",
            info.mem_upper_kib, (unsigned long long)mem);

    EXPECTF(info.regions >= 1, "mb1: a memory map", "%u regions", info.regions);
    EXPECT(mb1_range_available(&info, MIB1, mem - MIB1), "mb1: the map covers 1 MiB to the end");
    EXPECT(mb1_range_available(&info, (uintptr_t)__image_start,
                               (uintptr_t)(__image_end - __image_start)),
           "mb1: the image lies in available memory");
    bool beyond = false;
    for (unsigned i = 0; i < info.regions && i < MB1_MAX_REGIONS; i++)
        if (info.region[i].type == MB1_MEMORY_AVAILABLE &&
            info.region[i].base + info.region[i].length > mem)
            beyond = true;
    EXPECT(!beyond, "mb1: no available region beyond the guest's memory");

    EXPECTF(info.cmdline && starts_with(info.cmdline, WANT_CMDLINE),
            "mb1: the command line is the config's", "\"%s\"", info.cmdline ? info.cmdline : "");
    EXPECTF(info.loader && str_eq(info.loader, "Sidecore"), "mb1: boot loader name Sidecore",
            "\"%s\"", info.loader ? info.loader : "");

    if (!EXPECTF(info.modules == 2, "mb1: two modules (the initrd, then module =)", "%u modules",
                 info.modules))
        return;
    for (unsigned i = 0; i < 2; i++) {
        const struct mb1_module *m = &info.module[i];
        printf("mb1: module %u at %#x-%#x \"%s\"\n", i, m->start, m->end, m->name);
        EXPECTF((m->start & 0xfff) == 0, "mb1: module page aligned", "start %#x", m->start);
        EXPECTF(m->end - m->start == MODULE_SECTS * DISK_SECTOR_BYTES,
                "mb1: module size is the file's", "%u bytes", m->end - m->start);
        EXPECT(m->end <= (uintptr_t)__image_start || m->start >= (uintptr_t)__image_end,
               "mb1: module clear of the image");
        struct disk_mismatch mm = {0};
        EXPECTF(m->end - m->start == MODULE_SECTS * DISK_SECTOR_BYTES &&
                    disk_pattern_check((const void *)(uintptr_t)m->start, MODULE_TAG, 0,
                                       MODULE_SECTS, &mm),
                "mb1: module holds the file's bytes", "word %u: %#x, want %#x", mm.word, mm.got,
                mm.want);
    }
    EXPECTF(str_eq(info.module[0].name, MODULE_NAME), "mb1: module 0's string is the initrd's name",
            "\"%s\"", info.module[0].name);
    EXPECTF(str_eq(info.module[1].name, MODULE1_STR), "mb1: module 1's string is the module line",
            "\"%s\"", info.module[1].name);
    EXPECT(info.module[0].end <= info.module[1].start || info.module[1].end <= info.module[0].start,
           "mb1: the two modules do not overlap");
}
