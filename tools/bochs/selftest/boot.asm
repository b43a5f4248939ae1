; SPDX-License-Identifier: MIT
; vmxpi: a bare-metal check of the emulator's VT-x posted interrupts (see
; README.md here). This file is its start and its assembly helpers: GRUB's
; multiboot2 entry in 32-bit protected mode, long mode with the first 4 GiB
; identity mapped (2 MiB pages), a GDT with a TSS (VMX needs a host TR), the
; guest's interrupt stubs, and VM entry that returns to C at the VM exit.

%define MB2_MAGIC 0xE85250D6

extern vmxpi_main
extern guest_hits
extern guest_bad_vector
extern tss64

section .multiboot2
align 8
mb2_header:
    dd MB2_MAGIC
    dd 0
    dd mb2_header_end - mb2_header
    dd -(MB2_MAGIC + (mb2_header_end - mb2_header))
    align 8
    dw 0, 0                     ; end tag
    dd 8
mb2_header_end:

section .text
bits 32
global _start
_start:
    cli
    mov esp, boot_stack_top
    ; PML4[0] -> PDPT, PDPT[0..3] -> four page directories of 2 MiB pages.
    mov eax, pdpt
    or eax, 3
    mov [pml4], eax
    mov ecx, 0
.pdpt:
    mov eax, ecx
    shl eax, 12
    add eax, pds
    or eax, 3
    mov [pdpt + ecx * 8], eax
    inc ecx
    cmp ecx, 4
    jne .pdpt
    mov ecx, 0
.pd:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83                ; present, writable, 2 MiB
    mov [pds + ecx * 8], eax
    mov eax, ecx
    shr eax, 11                 ; bits 63:32 of the address
    mov [pds + ecx * 8 + 4], eax
    inc ecx
    cmp ecx, 2048
    jne .pd
    mov eax, pml4
    mov cr3, eax
    mov eax, cr4
    or eax, 1 << 5              ; PAE
    mov cr4, eax
    mov ecx, 0xC0000080         ; EFER.LME
    rdmsr
    or eax, 1 << 8
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | 1       ; PG, PE
    mov cr0, eax
    lgdt [gdt_ptr]
    jmp 0x08:long_mode

bits 64
long_mode:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rsp, boot_stack_top
    call vmxpi_main
.halt:
    cli
    hlt
    jmp .halt

; int vmx_enter(int resume): VMLAUNCH (resume 0) or VMRESUME; returns 0 after
; the next VM exit (HOST_RIP is vmx_exit_point, HOST_RSP this frame), or 1 if
; the instruction failed. The guest's registers are not kept: the guest code
; keeps its state in memory.
global vmx_enter
vmx_enter:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov rax, 0x6C14             ; HOST_RSP
    vmwrite rax, rsp
    mov rax, 0x6C16             ; HOST_RIP
    lea rdx, [rel vmx_exit_point]
    vmwrite rax, rdx
    test edi, edi
    jnz .resume
    vmlaunch
    jmp .failed
.resume:
    vmresume
.failed:
    mov eax, 1
    jmp vmx_return
vmx_exit_point:
    xor eax, eax
vmx_return:
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret

; void gdt_load_tr(void)
global gdt_load_tr
gdt_load_tr:
    mov ax, 0x18
    ltr ax
    ret

; The guest's interrupt stubs: vector N counts guest_hits[N]; #UD also skips
; its UD2; any other exception (vector < 32) records itself in
; guest_bad_vector and halts (a HLT exit).
global guest_stubs
align 16
guest_stubs:
%assign v 0
%rep 256
    align 16
%if v == 6
    ; #UD (a trap gate: IF unchanged): count it and skip the 2-byte UD2
    lock inc dword [rel guest_hits + v * 4]
    add qword [rsp], 2
    iretq
%elif v < 32
    mov dword [rel guest_bad_vector], v + 1
    hlt
    jmp $
%else
    lock inc dword [rel guest_hits + v * 4]
    iretq
%endif
%assign v v + 1
%endrep

section .data
align 16
global gdt
gdt:
    dq 0                        ; 0x00
    dq 0x00AF9B000000FFFF       ; 0x08 64-bit code
    dq 0x00CF93000000FFFF       ; 0x10 data
    dq 0, 0                     ; 0x18 TSS, filled in by C
gdt_end:
global gdt_ptr
gdt_ptr:
    dw gdt_end - gdt - 1
    dq gdt

section .bss
align 4096
pml4: resb 4096
pdpt: resb 4096
pds: resb 4 * 4096
boot_stack: resb 16384
boot_stack_top:
