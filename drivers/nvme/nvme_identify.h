/* SPDX-License-Identifier: MIT */
/*
 * Parsing the 4 KiB Identify data structures (NVMe 1.4 section 5.15):
 * controller (model, serial, firmware, MDTS, NN, ONCS, VWC, entry sizes),
 * namespace (size and the LBA format in use) and the active namespace ID
 * list. The data comes from a device, so every count and index is checked
 * before it is used. Pure code, also built for the host tests.
 */
#ifndef SIDECORE_NVME_NVME_IDENTIFY_H
#define SIDECORE_NVME_NVME_IDENTIFY_H

#include <stdbool.h>
#include <stdint.h>

#define NVME_IDENTIFY_SIZE 4096

#define NVME_ONCS_DSM          (1u << 2)
#define NVME_ONCS_WRITE_ZEROES (1u << 3)

struct nvme_ctrl_info {
    uint16_t vid;
    char serial[21]; /* ASCII, trailing spaces removed */
    char model[41];
    char firmware[9];
    uint8_t mdts; /* log2 in minimum pages, 0 = no limit */
    uint16_t cntlid;
    uint32_t version;                               /* VER, 0 before NVMe 1.2 */
    uint8_t sqes_min, sqes_max, cqes_min, cqes_max; /* log2 of entry sizes */
    uint16_t maxcmd;
    uint32_t nn; /* number of namespaces (highest NSID) */
    uint16_t oncs;
    bool vwc; /* volatile write cache present */
};

struct nvme_ns_info {
    uint64_t nsze, ncap, nuse; /* in logical blocks */
    uint8_t nlbaf;             /* formats - 1 */
    uint8_t format;            /* index in use */
    uint8_t lba_shift;         /* log2 of the block size */
    uint16_t metadata_size;    /* per block, for the format in use */
};

enum nvme_identify_error {
    NVME_ID_OK = 0,
    NVME_ID_INACTIVE = -1,      /* NSZE 0: no such namespace */
    NVME_ID_BAD_NLBAF = -2,     /* more formats than the structure holds */
    NVME_ID_BAD_FLBAS = -3,     /* format index beyond NLBAF */
    NVME_ID_BAD_LBADS = -4,     /* block size below 512 or above 64 KiB */
    NVME_ID_METADATA = -5,      /* the format carries metadata: not supported */
    NVME_ID_BAD_ENTRY_SIZE = -6 /* SQES/CQES do not allow 64/16-byte entries */
};

int nvme_identify_parse_ctrl(const uint8_t *buf, struct nvme_ctrl_info *out);
int nvme_identify_parse_ns(const uint8_t *buf, struct nvme_ns_info *out);
/* Copies the non-zero NSIDs of an active namespace list (they must be
 * increasing and at most max_nsid; the list stops at the first one that is
 * not) into nsids[0..max); returns the count. */
unsigned nvme_identify_parse_ns_list(const uint8_t *buf, uint32_t max_nsid, uint32_t *nsids,
                                     unsigned max);
const char *nvme_identify_error_name(int err);

/* Copies a space-padded ASCII field, dropping trailing spaces and NULs and
 * turning anything unprintable into '?'. dst holds len+1 bytes. */
void nvme_identify_copy_string(char *dst, const uint8_t *src, unsigned len);

#endif
