/* SPDX-License-Identifier: MIT */
/*
 * The MOV-family decoder behind vmm/decode/mmio_decode.h. It walks the
 * bytes once: prefixes, opcode, ModRM (with SIB and displacement sized by
 * the address size), immediate or memory offset. Every byte access goes
 * through one bounds-checked reader, which is what keeps random input from
 * reading past the buffer.
 */
#include "vmm/decode/mmio_decode.h"

#define REX_W 0x08
#define REX_R 0x04

struct cursor {
    const uint8_t *bytes;
    size_t len; /* min(len, 15) */
    size_t pos;
    bool capped; /* more than 15 bytes were given: running out means too long */
};

static bool next(struct cursor *c, uint8_t *b)
{
    if (c->pos >= c->len)
        return false;
    *b = c->bytes[c->pos++];
    return true;
}

/* Skips n bytes (displacement, offset); false if they are not all there. */
static bool skip(struct cursor *c, size_t n)
{
    if (c->len - c->pos < n)
        return false;
    c->pos += n;
    return true;
}

/* Reads an n-byte little-endian value. */
static bool take(struct cursor *c, size_t n, uint64_t *v)
{
    if (c->len - c->pos < n)
        return false;
    *v = 0;
    for (size_t i = 0; i < n; i++)
        *v |= (uint64_t)c->bytes[c->pos + i] << (8 * i);
    c->pos += n;
    return true;
}

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static uint64_t sign_extend(uint64_t v, unsigned from_size)
{
    if (from_size >= 8)
        return v;
    uint64_t sign = 1ull << (8 * from_size - 1);
    v &= size_mask(from_size);
    return (v ^ sign) - sign;
}

static bool is_segment_prefix(uint8_t b)
{
    return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65;
}

/* Skips ModRM's SIB byte and displacement; false when truncated. */
static bool skip_memory_operand(struct cursor *c, uint8_t modrm, unsigned addr_size)
{
    unsigned mod = modrm >> 6, rm = modrm & 7;
    size_t disp;

    if (addr_size == 2) {
        /* 16-bit forms: no SIB; mod 0 rm 6 is a bare disp16. */
        if (mod == 0)
            disp = rm == 6 ? 2 : 0;
        else
            disp = mod == 1 ? 1 : 2;
        return skip(c, disp);
    }
    if (mod == 0)
        disp = rm == 5 ? 4 : 0; /* disp32, RIP-relative in 64-bit mode */
    else
        disp = mod == 1 ? 1 : 4;
    if (rm == 4) {
        uint8_t sib;
        if (!next(c, &sib))
            return false;
        if (mod == 0 && (sib & 7) == 5)
            disp = 4; /* no base register: disp32 */
    }
    return skip(c, disp);
}

static void note_opcode(struct mmio_insn *out, const struct cursor *c, size_t at)
{
    out->prefix_len = (uint8_t)at;
    out->opcode_len = 0;
    for (size_t i = at; i < c->len && out->opcode_len < sizeof(out->opcode); i++)
        out->opcode[out->opcode_len++] = c->bytes[i];
}

static enum mmio_status finish(struct mmio_insn *out, enum mmio_status status,
                               const struct cursor *c)
{
    if (status == MMIO_DECODE_TRUNCATED && c->capped)
        status = MMIO_DECODE_TOO_LONG;
    out->status = status;
    out->length = status == MMIO_DECODE_OK ? (uint8_t)c->pos : 0;
    return status;
}

enum mmio_status mmio_decode(const uint8_t *bytes, size_t len, enum mmio_cpu_mode mode,
                             struct mmio_insn *out)
{
    struct cursor c = {.bytes = bytes,
                       .len = len < MMIO_INSN_MAX ? len : MMIO_INSN_MAX,
                       .capped = len >= MMIO_INSN_MAX};
    bool op66 = false, ad67 = false;
    uint8_t rex = 0, b;

    *out = (struct mmio_insn){0};
    if (!bytes) {
        c.len = 0;
        c.capped = false;
    }
    for (;;) {
        if (!next(&c, &b)) {
            note_opcode(out, &c, c.pos);
            return finish(out, MMIO_DECODE_TRUNCATED, &c);
        }
        /* A REX prefix counts only right before the opcode. */
        if (mode == MMIO_MODE_64 && (b & 0xf0) == 0x40) {
            rex = b;
            continue;
        }
        if (b == 0x66)
            op66 = true;
        else if (b == 0x67)
            ad67 = true;
        else if (!is_segment_prefix(b))
            break;
        rex = 0;
    }
    size_t opcode_at = c.pos - 1;
    note_opcode(out, &c, opcode_at);

    unsigned op_size, addr_size;
    switch (mode) {
    case MMIO_MODE_16:
        op_size = op66 ? 4 : 2;
        addr_size = ad67 ? 4 : 2;
        break;
    case MMIO_MODE_32:
        op_size = op66 ? 2 : 4;
        addr_size = ad67 ? 2 : 4;
        break;
    default:
        op_size = (rex & REX_W) ? 8 : op66 ? 2 : 4;
        addr_size = ad67 ? 4 : 8;
        break;
    }

    /* The moffs forms: no ModRM, an address-sized offset, always rAX. */
    if (b >= 0xa0 && b <= 0xa3) {
        out->size = (uint8_t)((b & 1) ? op_size : 1);
        out->write = b >= 0xa2;
        out->reg = 0;
        out->reg_size = out->size;
        if (!skip(&c, addr_size))
            return finish(out, MMIO_DECODE_TRUNCATED, &c);
        return finish(out, MMIO_DECODE_OK, &c);
    }

    bool byte_reg = false;
    switch (b) {
    case 0x88:
    case 0x89:
    case 0x8a:
    case 0x8b:
        out->size = (uint8_t)((b & 1) ? op_size : 1);
        out->write = b <= 0x89;
        out->reg_size = out->size;
        byte_reg = !(b & 1);
        break;
    case 0xc6:
    case 0xc7:
        out->size = (uint8_t)((b & 1) ? op_size : 1);
        out->write = true;
        out->has_imm = true;
        break;
    case 0x0f: {
        uint8_t b2;
        if (!next(&c, &b2))
            return finish(out, MMIO_DECODE_TRUNCATED, &c);
        if (b2 != 0xb6 && b2 != 0xb7 && b2 != 0xbe && b2 != 0xbf)
            return finish(out, MMIO_DECODE_UNSUPPORTED, &c);
        out->size = (b2 & 1) ? 2 : 1;
        out->reg_size = (uint8_t)op_size;
        out->extend = (b2 & 0x08) ? MMIO_EXT_SIGN : MMIO_EXT_ZERO;
        break;
    }
    default: return finish(out, MMIO_DECODE_UNSUPPORTED, &c);
    }

    uint8_t modrm;
    if (!next(&c, &modrm))
        return finish(out, MMIO_DECODE_TRUNCATED, &c);
    unsigned regf = (modrm >> 3) & 7;
    if (out->has_imm && regf != 0)
        return finish(out, MMIO_DECODE_UNSUPPORTED, &c); /* C6/C7 /1../7 are not MOV */
    if ((modrm >> 6) == 3)
        return finish(out, MMIO_DECODE_NO_MEMORY, &c);
    if (!skip_memory_operand(&c, modrm, addr_size))
        return finish(out, MMIO_DECODE_TRUNCATED, &c);

    if (out->has_imm) {
        unsigned imm_size = out->size == 8 ? 4 : out->size; /* imm32 sign-extended */
        uint64_t imm;
        if (!take(&c, imm_size, &imm))
            return finish(out, MMIO_DECODE_TRUNCATED, &c);
        out->imm = sign_extend(imm, imm_size) & size_mask(out->size);
        return finish(out, MMIO_DECODE_OK, &c);
    }

    out->reg = (uint8_t)(regf | ((rex & REX_R) ? 8 : 0));
    /* Without any REX prefix, byte registers 4-7 are AH, CH, DH, BH. */
    if (byte_reg && !rex && regf >= 4) {
        out->high_byte = true;
        out->reg = (uint8_t)(regf - 4);
    }
    return finish(out, MMIO_DECODE_OK, &c);
}

const char *mmio_status_name(enum mmio_status status)
{
    switch (status) {
    case MMIO_DECODE_OK: return "ok";
    case MMIO_DECODE_UNSUPPORTED: return "unsupported instruction";
    case MMIO_DECODE_NO_MEMORY: return "instruction has no memory operand";
    case MMIO_DECODE_TRUNCATED: return "instruction bytes truncated";
    case MMIO_DECODE_TOO_LONG: return "instruction longer than 15 bytes";
    default: return "unknown status";
    }
}

uint64_t mmio_write_value(const struct mmio_insn *insn, const uint64_t gprs[16])
{
    if (insn->has_imm)
        return insn->imm & size_mask(insn->size);
    if (insn->high_byte)
        return (gprs[insn->reg & 3] >> 8) & 0xff;
    return gprs[insn->reg & 15] & size_mask(insn->size);
}

void mmio_complete_read(const struct mmio_insn *insn, uint64_t gprs[16], uint64_t data)
{
    uint64_t v = data & size_mask(insn->size);
    unsigned width = insn->reg_size ? insn->reg_size : insn->size;

    if (insn->extend == MMIO_EXT_SIGN)
        v = sign_extend(v, insn->size) & size_mask(width);
    if (insn->high_byte) {
        uint64_t *r = &gprs[insn->reg & 3];
        *r = (*r & ~0xff00ull) | (v & 0xff) << 8;
        return;
    }
    uint64_t *r = &gprs[insn->reg & 15];
    if (width >= 4)
        *r = v & size_mask(width); /* 32-bit results clear bits 63:32 */
    else
        *r = (*r & ~size_mask(width)) | v;
}
