/* SPDX-License-Identifier: MIT */
/* Fuzzes the bzImage loader: arbitrary bytes as a kernel file (optionally
 * with its tail as an initrd) and a memory size, both from the input. So
 * that the fuzzer gets past the header checks, selector bits can plant the
 * magic, a usable protocol version, a syssize that fits the file and an
 * init_size that fits the guest; everything else stays the fuzzer's. Planning
 * must never read outside the file, applying must never write outside guest
 * memory (ASan watches both, each allocated to its exact size), every plan
 * that builds must apply, and what a bzImage plan promises must hold in the
 * memory it produced (boot_params, the command line, the entry registers).
 * fuzz-sources: vmm/loader/boot_plan.c vmm/loader/boot_apply.c vmm/loader/elf_plan.c vmm/loader/entry_state.c vmm/loader/multiboot2_plan.c vmm/loader/multiboot1_plan.c vmm/loader/plan_util.c vmm/loader/bzimage.c vmm/loader/linux_plan.c vmm/loader/pvh_plan.c kernel/lib/fmt.c kernel/lib/str.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "vmm/loader/boot_plan.h"
#include "vmm/loader/bzimage.h"
#include "vmm/loader/linux_plan.h"

static struct guest_boot_plan plan;

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* Plants what the selector asks for into a file of size bytes. */
static void shape(uint8_t *f, size_t size, uint32_t sel, uint32_t extra, uint64_t mem_size)
{
    if (size < BZ_HDR_MAX_END)
        return;
    if (sel & 0x1) {
        memcpy(f + BZ_HEADER_MAGIC, "HdrS", 4);
        put16(f + BZ_BOOT_FLAG, BZ_BOOT_FLAG_VALUE);
    }
    if (sel & 0x2) {
        put16(f + BZ_VERSION, 0x020c + (sel >> 24 & 3));
        f[BZ_XLOADFLAGS] |= BZ_XLF_KERNEL_64;
        f[BZ_JUMP + 1] = 0x6a;
    }
    uint64_t setup = ((uint64_t)(f[BZ_SETUP_SECTS] ? f[BZ_SETUP_SECTS] : 4) + 1) * 512;
    if ((sel & 0x4) && setup < size) {
        uint32_t paras = (uint32_t)((size - setup) / 16);
        if (sel & 0x100)
            paras += 1; /* one paragraph short: truncated */
        put32(f + BZ_SYSSIZE, paras);
    }
    if (sel & 0x8) {
        uint64_t kernel = (uint64_t)get32(f + BZ_SYSSIZE) * 16;
        uint64_t init = kernel + (extra & 0x3fffff);
        put32(f + BZ_INIT_SIZE, (uint32_t)init);
        /* a preferred address somewhere in the guest, page aligned */
        uint64_t pref = (mem_size ? (uint64_t)(extra >> 8) * 4096 % mem_size : 0) & ~0xfffull;
        put32(f + BZ_PREF_ADDRESS, (uint32_t)pref);
        put32(f + BZ_PREF_ADDRESS + 4, 0);
        put32(f + BZ_KERNEL_ALIGNMENT, 1u << (12 + (sel >> 20 & 15)));
    }
    if (sel & 0x10)
        put32(f + BZ_CMDLINE_SIZE, sel >> 8 & 0xff);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    uint32_t sel, extra;
    memcpy(&sel, data, 4);
    memcpy(&extra, data + 4, 4);
    data += 8;
    size -= 8;

    /* 1..40 MiB, sometimes not 4 KiB aligned; or up to 4 GiB, planned only */
    uint64_t mem_size = ((uint64_t)(extra >> 26) % 40 + 1) << 20;
    if (sel & 0x20)
        mem_size -= (uint64_t)(extra >> 16 & 0xff) << 12;
    if (sel & 0x40)
        mem_size += 0x800;
    bool plan_only = sel & 0x80;
    if (plan_only)
        mem_size = ((uint64_t)(extra >> 20) + 1) << 20;

    uint8_t *initrd = NULL;
    size_t initrd_size = 0;
    if (sel & 0x200) {
        initrd_size = extra & 0x3fff;
        if (initrd_size > size)
            initrd_size = size;
        size -= initrd_size;
        initrd = malloc(initrd_size ? initrd_size : 1);
        memcpy(initrd, data + size, initrd_size);
    }
    uint8_t *image = malloc(size ? size : 1);
    memcpy(image, data, size);
    shape(image, size, sel, extra, mem_size);

    const char *cmdline = (sel & 0x400) ? "console=ttyS0 root=/dev/ram0 rdinit=/init" : NULL;
    struct guest_image gi = {
        .data = image,
        .size = size,
        .initrd = initrd,
        .initrd_size = initrd_size,
        .cmdline = cmdline,
        .mem_size = mem_size,
    };

    struct bzimage_header h;
    char err[BZ_ERROR_LEN];
    if (bzimage_parse(image, size, &h, err, sizeof(err))) {
        check(h.setup_size + h.kernel_size <= size, "parsed kernel inside the file");
        check(h.header_end >= BZ_HDR_MIN_END && h.header_end <= BZ_HDR_MAX_END, "header end");
        check(h.init_size >= h.kernel_size, "init_size holds the kernel");
    } else {
        check(err[0] != 0 && strlen(err) < sizeof(err), "a parse error message");
    }

    if (guest_boot_plan_build(&gi, &plan)) {
        check(plan.entry.rip < mem_size, "entry inside guest memory");
        for (unsigned i = 0; i < plan.reserved_count; i++) {
            const struct boot_range *a = &plan.reserved[i];
            check(a->start < a->end && a->end <= mem_size, "piece inside memory");
            for (unsigned j = i + 1; j < plan.reserved_count; j++) {
                const struct boot_range *b = &plan.reserved[j];
                check(a->end <= b->start || b->end <= a->start, "pieces disjoint");
            }
        }
        bool bz = plan.kind == GUEST_IMAGE_BZIMAGE;
        if (bz) {
            check(mem_size <= LINUX_MEM_MAX, "at most 3 GiB");
            check(plan.entry.rip == plan.bzimage.kernel_gpa + BZ_ENTRY64_OFFSET, "entry");
            check(plan.entry.rsi == LINUX_BOOT_PARAMS_GPA, "rsi");
            check(plan.entry.cs.selector == LINUX_BOOT_CS, "__BOOT_CS");
            check(plan.bzimage.kernel_gpa >= LINUX_KERNEL_MIN_GPA, "kernel above 1 MiB");
            check(plan.bzimage.kernel_gpa + plan.bzimage.kernel_reserved <= mem_size,
                  "kernel init_size inside memory");
            check(!initrd_size || plan.initrd_gpa >= LINUX_KERNEL_MIN_GPA, "initrd above 1 MiB");
        }
        if (!plan_only) {
            uint8_t *mem = malloc(mem_size);
            char aerr[160];
            bool applied = guest_boot_plan_apply(&plan, &gi, mem, mem_size, extra & 0x4000, aerr,
                                                 sizeof(aerr));
            if (!applied)
                fprintf(stderr, "apply: %s\n", aerr);
            check(applied, "a plan that builds also applies");
            if (bz) {
                const uint8_t *bp = mem + LINUX_BOOT_PARAMS_GPA;
                check(!memcmp(bp + BZ_HEADER_MAGIC, "HdrS", 4), "boot_params header");
                check(bp[BP_E820_ENTRIES] >= 4 && bp[BP_E820_ENTRIES] <= 5, "e820 entries");
                uint32_t cmd = get32(bp + BZ_CMD_LINE_PTR);
                check(cmd == LINUX_CMDLINE_GPA, "command line pointer");
                check(memchr(mem + cmd, 0, LINUX_CMDLINE_MAX + 1) != NULL, "command line ends");
                check(get32(bp + BZ_RAMDISK_IMAGE) == plan.initrd_gpa, "ramdisk_image");
                check(get32(bp + BZ_RAMDISK_SIZE) == initrd_size, "ramdisk_size");
                if (initrd_size)
                    check(!memcmp(mem + plan.initrd_gpa, initrd, initrd_size), "initrd bytes");
            }
            free(mem);
        }
    } else {
        check(plan.error[0] != 0 && strlen(plan.error) < sizeof(plan.error), "an error message");
    }
    free(image);
    free(initrd);
    return 0;
}
