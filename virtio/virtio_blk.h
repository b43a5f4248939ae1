/* SPDX-License-Identifier: MIT */
/*
 * A virtio-blk device (virtio 1.x, 5.2) in front of any block backend
 * (drivers/block/blk.h): multi-queue (VIRTIO_BLK_F_MQ, one virtqueue per
 * guest queue, each with its own backend queue, so nothing is shared between
 * queues on the fast path: the VBMq idea), read, write, flush, get-id, and
 * discard / write-zeroes when the backend has them. Transport-neutral: it
 * implements struct virtio_pci_ops and is told how to signal a queue and
 * how to report a broken device through callbacks.
 *
 * virtio_blk_service() is the fast path: it reaps the backend's
 * completions, writes each request's status and pushes it to the used
 * ring, then takes new chains, checks them (header, segments inside guest
 * memory, directions, lengths) and submits them to the backend, at most
 * budget new requests per call. It never allocates and takes no lock: a
 * queue is serviced by one CPU at a time (its sidecore, or in trap mode the
 * notifying vCPU under the queue's lock: vmm/guest_virtio.c decides). A malformed chain or request
 * puts the device into NEEDS_RESET with a message; its other queues stop,
 * requests already accepted by the backend still complete (nothing
 * acknowledged is lost), the guest's other devices and other guests carry
 * on.
 */
#ifndef SIDECORE_VIRTIO_VIRTIO_BLK_H
#define SIDECORE_VIRTIO_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/block/blk.h"
#include "virtio/virtio_pci.h"
#include "virtio/virtqueue.h"
#include "vmm/sidecore/coalesce.h"

#define VIRTIO_ID_BLOCK        2
#define VIRTIO_BLK_MAX_QUEUES  VIRTIO_PCI_MAX_QUEUES
#define VIRTIO_BLK_QUEUE_SIZE  VIRTQ_MAX_SIZE
#define VIRTIO_BLK_SEG_MAX     (VIRTQ_MAX_CHAIN - 2) /* header and status take two */
#define VIRTIO_BLK_ID_BYTES    20
#define VIRTIO_BLK_CONFIG_SIZE 64

/* Device feature bits (virtio 1.x, 5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_MQ           12
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* struct virtio_blk_config, little-endian, by byte offset (5.2.4). */
#define VIRTIO_BLK_CFG_CAPACITY                 0  /* u64, 512-byte sectors */
#define VIRTIO_BLK_CFG_SIZE_MAX                 8  /* u32 */
#define VIRTIO_BLK_CFG_SEG_MAX                  12 /* u32 */
#define VIRTIO_BLK_CFG_GEOMETRY                 16 /* u16 cylinders, u8 heads, u8 sectors */
#define VIRTIO_BLK_CFG_BLK_SIZE                 20 /* u32 */
#define VIRTIO_BLK_CFG_TOPOLOGY                 24 /* 8 bytes */
#define VIRTIO_BLK_CFG_WRITEBACK                32 /* u8 */
#define VIRTIO_BLK_CFG_NUM_QUEUES               34 /* u16 */
#define VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS      36 /* u32 */
#define VIRTIO_BLK_CFG_MAX_DISCARD_SEG          40 /* u32 */
#define VIRTIO_BLK_CFG_DISCARD_SECTOR_ALIGNMENT 44 /* u32 */
#define VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS 48 /* u32 */
#define VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SEG     52 /* u32 */
#define VIRTIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP   56 /* u8 */

/* Request types and statuses (5.2.6). A request is a 16-byte header
 * {u32 type, u32 reserved, u64 sector} the device reads, the data, and a
 * status byte, the last byte the device may write. */
#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK           0
#define VIRTIO_BLK_S_IOERR        1
#define VIRTIO_BLK_S_UNSUPP       2
#define VIRTIO_BLK_HEADER_BYTES   16
/* A discard / write-zeroes segment: {u64 sector, u32 num_sectors, u32 flags}. */
#define VIRTIO_BLK_DWZ_BYTES   16
#define VIRTIO_BLK_DWZ_F_UNMAP 1u

/* How long a reset waits for the backend to finish what it accepted: more
 * than an NVMe command timeout plus a controller recovery. Without a clock
 * (params.now_ns NULL) the wait is counted in backend polls instead. */
#define VIRTIO_BLK_DRAIN_NS    (10ull * 1000000000ull)
#define VIRTIO_BLK_DRAIN_POLLS (1u << 24)

/* Per-queue counters, read by `stats` from another CPU (plain loads). */
struct virtio_blk_queue_stats {
    uint64_t requests;    /* completed back to the guest */
    uint64_t taken;       /* chains taken from the ring (the scheduler's count) */
    uint64_t bytes_taken; /* data bytes of the READ/WRITE chains taken */
    uint64_t reads, writes, flushes, others;
    uint64_t bytes;      /* data of successful reads and writes */
    uint64_t errors;     /* requests completed with a status other than OK */
    uint64_t interrupts; /* signals asked of the transport */
    uint64_t inflight;   /* taken from the ring, not completed yet */
    uint64_t busy;       /* times the backend was full (BLK_EBUSY) */
    uint64_t aborted;    /* dropped at a reset the backend did not finish in time */
};

/* A request taken from the ring: where its status byte goes, and how many
 * backend requests it became (a READ/WRITE longer than the backend's
 * max_transfer is split). */
