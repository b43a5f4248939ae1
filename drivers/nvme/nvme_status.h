/* SPDX-License-Identifier: MIT */
/*
 * Completion status decoding (NVMe 1.4 section 4.6.1): the status field of a
 * completion entry split into its parts, a short name for messages, and the
 * block-layer status (errno-like) the requester gets. Pure code, also built
 * for the host tests.
 */
#ifndef SIDECORE_NVME_NVME_STATUS_H
#define SIDECORE_NVME_NVME_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#define NVME_SCT_GENERIC 0
#define NVME_SCT_COMMAND 1
#define NVME_SCT_MEDIA   2
#define NVME_SCT_PATH    3
#define NVME_SCT_VENDOR  7

struct nvme_status {
    uint8_t sc;  /* status code */
    uint8_t sct; /* status code type */
    uint8_t crd; /* command retry delay index */
    bool more;   /* more information in the error log */
    bool dnr;    /* do not retry */
};

/* Decodes the completion entry's 16-bit status word (phase in bit 0). */
struct nvme_status nvme_status_decode(uint16_t status_word);
static inline bool nvme_status_ok(struct nvme_status s)
{
    return s.sc == 0 && s.sct == 0;
}
/* "LBA out of range", "invalid field in command", ...; never NULL. */
const char *nvme_status_name(struct nvme_status s);
/* The enum blk_status the requester sees. */
int nvme_status_to_blk(struct nvme_status s);
/* Worth one more try: the controller did not say DNR and the failure is of a
 * kind that can be transient. */
bool nvme_status_retryable(struct nvme_status s);

#endif
