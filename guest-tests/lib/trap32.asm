; SPDX-License-Identifier: MIT
; 32-bit interrupt and exception stubs: one per vector, each pushing a dummy
; error code where the CPU pushes none, then the vector, so trap_dispatch
; (trap.c) sees one frame layout. trap_stubs is the table trap_init reads.
bits 32
section .text

extern trap_dispatch

%macro stub 1
trap_stub_%1:
%if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17 || %1 == 21 || %1 == 29 || %1 == 30
%else
    push dword 0
%endif
    push dword %1
    jmp trap_common
%endmacro

%assign v 0
%rep 256
    stub v
%assign v v + 1
%endrep

trap_common:
    pushad
    cld
    mov eax, esp
    push eax
    call trap_dispatch
    add esp, 4
    popad
    add esp, 8              ; vector, error code
    iretd

section .rodata
global trap_stubs
align 4
trap_stubs:
%assign v 0
%rep 256
    dd trap_stub_ %+ v
%assign v v + 1
%endrep

section .note.GNU-stack noalloc noexec nowrite progbits
