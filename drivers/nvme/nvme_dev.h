/* SPDX-License-Identifier: MIT */
/*
 * The NVMe driver's internal state, shared by its files: controllers, their
 * namespaces, the admin queue and the I/O queue pairs. Not for users of the
 * driver (they have nvme.h and nvme_blk.h).
 */
#ifndef SIDECORE_NVME_NVME_DEV_H
#define SIDECORE_NVME_NVME_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/nvme/nvme.h"
#include "drivers/nvme/nvme_cid.h"
#include "drivers/nvme/nvme_cmd.h"
#include "drivers/nvme/nvme_identify.h"
#include "drivers/nvme/nvme_ring.h"
#include "drivers/nvme/nvme_xfer.h"
#include "kernel/lib/spinlock.h"

#define NVME_ADMIN_DEPTH 32
#define NVME_IO_DEPTH    64
/* The driver's own transfer cap: keeps the PRP list pages per command small
 * whatever MDTS says (QEMU's MDTS 7 is 512 KiB, well below). */
#define NVME_DRIVER_MAX_TRANSFER (2u << 20)
#define NVME_IO_TIMEOUT_NS       (5ull * 1000000000ull)
#define NVME_ADMIN_TIMEOUT_NS    (5ull * 1000000000ull)
#define NVME_SHUTDOWN_TIMEOUT_MS 5000

struct pci_device;

struct nvme_ns {
    uint32_t nsid;
    bool usable;
    int error; /* enum nvme_identify_error when not usable */
    struct nvme_ns_info info;
    struct nvme_ctrl *ctrl;
};

/* One command in flight on an I/O queue; the index is its CID. */
struct nvme_io_slot {
    void *cookie;
    uint64_t deadline_ns;
    struct nvme_sqe sqe; /* kept for the one retry */
    bool retried;
    bool timed_out;
};

struct nvme_io_queue {
    struct nvme_ctrl *ctrl;
    uint16_t qid;
    uint16_t depth;
    bool allocated;      /* memory below exists (kept when the queue is deleted) */
    bool in_use;         /* created for a requester */
    bool dead;           /* could not be re-created after a reset */
    uint32_t generation; /* the controller generation it was created in */
    struct nvme_sqe *sq;
    struct nvme_cqe *cq;
    volatile uint32_t *sq_doorbell, *cq_doorbell;
    struct nvme_sq_ring sqr;
    struct nvme_cq_ring cqr;
    struct nvme_cid_map cids;
    struct nvme_io_slot *slots;
    uint64_t prp_pages;        /* prp_per_cmd pages per slot, contiguous */
    uint64_t dsm_ranges;       /* one 16-byte DSM range per slot */
    struct nvme_bounce bounce; /* for segments PRPs cannot express (nvme_xfer.h) */
    unsigned errors_logged;
    uint64_t next_check_ns;
    blk_complete_fn done;
    void *done_ctx;
    uint64_t submitted, completed, errors, timeouts, retries, stale;
};

struct nvme_ctrl {
    unsigned index;
    enum nvme_ctrl_state state;
    struct pci_device *pci;
    volatile uint8_t *regs;
    uint64_t bar_size;
    uint64_t cap;
    uint32_t vs;
    uint32_t ready_timeout_ms;
    unsigned dstrd;
    unsigned page_shift;
    uint32_t max_entries; /* CAP.MQES + 1 */
    struct nvme_ctrl_info info;
    uint64_t max_transfer;
    unsigned prp_per_cmd; /* PRP list pages one command may need */
    struct nvme_ns ns[NVME_MAX_NS];
    unsigned ns_count;
    unsigned io_queues; /* granted by Set Features, capped at NVME_MAX_IO_QUEUES */
    /* Serialises the admin queue, resets and queue creation: never taken on
     * the I/O path. */
    struct spinlock admin_lock;
    struct nvme_sqe *asq;
    struct nvme_cqe *acq;
    struct nvme_sq_ring asqr;
    struct nvme_cq_ring acqr;
    uint8_t *identify_buf;
    /* Bumped by every reset or loss; a queue from an older generation fails
     * its commands back and is re-created by its owner. */
    volatile uint32_t generation;
    unsigned resets;
    volatile bool inject_lost;
    struct nvme_io_queue io[NVME_MAX_IO_QUEUES]; /* io[i] has QID i + 1 */
};

/* nvme_regs_hw.c: MMIO */
uint32_t nvme_read32(const struct nvme_ctrl *c, uint32_t off);
uint64_t nvme_read64(const struct nvme_ctrl *c, uint32_t off);
void nvme_write32(struct nvme_ctrl *c, uint32_t off, uint32_t v);
void nvme_write64(struct nvme_ctrl *c, uint32_t off, uint64_t v);

/* nvme_admin.c */
void nvme_admin_reset_rings(struct nvme_ctrl *c);
/* Runs one admin command and waits for it; admin_lock held. Fills *result
 * with DW0. Returns BLK_OK, the command's block status, or BLK_ETIMEDOUT. */
int nvme_admin_run_locked(struct nvme_ctrl *c, struct nvme_sqe *cmd, uint32_t *result);
int nvme_admin_identify(struct nvme_ctrl *c, uint8_t cns, uint32_t nsid);
int nvme_admin_set_queue_count(struct nvme_ctrl *c, unsigned wanted, unsigned *granted);
int nvme_admin_create_io_pair(struct nvme_ctrl *c, struct nvme_io_queue *q);
int nvme_admin_delete_io_pair(struct nvme_ctrl *c, struct nvme_io_queue *q);

/* nvme_ctrl.c */
/* Resets and re-enables c after a timeout (caller saw generation seen).
 * Takes admin_lock. */
void nvme_ctrl_recover(struct nvme_ctrl *c, uint32_t seen, const char *why);
/* Takes c offline for good: stops it and its DMA. */
void nvme_ctrl_take_offline(struct nvme_ctrl *c, const char *why);
bool nvme_ctrl_check_fatal(struct nvme_ctrl *c);

/* nvme_io_queue.c */
void nvme_io_queue_reset_state(struct nvme_io_queue *q);
/* After a reset: fails every command in flight back, then re-creates the
 * pair if the controller is online again. */
void nvme_io_queue_revive(struct nvme_io_queue *q);

#endif
