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

%include "vmm/vcpu_gprs.inc"

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
    GUEST_GPRS_LOAD
    vmload
    vmrun

    push rdi                    ; guest RDI; regs is now at [rsp + 8]
    GUEST_GPRS_STORE

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
