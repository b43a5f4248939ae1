/* SPDX-License-Identifier: MIT */
/* Unit tests for the MSR policy table, the MSR bitmap it builds and the
 * emulation of the MSRs it marks EMULATE.
 * test-sources: vmm/msr_policy.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/msr_policy.h"

static uint8_t page[4096];

/* The bit the SDM assigns to an access, computed here independently. */
static int raw_bit(uint32_t msr, bool write)
{
    unsigned base;
    uint32_t off;
    if (msr <= 0x1fff) {
        base = write ? 2048 : 0;
        off = msr;
    } else if (msr >= 0xc0000000 && msr <= 0xc0001fff) {
        base = write ? 3072 : 1024;
        off = msr - 0xc0000000;
    } else {
        return -1;
    }
    return (page[base + off / 8] >> (off % 8)) & 1;
}

static void test_table_is_well_formed(void **state)
{
    unsigned n;
    const struct msr_policy_entry *t = msr_policy_table(&n);
    assert_true(n > 20);
    for (unsigned i = 0; i < n; i++) {
        assert_true(t[i].first <= t[i].last);
        assert_non_null(t[i].name);
        assert_true(strlen(t[i].why) > 10);
        /* a PASS the bitmap cannot express would exit anyway */
        if (t[i].read == MSR_PASS || t[i].write == MSR_PASS) {
            assert_int_not_equal(raw_bit(t[i].first, false), -1);
            assert_int_not_equal(raw_bit(t[i].last, false), -1);
        }
        /* VMCS-backed entries name their field */
        if (t[i].read == MSR_VMCS || t[i].write == MSR_VMCS)
            assert_int_not_equal(t[i].field, MSR_FIELD_NONE);
        for (unsigned j = i + 1; j < n; j++)
            assert_true(t[i].last < t[j].first || t[j].last < t[i].first);
        assert_ptr_equal(msr_policy_lookup(t[i].first), &t[i]);
        assert_ptr_equal(msr_policy_lookup(t[i].last), &t[i]);
    }
    const struct msr_policy_entry *u = msr_policy_lookup(0x12345678);
    assert_string_equal(u->name, "unknown");
    assert_int_equal(u->read, MSR_GP);
    assert_int_equal(u->write, MSR_GP);
}

static void test_bitmap_follows_table(void **state)
{
    memset(page, 0x5a, sizeof(page));
    msr_bitmap_build(page);
    unsigned n, pass_bits = 0;
    const struct msr_policy_entry *t = msr_policy_table(&n);
    for (unsigned i = 0; i < n; i++) {
        for (uint64_t m = t[i].first; m <= t[i].last; m++) {
            for (int w = 0; w < 2; w++) {
                uint8_t act = w ? t[i].write : t[i].read;
                int bit = raw_bit((uint32_t)m, w);
                if (bit < 0) {
                    assert_int_not_equal(act, MSR_PASS);
                    continue;
                }
                assert_int_equal(bit, act != MSR_PASS);
                assert_int_equal(msr_bitmap_exits(page, (uint32_t)m, w), act != MSR_PASS);
                pass_bits += act == MSR_PASS;
            }
        }
    }
    /* every other MSR in both halves, read and write, exits */
    unsigned clear = 0;
    for (unsigned i = 0; i < 4096; i++)
        clear += 8 - __builtin_popcount(page[i]);
    assert_int_equal(clear, pass_bits);
    for (uint32_t m = 0; m <= 0x1fff; m++) {
        if (strcmp(msr_policy_lookup(m)->name, "unknown") == 0) {
            assert_int_equal(raw_bit(m, false), 1);
            assert_int_equal(raw_bit(m, true), 1);
        }
    }
    for (uint32_t m = 0xc0000000; m <= 0xc0001fff; m++) {
        if (strcmp(msr_policy_lookup(m)->name, "unknown") == 0) {
            assert_int_equal(raw_bit(m, false), 1);
            assert_int_equal(raw_bit(m, true), 1);
        }
    }
    /* spot checks against hand-computed positions */
    assert_int_equal(page[0 + 0x10 / 8] & 1, 0);           /* TSC read passes */
    assert_int_equal(page[2048 + 0x10 / 8] & 1, 1);        /* TSC write exits */
    assert_int_equal((page[1024 + 0x82 / 8] >> 2) & 1, 0); /* LSTAR read */
    assert_int_equal((page[3072 + 0x82 / 8] >> 2) & 1, 0); /* LSTAR write */
    assert_int_equal((page[1024 + 0x80 / 8] >> 0) & 1, 1); /* EFER read exits */
    assert_int_equal((page[0 + 0x1b / 8] >> 3) & 1, 1);    /* APIC_BASE read exits */
    assert_int_equal((page[2048 + 0x49 / 8] >> 1) & 1, 0); /* PRED_CMD write passes */
    assert_int_equal((page[0 + 0x49 / 8] >> 1) & 1, 1);    /* PRED_CMD read exits */
    /* outside both halves: always exits */
    assert_true(msr_bitmap_exits(page, 0x2000, false));
    assert_true(msr_bitmap_exits(page, 0x40000000, true));
    assert_true(msr_bitmap_exits(page, 0xc0002000, false));
}

