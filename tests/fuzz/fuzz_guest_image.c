/* SPDX-License-Identifier: MIT */
/* Fuzzes the guest image loader: arbitrary bytes as a kernel image (and
 * optionally its tail as an initrd and a module) with a memory size taken
 * from the input.
 * Planning must never read outside the image, applying must never write
 * outside guest memory (ASan watches both buffers, each allocated to its
 * exact size), and every plan that builds must also apply.
 * fuzz-sources: vmm/loader/boot_plan.c vmm/loader/bzimage.c vmm/loader/linux_plan.c vmm/loader/pvh_plan.c vmm/loader/boot_apply.c vmm/loader/elf_plan.c vmm/loader/entry_state.c vmm/loader/multiboot2_plan.c vmm/loader/multiboot1_plan.c vmm/loader/plan_util.c kernel/lib/fmt.c kernel/lib/str.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "vmm/loader/boot_plan.h"

static struct guest_boot_plan plan;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    uint32_t sel, extra;
    memcpy(&sel, data, 4);
    memcpy(&extra, data + 4, 4);
    data += 8;
    size -= 8;

    /* 1..16 MiB, sometimes not 4 KiB aligned, sometimes too big to apply */
    uint64_t mem_size = ((uint64_t)(sel & 0xf) + 1) << 20;
    if (sel & 0x10)
        mem_size -= (uint64_t)((sel >> 5) & 0xff) << 12;
    if (sel & 0x2000)
        mem_size += 0x800;
    bool plan_only = sel & 0x4000;
    if (plan_only)
        mem_size = (uint64_t)((sel >> 16) & 0x3ff) << 24; /* up to 16 GiB, never applied */

    /* the image's tail as an initrd, copied so its end is its own */
    uint8_t *initrd = NULL;
    size_t initrd_size = 0;
    if (sel & 0x8000) {
        initrd_size = extra & 0xffff;
        if (initrd_size > size)
            initrd_size = size;
        size -= initrd_size;
        initrd = malloc(initrd_size ? initrd_size : 1);
        memcpy(initrd, data + size, initrd_size);
    }
    /* and, before it, a module (`module =`), also copied to its own buffer */
    uint8_t *module = NULL;
    struct guest_module_file mod = {0};
    if (sel & 0x1000) {
        mod.size = (extra >> 20) & 0xfff;
        if (mod.size > size)
            mod.size = size;
        size -= mod.size;
        module = malloc(mod.size ? mod.size : 1);
        memcpy(module, data + size, mod.size);
        mod.data = module;
        mod.string = (extra & 0x40000) ? "mod args" : NULL;
    }
    uint8_t *image = malloc(size ? size : 1);
    memcpy(image, data, size);

    struct guest_image gi = {
        .data = image,
        .size = size,
        .initrd = initrd,
        .initrd_size = initrd_size,
        .cmdline = (extra & 0x10000) ? "console=ttyS0 root=/dev/ram0" : NULL,
        .initrd_name = NULL,
        .mem_size = mem_size,
        .modules = &mod,
        .nmodules = (sel & 0x1000) ? 1 : 0,
    };
    if (guest_boot_plan_build(&gi, &plan)) {
        check(plan.entry.rip < mem_size, "entry inside guest memory");
        check(plan.entry.rsp <= mem_size && plan.entry.rsp >= BOOT_STACK_SIZE, "stack inside");
        for (unsigned i = 0; i < plan.reserved_count; i++) {
            const struct boot_range *a = &plan.reserved[i];
            check(a->start < a->end && a->end <= mem_size, "piece inside memory");
            for (unsigned j = i + 1; j < plan.reserved_count; j++) {
                const struct boot_range *b = &plan.reserved[j];
                check(a->end <= b->start || b->end <= a->start, "pieces disjoint");
            }
        }
        if (!plan_only) {
            uint8_t *mem = malloc(mem_size);
            char err[160];
            bool applied =
                guest_boot_plan_apply(&plan, &gi, mem, mem_size, extra & 0x20000, err, sizeof(err));
            if (!applied)
                fprintf(stderr, "apply: %s\n", err);
            check(applied, "a plan that builds also applies");
            free(mem);
        }
    } else {
        check(plan.error[0] != 0 && strlen(plan.error) < sizeof(plan.error), "an error message");
    }
    free(image);
    free(initrd);
    free(module);
    return 0;
}
