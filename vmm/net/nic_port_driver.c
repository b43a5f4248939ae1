/* SPDX-License-Identifier: MIT */
/*
 * The uplink adapter's NIC operations backed by the NIC drivers
 * (drivers/net/nic.h): four calls passed through, the frame descriptors
 * converted field by field. Hypervisor only (the host tests give
 * nic_port.c a fake NIC instead). Give net_nic_port_init() these ops and a
 * struct nic * from nic_get().
 */
#include "drivers/net/nic.h"
#include "vmm/net/nic_port.h"

_Static_assert(NIC_RX_BUF_SIZE == NET_NIC_BUF_SIZE, "the uplink's buffers are the NIC's");
_Static_assert(NET_NIC_BATCH <= NIC_RING_SIZE, "a batch fits a ring");

static unsigned drv_rx_refill(void *nic, unsigned q, const uint64_t *bufs, unsigned count)
{
    return nic_rx_refill(nic, q, bufs, count);
}

static unsigned drv_rx_poll(void *nic, unsigned q, struct net_nic_rx *out, unsigned max)
{
    struct nic_rx_frame f[NET_NIC_BATCH];
    unsigned n = nic_rx_poll(nic, q, f, max < NET_NIC_BATCH ? max : NET_NIC_BATCH);

    for (unsigned i = 0; i < n; i++)
        out[i] = (struct net_nic_rx){f[i].buf, f[i].len, f[i].ok};
    return n;
}

static unsigned drv_tx_submit(void *nic, unsigned q, const struct net_nic_tx *t, unsigned count)
{
    struct nic_tx_frame f[NET_NIC_BATCH];

    if (count > NET_NIC_BATCH)
        count = NET_NIC_BATCH;
    for (unsigned i = 0; i < count; i++)
        f[i] = (struct nic_tx_frame){t[i].buf, t[i].len, t[i].cookie};
    return nic_tx_submit(nic, q, f, count);
}

static unsigned drv_tx_reclaim(void *nic, unsigned q, uint64_t *cookies, unsigned max)
{
    return nic_tx_reclaim(nic, q, cookies, max);
}

const struct net_nic_ops net_nic_driver_ops = {
    .rx_refill = drv_rx_refill,
    .rx_poll = drv_rx_poll,
    .tx_submit = drv_tx_submit,
    .tx_reclaim = drv_tx_reclaim,
};