static void test_bitmap_from_custom_table(void **state)
{
    static const struct msr_policy_entry t[] = {
        {0x1ffe, 0x2001, "edge", MSR_PASS, MSR_GP, MSR_FIELD_NONE, "crosses the low half's end"},
        {0xbffffffe, 0xc0000001, "edge2", MSR_GP, MSR_PASS, MSR_FIELD_NONE, "crosses the start"},
        {0xc0001fff, 0xc0001fff, "last", MSR_PASS, MSR_PASS, MSR_FIELD_NONE, "the last bit"},
        {0x0, 0x0, "first", MSR_PASS, MSR_EMULATE, MSR_FIELD_NONE, "the first bit"},
    };
    msr_bitmap_build_from(t, 4, page);
    assert_false(msr_bitmap_exits(page, 0x1ffe, false));
    assert_false(msr_bitmap_exits(page, 0x1fff, false));
    assert_true(msr_bitmap_exits(page, 0x1fff, true));
    assert_true(msr_bitmap_exits(page, 0x2000, false));
    assert_false(msr_bitmap_exits(page, 0xc0000000, true));
    assert_false(msr_bitmap_exits(page, 0xc0000001, true));
    assert_true(msr_bitmap_exits(page, 0xc0000002, true));
    assert_true(msr_bitmap_exits(page, 0xc0000000, false));
    assert_int_equal(page[1023], 0x3f);
    assert_int_equal(page[2048 + 1023], 0xff);
    assert_int_equal(page[1024 + 1023], 0x7f);
    assert_int_equal(page[3072 + 1023], 0x7f);
    assert_int_equal(page[0], 0xfe);
    assert_int_equal(page[2048], 0xff);
    assert_int_equal(page[3072], 0xfc);
}

static void test_feature_control_and_vmx_hidden(void **state)
{
    struct msr_vcpu_state st;
    msr_vcpu_state_init(&st, 0, false);
    uint64_t v = 0xdead;
    assert_int_equal(msr_emulate_read(MSR_IA32_FEATURE_CONTROL, &st, &v), MSR_OK);
    assert_int_equal(v, 1); /* locked, VMX off inside and outside SMX */
    assert_int_equal(msr_emulate_write(MSR_IA32_FEATURE_CONTROL, 5, &st), MSR_INJECT_GP);
    for (uint32_t m = 0x480; m <= 0x491; m++) {
        assert_int_equal(msr_emulate_read(m, &st, &v), MSR_INJECT_GP);
        assert_int_equal(msr_emulate_write(m, 0, &st), MSR_INJECT_GP);
    }
    assert_int_equal(msr_emulate_read(0x12345, &st, &v), MSR_INJECT_GP);
    assert_int_equal(msr_emulate_write(0xc0001000, 1, &st), MSR_INJECT_GP);
}

