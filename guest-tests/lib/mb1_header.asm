; SPDX-License-Identifier: MIT
; The multiboot (v1) header, linked only into the multiboot v1 images (the
; linker script puts .multiboot1 first, well inside the first 8 KiB the
; loader searches). Flags: modules page aligned (0) and memory information
; (1); no address fields: the ELF program headers say where to load.
; mb1_header is also how the runtime knows it was built as multiboot v1.
bits 32

MB1_MAGIC equ 0x1BADB002
MB1_FLAGS equ 0x00000003

section .multiboot1
align 4
global mb1_header
mb1_header:
    dd MB1_MAGIC
    dd MB1_FLAGS
    dd 0x100000000 - (MB1_MAGIC + MB1_FLAGS)

section .note.GNU-stack noalloc noexec nowrite progbits
