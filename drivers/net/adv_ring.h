/* SPDX-License-Identifier: MIT */
/*
 * Rings of Intel "advanced" RX/TX descriptors, the 16-byte format the 82576
 * (igb) and the 82599 (ixgbe) share: posting receive buffers, reading the
 * receive write-back (DD, EOP, length, errors), building transmit data
 * descriptors and reclaiming them by their DD bit. Pure code on plain
 * memory, built for the host tests too; the caller writes the tail register
 * once per batch with the value these functions return.
 *
 * Occupancy rule: the hardware owns the slots from head up to (not
 * including) tail, and tail == head means "nothing posted", so at most
 * size - 1 slots are ever handed to the device.
 */
#ifndef SIDECORE_NET_ADV_RING_H
#define SIDECORE_NET_ADV_RING_H

#include <stdbool.h>
#include <stdint.h>

/* Receive descriptor: read format (what the driver writes) and write-back
 * format (what the device writes over it). */
union adv_rx_desc {
    struct {
        uint64_t pkt_addr;
        uint64_t hdr_addr; /* bit 0 overlays DD: written as 0 */
    } read;
    struct {
        uint32_t info;         /* packet type, RSS type, header length */
        uint32_t rss;          /* RSS hash or IP id / checksum */
        uint32_t status_error; /* DD bit 0, EOP bit 1, errors [31:20] */
        uint16_t length;
        uint16_t vlan;
    } wb;
};

/* Transmit data descriptor and its write-back. */
union adv_tx_desc {
    struct {
        uint64_t buffer_addr;
        uint32_t cmd_type_len;
        uint32_t olinfo_status;
    } read;
    struct {
        uint64_t rsvd;
        uint32_t nxtseq_seed;
        uint32_t status; /* DD bit 0 */
    } wb;
};

_Static_assert(sizeof(union adv_rx_desc) == 16, "advanced RX descriptor is 16 bytes");
_Static_assert(sizeof(union adv_tx_desc) == 16, "advanced TX descriptor is 16 bytes");

#define ADV_RXD_STAT_DD      (1u << 0)
#define ADV_RXD_STAT_EOP     (1u << 1)
#define ADV_RXD_ERR_MASK     0xfff00000u /* errors [31:20] of the status dword */
#define ADV_TXD_DTYP_DATA    (3u << 20)
#define ADV_TXD_CMD_EOP      (1u << 24)
#define ADV_TXD_CMD_IFCS     (1u << 25)
#define ADV_TXD_CMD_RS       (1u << 27)
#define ADV_TXD_CMD_DEXT     (1u << 29)
#define ADV_TXD_PAYLEN_SHIFT 14
#define ADV_TXD_STAT_DD      (1u << 0)

/* Largest ring these functions handle (slots are 16-bit indices). */
#define ADV_RING_MAX 4096

struct adv_rx_ring {
    volatile union adv_rx_desc *desc;
    uint64_t *buf;  /* per slot: the buffer address posted there */
    uint16_t size;  /* slots, a power of two >= 8 */
    uint16_t tail;  /* next slot to post (the RDT value) */
    uint16_t clean; /* next slot the device completes */
};

struct adv_tx_ring {
    volatile union adv_tx_desc *desc;
    uint64_t *cookie; /* per slot: the caller's cookie for the frame */
    uint16_t size;
    uint16_t tail;  /* next slot to fill (the TDT value) */
    uint16_t clean; /* oldest slot not yet reclaimed */
};

/* One received frame: the buffer it is in and its length. ok is false when
 * the device flagged an error or the frame did not fit one buffer (no EOP);
 * the buffer still comes back so the caller can post it again. */
struct adv_rx_done {
    uint64_t buf;
    uint16_t len;
    bool ok;
    uint32_t status_error;
};

/* Power of two between 8 and ADV_RING_MAX, and a whole number of 128-byte
 * lines (RDLEN/TDLEN must be). */
bool adv_ring_size_ok(unsigned size);

/* desc and the per-slot array hold size entries; desc is zeroed. */
void adv_rx_ring_init(struct adv_rx_ring *r, volatile union adv_rx_desc *desc, uint64_t *buf,
                      uint16_t size);
void adv_tx_ring_init(struct adv_tx_ring *r, volatile union adv_tx_desc *desc, uint64_t *cookie,
                      uint16_t size);

/* Slots posted to the device and not yet completed/reclaimed. */
unsigned adv_rx_ring_posted(const struct adv_rx_ring *r);
unsigned adv_tx_ring_in_flight(const struct adv_tx_ring *r);
/* How many more can be posted/submitted (size - 1 - in use). */
unsigned adv_rx_ring_room(const struct adv_rx_ring *r);
unsigned adv_tx_ring_room(const struct adv_tx_ring *r);

/* Posts up to n buffers (device addresses); returns how many. The new tail
 * is r->tail: write it to RDT once, after the call. */
unsigned adv_rx_ring_refill(struct adv_rx_ring *r, const uint64_t *bufs, unsigned n);

/* Takes up to max completed descriptors (DD set) in order. */
unsigned adv_rx_ring_poll(struct adv_rx_ring *r, struct adv_rx_done *out, unsigned max);

/* One frame to send: a buffer of len bytes (1..16383) and a cookie given
 * back by reclaim. */
struct adv_tx_frame {
    uint64_t buf;
    uint16_t len;
    uint64_t cookie;
};

/* The cmd_type_len and olinfo_status of a one-buffer frame. */
uint32_t adv_tx_cmd_type_len(uint16_t len);
uint32_t adv_tx_olinfo(uint16_t len);

/* Queues up to n frames, one descriptor each; returns how many (stops at a
 * full ring or a frame of bad length). Write r->tail to TDT once after. */
unsigned adv_tx_ring_submit(struct adv_tx_ring *r, const struct adv_tx_frame *f, unsigned n);

/* Gives back the cookies of up to max sent frames (DD set), oldest first. */
unsigned adv_tx_ring_reclaim(struct adv_tx_ring *r, uint64_t *cookies, unsigned max);

#endif
