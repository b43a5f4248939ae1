/* SPDX-License-Identifier: MIT */
/* Building and checking nettest frames (nettest_frame.h). */
#include "drivers/net/nettest_frame.h"

const uint8_t nettest_peer_mac[6] = {0x02, 0x00, 0x5c, 0xee, 0xee, 0x01};

static bool mac_eq(const uint8_t *a, const uint8_t *b)
{
    for (int i = 0; i < 6; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

uint8_t nettest_payload_byte(uint32_t seq, unsigned offset)
{
    return (uint8_t)(seq * 131u + offset * 7u + (seq >> 8) + 0x5a);
}

void nettest_frame_build(uint8_t *f, uint16_t len, const uint8_t src[6], const uint8_t dst[6],
                         uint32_t seq)
{
    for (int i = 0; i < 6; i++) {
        f[i] = dst[i];
        f[6 + i] = src[i];
    }
    f[12] = 0x88;
    f[13] = 0xb5;
    f[14] = 'S';
    f[15] = 'C';
    f[16] = 'N';
    f[17] = 'T';
    for (int i = 0; i < 4; i++)
        f[18 + i] = (uint8_t)(seq >> (8 * i));
    f[22] = (uint8_t)len;
    f[23] = (uint8_t)(len >> 8);
    for (unsigned i = NETTEST_HDR_LEN; i < len; i++)
        f[i] = nettest_payload_byte(seq, i);
}

enum nettest_check nettest_frame_check(const uint8_t *f, uint16_t len, const uint8_t own[6],
                                       const uint8_t peer[6], uint32_t *seq, unsigned *bad_offset)
{
    if (len < NETTEST_HDR_LEN || f[12] != 0x88 || f[13] != 0xb5 || f[14] != 'S' || f[15] != 'C' ||
        f[16] != 'N' || f[17] != 'T')
        return NETTEST_FRAME_FOREIGN;
    *seq = (uint32_t)f[18] | (uint32_t)f[19] << 8 | (uint32_t)f[20] << 16 | (uint32_t)f[21] << 24;
    if ((uint16_t)(f[22] | f[23] << 8) != len)
        return NETTEST_FRAME_BAD_LEN;
    if (!mac_eq(f, own) || !mac_eq(f + 6, peer))
        return NETTEST_FRAME_BAD_MAC;
    for (unsigned i = NETTEST_HDR_LEN; i < len; i++) {
        if (f[i] != nettest_payload_byte(*seq, i)) {
            *bad_offset = i;
            return NETTEST_FRAME_BAD_BYTES;
        }
    }
    return NETTEST_FRAME_OK;
}

const char *nettest_check_name(enum nettest_check c)
{
    switch (c) {
    case NETTEST_FRAME_OK: return "ok";
    case NETTEST_FRAME_FOREIGN: return "not a nettest frame";
    case NETTEST_FRAME_BAD_LEN: return "wrong length";
    case NETTEST_FRAME_BAD_MAC: return "MAC addresses not swapped back";
    case NETTEST_FRAME_BAD_BYTES: return "payload corrupted";
    }
    return "?";
}
