; SPDX-License-Identifier: MIT
; The start of a 64-bit test guest's second vCPU (smp64.c copies this block
; below 1 MiB and sends INIT and SIPI). A vCPU leaves wait-for-SIPI in real
; mode at vector << 12; this code goes straight to long mode with the page
; tables and GDT the first vCPU already uses (values smp64.c fills in),
; then calls the C entry on its own stack. Position independent: only
; DS-relative (same base as CS) and RIP-relative references.
bits 16

section .rodata
global ap_tramp_start, ap_tramp_end
global ap_tramp_gdtr, ap_tramp_cr3, ap_tramp_ljmp, ap_tramp_stack, ap_tramp_entry
align 16
ap_tramp_start:
    cli
    mov ax, cs
    mov ds, ax
    o32 lgdt [ap_tramp_gdtr - ap_tramp_start]
    mov eax, cr4
    or eax, 1 << 5                      ; PAE
    mov cr4, eax
    mov eax, [ap_tramp_cr3 - ap_tramp_start]
    mov cr3, eax
    mov ecx, 0xC0000080                 ; EFER
    rdmsr
    or eax, 1 << 8                      ; LME
    wrmsr
    mov eax, cr0
    or eax, 0x80000001                  ; PG | PE: long mode, compatibility code for now
    mov cr0, eax
    jmp dword far [ap_tramp_ljmp - ap_tramp_start]

bits 64
global ap_tramp_long
ap_tramp_long:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov rsp, [rel ap_tramp_stack]
    mov rax, [rel ap_tramp_entry]
    call rax
.halt:
    cli
    hlt
    jmp .halt

align 8
ap_tramp_gdtr:
    dw 0                                ; limit
    dd 0                                ; base (below 4 GiB)
align 8
ap_tramp_cr3:
    dd 0
ap_tramp_ljmp:
    dd 0                                ; absolute address of ap_tramp_long once copied
    dw 0x08                             ; 64-bit code (entry64.asm's GDT)
align 8
ap_tramp_stack:
    dq 0
ap_tramp_entry:
    dq 0
ap_tramp_end:

section .note.GNU-stack noalloc noexec nowrite progbits
