/* SPDX-License-Identifier: MIT */
/*
 * The adapter between a virtio-net device and the switch (virtio_port.h):
 * three port operations that call the device's owner-side functions, and
 * the device's tx callback that feeds the switch.
 */
#include "vmm/net/virtio_port.h"

static unsigned vp_poll(void *ctx, unsigned budget)
{
    struct net_virtio_port *vp = ctx;

    return virtio_net_service(vp->dev, budget);
}

static enum net_deliver vp_deliver(void *ctx, const struct net_frame *f)
{
    struct net_virtio_port *vp = ctx;

    return virtio_net_rx(vp->dev, f);
}

static void vp_flush(void *ctx)
{
    struct net_virtio_port *vp = ctx;

    virtio_net_flush(vp->dev);
}

const struct net_port_ops net_virtio_port_ops = {
    .poll = vp_poll,
    .deliver = vp_deliver,
    .flush = vp_flush,
};

void net_virtio_port_tx(void *tx_ctx, const struct net_frame *f)
{
    struct net_virtio_port *vp = tx_ctx;

    if (vp->sw && vp->port >= 0)
        net_switch_input(vp->sw, (unsigned)vp->port, f);
}

bool net_virtio_port_attach(struct net_virtio_port *vp, struct net_switch *sw,
                            struct virtio_net *dev, const char *name, const char **why)
{
    int port = net_switch_add_port(sw, name, &net_virtio_port_ops, vp, dev->p.mac, false, why);

    if (port < 0)
        return false;
    vp->sw = sw;
    vp->dev = dev;
    vp->port = port;
    return true;
}
