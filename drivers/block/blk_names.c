/* SPDX-License-Identifier: MIT */
/* Names of block statuses and operations for messages and `stats`. Pure
 * code, also built for the host unit tests. */
#include "drivers/block/blk.h"

const char *blk_status_name(int status)
{
    switch (status) {
    case BLK_OK: return "ok";
    case BLK_EIO: return "I/O error";
    case BLK_ERANGE: return "out of range";
    case BLK_EINVAL: return "invalid request";
    case BLK_ENOTSUP: return "not supported";
    case BLK_ESEGMENTS: return "segments not expressible";
    case BLK_ETOOBIG: return "transfer too big";
    case BLK_EBUSY: return "queue full";
    case BLK_ETIMEDOUT: return "timed out";
    case BLK_EOFFLINE: return "device offline";
    case BLK_EMEDIA: return "media error";
    case BLK_EPROTECTED: return "write protected";
    case BLK_EABORTED: return "aborted";
    case BLK_ENOSPC: return "no space";
    default: return "unknown status";
    }
}

const char *blk_op_name(enum blk_op op)
{
    switch (op) {
    case BLK_OP_READ: return "read";
    case BLK_OP_WRITE: return "write";
    case BLK_OP_FLUSH: return "flush";
    case BLK_OP_DISCARD: return "discard";
    case BLK_OP_WRITE_ZEROES: return "write-zeroes";
    default: return "?";
    }
}
