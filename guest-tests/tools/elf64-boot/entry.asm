; SPDX-License-Identifier: MIT
; elf64-boot's 32-bit entry (GRUB, multiboot2) and its jump into the ELF64
; guest: loader.c copies the guest and builds the page tables, then
; enter_long_mode turns on PAE, EFER.LME and paging and jumps to the guest's
; entry in 64-bit mode with interrupts off and RSP = 0, so a guest that
; forgot to set its own stack faults at once. Smoke-test tool only.
bits 32

section .text.entry
global _start
extern loader_main

_start:
    mov esp, stack_top
    cld
    sub esp, 8
    push ebx                    ; multiboot2 information
    push eax                    ; multiboot2 magic
    call loader_main            ; returns only on error
.halt:
    cli
    hlt
    jmp .halt

; void enter_long_mode(uint32_t pml4, uint32_t entry)
global enter_long_mode
enter_long_mode:
    cli
    mov eax, [esp + 4]
    mov ebx, [esp + 8]
    mov cr3, eax
    mov eax, cr4
    or eax, 1 << 5              ; PAE
    mov cr4, eax
    mov ecx, 0xC0000080         ; IA32_EFER
    rdmsr
    or eax, 1 << 8              ; LME
    wrmsr
    lgdt [gdt_pointer]
    mov eax, cr0
    or eax, 1 << 31             ; PG
    mov cr0, eax
    jmp 0x08:.long_mode
; From here the CPU runs 64-bit code; every instruction below encodes the
; same in 32- and 64-bit mode (jmp eax is jmp rax), so this stays an ELF32
; object.
.long_mode:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, ebx                ; zero-extends: the entry is below 4 GiB
    xor esp, esp
    jmp eax                     ; jmp rax

section .rodata
align 8
gdt:
    dq 0
    dq 0x00AF9A000000FFFF       ; 0x08 64-bit code
    dq 0x00CF92000000FFFF       ; 0x10 data
gdt_end:
gdt_pointer:
    dw gdt_end - gdt - 1
    dd gdt

section .bss
align 16
    resb 8192
stack_top:

section .note.GNU-stack noalloc noexec nowrite progbits
