/* SPDX-License-Identifier: MIT */
/* Identify data parsing; byte offsets are those of NVMe 1.4 figures 247
 * (controller) and 249 (namespace). */
#include "drivers/nvme/nvme_identify.h"

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

void nvme_identify_copy_string(char *dst, const uint8_t *src, unsigned len)
{
    unsigned n = len;

    while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\0'))
        n--;
    for (unsigned i = 0; i < n; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
    dst[n] = '\0';
}

int nvme_identify_parse_ctrl(const uint8_t *buf, struct nvme_ctrl_info *out)
{
    out->vid = le16(buf + 0);
    nvme_identify_copy_string(out->serial, buf + 4, 20);
    nvme_identify_copy_string(out->model, buf + 24, 40);
    nvme_identify_copy_string(out->firmware, buf + 64, 8);
    out->mdts = buf[77];
    out->cntlid = le16(buf + 78);
    out->version = le32(buf + 80);
    out->sqes_min = buf[512] & 0xf;
    out->sqes_max = buf[512] >> 4;
    out->cqes_min = buf[513] & 0xf;
    out->cqes_max = buf[513] >> 4;
    out->maxcmd = le16(buf + 514);
    out->nn = le32(buf + 516);
    out->oncs = le16(buf + 520);
    out->vwc = buf[525] & 1;
    /* The driver uses 64-byte SQ and 16-byte CQ entries (the only sizes of
     * the NVM command set); the controller must accept them. */
    if (out->sqes_min > 6 || out->sqes_max < 6 || out->cqes_min > 4 || out->cqes_max < 4)
        return NVME_ID_BAD_ENTRY_SIZE;
    return NVME_ID_OK;
}

/* Highest NLBAF whose formats fit in the structure: LBAF0..63 at 128..383
 * (NVMe 2.0); 1.4 allows up to 15. */
#define NVME_MAX_NLBAF 63

int nvme_identify_parse_ns(const uint8_t *buf, struct nvme_ns_info *out)
{
    uint8_t flbas = buf[26];
    unsigned index;

    out->nsze = le64(buf + 0);
    out->ncap = le64(buf + 8);
    out->nuse = le64(buf + 16);
    out->nlbaf = buf[25];
    if (out->nsze == 0)
        return NVME_ID_INACTIVE;
    if (out->nlbaf > NVME_MAX_NLBAF)
        return NVME_ID_BAD_NLBAF;
    /* FLBAS bits 3:0 select the format; with more than 16 formats bits 6:5
     * are the high bits of the index (NVMe 2.0). */
    index = flbas & 0xf;
    if (out->nlbaf > 15)
        index |= ((flbas >> 5) & 3u) << 4;
    if (index > out->nlbaf)
        return NVME_ID_BAD_FLBAS;
    out->format = (uint8_t)index;

    uint32_t lbaf = le32(buf + 128 + 4 * index);
    unsigned lbads = (lbaf >> 16) & 0xff;

    out->metadata_size = lbaf & 0xffff;
    if (lbads < 9 || lbads > 16)
        return NVME_ID_BAD_LBADS;
    out->lba_shift = (uint8_t)lbads;
    if (out->metadata_size != 0)
        return NVME_ID_METADATA;
    return NVME_ID_OK;
}

unsigned nvme_identify_parse_ns_list(const uint8_t *buf, uint32_t max_nsid, uint32_t *nsids,
                                     unsigned max)
{
    unsigned n = 0;
    uint32_t prev = 0;

    for (unsigned i = 0; i < NVME_IDENTIFY_SIZE / 4 && n < max; i++) {
        uint32_t id = le32(buf + 4 * i);

        if (id == 0 || id <= prev || id > max_nsid || id == 0xffffffffu)
            break;
        nsids[n++] = id;
        prev = id;
    }
    return n;
}

const char *nvme_identify_error_name(int err)
{
    switch (err) {
    case NVME_ID_OK: return "ok";
    case NVME_ID_INACTIVE: return "namespace not active (NSZE 0)";
    case NVME_ID_BAD_NLBAF: return "NLBAF larger than the format table";
    case NVME_ID_BAD_FLBAS: return "FLBAS selects a format beyond NLBAF";
    case NVME_ID_BAD_LBADS: return "LBA size outside 512 B..64 KiB";
    case NVME_ID_METADATA: return "LBA format with metadata (unsupported)";
    case NVME_ID_BAD_ENTRY_SIZE: return "controller does not take 64/16-byte queue entries";
    default: return "unknown identify error";
    }
}
