; SPDX-License-Identifier: MIT
; The multiboot2 header, linked only into the multiboot2 images (the linker
; script puts .multiboot2 first, well inside the first 32 KiB the loader
; searches). It asks for nothing beyond the spec's defaults: the ELF program
; headers say where to load, and the guest relies only on the memory map
; (tag 6) and basic meminfo (tag 4) the issue promises.
; mb2_header is also how the runtime knows it was built as multiboot2.
bits 32

MB2_MAGIC equ 0xE85250D6
MB2_ARCH_I386 equ 0

section .multiboot2
align 8
global mb2_header
mb2_header:
    dd MB2_MAGIC
    dd MB2_ARCH_I386
    dd mb2_header_end - mb2_header
    dd 0x100000000 - (MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    dw 0, 0                     ; end tag: type 0, flags 0
    dd 8                        ;          size 8
mb2_header_end:

section .note.GNU-stack noalloc noexec nowrite progbits
