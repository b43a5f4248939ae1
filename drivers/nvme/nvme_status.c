/* SPDX-License-Identifier: MIT */
/* Names and block statuses for NVMe completion status codes (NVMe 1.4
 * figures 126-130 and the NVM command set's codes). */
#include "drivers/nvme/nvme_status.h"

#include "drivers/block/blk.h"

struct nvme_status nvme_status_decode(uint16_t status_word)
{
    uint16_t f = status_word >> 1;
    struct nvme_status s = {
        .sc = f & 0xff,
        .sct = (f >> 8) & 7,
        .crd = (f >> 11) & 3,
        .more = (f >> 13) & 1,
        .dnr = (f >> 14) & 1,
    };
    return s;
}

struct code_name {
    uint8_t sc;
    const char *name;
};

static const struct code_name generic_codes[] = {
    {0x00, "success"},
    {0x01, "invalid opcode"},
    {0x02, "invalid field in command"},
    {0x03, "command ID conflict"},
    {0x04, "data transfer error"},
    {0x05, "aborted: power loss"},
    {0x06, "internal error"},
    {0x07, "aborted: abort requested"},
    {0x08, "aborted: SQ deleted"},
    {0x09, "aborted: failed fused command"},
    {0x0a, "aborted: missing fused command"},
    {0x0b, "invalid namespace or format"},
    {0x0c, "command sequence error"},
    {0x0d, "invalid SGL segment descriptor"},
    {0x0e, "invalid number of SGL descriptors"},
    {0x0f, "data SGL length invalid"},
    {0x10, "metadata SGL length invalid"},
    {0x11, "SGL descriptor type invalid"},
    {0x12, "invalid use of controller memory buffer"},
    {0x13, "PRP offset invalid"},
    {0x14, "atomic write unit exceeded"},
    {0x15, "operation denied"},
    {0x16, "SGL offset invalid"},
    {0x18, "host identifier inconsistent format"},
    {0x19, "keep alive timer expired"},
    {0x1a, "keep alive timeout invalid"},
    {0x1b, "aborted: preempt and abort"},
    {0x1c, "sanitize failed"},
    {0x1d, "sanitize in progress"},
    {0x1e, "SGL data block granularity invalid"},
    {0x1f, "command not supported for queue in CMB"},
    {0x20, "namespace is write protected"},
    {0x21, "command interrupted"},
    {0x22, "transient transport error"},
    {0x80, "LBA out of range"},
    {0x81, "capacity exceeded"},
    {0x82, "namespace not ready"},
    {0x83, "reservation conflict"},
    {0x84, "format in progress"},
};

static const struct code_name command_codes[] = {
    {0x00, "completion queue invalid"},
    {0x01, "invalid queue identifier"},
    {0x02, "invalid queue size"},
    {0x03, "abort command limit exceeded"},
    {0x05, "asynchronous event request limit exceeded"},
    {0x06, "invalid firmware slot"},
    {0x07, "invalid firmware image"},
    {0x08, "invalid interrupt vector"},
    {0x09, "invalid log page"},
    {0x0a, "invalid format"},
    {0x0b, "firmware activation requires conventional reset"},
    {0x0c, "invalid queue deletion"},
    {0x0d, "feature identifier not saveable"},
    {0x0e, "feature not changeable"},
    {0x0f, "feature not namespace specific"},
    {0x10, "firmware activation requires NVM subsystem reset"},
    {0x11, "firmware activation requires controller level reset"},
    {0x12, "firmware activation requires maximum time violation"},
    {0x13, "firmware activation prohibited"},
    {0x14, "overlapping range"},
    {0x15, "namespace insufficient capacity"},
    {0x16, "namespace identifier unavailable"},
    {0x18, "namespace already attached"},
    {0x19, "namespace is private"},
    {0x1a, "namespace not attached"},
    {0x1b, "thin provisioning not supported"},
    {0x1c, "controller list invalid"},
    {0x80, "conflicting attributes"},
    {0x81, "invalid protection information"},
    {0x82, "attempted write to read only range"},
};

static const struct code_name media_codes[] = {
    {0x80, "write fault"},
    {0x81, "unrecovered read error"},
    {0x82, "end-to-end guard check error"},
    {0x83, "end-to-end application tag check error"},
    {0x84, "end-to-end reference tag check error"},
    {0x85, "compare failure"},
    {0x86, "access denied"},
    {0x87, "deallocated or unwritten logical block"},
};

static const struct code_name path_codes[] = {
    {0x00, "internal path error"},
    {0x01, "asymmetric access persistent loss"},
    {0x02, "asymmetric access inaccessible"},
    {0x03, "asymmetric access transition"},
    {0x60, "controller pathing error"},
    {0x70, "host pathing error"},
    {0x71, "command aborted by host"},
};

#define LOOKUP(table, code)                                                                        \
    do {                                                                                           \
        for (unsigned i = 0; i < sizeof(table) / sizeof(table[0]); i++)                            \
            if (table[i].sc == (code))                                                             \
                return table[i].name;                                                              \
    } while (0)

const char *nvme_status_name(struct nvme_status s)
{
    switch (s.sct) {
    case NVME_SCT_GENERIC: LOOKUP(generic_codes, s.sc); return "unknown generic status";
    case NVME_SCT_COMMAND: LOOKUP(command_codes, s.sc); return "unknown command-specific status";
    case NVME_SCT_MEDIA: LOOKUP(media_codes, s.sc); return "unknown media error";
    case NVME_SCT_PATH: LOOKUP(path_codes, s.sc); return "unknown path error";
    case NVME_SCT_VENDOR: return "vendor specific status";
    default: return "reserved status code type";
    }
}

int nvme_status_to_blk(struct nvme_status s)
{
    switch (s.sct) {
    case NVME_SCT_GENERIC:
        switch (s.sc) {
        case 0x00: return BLK_OK;
        case 0x01:
        case 0x02:
        case 0x0b:
        case 0x0c:
        case 0x13: return BLK_EINVAL;
        case 0x05:
        case 0x07:
        case 0x08:
        case 0x09:
        case 0x0a:
        case 0x1b:
        case 0x21: return BLK_EABORTED;
        case 0x15:
        case 0x20: return BLK_EPROTECTED;
        case 0x80: return BLK_ERANGE;
        case 0x81: return BLK_ENOSPC;
        case 0x82:
        case 0x84: return BLK_EOFFLINE;
        default: return BLK_EIO;
        }
    case NVME_SCT_COMMAND:
        switch (s.sc) {
        case 0x80:
        case 0x81: return BLK_EINVAL;
        case 0x82: return BLK_EPROTECTED;
        default: return BLK_EIO;
        }
    case NVME_SCT_MEDIA: return s.sc == 0x86 ? BLK_EPROTECTED : BLK_EMEDIA;
    case NVME_SCT_PATH: return BLK_EOFFLINE;
    default: return BLK_EIO;
    }
}

bool nvme_status_retryable(struct nvme_status s)
{
    if (s.dnr || nvme_status_ok(s))
        return false;
    int b = nvme_status_to_blk(s);

    return b == BLK_EIO || b == BLK_EABORTED || b == BLK_EMEDIA;
}
