/* SPDX-License-Identifier: MIT */
/*
 * NVMe controller registers (NVMe 1.4 section 3.1) and the fields of CAP, CC
 * and CSTS, as pure functions of the register values so the host tests can
 * check them against known controllers (QEMU's CAP is 0x024018200f0107ff).
 */
#ifndef SIDECORE_NVME_NVME_REGS_H
#define SIDECORE_NVME_NVME_REGS_H

#include <stdbool.h>
#include <stdint.h>

#define NVME_REG_CAP   0x00 /* 64-bit */
#define NVME_REG_VS    0x08
#define NVME_REG_INTMS 0x0c
#define NVME_REG_INTMC 0x10
#define NVME_REG_CC    0x14
#define NVME_REG_CSTS  0x1c
#define NVME_REG_AQA   0x24
#define NVME_REG_ASQ   0x28 /* 64-bit */
#define NVME_REG_ACQ   0x30 /* 64-bit */
#define NVME_REG_DBS   0x1000

/* CAP */
static inline uint32_t nvme_cap_max_entries(uint64_t cap) /* MQES is 0-based */
{
    return (uint32_t)(cap & 0xffff) + 1;
}
static inline bool nvme_cap_contiguous_required(uint64_t cap)
{
    return (cap >> 16) & 1;
}
static inline uint32_t nvme_cap_timeout_ms(uint64_t cap) /* TO, 500 ms units */
{
    return (uint32_t)((cap >> 24) & 0xff) * 500;
}
static inline unsigned nvme_cap_dstrd(uint64_t cap)
{
    return (cap >> 32) & 0xf;
}
static inline bool nvme_cap_nvm_command_set(uint64_t cap) /* CSS bit 0 */
{
    return (cap >> 37) & 1;
}
static inline unsigned nvme_cap_mps_min_shift(uint64_t cap) /* log2 of the smallest page */
{
    return 12 + ((cap >> 48) & 0xf);
}
static inline unsigned nvme_cap_mps_max_shift(uint64_t cap)
{
    return 12 + ((cap >> 52) & 0xf);
}

/* CC */
#define NVME_CC_EN          (1u << 0)
#define NVME_CC_SHN_MASK    (3u << 14)
#define NVME_CC_SHN_NORMAL  (1u << 14)
#define NVME_CC_SHN_ABRUPT  (2u << 14)
#define NVME_SQ_ENTRY_SHIFT 6 /* 64-byte submission entries */
#define NVME_CQ_ENTRY_SHIFT 4 /* 16-byte completion entries */

/* CC for the NVM command set, round-robin arbitration, the given page size
 * (log2, >= 12) and the standard entry sizes; EN clear. */
static inline uint32_t nvme_cc_value(unsigned page_shift)
{
    return ((uint32_t)(page_shift - 12) << 7) | (0u << 4) | (0u << 11) |
           ((uint32_t)NVME_SQ_ENTRY_SHIFT << 16) | ((uint32_t)NVME_CQ_ENTRY_SHIFT << 20);
}

/* CSTS */
#define NVME_CSTS_RDY       (1u << 0)
#define NVME_CSTS_CFS       (1u << 1)
#define NVME_CSTS_SHST_MASK (3u << 2)
#define NVME_CSTS_SHST_DONE (2u << 2)
static inline bool nvme_csts_ready(uint32_t csts)
{
    return csts & NVME_CSTS_RDY;
}
static inline bool nvme_csts_fatal(uint32_t csts)
{
    /* All ones: the device fell off the bus; treat it as fatal too. */
    return (csts & NVME_CSTS_CFS) || csts == 0xffffffffu;
}
static inline bool nvme_csts_shutdown_done(uint32_t csts)
{
    return (csts & NVME_CSTS_SHST_MASK) == NVME_CSTS_SHST_DONE;
}

/* AQA: both sizes 0-based. */
static inline uint32_t nvme_aqa_value(uint32_t sq_entries, uint32_t cq_entries)
{
    return ((cq_entries - 1) << 16) | (sq_entries - 1);
}

/* Doorbell offsets from BAR0. */
static inline uint32_t nvme_sq_tail_doorbell(uint16_t qid, unsigned dstrd)
{
    return NVME_REG_DBS + (2u * qid) * (4u << dstrd);
}
static inline uint32_t nvme_cq_head_doorbell(uint16_t qid, unsigned dstrd)
{
    return NVME_REG_DBS + (2u * qid + 1) * (4u << dstrd);
}

/* Bytes of BAR0 the registers and doorbells of queues 0..max_qid need. */
static inline uint64_t nvme_bar_bytes_needed(uint16_t max_qid, unsigned dstrd)
{
    return nvme_cq_head_doorbell(max_qid, dstrd) + 4;
}

/* Largest transfer in bytes from Identify's MDTS (a power of two in units of
 * the minimum page); 0 means no limit, reported as UINT64_MAX. */
static inline uint64_t nvme_mdts_bytes(uint8_t mdts, unsigned mps_min_shift)
{
    if (mdts == 0)
        return UINT64_MAX;
    if (mdts + mps_min_shift >= 63)
        return UINT64_MAX;
    return 1ull << (mdts + mps_min_shift);
}

#endif
