; SPDX-License-Identifier: MIT
; Guest entry and exit for VT-x.
;
; int vmx_enter(uint64_t *regs, int launched)
;   regs: the guest's 16 GPRs in x86 encoding order (RSP, slot 4, is in the
;   VMCS and ignored here). Saves the host's callee-saved registers, points
;   HOST_RSP at this stack, loads the guest GPRs and executes VMRESUME (or
;   VMLAUNCH the first time). A VM exit lands in vmx_exit_stub (HOST_RIP) on
;   the same stack, which saves the guest GPRs and returns 0 from
;   vmx_enter. If the instruction itself fails, vmx_enter returns 1.

%define VMCS_HOST_RSP 0x6c14

%define R_RAX 0
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

global vmx_enter
global vmx_exit_stub
vmx_enter:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    push rdi                    ; regs, found again at [rsp] on exit

    mov rax, VMCS_HOST_RSP
    vmwrite rax, rsp
    jbe .fail_early

    test esi, esi               ; flags survive the MOVs below
    mov rax, [rdi + R_RAX]
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
    jnz .resume
    vmlaunch
    jmp .fail
.resume:
    vmresume
.fail:
.fail_early:
    pop rdi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    mov eax, 1
    ret

vmx_exit_stub:
    push rdi                    ; guest RDI; [rsp + 8] is regs
    mov rdi, [rsp + 8]
    mov [rdi + R_RAX], rax
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
    pop rdi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    xor eax, eax
    ret
