/* SPDX-License-Identifier: MIT */
/*
 * NVMe namespaces as block devices (drivers/block/blk.h): a whole namespace,
 * or a window START+LENGTH of one, whose requests are offset into the window
 * and bounds-checked before they reach the controller. Each blk queue opened
 * on such a device gets its own NVMe I/O queue pair.
 */
#ifndef SIDECORE_NVME_NVME_BLK_H
#define SIDECORE_NVME_NVME_BLK_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/block/blk.h"

#define NVME_BLK_MAX_DEVICES 32

/*
 * Opens bytes [start, start+length) of namespace nsid on controller ctrl
 * (length 0: to the end). Refused, with the reason written to why, when the
 * controller or namespace does not exist or is offline, the window is not
 * block aligned, runs past the namespace, or overlaps a window already open.
 * Returns BLK_OK or an error.
 */
int nvme_blk_open(unsigned ctrl, uint32_t nsid, uint64_t start, uint64_t length,
                  struct blk_device **out, char *why, size_t why_size);
/* Releases the device; every queue must have been closed. */
int nvme_blk_close(struct blk_device *dev);

#endif
