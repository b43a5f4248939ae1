/* SPDX-License-Identifier: MIT */
/*
 * Register access to a controller's BAR0 (mapped uncached). 64-bit registers
 * go as two 32-bit accesses, low half first, which every controller accepts
 * (the specification allows it and some bridges split 64-bit accesses).
 */
#include "drivers/nvme/nvme_dev.h"

uint32_t nvme_read32(const struct nvme_ctrl *c, uint32_t off)
{
    return *(const volatile uint32_t *)(c->regs + off);
}

uint64_t nvme_read64(const struct nvme_ctrl *c, uint32_t off)
{
    uint32_t lo = nvme_read32(c, off);
    uint32_t hi = nvme_read32(c, off + 4);

    return (uint64_t)hi << 32 | lo;
}

void nvme_write32(struct nvme_ctrl *c, uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)(c->regs + off) = v;
}

void nvme_write64(struct nvme_ctrl *c, uint32_t off, uint64_t v)
{
    nvme_write32(c, off, (uint32_t)v);
    nvme_write32(c, off + 4, (uint32_t)(v >> 32));
}
