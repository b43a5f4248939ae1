/* SPDX-License-Identifier: MIT */
/*
 * NVMe queue entries and opcodes (NVMe 1.4 sections 4.2, 4.6, 5 and 6): the
 * 64-byte submission entry and 16-byte completion entry as the controller
 * reads and writes them in memory, and helpers that fill in the commands the
 * driver issues. Pure code, also built for the host tests.
 */
#ifndef SIDECORE_NVME_NVME_CMD_H
#define SIDECORE_NVME_NVME_CMD_H

#include <stdint.h>

struct nvme_sqe {
    uint32_t cdw0; /* opcode [7:0], PSDT [15:14] = 0 (PRPs), CID [31:16] */
    uint32_t nsid;
    uint32_t cdw2, cdw3;
    uint64_t mptr;
    uint64_t prp1, prp2;
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
_Static_assert(sizeof(struct nvme_sqe) == 64, "submission entry is 64 bytes");

struct nvme_cqe {
    uint32_t result; /* DW0, command specific */
    uint32_t rsvd;
    uint16_t sq_head;
    uint16_t sq_id;
    uint16_t cid;
    uint16_t status; /* phase bit 0, status field [15:1] */
};
_Static_assert(sizeof(struct nvme_cqe) == 16, "completion entry is 16 bytes");

/* Admin opcodes */
#define NVME_ADMIN_DELETE_SQ    0x00
#define NVME_ADMIN_CREATE_SQ    0x01
#define NVME_ADMIN_DELETE_CQ    0x04
#define NVME_ADMIN_CREATE_CQ    0x05
#define NVME_ADMIN_IDENTIFY     0x06
#define NVME_ADMIN_SET_FEATURES 0x09

/* NVM opcodes */
#define NVME_CMD_FLUSH        0x00
#define NVME_CMD_WRITE        0x01
#define NVME_CMD_READ         0x02
#define NVME_CMD_WRITE_ZEROES 0x08
#define NVME_CMD_DSM          0x09

#define NVME_IDENTIFY_NS      0x00
#define NVME_IDENTIFY_CTRL    0x01
#define NVME_IDENTIFY_NS_LIST 0x02
#define NVME_FEAT_NUM_QUEUES  0x07
#define NVME_DSM_DEALLOCATE   (1u << 2)

static inline void nvme_sqe_set_cid(struct nvme_sqe *e, uint8_t opcode, uint16_t cid)
{
    e->cdw0 = opcode | ((uint32_t)cid << 16);
}

static inline uint16_t nvme_sqe_cid(const struct nvme_sqe *e)
{
    return (uint16_t)(e->cdw0 >> 16);
}

#endif
