; SPDX-License-Identifier: MIT
; Guest entry and exit for SVM.
;
; void svm_enter(uint64_t *regs, uint64_t vmcb_pa, uint64_t host_pa)
;   regs: the guest's 16 GPRs in x86 encoding order (RAX and RSP, slots 0
;   and 4, live in the VMCB and are ignored here). Saves the host's
;   callee-saved registers, VMSAVEs the host's FS/GS/TR/LDTR and syscall
;   MSRs to host_pa (VMRUN does not restore them), loads the guest GPRs,
;   VMLOADs and VMRUNs the guest VMCB. After #VMEXIT (same stack, GIF
;   clear) it stores the guest GPRs, VMSAVEs the guest and VMLOADs the host.

%define R_RCX 8
%define R_RDX 16
%define R_RBX 24
%define R_RBP 40
%define R_RSI 48
%define R_RDI 56
%define R_R8  64
%define R_R9  72
%define R_R10 80
%define R_R11 88
%define R_R12 96
%define R_R13 104
%define R_R14 112
%define R_R15 120

section .text
bits 64

global svm_enter
svm_enter:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    push rdx                    ; [rsp + 16]: host_pa
    push rsi                    ; [rsp + 8]: vmcb_pa
    push rdi                    ; [rsp]: regs

    mov rax, rdx
    vmsave
    mov rax, rsi
    mov rcx, [rdi + R_RCX]
    mov rdx, [rdi + R_RDX]
    mov rbx, [rdi + R_RBX]
    mov rbp, [rdi + R_RBP]
    mov rsi, [rdi + R_RSI]
    mov r8,  [rdi + R_R8]
    mov r9,  [rdi + R_R9]
    mov r10, [rdi + R_R10]
    mov r11, [rdi + R_R11]
    mov r12, [rdi + R_R12]
    mov r13, [rdi + R_R13]
    mov r14, [rdi + R_R14]
    mov r15, [rdi + R_R15]
    mov rdi, [rdi + R_RDI]
    vmload
    vmrun

    push rdi                    ; guest RDI; regs is now at [rsp + 8]
    mov rdi, [rsp + 8]
    mov [rdi + R_RCX], rcx
    mov [rdi + R_RDX], rdx
    mov [rdi + R_RBX], rbx
    mov [rdi + R_RBP], rbp
    mov [rdi + R_RSI], rsi
    mov [rdi + R_R8],  r8
    mov [rdi + R_R9],  r9
    mov [rdi + R_R10], r10
    mov [rdi + R_R11], r11
    mov [rdi + R_R12], r12
    mov [rdi + R_R13], r13
    mov [rdi + R_R14], r14
    mov [rdi + R_R15], r15
    pop rax
    mov [rdi + R_RDI], rax

    pop rdi                     ; regs
    pop rax                     ; vmcb_pa
    vmsave
    pop rax                     ; host_pa
    vmload
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret
