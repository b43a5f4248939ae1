/* SPDX-License-Identifier: MIT */
/*
 * nic_dma_alloc for the host tests: plain aligned heap memory (the models
 * "DMA" through host pointers, as the hypervisor's identity map lets the
 * chips do), remembered so a test can free everything it brought up.
 */
#include "tests/unit/nic_test_dma.h"

#include <stdlib.h>
#include <string.h>

#include "drivers/net/nic_dev.h"

static void *allocs[256];
static unsigned nallocs;

void *nic_dma_alloc(size_t bytes, size_t align)
{
    void *p;

    if (nallocs == sizeof(allocs) / sizeof(allocs[0]))
        return NULL;
    bytes = (bytes + align - 1) / align * align;
    p = aligned_alloc(align, bytes);
    if (!p)
        return NULL;
    memset(p, 0, bytes);
    allocs[nallocs++] = p;
    return p;
}

void nic_test_dma_free_all(void)
{
    while (nallocs)
        free(allocs[--nallocs]);
}
