; SPDX-License-Identifier: MIT
; Entry of every 32-bit test guest (ELF32 and multiboot2). The loader
; promises only protected mode, flat segments, paging off and interrupts off;
; the stack, the GDT and the IDT are unknown and may lie in memory a test
; overwrites, so the stub sets up its own before any C code runs, keeping
; EAX/EBX (the multiboot2 magic and info address) and the entry EFLAGS for
; guest_start (start.c) to check.
bits 32

section .text.entry
global _start
extern guest_start
extern __bss_start, __bss_end

_start:
    mov edx, eax                ; multiboot2 magic (meaningless for ELF32)
    mov esi, ebx                ; multiboot2 information address
    mov esp, stack_top
    pushfd
    pop ebp                     ; EFLAGS as the loader left them
    cld
    mov edi, __bss_start        ; .bss holds the stack: zero it before use
    mov ecx, __bss_end
    sub ecx, edi
    xor eax, eax
    rep stosb
    lgdt [gdt_pointer]
    jmp 0x08:.reload_cs
.reload_cs:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, stack_top
    sub esp, 4                  ; keep ESP 16-byte aligned at the call
    push ebp
    push esi
    push edx
    call guest_start            ; guest_start(magic, info, flags); never returns
.halt:
    cli
    hlt
    jmp .halt

section .rodata
align 8
gdt:
    dq 0                        ; 0x00 null
    dq 0x00CF9A000000FFFF       ; 0x08 flat 32-bit code
    dq 0x00CF92000000FFFF       ; 0x10 flat data
    dq 0x00CF12000000FFFF       ; 0x18 data, not present (for the #NP test)
gdt_end:
gdt_pointer:
    dw gdt_end - gdt - 1
    dd gdt

section .bss
align 16
stack:
    resb 16384
stack_top:

section .note.GNU-stack noalloc noexec nowrite progbits
