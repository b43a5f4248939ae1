/* SPDX-License-Identifier: MIT */
/*
 * The capability walk of virtio_caps.h. Offsets below 0x40 are the
 * standard header, so a capability there is as wrong as one running past
 * byte 255; a visited-bitmap catches a list that points back into itself.
 */
#include "virtio_caps.h"

static uint32_t get16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
    return get16(p) | get16(p + 2) << 16;
}

static const char *parse_vendor(const uint8_t cfg[256], unsigned at, struct virtio_caps *out)
{
    unsigned len = cfg[at + 2];
    if (len < 16 || at + len > 256)
        return "a virtio capability is shorter than 16 bytes or runs past byte 255";
    unsigned type = cfg[at + 3];
    if (type == 0 || type >= VIRTIO_CAP_TYPES)
        return NULL; /* unknown types are for later versions: skip them */
    if (type == VIRTIO_CAP_NOTIFY && len < 20)
        return "the notify capability is shorter than 20 bytes";
    struct virtio_cap_region *r = &out->region[type];
    if (r->found)
        return NULL;
    r->found = true;
    r->cap_offset = (uint8_t)at;
    r->bar = cfg[at + 4];
    r->offset = get32(cfg + at + 8);
    r->length = get32(cfg + at + 12);
    if (type == VIRTIO_CAP_NOTIFY)
        out->notify_multiplier = get32(cfg + at + 16);
    return NULL;
}

static const char *parse_msix(const uint8_t cfg[256], unsigned at, struct virtio_caps *out)
{
    if (at + 12 > 256)
        return "the MSI-X capability runs past byte 255";
    if (out->has_msix)
        return "two MSI-X capabilities";
    uint32_t table = get32(cfg + at + 4), pba = get32(cfg + at + 8);
    out->has_msix = true;
    out->msix_cap = (uint8_t)at;
    out->msix_entries = (get16(cfg + at + 2) & 0x7ff) + 1;
    out->msix_table_bar = table & 7;
    out->msix_table_offset = table & ~7u;
    out->msix_pba_bar = pba & 7;
    out->msix_pba_offset = pba & ~7u;
    return NULL;
}

const char *virtio_caps_parse(const uint8_t cfg[256], struct virtio_caps *out)
{
    uint8_t seen[256 / 8] = {0};

    *out = (struct virtio_caps){0};
    if (!(get16(cfg + PCI_CFG_STATUS) & PCI_STATUS_CAPS))
        return "the status register says there is no capability list";
    unsigned at = cfg[PCI_CFG_CAP_PTR] & ~3u;
    while (at) {
        if (at < 0x40 || at > 256 - 4)
            return "a capability pointer leaves 0x40..0xfc";
        if (seen[at / 8] & (1u << (at % 8)))
            return "the capability list loops";
        seen[at / 8] |= (uint8_t)(1u << (at % 8));
        if (++out->caps_walked > VIRTIO_CAPS_MAX_WALK)
            return "the capability list is longer than configuration space allows";
        const char *err = NULL;
        if (cfg[at] == PCI_CAP_ID_VENDOR)
            err = parse_vendor(cfg, at, out);
        else if (cfg[at] == PCI_CAP_ID_MSIX)
            err = parse_msix(cfg, at, out);
        if (err)
            return err;
        at = cfg[at + 1] & ~3u;
    }
    static const char *const missing[VIRTIO_CAP_TYPES] = {
        [VIRTIO_CAP_COMMON] = "no common-configuration capability",
        [VIRTIO_CAP_NOTIFY] = "no notify capability",
        [VIRTIO_CAP_ISR] = "no ISR capability",
        [VIRTIO_CAP_DEVICE] = "no device-configuration capability",
    };
    for (unsigned t = VIRTIO_CAP_COMMON; t <= VIRTIO_CAP_DEVICE; t++) {
        if (!out->region[t].found)
            return missing[t];
    }
    return NULL;
}
