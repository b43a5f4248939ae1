/* SPDX-License-Identifier: MIT */
/*
 * The NIC interface: what the switch's uplink, `nettest` and the `nic`
 * command use, whatever chip is underneath (Intel 82576 "igb" or 82599
 * "ixgbe" today, both with advanced descriptors).
 *
 * - A NIC is probed from a PCI ID table (nic_pci_ids in nic_probe.c), reset
 *   and brought up at boot, and numbered nic0, nic1, ... in PCI order.
 * - It has queue pairs (one RX ring, one TX ring). Each pair is owned by one
 *   CPU, which alone calls the four data-path functions below on it: no
 *   locks, no waits, no allocation, no printing on that path.
 * - Batching: each data-path call handles up to n frames and writes the
 *   queue's tail register at most once.
 * - Buffers belong to the caller: it posts receive buffers (device
 *   addresses; memory is identity mapped, so a pointer's value) and gets
 *   them back from rx_poll; it hands frames to tx_submit and gets their
 *   cookies back from tx_reclaim once the device is done reading them.
 *   A receive buffer must hold NIC_RX_BUF_SIZE bytes.
 * - Counters: the chip's statistics registers (clear on read, accumulated
 *   by nic_stats_update, which one CPU at a time may call) and per-queue
 *   driver counters (written only by the owner).
 */
#ifndef SIDECORE_NET_NIC_H
#define SIDECORE_NET_NIC_H

#include <stdbool.h>
#include <stdint.h>

#define NIC_MAX_NICS    8
#define NIC_MAX_QUEUES  4
#define NIC_RING_SIZE   256  /* descriptors per ring */
#define NIC_RX_BUF_SIZE 2048 /* one frame of up to 1518 bytes per buffer */

struct nic;

/* One received frame (see nic_rx_poll). */
struct nic_rx_frame {
    uint64_t buf; /* the buffer posted with nic_rx_refill */
    uint16_t len; /* bytes of frame in it (CRC stripped) */
    bool ok;      /* false: drop it (device error); the buffer is still the caller's */
};

/* One frame to send (see nic_tx_submit). */
struct nic_tx_frame {
    uint64_t buf; /* device address of the whole frame, 14 to 1514 bytes */
    uint16_t len;
    uint64_t cookie; /* given back by nic_tx_reclaim */
};

/* Counters since boot, from the chip's statistics registers (their byte
 * counts include each frame's 4-byte CRC; the driver's per-queue counts
 * below do not). */
struct nic_counters {
    uint64_t rx_packets, rx_bytes; /* good frames received (chip: GPRC, GORC) */
    uint64_t tx_packets, tx_bytes; /* good frames sent (chip: GPTC, GOTC) */
    uint64_t rx_missed;            /* dropped by the chip: no buffer or FIFO full */
    uint64_t rx_crc_errors;
};

/* What the owner of a queue pair counts (its own lines only). */
struct nic_queue_counters {
    uint64_t rx_packets, rx_bytes, rx_errors;
    uint64_t tx_packets, tx_bytes;
    uint64_t tx_ring_full; /* frames refused by nic_tx_submit for want of room */
    uint64_t tail_writes;  /* RDT + TDT writes (one per non-empty batch) */
};

unsigned nic_count(void);
struct nic *nic_get(unsigned index);

const char *nic_chip_name(const struct nic *n); /* "82576", "82599" */
const uint8_t *nic_mac(const struct nic *n);    /* 6 bytes */
unsigned nic_queue_count(const struct nic *n);
/* Reads the link registers now: true if up, *mbps its speed (0 if down). */
bool nic_link(struct nic *n, unsigned *mbps);
/* Folds the chip's clear-on-read statistics into its counters and returns
 * them. One caller at a time (the shell, or a NIC's single poller). */
const struct nic_counters *nic_stats_update(struct nic *n);
const struct nic_queue_counters *nic_queue_counters(const struct nic *n, unsigned q);

/* Ownership: whoever will run a queue pair's data path (a switch's uplink,
 * `nettest`) claims it first, so two pollers never share one. Claims are
 * for good (the claimant's receive buffers stay posted). True if the pair
 * was free (or already owner's: the same string); otherwise false with
 * *holder set to the owner's name. Any CPU; atomic. */
bool nic_queue_claim(struct nic *n, unsigned q, const char *owner, const char **holder);
/* The claimant's name, or NULL. */
const char *nic_queue_owner(const struct nic *n, unsigned q);

/* Data path: only the queue's owner calls these. */

/* Posts up to n receive buffers; returns how many (the rest did not fit:
 * a ring holds NIC_RING_SIZE - 1). One RDT write. */
unsigned nic_rx_refill(struct nic *n, unsigned q, const uint64_t *bufs, unsigned count);
/* Takes up to max received frames, oldest first. No register access. */
unsigned nic_rx_poll(struct nic *n, unsigned q, struct nic_rx_frame *out, unsigned max);
/* Queues up to count frames; returns how many (the rest did not fit). One
 * TDT write. */
unsigned nic_tx_submit(struct nic *n, unsigned q, const struct nic_tx_frame *f, unsigned count);
/* Gives back the cookies of up to max sent frames. No register access. */
unsigned nic_tx_reclaim(struct nic *n, unsigned q, uint64_t *cookies, unsigned max);

/* Boot: probes PCI and brings every supported NIC up (nic_probe.c). */
void nic_init(void);

#endif