struct virtio_blk_slot {
    uint16_t head;
    uint8_t type;   /* VIRTIO_BLK_T_* (unknown types are not kept) */
    uint8_t result; /* VIRTIO_BLK_S_* so far: the first failure sticks */
    uint8_t *status;
    uint32_t written; /* bytes written into the chain, status included */
    uint64_t bytes;   /* data bytes */
    uint32_t parts;   /* backend requests accepted and not completed yet */
    bool used;
    bool submitting; /* parts remain to be handed to the backend */
    bool orphan;     /* the device was reset: complete without touching the guest */
};

/* Where the next part of a request starts: the backend operation, the
 * sector, the data bytes not yet submitted, and for READ/WRITE the chain
 * buffer and the offset in it where they begin. */
struct virtio_blk_cursor {
    enum blk_op op;
    uint64_t sector;
    uint64_t left;
    unsigned buf;
    uint32_t off;
};

struct virtio_blk;

struct virtio_blk_queue {
    struct virtio_blk *dev;
    unsigned index;
    struct virtq *vq;
    struct blk_queue bq;
    bool opened;  /* bq is open at the backend */
    bool enabled; /* the driver enabled the virtqueue, virtq_start() succeeded */
    /* Ownership handshake between the CPU that services the queue and a
     * vCPU resetting the device (virtio_blk.c explains it). */
    volatile uint32_t running, busy;
    bool pushed;      /* used entries pushed but not published yet */
    uint32_t npushed; /* how many */
    /* Adaptive interrupt coalescing (params.coalesce set): whether to
     * signal this publish, and the interrupt held for later. */
    struct coalesce_queue co;
    /* A request the backend was too full to take whole: it is resumed
     * before any new chain is taken (q->chain still describes it). */
    struct virtio_blk_slot *pending;
    struct virtio_blk_cursor cur;
    uint32_t free_count;
    uint16_t free_list[VIRTIO_BLK_QUEUE_SIZE];
    struct virtio_blk_slot slots[VIRTIO_BLK_QUEUE_SIZE];
    struct blk_seg segs[VIRTIO_BLK_SEG_MAX]; /* scratch for one submit */
    struct virtq_chain chain;                /* scratch for one pop */
    struct virtio_blk_queue_stats stats;
};

struct virtio_blk_params {
    struct blk_device *backend;
    unsigned num_queues; /* 1..VIRTIO_BLK_MAX_QUEUES */
    const char *name;    /* for messages: "guest web0 disk" */
    const char *serial;  /* get-id answer, up to 20 bytes */
    const struct vmem *mem;
    bool polled; /* sidecore mode: keep driver notifications suppressed */
    /* Queue q has interrupts to send (the transport's signal). */
    void (*signal)(void *ctx, unsigned q);
    /* The device is broken until reset (the transport's NEEDS_RESET). */
    void (*broken)(void *ctx);
    void *ctx;
    void *signal_ctx; /* signal's context, if not ctx (the transport's own) */
    /* Optional clock bounding the reset's wait for the backend
     * (clock_uptime_ns in the hypervisor); required with coalesce. */
    uint64_t (*now_ns)(void);
    /* Polled mode: adaptive interrupt coalescing with these thresholds
     * (vmm/sidecore/coalesce.h); NULL sends every interrupt the driver
     * asks for at the end of the service call. */
    const struct coalesce_params *coalesce;
};

struct virtio_blk {
    struct virtio_blk_params p;
    struct virtq vqs[VIRTIO_BLK_MAX_QUEUES];
    struct virtio_blk_queue q[VIRTIO_BLK_MAX_QUEUES];
    uint8_t config[VIRTIO_BLK_CONFIG_SIZE];
    uint8_t id[VIRTIO_BLK_ID_BYTES];
    uint64_t features;  /* offered, device-specific and ring bits */
    uint32_t max_chunk; /* bytes per backend READ/WRITE: max_transfer, block aligned */
    bool driver_ok;     /* queues run from DRIVER_OK on */
    volatile bool needs_reset;
    char error[160]; /* what broke it, or what a reset could not finish */
};

/* The operations the virtio-pci transport calls. */
extern const struct virtio_pci_ops virtio_blk_pci_ops;

/* Sets the device up (config space, features, queues closed). False, with
 * why, if the backend's geometry cannot be offered. */
bool virtio_blk_init(struct virtio_blk *d, const struct virtio_blk_params *p, char *why,
                     size_t why_size);

/* The fast path: see above. Returns how many requests (or backend parts)
 * it started or completed (0: nothing to do; the caller counts an idle
 * poll). A queue runs from DRIVER_OK until reset; before that, and for a
 * queue number the device does not have, this returns 0. Requests a
 * backend completes later (NVMe) stay in flight after it returns: whoever
 * owns the queue must go on calling it while q[i].stats.inflight is not 0. */
unsigned virtio_blk_service(struct virtio_blk *d, unsigned q, unsigned budget);
/* The same for one queue, in the form a sidecore or a trap-mode vCPU calls
 * (queue from virtio_blk_queue()), and whether the backend still owes that
 * queue completions. */
unsigned virtio_blk_queue_service(void *queue, unsigned budget);
void *virtio_blk_queue(void *dev, unsigned q);
bool virtio_blk_queue_inflight(void *queue);

/* Whether queue q is started and the device is sound. */
bool virtio_blk_queue_live(const struct virtio_blk *d, unsigned q);

#endif
