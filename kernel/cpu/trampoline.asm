; SPDX-License-Identifier: MIT
; The application-processor trampoline. The boot CPU copies it to a page
; below 1 MiB, fills in the parameter block at its end and sends
; INIT-SIPI-SIPI; the AP starts here in real mode at CS = page >> 4, IP = 0.
; It goes straight to long mode on the boot page tables (cr3 in the block),
; claims the block, loads a stack and calls ap_entry(percpu) in the
; hypervisor's text.
;
; The claim: the block names the APIC ID of the one CPU it is for (p_claim),
; and an AP takes it with a locked compare-and-exchange of its own initial
; APIC ID for CLAIMED. An AP that starts late, after the boot CPU gave up on
; it and moved on (a SIPI an emulator kept pending across the parking INIT,
; or a slow CPU), finds another CPU's ID or nothing there and halts, instead
; of running on the stack the block now gives another CPU.
;
; Everything is addressed relative to the page: in real mode through CS/DS,
; in long mode RIP-relative. The block holds the only absolute addresses,
; written by smp.c.

section .rodata
bits 16
align 16
global trampoline_start
global trampoline_end
global trampoline_params
trampoline_start:
    cli
    cld
    mov ax, cs
    mov ds, ax
    o32 lgdt [gdtr - trampoline_start]
    mov eax, cr4
    or eax, 1 << 5                          ; PAE
    mov cr4, eax
    mov eax, [p_cr3 - trampoline_start]
    mov cr3, eax
    mov ecx, 0xC0000080                     ; EFER
    rdmsr
    or eax, (1 << 8) | (1 << 11)            ; LME, NXE
    wrmsr
    ; An AP leaves INIT with CD and NW set (caches off); clear them, or the
    ; core runs uncached, and so do the guests it enters (VM entry keeps
    ; the host's CR0.CD/NW).
    mov eax, cr0
    and eax, ~((1 << 30) | (1 << 29))       ; CD, NW
    or eax, (1 << 31) | (1 << 16) | 1       ; PG, WP, PE
    mov cr0, eax
    o32 jmp far [farptr - trampoline_start]

TRAMPOLINE_CLAIMED equ 0xFFFFFFFE           ; smp.c's TRAMPOLINE_CLAIMED

bits 64
long_mode:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor ax, ax
    mov fs, ax
    mov gs, ax
    ; Our initial APIC ID: leaf 0xB's x2APIC ID where the leaf is valid
    ; (sub-leaf 0 lists processors and a level type), else leaf 1's.
    xor eax, eax
    cpuid
    cmp eax, 0xB
    jb .leaf1
    mov eax, 0xB
    xor ecx, ecx
    cpuid
    test bx, bx
    jz .leaf1
    test ch, ch
    jz .leaf1
    mov esi, edx
    jmp .claim
.leaf1:
    mov eax, 1
    cpuid
    shr ebx, 24
    mov esi, ebx
.claim:
    mov eax, esi
    mov edx, TRAMPOLINE_CLAIMED
    lock cmpxchg [rel p_claim], edx
    jne .hang                               ; not ours: stay out of the way
    mov rsp, [rel p_stack]
    mov rdi, [rel p_percpu]
    xor ebp, ebp
    mov rax, [rel p_entry]
    call rax
.hang:
    cli
    hlt
    jmp .hang

align 16
gdt:
    dq 0
    dq 0x00AF9B000000FFFF                   ; 0x08: 64-bit code
    dq 0x00CF93000000FFFF                   ; 0x10: data
gdt_end:

; Parameter block (struct trampoline_params in smp.c).
align 8
trampoline_params:
gdtr:
    dw gdt_end - gdt - 1
    dq 0                                    ; linear address of gdt (page + offset)
    dw 0, 0, 0
farptr:
    dd 0                                    ; linear address of long_mode
    dw 0x08
    dw 0
p_cr3:      dq 0
p_stack:    dq 0
p_percpu:   dq 0
p_entry:    dq 0
p_claim:    dd 0xFFFFFFFF                   ; APIC ID of the CPU it is for, or CLAIMED/NONE
global trampoline_gdt_offset
global trampoline_long_mode_offset
trampoline_end:

section .rodata
align 8
trampoline_gdt_offset:       dq gdt - trampoline_start
trampoline_long_mode_offset: dq long_mode - trampoline_start
