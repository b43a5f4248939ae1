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

%include "vmm/vcpu_gprs.inc"

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
    GUEST_GPRS_LOAD
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
    mov [rdi + R_RAX], rax      ; GUEST_GPRS_STORE clobbers RAX
    GUEST_GPRS_STORE
    pop rdi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    xor eax, eax
    ret
