; SPDX-License-Identifier: MIT
; Sidecore entry points.
;
; mb2_entry32: GRUB (multiboot2) enters here in 32-bit protected mode with
;   EAX = 0x36d76289 and EBX = physical address of the boot information.
; efi_entry64: our UEFI loader enters here in 64-bit mode with RDI = struct
;   handoff *, after ExitBootServices.
; Both build the same boot page tables (the first 4 GiB identity mapped with
; 2 MiB pages), load the hypervisor's GDT, and call into C on the boot stack.

%define MB2_MAGIC       0xE85250D6
%define MB2_ARCH_I386   0
%define BOOT_STACK_SIZE 16384

%define CR0_PE  (1 << 0)
%define CR0_WP  (1 << 16)
%define CR0_NW  (1 << 29)
%define CR0_CD  (1 << 30)
%define CR0_PG  (1 << 31)
%define CR4_PAE (1 << 5)
%define MSR_EFER 0xC0000080
%define EFER_LME (1 << 8)
%define EFER_NXE (1 << 11)

extern kernel_entry_mb2
extern kernel_entry_efi
extern __kernel_start
extern __kernel_end

section .multiboot2
align 8
mb2_header:
    dd MB2_MAGIC
    dd MB2_ARCH_I386
    dd mb2_header_end - mb2_header
    dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    ; information request: cmdline, modules, memory map, ACPI old/new
    align 8
.info_req:
    dw 1, 0
    dd .info_req_end - .info_req
    dd 1, 3, 6, 14, 15
.info_req_end:
    ; module alignment: page-aligned modules
    align 8
    dw 6, 0
    dd 8
    ; end tag
    align 8
    dw 0, 0
    dd 8
mb2_header_end:

section .sidecore_boot_header
align 8
global sidecore_boot_header
sidecore_boot_header:
    dq 0x3436454f43454453   ; SIDECORE_BOOT_HEADER_MAGIC
    dq efi_entry64
    dq __kernel_start
    dq __kernel_end

section .text.entry
bits 32
global mb2_entry32
mb2_entry32:
    cli
    cld
    mov esp, boot_stack_top
    mov esi, eax                ; multiboot2 magic
    mov edi, ebx                ; boot information

    ; long mode present? (CPUID 0x80000001 EDX bit 29)
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .no_long_mode
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29
    jz .no_long_mode

    push esi
    push edi
    call build_boot_page_tables32
    pop edi
    pop esi

    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, boot_pml4
    mov cr3, eax
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME
    wrmsr
    mov eax, cr0
    and eax, ~(CR0_CD | CR0_NW)             ; caches on, whatever the loader left
    or eax, CR0_PG | CR0_PE | CR0_WP
    mov cr0, eax

    lgdt [boot_gdt_desc]
    jmp 0x08:.long_mode

.no_long_mode:
    ; Say why on COM1 (assumed at 0x3F8, already set up by the firmware).
    mov esi, no_lm_msg
.putc:
    lodsb
    test al, al
    jz .halt
    mov dx, 0x3F8
    out dx, al
    jmp .putc
.halt:
    hlt
    jmp .halt

bits 64
.long_mode:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor ax, ax
    mov fs, ax
    mov gs, ax
    mov rsp, boot_stack_top
    xor ebp, ebp
    ; edi = info, esi = magic (zero-extended by the 32-bit moves above)
    mov eax, edi
    mov edi, esi
    mov esi, eax
    call kernel_entry_mb2
.hang:
    cli
    hlt
    jmp .hang

bits 32
; Identity-map the first 4 GiB with 2 MiB pages: PML4[0] -> PDPT, PDPT[i] ->
; boot_pd + i*4096, each PD entry a 2 MiB page.
build_boot_page_tables32:
    mov edi, boot_pml4
    mov ecx, (6 * 4096) / 4
    xor eax, eax
    rep stosd
    mov dword [boot_pml4], boot_pdpt + 3
    mov ecx, 0
.pdpt:
    mov eax, ecx
    shl eax, 12
    add eax, boot_pd + 3
    mov [boot_pdpt + ecx * 8], eax
    inc ecx
    cmp ecx, 4
    jb .pdpt
    mov ecx, 0
.pd:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83                ; present, writable, 2 MiB page
    mov [boot_pd + ecx * 8], eax
    mov eax, ecx
    shr eax, 11                 ; bits 32+ of the address (ecx * 2 MiB >> 32)
    mov [boot_pd + ecx * 8 + 4], eax
    inc ecx
    cmp ecx, 2048
    jb .pd
    ret

bits 64
global efi_entry64
efi_entry64:
    cli
    cld
    mov rsp, boot_stack_top
    push rdi                    ; struct handoff *
    ; The loader's page tables may not map what we need later; build ours.
    lea rdi, [rel boot_pml4]
    mov ecx, (6 * 4096) / 8
    xor eax, eax
    rep stosq
    lea rax, [rel boot_pdpt]
    or rax, 3
    mov [rel boot_pml4], rax
    xor ecx, ecx
.pdpt64:
    mov rax, rcx
    shl rax, 12
    lea rdx, [rel boot_pd]
    add rax, rdx
    or rax, 3
    lea rdx, [rel boot_pdpt]
    mov [rdx + rcx * 8], rax
    inc ecx
    cmp ecx, 4
    jb .pdpt64
    xor ecx, ecx
    lea rdx, [rel boot_pd]
.pd64:
    mov rax, rcx
    shl rax, 21
    or rax, 0x83
    mov [rdx + rcx * 8], rax
    inc ecx
    cmp ecx, 2048
    jb .pd64
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_NXE
    wrmsr
    mov rax, cr4
    or rax, CR4_PAE
    mov cr4, rax
    lea rax, [rel boot_pml4]
    mov cr3, rax
    lgdt [rel boot_gdt_desc]
    ; reload CS through a far return
    lea rax, [rel .reload_cs]
    push 0x08
    push rax
    retfq
.reload_cs:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor ax, ax
    mov fs, ax
    mov gs, ax
    pop rdi
    mov rsp, boot_stack_top
    xor ebp, ebp
    call kernel_entry_efi
    jmp mb2_entry32.hang

section .rodata
align 16
boot_gdt:
    dq 0
    dq 0x00AF9B000000FFFF       ; 0x08: 64-bit code (accessed bit preset)
    dq 0x00CF93000000FFFF       ; 0x10: data (accessed bit preset)
boot_gdt_end:
boot_gdt_desc:
    dw boot_gdt_end - boot_gdt - 1
    dq boot_gdt
no_lm_msg:
    db "sidecore: this CPU has no 64-bit long mode; cannot boot", 13, 10, 0

section .bss
align 4096
global boot_pml4
boot_pml4: resb 4096
boot_pdpt: resb 4096
boot_pd:   resb 4 * 4096
align 16
global boot_stack_top
boot_stack: resb BOOT_STACK_SIZE
boot_stack_top:
