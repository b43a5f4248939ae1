/* SPDX-License-Identifier: MIT */
/* Unit tests for the MMIO instruction decoder: every supported form in each
 * CPU mode with its length (checked against objdump's decoding), the
 * register and immediate it reports, truncation at every byte, and the
 * register updates of mmio_complete_read().
 * test-sources: vmm/decode/mmio_decode.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/decode/mmio_decode.h"

#define M16 MMIO_MODE_16
#define M32 MMIO_MODE_32
#define M64 MMIO_MODE_64
#define RD  false
#define WR  true

struct vec {
    const char *bytes;
    uint8_t len; /* instruction length */
    enum mmio_cpu_mode mode;
    uint8_t size;
    bool write;
    uint8_t reg;
    bool high;
    uint8_t reg_size; /* 0: no register (immediate) */
    enum mmio_extend ext;
    bool has_imm;
    uint64_t imm;
};

/* Rows leave the trailing fields (extension, immediate) out when unused. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct vec vecs[] = {
    /* MOV r/m, r and MOV r, r/m in 64-bit mode. */
    {"\x89\x07", 2, M64, 4, WR, 0, false, 4},                          /* mov [rdi],eax */
    {"\x8b\x07", 2, M64, 4, RD, 0, false, 4},                          /* mov eax,[rdi] */
    {"\x48\x8b\x47\x08", 4, M64, 8, RD, 0, false, 8},                  /* mov rax,[rdi+8] */
    {"\x44\x89\x44\x24\x10", 5, M64, 4, WR, 8, false, 4},              /* mov [rsp+16],r8d */
    {"\x8b\x0d\x78\x56\x34\x12", 6, M64, 4, RD, 1, false, 4},          /* mov ecx,[rip+d32] */
    {"\x8b\x14\x25\x00\x00\xe0\xfe", 7, M64, 4, RD, 2, false, 4},      /* mov edx,[abs d32] */
    {"\x8b\x9c\x88\x00\x01\x00\x00", 7, M64, 4, RD, 3, false, 4},      /* [rax+rcx*4+d32] */
    {"\x8b\x44\x88\xf0", 4, M64, 4, RD, 0, false, 4},                  /* [rax+rcx*4+d8] */
    {"\x8b\x04\x88", 3, M64, 4, RD, 0, false, 4},                      /* [rax+rcx*4] */
    {"\x8b\x45\x00", 3, M64, 4, RD, 0, false, 4},                      /* [rbp+0] */
    {"\x41\x8b\x45\x00", 4, M64, 4, RD, 0, false, 4},                  /* [r13+0] */
    {"\x41\x8b\x04\x24", 4, M64, 4, RD, 0, false, 4},                  /* [r12] */
    {"\x4d\x8b\xbc\x24\x00\x10\x00\x00", 8, M64, 8, RD, 15, false, 8}, /* r15,[r12+d32] */
    {"\x88\x27", 2, M64, 1, WR, 0, true, 1},                           /* mov [rdi],ah */
    {"\x40\x88\x27", 3, M64, 1, WR, 4, false, 1},                      /* mov [rdi],spl */
    {"\x44\x88\x3f", 3, M64, 1, WR, 15, false, 1},                     /* mov [rdi],r15b */
    {"\x8a\x3e", 2, M64, 1, RD, 3, true, 1},                           /* mov bh,[rsi] */
    {"\x8a\x0e", 2, M64, 1, RD, 1, false, 1},                          /* mov cl,[rsi] */
    {"\x66\x89\x07", 3, M64, 2, WR, 0, false, 2},                      /* mov [rdi],ax */
    {"\x66\x48\x89\x07", 4, M64, 8, WR, 0, false, 8},                  /* REX.W beats 66 */
    {"\x48\x66\x89\x07", 4, M64, 2, WR, 0, false, 2},                  /* REX not last: ignored */
    {"\x65\x8b\x04\x25\x10\x00\x00\x00", 8, M64, 4, RD, 0, false, 4},  /* gs: segment */
    {"\x2e\x3e\x26\x36\x64\x89\x07", 7, M64, 4, WR, 0, false, 4},      /* all segments */
    {"\x67\x8b\x07", 3, M64, 4, RD, 0, false, 4},                      /* mov eax,[edi] */
    {"\x67\x8b\x05\x00\x10\x00\x00", 7, M64, 4, RD, 0, false, 4},      /* [eip+d32] */
    {"\x67\x8b\x04\x24", 4, M64, 4, RD, 0, false, 4},                  /* [esp] */
    /* MOV r/m, imm. */
    {"\xc6\x07\xff", 3, M64, 1, WR, 0, false, 0, MMIO_EXT_NONE, true, 0xff},
    {"\xc7\x07\x78\x56\x34\x12", 6, M64, 4, WR, 0, false, 0, MMIO_EXT_NONE, true, 0x12345678},
    {"\x48\xc7\x07\xff\xff\xff\xff", 7, M64, 8, WR, 0, false, 0, MMIO_EXT_NONE, true, ~0ull},
    {"\x48\xc7\x07\x00\x00\x00\x80", 7, M64, 8, WR, 0, false, 0, MMIO_EXT_NONE, true,
     0xffffffff80000000ull},
    {"\x48\xc7\x07\xff\xff\xff\x7f", 7, M64, 8, WR, 0, false, 0, MMIO_EXT_NONE, true, 0x7fffffff},
    {"\x66\xc7\x07\x34\x12", 5, M64, 2, WR, 0, false, 0, MMIO_EXT_NONE, true, 0x1234},
    {"\xc7\x80\x00\x03\x00\x00\x01\x00\x00\x00", 10, M64, 4, WR, 0, false, 0, MMIO_EXT_NONE, true,
     1},
    {"\xc7\x05\x10\x00\x00\x00\x01\x00\x00\x00", 10, M64, 4, WR, 0, false, 0, MMIO_EXT_NONE, true,
     1}, /* RIP-relative with an immediate */
    {"\xc6\x44\x24\x08\x80", 5, M64, 1, WR, 0, false, 0, MMIO_EXT_NONE, true, 0x80},
    {"\x41\xc7\x84\x24\x00\x01\x00\x00\xef\xbe\xad\xde", 12, M64, 4, WR, 0, false, 0, MMIO_EXT_NONE,
     true, 0xdeadbeef},
    /* MOVZX / MOVSX. */
    {"\x0f\xb6\x07", 3, M64, 1, RD, 0, false, 4, MMIO_EXT_ZERO},
    {"\x48\x0f\xb7\x07", 4, M64, 2, RD, 0, false, 8, MMIO_EXT_ZERO},
    {"\x66\x0f\xb6\x07", 4, M64, 1, RD, 0, false, 2, MMIO_EXT_ZERO},
    {"\x0f\xbe\x47\x01", 4, M64, 1, RD, 0, false, 4, MMIO_EXT_SIGN},
    {"\x4c\x0f\xbf\x4c\x24\xf0", 6, M64, 2, RD, 9, false, 8, MMIO_EXT_SIGN},
    {"\x0f\xb6\x25\x00\x00\x00\x00", 7, M64, 1, RD, 4, false, 4, MMIO_EXT_ZERO}, /* esp, not ah */
    /* moffs. */
    {"\xa1\x00\x00\xe0\xfe\x00\x00\x00\x00", 9, M64, 4, RD, 0, false, 4},
    {"\x48\xa3\x00\x00\xe0\xfe\x00\x00\x00\x00", 10, M64, 8, WR, 0, false, 8},
    {"\x67\xa0\x00\x00\xe0\xfe", 6, M64, 1, RD, 0, false, 1},
    {"\x66\xa3\x00\x00\xe0\xfe\x00\x00\x00\x00", 10, M64, 2, WR, 0, false, 2},
    {"\xa2\x00\x00\xe0\xfe\x00\x00\x00\x00", 9, M64, 1, WR, 0, false, 1},
    /* 32-bit mode. */
    {"\x8b\x05\x00\x00\xe0\xfe", 6, M32, 4, RD, 0, false, 4},
    {"\x89\x04\x24", 3, M32, 4, WR, 0, false, 4},
    {"\x66\xa1\x00\x00\xc0\xfe", 6, M32, 2, RD, 0, false, 2},
    {"\xa3\x00\x00\xc0\xfe", 5, M32, 4, WR, 0, false, 4},
    {"\x67\x8b\x06\x34\x12", 5, M32, 4, RD, 0, false, 4}, /* addr16 [disp16] */
    {"\x67\x8b\x47\x10", 4, M32, 4, RD, 0, false, 4},     /* addr16 [bx+d8] */
    {"\x67\xa1\x34\x12", 4, M32, 4, RD, 0, false, 4},     /* addr16 moffs16 */
    {"\x88\x60\x04", 3, M32, 1, WR, 0, true, 1},          /* mov [eax+4],ah */
    {"\x66\xc7\x00\x34\x12", 5, M32, 2, WR, 0, false, 0, MMIO_EXT_NONE, true, 0x1234},
    {"\x0f\xbf\x08", 3, M32, 2, RD, 1, false, 4, MMIO_EXT_SIGN},
    /* 16-bit mode. */
    {"\x8b\x07", 2, M16, 2, RD, 0, false, 2},                     /* mov ax,[bx] */
    {"\x8b\x06\x34\x12", 4, M16, 2, RD, 0, false, 2},             /* mov ax,[0x1234] */
    {"\x8b\x47\x10", 3, M16, 2, RD, 0, false, 2},                 /* [bx+d8] */
    {"\x8b\x87\x34\x12", 4, M16, 2, RD, 0, false, 2},             /* [bx+d16] */
    {"\x8b\x46\x00", 3, M16, 2, RD, 0, false, 2},                 /* [bp+0] */
    {"\x66\x8b\x07", 3, M16, 4, RD, 0, false, 4},                 /* mov eax,[bx] */
    {"\x67\x8b\x04\x24", 4, M16, 2, RD, 0, false, 2},             /* addr32 [esp] */
    {"\x67\x8b\x05\x00\x00\xe0\xfe", 7, M16, 2, RD, 0, false, 2}, /* addr32 [d32] */
    {"\xa1\x34\x12", 3, M16, 2, RD, 0, false, 2},
    {"\x66\x67\xa3\x00\x00\xe0\xfe", 7, M16, 4, WR, 0, false, 4},
    {"\xc7\x06\x34\x12\x78\x56", 6, M16, 2, WR, 0, false, 0, MMIO_EXT_NONE, true, 0x5678},
    {"\x66\xc7\x06\x34\x12\x78\x56\x34\x12", 9, M16, 4, WR, 0, false, 0, MMIO_EXT_NONE, true,
     0x12345678},
    {"\x26\x88\x3f", 3, M16, 1, WR, 3, true, 1}, /* mov es:[bx],bh */
    /* 15 bytes exactly: three prefixes, REX.W, C7 with SIB, disp32, imm32. */
    {"\x26\x26\x66\x48\xc7\x84\x24\x11\x22\x33\x44\x55\x66\x77\x88", 15, M64, 8, WR, 0, false, 0,
     MMIO_EXT_NONE, true, 0xffffffff88776655ull},
};

#define NVECS (sizeof(vecs) / sizeof(vecs[0]))

static void test_vectors(void **state)
{
    for (size_t i = 0; i < NVECS; i++) {
        const struct vec *v = &vecs[i];
        struct mmio_insn insn;
        uint8_t buf[MMIO_INSN_MAX + 8];

        /* Trailing bytes after the instruction must not change anything. */
        memset(buf, 0x90, sizeof(buf));
        memcpy(buf, v->bytes, v->len);
        print_message("vector %zu\n", i);
        assert_int_equal(mmio_decode(buf, MMIO_INSN_MAX, v->mode, &insn), MMIO_DECODE_OK);
        assert_int_equal(insn.length, v->len);
        assert_int_equal(insn.size, v->size);
        assert_int_equal(insn.write, v->write);
        assert_int_equal(insn.has_imm, v->has_imm);
        if (v->has_imm) {
            assert_true(insn.imm == v->imm);
        } else {
            assert_int_equal(insn.reg, v->reg);
            assert_int_equal(insn.high_byte, v->high);
            assert_int_equal(insn.reg_size, v->reg_size);
        }
        assert_int_equal(insn.extend, v->ext);
        /* Exactly the instruction's bytes are enough... */
        assert_int_equal(mmio_decode(buf, v->len, v->mode, &insn), MMIO_DECODE_OK);
        assert_int_equal(insn.length, v->len);
        /* ...and any fewer are not. */
        for (size_t n = 0; n < v->len; n++)
            assert_int_equal(mmio_decode(buf, n, v->mode, &insn), MMIO_DECODE_TRUNCATED);
    }
}

static void expect_status(const char *bytes, size_t len, enum mmio_cpu_mode mode,
                          enum mmio_status want, uint8_t opcode0)
{
    struct mmio_insn insn;

    assert_int_equal(mmio_decode((const uint8_t *)bytes, len, mode, &insn), want);
    assert_int_equal(insn.status, want);
    assert_int_equal(insn.length, 0);
    if (want == MMIO_DECODE_UNSUPPORTED) {
        assert_true(insn.opcode_len >= 1);
        assert_int_equal(insn.opcode[0], opcode0);
    }
}

static void test_unsupported(void **state)
{
    expect_status("\x01\x07", 2, M64, MMIO_DECODE_UNSUPPORTED, 0x01);     /* add */
    expect_status("\xf0\x89\x07", 3, M64, MMIO_DECODE_UNSUPPORTED, 0xf0); /* lock */
    expect_status("\xf3\xa5", 2, M64, MMIO_DECODE_UNSUPPORTED, 0xf3);     /* rep movsd */
    expect_status("\xa5", 1, M64, MMIO_DECODE_UNSUPPORTED, 0xa5);         /* movsd */
    expect_status("\x87\x07", 2, M64, MMIO_DECODE_UNSUPPORTED, 0x87);     /* xchg */
    expect_status("\xc7\x0f\x00\x00\x00\x00", 6, M64, MMIO_DECODE_UNSUPPORTED, 0xc7); /* /1 */
    expect_status("\xc6\xf8\x00", 3, M64, MMIO_DECODE_UNSUPPORTED, 0xc6);             /* xabort */
    expect_status("\x40\x89\x07", 3, M32, MMIO_DECODE_UNSUPPORTED, 0x40); /* inc eax in 32-bit */
    expect_status("\x8b\xc0", 2, M64, MMIO_DECODE_NO_MEMORY, 0);          /* mov eax,eax */
    expect_status("\x0f\xb6\xc0", 3, M64, MMIO_DECODE_NO_MEMORY, 0);
    expect_status("\x66\x90", 2, M64, MMIO_DECODE_UNSUPPORTED, 0x90);

    struct mmio_insn insn;
    mmio_decode((const uint8_t *)"\x66\x0f\x10\x07", 4, M64, &insn); /* movupd */
    assert_int_equal(insn.status, MMIO_DECODE_UNSUPPORTED);
    assert_int_equal(insn.prefix_len, 1);
    assert_int_equal(insn.opcode_len, 3);
    assert_memory_equal(insn.opcode, "\x0f\x10\x07", 3);
    assert_string_equal(mmio_status_name(insn.status), "unsupported instruction");
    assert_int_equal(mmio_decode(NULL, 4, M64, &insn), MMIO_DECODE_TRUNCATED);
}

static void test_too_long(void **state)
{
    uint8_t buf[20];
    struct mmio_insn insn;

    memset(buf, 0x66, sizeof(buf));
    assert_int_equal(mmio_decode(buf, sizeof(buf), M64, &insn), MMIO_DECODE_TOO_LONG);
    assert_int_equal(mmio_decode(buf, 15, M64, &insn), MMIO_DECODE_TOO_LONG);
    assert_int_equal(mmio_decode(buf, 14, M64, &insn), MMIO_DECODE_TRUNCATED);
    /* 14 prefixes and an opcode that needs a ModRM as byte 16. */
    buf[14] = 0x89;
    assert_int_equal(mmio_decode(buf, sizeof(buf), M64, &insn), MMIO_DECODE_TOO_LONG);
    /* One prefix more than the valid 15-byte vector. */
    const uint8_t longest[16] = {0x26, 0x26, 0x26, 0x66, 0x48, 0xc7, 0x84, 0x24,
                                 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    assert_int_equal(mmio_decode(longest, 16, M64, &insn), MMIO_DECODE_TOO_LONG);
    assert_int_equal(mmio_decode(longest + 1, 15, M64, &insn), MMIO_DECODE_OK);
    assert_int_equal(insn.length, 15);
}

static const struct mmio_insn *decoded(const char *bytes, size_t len, enum mmio_cpu_mode mode)
{
    static struct mmio_insn insn;
    assert_int_equal(mmio_decode((const uint8_t *)bytes, len, mode, &insn), MMIO_DECODE_OK);
    return &insn;
}

static void test_write_values(void **state)
{
    uint64_t g[16];

    for (int i = 0; i < 16; i++)
        g[i] = 0x1111111111111111ull * (uint64_t)(i + 1) + 0x0807060504030201ull;
    g[0] = 0x1122334455667788ull;
    g[4] = 0x00000000000000abull;
    assert_true(mmio_write_value(decoded("\x88\x27", 2, M64), g) == 0x77);       /* ah */
    assert_true(mmio_write_value(decoded("\x40\x88\x27", 3, M64), g) == 0xab);   /* spl */
    assert_true(mmio_write_value(decoded("\x89\x07", 2, M64), g) == 0x55667788); /* eax */
    assert_true(mmio_write_value(decoded("\x66\x89\x07", 3, M64), g) == 0x7788); /* ax */
    assert_true(mmio_write_value(decoded("\x48\x89\x07", 3, M64), g) == g[0]);   /* rax */
    assert_true(mmio_write_value(decoded("\x4c\x89\x3f", 3, M64), g) == g[15]);  /* r15 */
    assert_true(mmio_write_value(decoded("\xc6\x07\x5a", 3, M64), g) == 0x5a);
    assert_true(mmio_write_value(decoded("\xa2\0\0\0\0\0\0\0\0", 9, M64), g) == 0x88);
}

static void test_complete_read(void **state)
{
    uint64_t g[16] = {0};

    g[0] = ~0ull;
    mmio_complete_read(decoded("\x8b\x07", 2, M64), g, 0xdeadbeef);
    assert_true(g[0] == 0xdeadbeefull); /* 32-bit destination clears 63:32 */
    g[0] = ~0ull;
    mmio_complete_read(decoded("\x66\x8b\x07", 3, M64), g, 0x1234beef);
    assert_true(g[0] == 0xffffffffffffbeefull);
    g[3] = 0x1122334455667788ull;
    mmio_complete_read(decoded("\x8a\x3e", 2, M64), g, 0xab);
    assert_true(g[3] == 0x112233445566ab88ull); /* bh */
    mmio_complete_read(decoded("\x8a\x1e", 2, M64), g, 0xcd);
    assert_true(g[3] == 0x112233445566abcdull); /* bl */
    mmio_complete_read(decoded("\x48\x8b\x07", 3, M64), g, 0x8877665544332211ull);
    assert_true(g[0] == 0x8877665544332211ull);
    mmio_complete_read(decoded("\x0f\xbe\x07", 3, M64), g, 0x80);
    assert_true(g[0] == 0x00000000ffffff80ull); /* movsx eax, byte */
    mmio_complete_read(decoded("\x0f\xb6\x07", 3, M64), g, 0x80);
    assert_true(g[0] == 0x80);
    g[9] = 0;
    mmio_complete_read(decoded("\x4c\x0f\xbf\x0f", 4, M64), g, 0x8000);
    assert_true(g[9] == 0xffffffffffff8000ull); /* movsx r9, word */
    g[0] = 0x1111111111111111ull;
    mmio_complete_read(decoded("\x66\x0f\xbe\x07", 4, M64), g, 0x80);
    assert_true(g[0] == 0x111111111111ff80ull); /* movsx ax, byte: upper kept */
    mmio_complete_read(decoded("\x48\x0f\xb7\x07", 4, M64), g, 0xffff);
    assert_true(g[0] == 0xffff);
    g[0] = ~0ull;
    mmio_complete_read(decoded("\xa0\0\0\0\0\0\0\0\0", 9, M64), g, 0x1ff); /* only size bytes */
    assert_true(g[0] == 0xffffffffffffffffull);
    mmio_complete_read(decoded("\xa0\0\0\0\0\0\0\0\0", 9, M64), g, 0x100);
    assert_true(g[0] == 0xffffffffffffff00ull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),       cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_too_long),      cmocka_unit_test(test_write_values),
        cmocka_unit_test(test_complete_read),
    };
    return cmocka_run_group_tests_name("mmio_decode", tests, NULL, NULL);
}
