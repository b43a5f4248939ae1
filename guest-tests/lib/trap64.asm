; SPDX-License-Identifier: MIT
; 64-bit interrupt and exception stubs: one per vector, each pushing a dummy
; error code where the CPU pushes none, then the vector, so trap_dispatch
; (trap.c) sees one frame layout. trap_stubs is the table trap_init reads.
bits 64
default rel
section .text

extern trap_dispatch

%macro stub 1
trap_stub_%1:
%if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17 || %1 == 21 || %1 == 29 || %1 == 30
%else
    push qword 0
%endif
    push qword %1
    jmp trap_common
%endmacro

%assign v 0
%rep 256
    stub v
%assign v v + 1
%endrep

trap_common:
    push rax
    push rcx
    push rdx
    push rbx
    push rbp
    push rsi
    push rdi
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    cld
    mov rdi, rsp
    mov rbx, rsp            ; callee-saved: the frame, to undo the alignment
    and rsp, -16
    call trap_dispatch
    mov rsp, rbx
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rdi
    pop rsi
    pop rbp
    pop rbx
    pop rdx
    pop rcx
    pop rax
    add rsp, 16             ; vector, error code
    iretq

section .rodata
global trap_stubs
align 8
trap_stubs:
%assign v 0
%rep 256
    dq trap_stub_ %+ v
%assign v v + 1
%endrep

section .note.GNU-stack noalloc noexec nowrite progbits