static void test_apic_base(void **state)
{
    struct msr_vcpu_state bsp, ap;
    msr_vcpu_state_init(&bsp, 0, true);
    msr_vcpu_state_init(&ap, 1, false);
    uint64_t v;
    assert_int_equal(msr_emulate_read(MSR_IA32_APIC_BASE, &bsp, &v), MSR_OK);
    assert_int_equal(v, 0xfee00900);
    assert_int_equal(msr_emulate_read(MSR_IA32_APIC_BASE, &ap, &v), MSR_OK);
    assert_int_equal(v, 0xfee00800);

    /* x2APIC only where CPUID offers it, and only from xAPIC */
    assert_int_equal(msr_emulate_write(MSR_IA32_APIC_BASE, 0xfee00c00, &ap), MSR_INJECT_GP);
    assert_int_equal(msr_emulate_write(MSR_IA32_APIC_BASE, 0xfee00d00, &bsp), MSR_OK);
    assert_int_equal(bsp.apic_base, 0xfee00d00);
    /* x2APIC -> xAPIC directly is invalid; via disabled it is fine */
    assert_int_equal(msr_emulate_write(MSR_IA32_APIC_BASE, 0xfee00900, &bsp), MSR_INJECT_GP);
    assert_int_equal(msr_emulate_write(MSR_IA32_APIC_BASE, 0xfee00100, &bsp), MSR_OK);
    assert_int_equal(bsp.apic_base, 0xfee00100);
    /* disabled -> x2APIC is invalid; EXTD without EN is invalid */
    assert_int_equal(msr_emulate_write(MSR_IA32_APIC_BASE, 0xfee00d00, &bsp), MSR_INJECT_GP);
    assert_int_equal(msr_emulate_write(MSR_IA32_APIC_BASE, 0xfee00500, &bsp), MSR_INJECT_GP);
    assert_int_equal(msr_emulate_write(MSR_IA32_APIC_BASE, 0xfee00900, &bsp), MSR_OK);
    /* the BSP flag is not the guest's to change */
    assert_int_equal(msr_emulate_write(MSR_IA32_APIC_BASE, 0xfee00800, &bsp), MSR_OK);
    assert_int_equal(bsp.apic_base, 0xfee00900);
    assert_int_equal(msr_emulate_write(MSR_IA32_APIC_BASE, 0xfee00900, &ap), MSR_OK);
    assert_int_equal(ap.apic_base, 0xfee00800);
    /* reserved bits and relocation */
    assert_int_equal(msr_emulate_write(MSR_IA32_APIC_BASE, 0xfee00901, &bsp), MSR_INJECT_GP);
    assert_int_equal(msr_emulate_write(MSR_IA32_APIC_BASE, 0xfee00a00, &bsp), MSR_INJECT_GP);
    assert_int_equal(msr_emulate_write(MSR_IA32_APIC_BASE, 1ull << 60 | 0xfee00900, &bsp),
                     MSR_INJECT_GP);
    /* the base is relocatable, in any mode, and back */
    assert_int_equal(msr_emulate_write(MSR_IA32_APIC_BASE, 0xfed00900, &bsp), MSR_OK);
    assert_int_equal(bsp.apic_base, 0xfed00900);
    assert_int_equal(msr_emulate_write(MSR_IA32_APIC_BASE, 0x12345678000ull | 0x800, &ap), MSR_OK);
    assert_int_equal(ap.apic_base, 0x12345678800ull);
    assert_int_equal(msr_emulate_write(MSR_IA32_APIC_BASE, 0xfee00900, &bsp), MSR_OK);
    assert_int_equal(bsp.apic_base, 0xfee00900);
}

/* Every (from, to) pair of the four EN/EXTD states, as the SDM's x2APIC
 * state diagram allows them: D = disabled (00), I = invalid (EXTD only, 01),
 * X = xAPIC (10), 2 = x2APIC (11). */
static void test_apic_base_transitions(void **state)
{
    static const uint64_t bits[4] = {0, MSR_APIC_BASE_EXTD, MSR_APIC_BASE_EN,
                                     MSR_APIC_BASE_EN | MSR_APIC_BASE_EXTD};
    /* ok[from][to]: from D, I (never reached), X, 2 */
    static const bool ok[4][4] = {
        {true, false, true, false}, /* D: stay, -> xAPIC */
        {false, false, false, false},
        {true, false, true, true},  /* X: -> D, stay, -> x2APIC */
        {true, false, false, true}, /* 2: -> D, stay; never -> xAPIC */
    };
    for (unsigned from = 0; from < 4; from++) {
        if (from == 1)
            continue;
        for (unsigned to = 0; to < 4; to++) {
            struct msr_vcpu_state st;
            msr_vcpu_state_init(&st, 1, true);
            st.apic_base = MSR_APIC_DEFAULT | bits[from];
            enum msr_result r =
                msr_emulate_write(MSR_IA32_APIC_BASE, 0xfec01000ull | bits[to], &st);
            assert_int_equal(r, ok[from][to] ? MSR_OK : MSR_INJECT_GP);
            assert_int_equal(st.apic_base, ok[from][to] ? 0xfec01000ull | bits[to]
                                                        : MSR_APIC_DEFAULT | bits[from]);
        }
    }
    /* without x2APIC in CPUID, xAPIC -> x2APIC faults too */
    struct msr_vcpu_state st;
    msr_vcpu_state_init(&st, 1, false);
    assert_int_equal(msr_emulate_write(MSR_IA32_APIC_BASE, 0xfee00c00, &st), MSR_INJECT_GP);
}

