/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the MMIO instruction decoder: arbitrary bytes (in an
 * allocation of exactly their size, so ASan catches any read past them) are
 * decoded in each CPU mode. Besides the sanitizers' checks it aborts when a
 * result breaks a promise of vmm/decode/mmio_decode.h: a length beyond the
 * bytes or 15, a size other than 1/2/4/8, a register out of range, or an
 * answer that changes when only the instruction's own bytes are given or
 * that is not truncated when one of them is missing.
 * fuzz-sources: vmm/decode/mmio_decode.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/decode/mmio_decode.h"

/* Equal decodings; opcode[] differs legitimately, as it copies the bytes
 * that follow the prefixes as far as they were given. */
static bool same(const struct mmio_insn *a, const struct mmio_insn *b)
{
    return a->length == b->length && a->size == b->size && a->write == b->write &&
           a->has_imm == b->has_imm && a->imm == b->imm && a->reg == b->reg &&
           a->high_byte == b->high_byte && a->reg_size == b->reg_size && a->extend == b->extend &&
           a->prefix_len == b->prefix_len;
}

static void check(const uint8_t *bytes, size_t len, enum mmio_cpu_mode mode)
{
    struct mmio_insn insn, again;

    enum mmio_status st = mmio_decode(bytes, len, mode, &insn);
    if (st != insn.status || st > MMIO_DECODE_TOO_LONG)
        abort();
    if (insn.opcode_len > sizeof(insn.opcode) || insn.prefix_len > MMIO_INSN_MAX)
        abort();
    if (st != MMIO_DECODE_OK) {
        if (insn.length != 0)
            abort();
        if (st == MMIO_DECODE_TOO_LONG && len < MMIO_INSN_MAX)
            abort();
        return;
    }
    if (insn.length == 0 || insn.length > len || insn.length > MMIO_INSN_MAX)
        abort();
    if (insn.size != 1 && insn.size != 2 && insn.size != 4 && insn.size != 8)
        abort();
    if (insn.reg > 15 || (insn.high_byte && insn.reg > 3))
        abort();
    if (!insn.has_imm && insn.reg_size < insn.size)
        abort();
    if (insn.size < 8 && (insn.imm >> (8 * insn.size)) != 0)
        abort();

    /* The instruction's own bytes, in their own allocation, decode alike. */
    uint8_t *exact = malloc(insn.length);
    if (!exact)
        return;
    memcpy(exact, bytes, insn.length);
    if (mmio_decode(exact, insn.length, mode, &again) != MMIO_DECODE_OK || !same(&again, &insn))
        abort();
    if (mmio_decode(exact, insn.length - 1u, mode, &again) != MMIO_DECODE_TRUNCATED)
        abort();
    free(exact);

    uint64_t gprs[16];
    for (int i = 0; i < 16; i++)
        gprs[i] = 0x0101010101010101ull * (uint64_t)i;
    uint64_t v = mmio_write_value(&insn, gprs);
    if (insn.size < 8 && (v >> (8 * insn.size)) != 0)
        abort();
    mmio_complete_read(&insn, gprs, v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    check(copy, size, MMIO_MODE_16);
    check(copy, size, MMIO_MODE_32);
    check(copy, size, MMIO_MODE_64);
    free(copy);
    return 0;
}
