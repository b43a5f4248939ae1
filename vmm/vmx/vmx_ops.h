/* SPDX-License-Identifier: MIT */
/* The VMX instructions, each returning whether it succeeded (VMfailInvalid
 * and VMfailValid both set CF or ZF). */
#ifndef SIDECORE_VMM_VMX_VMX_OPS_H
#define SIDECORE_VMM_VMX_VMX_OPS_H

#include <stdbool.h>
#include <stdint.h>

static inline bool vmxon(uint64_t phys)
{
    bool fail;
    asm volatile("vmxon %1" : "=@ccbe"(fail) : "m"(phys) : "memory", "cc");
    return !fail;
}

static inline void vmxoff(void)
{
    asm volatile("vmxoff" ::: "memory", "cc");
}

static inline bool vmclear(uint64_t phys)
{
    bool fail;
    asm volatile("vmclear %1" : "=@ccbe"(fail) : "m"(phys) : "memory", "cc");
    return !fail;
}

static inline bool vmptrld(uint64_t phys)
{
    bool fail;
    asm volatile("vmptrld %1" : "=@ccbe"(fail) : "m"(phys) : "memory", "cc");
    return !fail;
}

static inline uint64_t vmread(uint64_t field)
{
    uint64_t v;
    asm volatile("vmread %1, %0" : "=rm"(v) : "r"(field) : "cc");
    return v;
}

static inline bool vmwrite(uint64_t field, uint64_t value)
{
    bool fail;
    asm volatile("vmwrite %2, %1" : "=@ccbe"(fail) : "r"(field), "rm"(value) : "cc");
    return !fail;
}

struct invept_desc {
    uint64_t eptp;
    uint64_t reserved;
};

static inline void invept_single(uint64_t eptp)
{
    struct invept_desc d = {eptp, 0};
    asm volatile("invept %0, %1" : : "m"(d), "r"(1ull) : "memory", "cc");
}

struct invvpid_desc {
    uint64_t vpid;
    uint64_t linear;
};

static inline void invvpid_single(uint16_t vpid)
{
    struct invvpid_desc d = {vpid, 0};
    asm volatile("invvpid %0, %1" : : "m"(d), "r"(1ull) : "memory", "cc");
}

#endif
