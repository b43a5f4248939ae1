/* SPDX-License-Identifier: MIT */
/* SVM's MSR and I/O permission maps from the policy tables (see
 * svm_maps.h). Only PASS entries clear bits: everything else intercepts. */
#include "vmm/svm/svm_maps.h"

#include "kernel/lib/string.h"

static const uint32_t msr_range_first[3] = {0x0u, 0xc0000000u, 0xc0010000u};
#define MSR_RANGE_LEN   0x2000u
#define MSR_RANGE_BYTES 0x800u

/* Bit index of msr's read bit in the map, or -1 if no range holds it. */
static long msrpm_bit(uint32_t msr)
{
    for (unsigned r = 0; r < 3; r++) {
        if (msr >= msr_range_first[r] && msr - msr_range_first[r] < MSR_RANGE_LEN)
            return (long)(r * MSR_RANGE_BYTES * 8 + (msr - msr_range_first[r]) * 2);
    }
    return -1;
}

static void msrpm_pass(uint8_t *map, uint32_t first, uint32_t last, bool write)
{
    for (uint64_t msr = first; msr <= last; msr++) {
        long bit = msrpm_bit((uint32_t)msr);
        if (bit < 0)
            continue;
        bit += write;
        map[bit / 8] &= (uint8_t) ~(1u << (bit % 8));
    }
}

void svm_msrpm_build_from(const struct msr_policy_entry *table, unsigned n,
                          uint8_t map[SVM_MSRPM_SIZE])
{
    memset(map, 0xff, SVM_MSRPM_SIZE);
    for (unsigned i = 0; i < n; i++) {
        if (table[i].read == MSR_PASS)
            msrpm_pass(map, table[i].first, table[i].last, false);
        if (table[i].write == MSR_PASS)
            msrpm_pass(map, table[i].first, table[i].last, true);
    }
}

void svm_msrpm_build(uint8_t map[SVM_MSRPM_SIZE])
{
    unsigned n;
    const struct msr_policy_entry *t = msr_policy_table(&n);

    svm_msrpm_build_from(t, n, map);
}

bool svm_msrpm_exits(const uint8_t map[SVM_MSRPM_SIZE], uint32_t msr, bool write)
{
    long bit = msrpm_bit(msr);

    if (bit < 0)
        return true;
    bit += write;
    return (map[bit / 8] >> (bit % 8)) & 1;
}

void svm_iopm_build_from(const struct io_policy_entry *table, unsigned n,
                         uint8_t map[SVM_IOPM_SIZE])
{
    memset(map, 0xff, SVM_IOPM_SIZE);
    for (unsigned i = 0; i < n; i++) {
        if (table[i].action != IO_PASS)
            continue;
        for (uint32_t p = table[i].first; p <= table[i].last; p++)
            map[p / 8] &= (uint8_t) ~(1u << (p % 8));
    }
}

void svm_iopm_build(uint8_t map[SVM_IOPM_SIZE])
{
    unsigned n;
    const struct io_policy_entry *t = io_policy_table(&n);

    svm_iopm_build_from(t, n, map);
}

bool svm_iopm_exits(const uint8_t map[SVM_IOPM_SIZE], uint16_t port, unsigned size)
{
    /* The bits past port 0xffff (the map's third page) stay set, so an
     * access that wraps intercepts, as on VT-x. */
    for (uint32_t p = port; p < (uint32_t)port + size; p++) {
        if ((map[p / 8] >> (p % 8)) & 1)
            return true;
    }
    return false;
}
