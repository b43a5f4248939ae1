/* SPDX-License-Identifier: MIT */
/*
 * The frames `nettest` sends and expects back: Ethernet to the peer's MAC
 * from the NIC's, ethertype 0x88B5 (IEEE local experimental), the magic
 * "SCNT", a 32-bit sequence number, the frame length, and a payload that is
 * a function of both, so a frame that comes back cut, shifted, from another
 * run or with any byte changed is caught. The echo peer swaps the two MAC
 * addresses and changes nothing else. Pure code, host-tested.
 *
 * Layout (little-endian numbers): dst[6] src[6] type[2]=88 b5 "SCNT" seq[4]
 * len[2] payload[len - 24].
 */
#ifndef SIDECORE_NET_NETTEST_FRAME_H
#define SIDECORE_NET_NETTEST_FRAME_H

#include <stdbool.h>
#include <stdint.h>

#define NETTEST_MIN_LEN 60
#define NETTEST_MAX_LEN 1514
#define NETTEST_HDR_LEN 24

enum nettest_check {
    NETTEST_FRAME_OK,
    NETTEST_FRAME_FOREIGN,   /* not a nettest frame at all (other traffic) */
    NETTEST_FRAME_BAD_LEN,   /* length differs from what was sent */
    NETTEST_FRAME_BAD_MAC,   /* addresses not swapped back as expected */
    NETTEST_FRAME_BAD_BYTES, /* payload corrupted */
};

/* The peer's (made-up, locally administered) MAC nettest addresses. */
extern const uint8_t nettest_peer_mac[6];

uint8_t nettest_payload_byte(uint32_t seq, unsigned offset);
void nettest_frame_build(uint8_t *f, uint16_t len, const uint8_t src[6], const uint8_t dst[6],
                         uint32_t seq);
/* Checks a frame that came back to own (the NIC) from peer; *seq is set
 * whenever the header is a nettest one (even if the rest is bad), and
 * *bad_offset to the first wrong byte for BAD_BYTES. */
enum nettest_check nettest_frame_check(const uint8_t *f, uint16_t len, const uint8_t own[6],
                                       const uint8_t peer[6], uint32_t *seq, unsigned *bad_offset);
const char *nettest_check_name(enum nettest_check c);

#endif