static void test_tsc_misc_mtrr_mcg(void **state)
{
    struct msr_vcpu_state st;
    msr_vcpu_state_init(&st, 2, false);
    uint64_t v;
    /* TSC: reads are the hardware's (they should not even exit), writes counted */
    assert_int_equal(msr_emulate_read(MSR_IA32_TSC, &st, &v), MSR_USE_HARDWARE);
    assert_int_equal(msr_emulate_write(MSR_IA32_TSC, 0, &st), MSR_OK);
    assert_int_equal(msr_emulate_write(MSR_IA32_TSC, 99, &st), MSR_OK);
    assert_int_equal(st.tsc_write_count, 2);

    assert_int_equal(msr_emulate_read(MSR_IA32_MISC_ENABLE, &st, &v), MSR_OK);
    assert_int_equal(v, 1 | 1 << 11 | 1 << 12);
    assert_int_equal(msr_emulate_write(MSR_IA32_MISC_ENABLE, 1ull << 22 | 1 << 11 | 1 << 12, &st),
                     MSR_OK);
    assert_int_equal(st.misc_enable, 1 << 11 | 1 << 12); /* fast strings off, bit 22 ignored */

    assert_int_equal(msr_emulate_read(MSR_IA32_MTRRCAP, &st, &v), MSR_OK);
    assert_int_equal(v & 0xff, 0);     /* no variable MTRRs ... */
    assert_int_equal(v & (1 << 8), 0); /* ... nor fixed ones */
    assert_int_equal(v & (1 << 10), 1 << 10);
    assert_int_equal(msr_emulate_write(MSR_IA32_MTRRCAP, 0, &st), MSR_INJECT_GP);
    assert_int_equal(msr_emulate_read(0x200, &st, &v), MSR_INJECT_GP); /* MTRRphysBase0 */

    assert_int_equal(msr_emulate_read(MSR_IA32_MTRR_DEF_TYPE, &st, &v), MSR_OK);
    assert_int_equal(v, 0x806);
    assert_int_equal(msr_emulate_write(MSR_IA32_MTRR_DEF_TYPE, 0x800, &st), MSR_OK);
    assert_int_equal(st.mtrr_def_type, 0x800);
    assert_int_equal(msr_emulate_write(MSR_IA32_MTRR_DEF_TYPE, 0xc06, &st), MSR_INJECT_GP);
    /* AMD's HWCR: the TSC counts at P0 (Linux otherwise logs a firmware bug);
     * writes are taken and change nothing. */
    assert_int_equal(msr_emulate_read(MSR_AMD_HWCR, &st, &v), MSR_OK);
    assert_int_equal(v, MSR_AMD_HWCR_TSC_FREQ_SEL);
    assert_int_equal(msr_emulate_write(MSR_AMD_HWCR, 0, &st), MSR_OK);
    assert_int_equal(msr_emulate_read(MSR_AMD_HWCR, &st, &v), MSR_OK);
    assert_int_equal(v, MSR_AMD_HWCR_TSC_FREQ_SEL);
    assert_int_equal(msr_emulate_write(MSR_IA32_MTRR_DEF_TYPE, 0x802, &st), MSR_INJECT_GP);
    assert_int_equal(msr_emulate_write(MSR_IA32_MTRR_DEF_TYPE, 0x1806, &st), MSR_INJECT_GP);
    assert_int_equal(st.mtrr_def_type, 0x800);

    assert_int_equal(msr_emulate_read(MSR_IA32_MCG_CAP, &st, &v), MSR_OK);
    assert_int_equal(v, 0);
    assert_int_equal(msr_emulate_write(MSR_IA32_MCG_STATUS, 0, &st), MSR_OK);
    assert_int_equal(msr_emulate_write(MSR_IA32_MCG_STATUS, 4, &st), MSR_INJECT_GP);

    st.bios_sign_id = 0xf000000000ull;
    assert_int_equal(msr_emulate_write(MSR_IA32_BIOS_SIGN_ID, 0, &st), MSR_OK);
    assert_int_equal(msr_emulate_read(MSR_IA32_BIOS_SIGN_ID, &st, &v), MSR_OK);
    assert_int_equal(v, 0xf000000000ull);
}

