; SPDX-License-Identifier: MIT
; Entry of every ELF64 test guest. The loader promises 64-bit mode with the
; memory identity-mapped and interrupts off; stack, GDT and IDT are unknown,
; so the stub installs its own stack and GDT (reloading CS with a far return)
; before C code runs, and passes the entry RFLAGS to guest_start (start.c).
; The page tables are replaced in C (paging64.c).
bits 64
default rel

section .text.entry
global _start
extern guest_start
extern __bss_start, __bss_end

_start:
    lea rsp, [stack_top]
    pushfq
    pop rbp                     ; RFLAGS as the loader left them
    cld
    lea rdi, [__bss_start]      ; .bss holds the stack: zero it before use
    lea rcx, [__bss_end]
    sub rcx, rdi
    xor eax, eax
    rep stosb
    lgdt [gdt_pointer]
    lea rsp, [stack_top]
    push 0x08
    lea rax, [.reload_cs]
    push rax
    o64 retf
.reload_cs:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    xor edi, edi                ; no multiboot2 magic
    xor esi, esi                ; no boot information
    mov rdx, rbp
    call guest_start            ; guest_start(0, 0, rflags); never returns
.halt:
    cli
    hlt
    jmp .halt

section .rodata
align 8
gdt:
    dq 0                        ; 0x00 null
    dq 0x00AF9A000000FFFF       ; 0x08 64-bit code
    dq 0x00CF92000000FFFF       ; 0x10 data
    dq 0x00CF12000000FFFF       ; 0x18 data, not present (for the #NP test)
gdt_end:
gdt_pointer:
    dw gdt_end - gdt - 1
    dq gdt

section .bss
align 16
stack:
    resb 16384
stack_top:

section .note.GNU-stack noalloc noexec nowrite progbits
