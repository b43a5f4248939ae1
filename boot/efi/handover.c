/* SPDX-License-Identifier: MIT */
/*
 * The last step: after ExitBootServices(), copy the staged hypervisor to its
 * link address and jump to its 64-bit entry with RDI = hand-off. The copy
 * may overwrite anything that was boot services memory, including the
 * firmware's page tables and the stack we run on, so it is done by a small
 * stub that first switches to page tables and a stack of our own (loader
 * memory below 4 GiB, which the copy never touches). The stub is copied into
 * a loader-code page below 4 GiB so that it is mapped the same under the
 * firmware's tables and ours, wherever the firmware loaded this program.
 */
#include "boot/efi/identity_map.h"
#include "boot/efi/loader.h"

#define STACK_BYTES (16 * 1024)
#define CR4_LA57    (1ull << 12)

/*
 * In: RDI = hand-off, RSI = staged image, RDX = destination, RCX = bytes,
 * R8 = entry, R9 = CR3, R10 = stack top. Position independent.
 */
asm(".pushsection .text\n"
    ".hidden handover_stub\n"
    ".hidden handover_stub_end\n"
    "handover_stub:\n"
    "    cli\n"
    "    mov %r9, %cr3\n"
    "    mov %r10, %rsp\n"
    "    cld\n"
    "    mov %rdi, %r11\n"
    "    mov %rdx, %rdi\n"
    "    rep movsb\n"
    "    mov %r11, %rdi\n"
    "    jmp *%r8\n"
    "handover_stub_end:\n"
    ".popsection\n");

extern const UINT8 handover_stub[] __attribute__((visibility("hidden")));
extern const UINT8 handover_stub_end[] __attribute__((visibility("hidden")));

EFI_STATUS handover_prepare(struct handover *ho)
{
    EFI_PHYSICAL_ADDRESS stub = 0xFFFFFFFF, tables, stack;
    UINT64 cr4;
    EFI_STATUS st;

    asm volatile("mov %%cr4, %0" : "=r"(cr4));
    if (cr4 & CR4_LA57) {
        loader_print(L"the firmware runs 5-level paging; the hypervisor's entry needs 4-level");
        return EFI_UNSUPPORTED;
    }
    st = BS->AllocatePages(AllocateMaxAddress, EfiLoaderCode, 1, &stub);
    if (!EFI_ERROR(st))
        st = pages_alloc_below_4g(IDENTITY_MAP_PAGES * 4096, &tables);
    if (!EFI_ERROR(st))
        st = pages_alloc_below_4g(STACK_BYTES, &stack);
    if (EFI_ERROR(st)) {
        loader_print(L"no memory below 4 GiB for the hand-over: %r", st);
        return st;
    }
    CopyMem((void *)(UINTN)stub, (void *)handover_stub, handover_stub_end - handover_stub);
    ho->stub = stub;
    ho->cr3 = identity_map_4g((uint64_t *)(UINTN)tables, tables);
    ho->stack_top = stack + STACK_BYTES;
    return EFI_SUCCESS;
}

void handover_jump(const struct handover *ho, const struct hypervisor_image *img, struct handoff *h)
{
    register UINT64 entry asm("r8") = img->entry64;
    register UINT64 cr3 asm("r9") = ho->cr3;
    register UINT64 stack asm("r10") = ho->stack_top;

    asm volatile("jmp *%[stub]" ::[stub] "a"(ho->stub), "D"(h), "S"(img->staged), "d"(img->dest),
                 "c"(img->size), "r"(entry), "r"(cr3), "r"(stack)
                 : "memory");
    __builtin_unreachable();
}