static void test_field_backed_msrs(void **state)
{
    struct msr_vcpu_state st;
    msr_vcpu_state_init(&st, 0, false);
    uint64_t v;
    assert_int_equal(msr_emulate_read(MSR_IA32_EFER, &st, &v), MSR_USE_FIELD);
    assert_int_equal(msr_policy_lookup(MSR_IA32_EFER)->field, MSR_FIELD_EFER);
    assert_int_equal(msr_emulate_write(MSR_IA32_EFER, 0xd01, &st), MSR_USE_FIELD);
    assert_int_equal(msr_emulate_write(MSR_IA32_EFER, 1 << 12, &st), MSR_INJECT_GP); /* SVME */
    assert_int_equal(msr_emulate_read(MSR_IA32_PAT, &st, &v), MSR_USE_FIELD);
    assert_int_equal(msr_emulate_write(MSR_IA32_PAT, 0x0007040600070406ull, &st), MSR_USE_FIELD);
    assert_int_equal(msr_emulate_write(MSR_IA32_PAT, 0x0007040600070402ull, &st), MSR_INJECT_GP);
    assert_int_equal(msr_emulate_write(MSR_IA32_PAT, 0x0807040600070406ull, &st), MSR_INJECT_GP);
    /* PASS MSRs that exit anyway: where is the guest's value? */
    assert_int_equal(msr_emulate_read(MSR_IA32_FS_BASE, &st, &v), MSR_USE_FIELD);
    assert_int_equal(msr_policy_lookup(MSR_IA32_GS_BASE)->field, MSR_FIELD_GS_BASE);
    assert_int_equal(msr_emulate_write(MSR_IA32_SYSENTER_EIP, 1, &st), MSR_USE_FIELD);
    assert_int_equal(msr_emulate_read(MSR_IA32_LSTAR, &st, &v), MSR_USE_HARDWARE);
    assert_int_equal(msr_emulate_write(MSR_IA32_KERNEL_GS_BASE, 1, &st), MSR_USE_HARDWARE);
    assert_int_equal(msr_emulate_read(MSR_IA32_PRED_CMD, &st, &v), MSR_INJECT_GP);
    assert_int_equal(msr_emulate_write(MSR_IA32_ARCH_CAPS, 0, &st), MSR_INJECT_GP);
}

static void test_efer_write_rules(void **state)
{
    const uint64_t sup = MSR_EFER_SCE | MSR_EFER_LME | MSR_EFER_NXE;
    uint64_t r;
    /* LME set with paging off: fine; LMA is the CPU's and keeps its value */
    assert_true(msr_efer_write(0, MSR_EFER_LME | MSR_EFER_LMA, false, sup, &r));
    assert_int_equal(r, MSR_EFER_LME);
    /* with paging on LME may not change, but other bits may */
    uint64_t cur = MSR_EFER_LME | MSR_EFER_LMA;
    assert_false(msr_efer_write(cur, 0, true, sup, &r));
    assert_true(msr_efer_write(cur, MSR_EFER_LME | MSR_EFER_NXE | MSR_EFER_SCE, true, sup, &r));
    assert_int_equal(r, cur | MSR_EFER_NXE | MSR_EFER_SCE);
    /* a bit the guest's CPUID does not offer */
    assert_false(msr_efer_write(0, MSR_EFER_NXE, false, MSR_EFER_LME, &r));
    assert_false(msr_efer_write(0, 1 << 14, false, sup, &r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_well_formed),
        cmocka_unit_test(test_bitmap_follows_table),
        cmocka_unit_test(test_bitmap_from_custom_table),
        cmocka_unit_test(test_feature_control_and_vmx_hidden),
        cmocka_unit_test(test_apic_base),
        cmocka_unit_test(test_apic_base_transitions),
        cmocka_unit_test(test_tsc_misc_mtrr_mcg),
        cmocka_unit_test(test_field_backed_msrs),
        cmocka_unit_test(test_efer_write_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
