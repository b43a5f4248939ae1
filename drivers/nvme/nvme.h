/* SPDX-License-Identifier: MIT */
/*
 * The NVMe driver, driven by polling (no interrupts) from the hypervisor:
 * every controller on PCI is brought up at boot, its namespaces identified,
 * and I/O queue pairs are created on demand so that each sidecore or guest
 * queue has its own, with nothing shared between them on the submit/poll
 * path. A controller that stops answering is reset and its queues' commands
 * failed back; one in fatal status is taken offline. Requesters normally use
 * the block-backend interface (nvme_blk.h) rather than this one.
 */
#ifndef SIDECORE_NVME_NVME_H
#define SIDECORE_NVME_NVME_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/block/blk.h"

#define NVME_MAX_CTRLS     8
#define NVME_MAX_NS        16 /* namespaces used per controller */
#define NVME_MAX_IO_QUEUES 64 /* I/O queue pairs per controller */

struct nvme_ctrl;
struct nvme_ns;
struct nvme_io_queue;

enum nvme_ctrl_state {
    NVME_CTRL_ABSENT,
    NVME_CTRL_ONLINE,
    NVME_CTRL_RESETTING,
    NVME_CTRL_OFFLINE,
    NVME_CTRL_SHUT_DOWN,
};

/* Finds and brings up every NVMe controller (PCI class 01/08/02). Call once
 * on the boot CPU after pci_init(); a controller that fails is reported and
 * left offline, the rest carry on. */
void nvme_init(void);

/* Orderly shutdown of every online controller (CC.SHN = normal, wait for
 * CSTS.SHST = complete); for the reboot and power-off paths. */
void nvme_shutdown_all(void);

unsigned nvme_ctrl_count(void);
struct nvme_ctrl *nvme_ctrl_get(unsigned index);
enum nvme_ctrl_state nvme_ctrl_state(const struct nvme_ctrl *c);
const char *nvme_ctrl_state_name(enum nvme_ctrl_state s);
/* A usable namespace of c, or NULL. */
struct nvme_ns *nvme_ns_get(struct nvme_ctrl *c, uint32_t nsid);
uint64_t nvme_ns_blocks(const struct nvme_ns *ns);
unsigned nvme_ns_lba_shift(const struct nvme_ns *ns);

/*
 * Creates an I/O submission/completion queue pair on c, polled (no
 * interrupt). Completions are reported through done(ctx, cookie, status).
 * Returns NULL (and a reason in *err: BLK_ENOSPC, BLK_EOFFLINE, BLK_EIO)
 * when the controller has no queue left or refuses.
 */
struct nvme_io_queue *nvme_create_io_queue(struct nvme_ctrl *c, blk_complete_fn done, void *ctx,
                                           int *err);
/* Deletes the pair; BLK_EBUSY while commands are in flight. */
int nvme_delete_io_queue(struct nvme_io_queue *q);
/* Deletes the pair with commands in flight: the controller aborts them and
 * touches their buffers no more; they are forgotten (no completion). If the
 * deletion fails the controller is taken offline (no DMA at all), and the
 * error is returned. */
int nvme_abort_io_queue(struct nvme_io_queue *q);
unsigned nvme_io_queue_depth(const struct nvme_io_queue *q);

/* One I/O command, in the namespace's own blocks. */
struct nvme_io {
    enum blk_op op;
    uint64_t slba;
    uint32_t nlb;
    unsigned nseg;
    const struct blk_seg *segs;
    void *cookie;
};

/* Never blocks: BLK_OK (accepted: one completion will follow), BLK_EBUSY
 * (queue full) or an error (refused: no completion). */
int nvme_io_submit(struct nvme_io_queue *q, struct nvme_ns *ns, const struct nvme_io *io);
/* Reaps up to budget completions; also detects timeouts and fatal status. */
unsigned nvme_io_poll(struct nvme_io_queue *q, unsigned budget);

/* Largest READ/WRITE in bytes on c (MDTS and the driver's own cap). */
uint64_t nvme_ctrl_max_transfer(const struct nvme_ctrl *c);
bool nvme_ctrl_has_dsm(const struct nvme_ctrl *c);
bool nvme_ctrl_has_write_zeroes(const struct nvme_ctrl *c);
bool nvme_ctrl_has_write_cache(const struct nvme_ctrl *c);

/* Testing aid: the next I/O command on c is "lost" (never handed to the
 * controller), as if the controller had stopped answering, so the timeout,
 * reset and fail-back path can be exercised in an emulator. */
void nvme_inject_lost_command(struct nvme_ctrl *c);

#endif
