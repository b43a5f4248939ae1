/* SPDX-License-Identifier: MIT */
/*
 * Decoding the instruction that touched emulated MMIO. An EPT violation
 * tells the hypervisor which guest-physical address was accessed, but not
 * the access size, the register involved or the instruction's length; this
 * decoder recovers them from the instruction bytes at the guest's RIP for
 * the MOV forms compilers and drivers use for device registers (Linux's
 * readl()/writel() and friends):
 *   88/89  MOV r/m, r          8A/8B  MOV r, r/m
 *   C6/C7  MOV r/m, imm        A0-A3  MOV AL/rAX <-> moffs
 *   0F B6/B7  MOVZX r, r/m8/16 0F BE/BF  MOVSX r, r/m8/16
 * with the prefixes 66, 67, segment overrides and REX. Everything else
 * (other opcodes, LOCK/REP prefixes, register-only forms) is reported as
 * unsupported with its bytes, so the caller can stop the guest with a clear
 * report instead of guessing. The decoder reads only the bytes it is given
 * (at most 15) and never past them. Pure code, host-tested and fuzzed.
 */
#ifndef SIDECORE_VMM_DECODE_MMIO_DECODE_H
#define SIDECORE_VMM_DECODE_MMIO_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MMIO_INSN_MAX 15

enum mmio_cpu_mode {
    MMIO_MODE_16, /* real mode or a 16-bit code segment */
    MMIO_MODE_32, /* 32-bit code segment (protected or compatibility mode) */
    MMIO_MODE_64, /* 64-bit code segment (CS.L) */
};

enum mmio_status {
    MMIO_DECODE_OK,
    MMIO_DECODE_UNSUPPORTED, /* not one of the forms above (see opcode[]) */
    MMIO_DECODE_NO_MEMORY,   /* a supported opcode with a register operand (ModRM.mod = 3) */
    MMIO_DECODE_TRUNCATED,   /* the bytes end before the instruction does */
    MMIO_DECODE_TOO_LONG,    /* would be longer than 15 bytes (the CPU faults on it) */
};

enum mmio_extend { MMIO_EXT_NONE, MMIO_EXT_ZERO, MMIO_EXT_SIGN };

struct mmio_insn {
    enum mmio_status status;
    uint8_t length;   /* whole instruction, prefixes included (valid when OK) */
    uint8_t size;     /* bytes accessed in memory: 1, 2, 4 or 8 */
    bool write;       /* memory is written (else read) */
    bool has_imm;     /* a write of imm rather than of a register */
    uint64_t imm;     /* the immediate, sign-extended to size (bits above size clear) */
    uint8_t reg;      /* register operand, 0-15 in the RAX, RCX, RDX, RBX, RSP,
                         RBP, RSI, RDI, R8..R15 order */
    bool high_byte;   /* AH/CH/DH/BH: bits 15:8 of register reg (0-3) */
    uint8_t reg_size; /* the register's width for a read: size, or wider for MOVZX/MOVSX */
    enum mmio_extend extend;
    /* For reports: the opcode bytes (and what follows) at the first byte
     * after the prefixes, as far as they were given. */
    uint8_t prefix_len;
    uint8_t opcode[4];
    uint8_t opcode_len;
};

/* Decodes the instruction at bytes[0] (len bytes available, of which at
 * most 15 are looked at) executed in mode. Always fills *out; returns
 * out->status. */
enum mmio_status mmio_decode(const uint8_t *bytes, size_t len, enum mmio_cpu_mode mode,
                             struct mmio_insn *out);

/* A short name for a status, for messages. */
const char *mmio_status_name(enum mmio_status status);

/* For a decoded write: the value to store (size bytes, in the low bits),
 * taken from the immediate or the register in gprs (same order as reg). */
uint64_t mmio_write_value(const struct mmio_insn *insn, const uint64_t gprs[16]);

/* For a decoded read: puts data (the size bytes read) into the register as
 * the instruction would: zero- or sign-extended to reg_size, then merged
 * into the low 8 or 16 bits (or bits 15:8 for AH..BH), or zero-extended to
 * 64 bits for a 32-bit destination. */
void mmio_complete_read(const struct mmio_insn *insn, uint64_t gprs[16], uint64_t data);

#endif
